#!/usr/bin/env bash
# Builds the Python peers' venv (.venv-peers/ under the project root) from bench-suite/python/requirements.txt,
# and rebuilds it only when that file or the base interpreter changes. Prints the venv's interpreter path on
# stdout, everything else on stderr. Called by `make python-peers`, scripts/python-peers-smoke.sh and the suites.
#   PYTHON=python3.12 scripts/setup-python-peers.sh     # another base interpreter (>= 3.11)
#   RUSTCORN_PEERS_VENV=/elsewhere scripts/setup-python-peers.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REQUIREMENTS="$ROOT/bench-suite/python/requirements.txt"
VENV="${RUSTCORN_PEERS_VENV:-$ROOT/.venv-peers}"
PYTHON="${PYTHON:-python3}"
STAMP="$VENV/.requirements.sha256"
# Imported once after installing, so a venv that installs but cannot load is caught here, not mid-benchmark.
MODULES="fastapi, starlette, uvicorn, uvicorn_worker, gunicorn, granian, hypercorn, requests, aiohttp, uvloop, httptools"

log() { echo "setup-python-peers: $*" >&2; }
fail() {
    log "error: $*"
    exit 1
}

[[ -f $REQUIREMENTS ]] || fail "missing $REQUIREMENTS"
command -v "$PYTHON" >/dev/null || fail "no '$PYTHON' on PATH: install Python >= 3.11 or set PYTHON=/path/to/python3"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
    fail "$("$PYTHON" --version 2>&1) is too old: the pinned fastapi needs Python >= 3.11 (set PYTHON=...)"

# The stamp names both inputs: the pinned set and the exact base interpreter it was built with.
base_interpreter="$("$PYTHON" -c 'import sys; print(sys.executable, sys.version.split()[0])')"
wanted="$({ sha256sum <"$REQUIREMENTS"; echo "$base_interpreter"; } | sha256sum | cut -d' ' -f1)"

# Two callers at once (parallel tests, make and a suite) must not build the same venv over each other.
mkdir -p "$(dirname "$VENV")"
exec 9>"$VENV.lock"
if command -v flock >/dev/null; then
    flock 9
fi

if [[ -x $VENV/bin/python && -f $STAMP && "$(cat "$STAMP")" == "$wanted" ]]; then
    log "$VENV is up to date with $(basename "$REQUIREMENTS")"
    echo "$VENV/bin/python"
    exit 0
fi

log "building $VENV from $REQUIREMENTS with $base_interpreter"
rm -rf "$VENV"
if ! "$PYTHON" -m venv "$VENV" >&2; then
    rm -rf "$VENV"
    fail "'$PYTHON -m venv' failed (on Debian/Ubuntu the venv module is in the python3-venv package)"
fi
if ! "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$REQUIREMENTS" >&2; then
    rm -rf "$VENV"
    fail "pip could not install $REQUIREMENTS (is PyPI reachable? pip's own message is above)"
fi
if ! "$VENV/bin/python" -m pip check --disable-pip-version-check >&2; then
    rm -rf "$VENV"
    fail "the pinned set in $REQUIREMENTS is inconsistent (see pip check above)"
fi
if ! "$VENV/bin/python" -c "import $MODULES" >&2; then
    rm -rf "$VENV"
    fail "the venv installed but cannot import $MODULES"
fi

echo "$wanted" >"$STAMP"
log "ready: $("$VENV/bin/python" --version 2>&1), $("$VENV/bin/python" -m pip --version --disable-pip-version-check | cut -d' ' -f1-2)"
echo "$VENV/bin/python"
