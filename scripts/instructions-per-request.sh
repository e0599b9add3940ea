#!/usr/bin/env bash
# User-space instructions per /health request of nginx (one worker), `rustcorn serve async --threads 1` and
# `rustcorn serve sync`, counted by valgrind's callgrind: each server runs under callgrind, takes 2 s of
# `wrk -t1 -c50` to warm up, then its counters are zeroed, wrk loads it for DURATION seconds, and the counters are
# dumped; the count divided by wrk's requests is the figure. Unlike req/s and CPU time it does not depend on what
# else the machine runs, so it compares the servers' own code on a shared machine (the kernel's part of a request,
# about 80 % of its time on loopback, is not in it: see servers-vs-nginx.sh for the whole cost).
# Knobs (environment): DURATION seconds (4 here), CONNECTIONS (50), RUSTCORN; see scripts/pinned-load.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-4}
source scripts/pinned-load.sh
install_missing nginx nginx-light
install_missing valgrind valgrind

# Runs COMMAND (which serves /health at URL) under callgrind and prints its instructions per request.
count() { # NAME URL COMMAND...
    local name=$1 url=$2
    shift 2
    valgrind --tool=callgrind --callgrind-out-file="$workdir/$name.callgrind" "$@" \
        >"$workdir/$name.out" 2>"$workdir/$name.err" &
    local server_pid=$!
    pids+=("$server_pid")
    for _ in $(seq 1 300); do
        curl -sf -o /dev/null "$url" && break
        sleep 0.1
    done
    if ! curl -sf -o /dev/null "$url"; then
        echo "$name did not start under valgrind:" >&2
        cat "$workdir/$name.err" >&2
        exit 1
    fi
    wrk -t1 -c"$CONNECTIONS" -d2s "$url" >/dev/null
    callgrind_control --zero "$server_pid" >/dev/null 2>&1
    local requests
    requests=$(wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" "$url" | sed -n 's/^ *\([0-9]*\) requests in.*/\1/p')
    callgrind_control --dump "$server_pid" >/dev/null 2>&1
    kill "$server_pid"
    wait "$server_pid" 2>/dev/null || true
    # The dump holds the events from the zeroing to the dump, i.e. the measured load; the file written at exit
    # (the shutdown) is left out.
    local instructions
    instructions=$(awk '/^(summary|totals):/ { n = $2 } END { print n + 0 }' "$workdir/$name.callgrind".*)
    awk -v name="$name" -v i="$instructions" -v n="$requests" \
        'BEGIN { printf "%-6s %12d %14d %12.0f\n", name, n, i, (n > 0 ? i / n : 0) }'
}

echo "user-space instructions per /health request, callgrind, wrk -t1 -c$CONNECTIONS -d${DURATION}s after a 2 s warm-up"
printf '%-6s %12s %14s %12s\n' server requests instructions "per request"
nginx_port=$(free_port)
write_nginx_conf "$workdir" "$nginx_port"
count nginx "http://127.0.0.1:$nginx_port/health" nginx -c "$workdir/nginx.conf" -p "$workdir"
for model in async sync; do
    port=$(free_port)
    arguments=(serve "$model" --bind "127.0.0.1:$port")
    if [ "$model" = async ]; then arguments+=(--threads 1); fi
    count "$model" "http://127.0.0.1:$port/health" "$RUSTCORN" "${arguments[@]}"
done
