#!/usr/bin/env bash
# nginx (one worker, from the distribution's packages) against `rustcorn serve async --threads 1` and `rustcorn
# serve sync` on /health: each server on one core, wrk -t1 -c50 on the other (the pinning of loadgen-vs-wrk.sh),
# runs alternated (nginx, async, sync, nginx, ...) so that a noisy neighbour hits every server alike. Prints each
# run's req/s and each model's ratio to the nginx run of the same round. Goal: async >= 1.0x, sync >= 0.9x.
# Knobs (environment): see scripts/pinned-load.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/pinned-load.sh
install_missing nginx nginx-light

workdir=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    rm -rf "$workdir"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# nginx answers /health with the same JSON body our servers send; no log, keep-alive without a request limit.
nginx_port=$(free_port)
cat >"$workdir/nginx.conf" <<CONF
worker_processes 1;
master_process off;
daemon off;
pid $workdir/nginx.pid;
error_log $workdir/nginx.err warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000000;
    server {
        listen 127.0.0.1:$nginx_port;
        location = /health {
            default_type application/json;
            return 200 '{"message":"ok","duration":0.0}';
        }
    }
}
CONF
taskset -c "$SERVER_CPU" nginx -c "$workdir/nginx.conf" -p "$workdir" &
pids+=($!)

start_rustcorn() { # NAME ARGS... -> prints the base URL
    local name=$1
    shift
    taskset -c "$SERVER_CPU" "$RUSTCORN" serve "$@" --bind 127.0.0.1:0 >"$workdir/$name.out" 2>"$workdir/$name.err" &
    pids+=($!)
    for _ in $(seq 1 100); do
        grep -q '^Listening at:' "$workdir/$name.out" 2>/dev/null && break
        sleep 0.1
    done
    local address
    address=$(sed -n 's/^Listening at: //p' "$workdir/$name.out")
    if [ -z "$address" ]; then
        echo "rustcorn serve $* did not start:" >&2
        cat "$workdir/$name.err" >&2
        exit 1
    fi
    echo "$address"
}
async_url="$(start_rustcorn async async --threads 1)/health"
sync_url="$(start_rustcorn sync sync)/health"
nginx_url="http://127.0.0.1:$nginx_port/health"
for _ in $(seq 1 50); do curl -sf -o /dev/null "$nginx_url" && break; sleep 0.1; done

wrk_rps() { # URL
    taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" "$1" | sed -n 's/^Requests\/sec: *//p'
}

echo "servers on core $SERVER_CPU (nginx $(nginx -v 2>&1 | sed 's/.*\///'), rustcorn async --threads 1, rustcorn sync)"
echo "load: wrk -t1 -c$CONNECTIONS -d${DURATION}s on core $LOAD_CPU, runs alternated"
printf '%-5s %12s %12s %12s %10s %10s\n' run "nginx req/s" "async req/s" "sync req/s" "async/ngx" "sync/ngx"
for run in $(seq 1 "$RUNS"); do
    nginx_rps=$(wrk_rps "$nginx_url")
    async_rps=$(wrk_rps "$async_url")
    sync_rps=$(wrk_rps "$sync_url")
    printf '%-5s %12s %12s %12s %9sx %9sx\n' "$run" "$nginx_rps" "$async_rps" "$sync_rps" \
        "$(awk -v a="$async_rps" -v n="$nginx_rps" 'BEGIN { printf "%.3f", a / n }')" \
        "$(awk -v s="$sync_rps" -v n="$nginx_rps" 'BEGIN { printf "%.3f", s / n }')"
done
