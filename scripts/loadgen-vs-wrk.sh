#!/usr/bin/env bash
# wrk and `rustcorn load` in turn against the same `rustcorn serve async` /health, same pinning (server on core 0,
# load on core 1) and connections; prints both req/s and the ratio per run. Goal: rustcorn load >= 1.0x wrk.
# Knobs (environment): see scripts/pinned-load.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/pinned-load.sh

taskset -c "$SERVER_CPU" "$RUSTCORN" serve async --bind 127.0.0.1:0 >"$workdir/server.out" 2>"$workdir/server.err" &
pids+=($!)
for _ in $(seq 1 100); do
    grep -q '^Listening at:' "$workdir/server.out" 2>/dev/null && break
    sleep 0.1
done
address=$(sed -n 's/^Listening at: //p' "$workdir/server.out")
if [ -z "$address" ]; then
    echo "the server did not start:" >&2
    cat "$workdir/server.err" >&2
    exit 1
fi
url="$address/health"

echo "target: rustcorn serve async on core $SERVER_CPU, $url"
echo "load:   core $LOAD_CPU, $CONNECTIONS connections, ${DURATION}s, one thread each"
echo "load command: taskset -c $LOAD_CPU $RUSTCORN load $url -c $CONNECTIONS -z ${DURATION}s --threads 1"
# CPU time per request of each load tool (user + sys, from GNU time): the cost that decides who becomes the
# bottleneck first when the server is faster than one load core.
cpu_us_per_request() { # FILE REQUESTS_PER_SECOND
    awk -v rps="$2" -v secs="$DURATION" '{ printf "%.2f", ($1 + $2) * 1e6 / (rps * secs) }' "$1"
}
if [ -x /usr/bin/time ]; then timed() { /usr/bin/time -f '%U %S' -o "$1" "${@:2}"; }; else timed() { echo "0 0" >"$1"; "${@:2}"; }; fi

printf '%-5s %12s %16s %8s %18s %18s\n' run "wrk req/s" "rustcorn req/s" ratio "wrk cpu us/req" "rustcorn cpu us/req"
for run in $(seq 1 "$RUNS"); do
    wrk_rps=$(timed "$workdir/wrk.time" taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" "$url" \
        | sed -n 's/^Requests\/sec: *//p')
    ours_rps=$(timed "$workdir/ours.time" taskset -c "$LOAD_CPU" "$RUSTCORN" load "$url" -c "$CONNECTIONS" \
        -z "${DURATION}s" --threads 1 | sed -n 's/^  Requests: *[0-9]* (\([0-9.]*\) req\/s)$/\1/p')
    ratio=$(awk -v ours="$ours_rps" -v wrk="$wrk_rps" 'BEGIN { printf "%.3f", ours / wrk }')
    printf '%-5s %12s %16s %7sx %18s %18s\n' "$run" "$wrk_rps" "$ours_rps" "$ratio" \
        "$(cpu_us_per_request "$workdir/wrk.time" "$wrk_rps")" "$(cpu_us_per_request "$workdir/ours.time" "$ours_rps")"
done
