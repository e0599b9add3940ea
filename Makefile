# rustcorn: `make bench` runs the default comparison, `make test` runs every test (lint included).
CARGO ?= cargo
RUSTCORN := target/release/rustcorn

.PHONY: all build release test lint fmt nextest clean loadgen-vs-wrk servers-vs-nginx instructions-per-request python-peers bench bench-quick \
	bench-python bench-article bench-ci baseline microbench

all: build

build:
	$(CARGO) build --workspace

release:
	$(CARGO) build --release -p rustcorn

# Formatting, clippy, and no file import circles within a crate (scripts/module-cycles.py).
lint:
	$(CARGO) fmt --all -- --check
	python3 scripts/module-cycles.py
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

nextest:
	@$(CARGO) nextest --version >/dev/null 2>&1 || $(CARGO) install cargo-nextest --locked

# Load-heavy tests (names containing "heavy") run last, one at a time, with the machine to themselves: two cores
# carry the tests, the servers under test and the load at once.
test: lint nextest
	$(CARGO) nextest run --workspace --all-targets -E 'not test(/heavy/)'
	$(CARGO) nextest run --workspace --all-targets -E 'test(/heavy/)' --test-threads 1

# The Python peers' venv (.venv-peers/), rebuilt only when bench-suite/python/requirements.txt changes.
python-peers:
	scripts/setup-python-peers.sh

clean:
	$(CARGO) clean

# wrk vs rustcorn load on the same server and pinning (server core 0, load core 1); needs 2 idle cores.
loadgen-vs-wrk: release
	bash scripts/loadgen-vs-wrk.sh

# nginx (one worker) vs serve async --threads 1 vs serve sync on /health, same pinning, runs alternated; ratios.
servers-vs-nginx: release
	bash scripts/servers-vs-nginx.sh

# User-space instructions per /health request of nginx, serve async and serve sync (callgrind): the servers' own
# code, compared on a machine however busy.
instructions-per-request: release
	bash scripts/instructions-per-request.sh

# The default comparison of every server model on every endpoint (bench-suite/default.toml, 3 repetitions, ~4
# minutes on 2 idle cores).
# Results in results/<run-id>/ and results/latest; the last line printed is the path of report.html.
bench: release
	$(RUSTCORN) bench run bench-suite/default.toml

# The CI-sized suite (bench-suite/quick.toml, under a minute).
bench-quick: release
	$(RUSTCORN) bench run bench-suite/quick.toml

# The article's app on the Python servers (uvicorn alone and --workers 2, gunicorn + UvicornWorker, gunicorn sync and
# gthread workers, granian, hypercorn, and the improved app) beside the Rust models, 3 interleaved repetitions, with
# every phase the article's claims need (bench-suite/python-peers.toml, about 10 minutes on 2 cores); builds the venv
# first. Prints the report's path last.
bench-python: python-peers release
	$(RUSTCORN) bench run bench-suite/python-peers.toml

# The article's Locust run (10 users, between(1, 5), /cpu-intensive and /memory-intensive 1:1) against its two
# commands, uvicorn main:app and gunicorn -w 4 -k uvicorn.workers.UvicornWorker main:app (and -w 2), and the Rust
# models (bench-suite/article.toml, 60 s per target, about 8 minutes); builds the venv first.
bench-article: python-peers release
	$(RUSTCORN) bench run bench-suite/article.toml

# CI regression check: quick suite x3 repetitions, compared with results/baseline.json and the recent passing runs of
# results/history.jsonl; a suspected regression is measured again before it fails. Summary: results/ci/summary.md.
bench-ci: release
	scripts/ci-bench.sh check

# Refresh results/baseline.json from a quick-suite run on this machine (commit it afterwards).
baseline: release
	scripts/ci-bench.sh baseline

# Criterion micro-benchmarks: handlers, the sync server's request parsing, an in-process round trip per model.
microbench:
	$(CARGO) bench --workspace
