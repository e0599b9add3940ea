# Sourced by loadgen-vs-wrk.sh and servers-vs-nginx.sh: the knobs they share (server on one core, load on the
# other) and the tools they need. Knobs (environment): CONNECTIONS (50), DURATION seconds (10), RUNS (3),
# SERVER_CPU (0), LOAD_CPU (1), RUSTCORN (target/release/rustcorn, built when missing).
CONNECTIONS=${CONNECTIONS:-50}
DURATION=${DURATION:-10}
RUNS=${RUNS:-3}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
RUSTCORN=${RUSTCORN:-target/release/rustcorn}

# Installs PACKAGE from the distribution's packages when COMMAND is missing.
install_missing() { # COMMAND PACKAGE
    if ! command -v "$1" >/dev/null 2>&1; then
        echo "installing $2 from the distribution's packages" >&2
        apt-get update -qq && apt-get install -y -qq "$2" >/dev/null
    fi
}

install_missing wrk wrk
if [ ! -x "$RUSTCORN" ]; then
    cargo build --release -p rustcorn
fi
