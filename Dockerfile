# syntax=docker/dockerfile:1
# rustcorn in a container: the load agent that `rustcorn bench k8s-job` runs in every pod, and every other
# subcommand. See docs/distributed-load.md.
#   docker build -t IMAGE .
#   docker run --rm IMAGE load http://HOST:8000/health --allow-remote -c 50 -z 10s

# Build stage: the release binary. Pure Rust (no TLS, no system libraries), so the slim Rust image's C toolchain
# is all the linking needs. The cache mounts keep the registry and target/ between builds; the binary is copied
# out in the same step because a cache mount is not part of the image.
FROM rust:1.95-slim-trixie AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock rustfmt.toml ./
COPY crates ./crates
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p rustcorn \
 && install -D -m 0755 target/release/rustcorn /out/rustcorn

# Runtime stage: Debian slim (same glibc as the build stage) with the binary and an unprivileged user.
FROM debian:trixie-slim
RUN groupadd --system --gid 10001 rustcorn \
 && useradd --system --uid 10001 --gid rustcorn --no-create-home --shell /usr/sbin/nologin rustcorn
COPY --from=build /out/rustcorn /usr/local/bin/rustcorn
# Numeric, so Kubernetes' runAsNonRoot can check it without reading /etc/passwd (the Job also sets 10001).
USER 10001:10001
ENTRYPOINT ["/usr/local/bin/rustcorn"]
CMD ["--help"]
