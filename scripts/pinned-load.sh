# Sourced by loadgen-vs-wrk.sh, servers-vs-nginx.sh and instructions-per-request.sh: the knobs they share (server
# on one core, load on the other) and the tools they need. Knobs (environment): CONNECTIONS (50), DURATION seconds (10), RUNS (3),
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

# A scratch folder for the script, removed at exit after the processes in `pids` (the servers it started; append
# each with `pids+=($!)`) are stopped.
workdir=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    rm -rf "$workdir"
}
trap cleanup EXIT

# A port free on loopback right now (bound, read and closed: another process could take it before it is used).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Writes DIR/nginx.conf: one nginx worker on 127.0.0.1:PORT that answers /health with the JSON body our servers
# send, no log, keep-alive without a request limit. Run it as `nginx -c DIR/nginx.conf -p DIR` (it stays in the
# foreground).
write_nginx_conf() { # DIR PORT
    cat >"$1/nginx.conf" <<CONF
worker_processes 1;
master_process off;
daemon off;
pid $1/nginx.pid;
error_log $1/nginx.err warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000000;
    server {
        listen 127.0.0.1:$2;
        location = /health {
            default_type application/json;
            return 200 '{"message":"ok","duration":0.0}';
        }
    }
}
CONF
}

install_missing wrk wrk
if [ ! -x "$RUSTCORN" ]; then
    cargo build --release -p rustcorn
fi
