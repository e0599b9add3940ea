#!/usr/bin/env bash
# nginx (one worker, from the distribution's packages) against `rustcorn serve async --threads 1` and `rustcorn
# serve sync` on /health: each server on one core, wrk -t1 -c50 on the other (the pinning of loadgen-vs-wrk.sh),
# runs alternated (nginx, async, sync, nginx, ...) so that a noisy neighbour hits every server alike. Prints each
# run's req/s and each model's ratio to the nginx run of the same round. Goal: async >= 1.0x, sync >= 0.9x.
# A fourth server, scripts/thread-per-connection.c (built here with the distribution's cc), is the floor of the
# sync model: a C thread per connection that only answers, with none of the parsing, limits and timeouts. A
# thread-per-connection server pays one wake-up and context switch per request, which nginx's event loop does not;
# the floor shows what that costs on this machine, and sync's ratio to it what is left to the code.
# On a shared machine req/s follows whatever else runs on the server's core, so each run also prints what a
# request cost the server, which depends far less on that: CPU time (user + system, from /proc/PID/stat) and
# context switches (voluntary + not, summed over its threads from /proc/PID/task/*/status) per request.
# Knobs (environment): see scripts/pinned-load.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/pinned-load.sh
install_missing nginx nginx-light
install_missing cc gcc

nginx_port=$(free_port)
write_nginx_conf "$workdir" "$nginx_port"
taskset -c "$SERVER_CPU" nginx -c "$workdir/nginx.conf" -p "$workdir" &
pids+=($!)
nginx_pid=$!

# Starts `rustcorn serve ARGS` on the server core and sets NAME_url (its /health) and NAME_pid. Not called in a
# command substitution: that subshell would keep the pid from `pids`, and the server would outlive the script.
start_rustcorn() { # NAME ARGS...
    local name=$1
    shift
    taskset -c "$SERVER_CPU" "$RUSTCORN" serve "$@" --bind 127.0.0.1:0 >"$workdir/$name.out" 2>"$workdir/$name.err" &
    pids+=($!)
    printf -v "${name}_pid" '%s' "$!"
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
    printf -v "${name}_url" '%s/health' "$address"
}
start_rustcorn async async --threads 1
start_rustcorn sync sync
cc -O2 -pthread -o "$workdir/thread-per-connection" scripts/thread-per-connection.c
floor_port=$(free_port)
taskset -c "$SERVER_CPU" "$workdir/thread-per-connection" "$floor_port" >/dev/null &
pids+=($!)
floor_pid=$!
floor_url="http://127.0.0.1:$floor_port/health"
nginx_url="http://127.0.0.1:$nginx_port/health"
for url in "$nginx_url" "$floor_url"; do
    for _ in $(seq 1 50); do curl -sf -o /dev/null "$url" && break; sleep 0.1; done
done

# Server-side counters of PID: CPU clock ticks (user + system) and context switches, all threads summed.
server_counters() { # PID -> "TICKS SWITCHES"
    local ticks switches
    ticks=$(awk '{ print $14 + $15 }' "/proc/$1/stat")
    switches=$(cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^(non)?voluntary_ctxt_switches/ { n += $2 } END { print n }')
    echo "$ticks $switches"
}

clock_ticks=$(getconf CLK_TCK)

# Busy and total clock ticks of CPU, from /proc/stat (iowait counts as idle).
core_ticks() { # CPU -> "BUSY TOTAL"
    awk -v cpu="cpu$1" '$1 == cpu { print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat
}

# One wrk run against URL served by PID: prints "REQ/S CPU_US_PER_REQUEST SWITCHES_PER_REQUEST LOAD_CORE_BUSY_%".
# The last says who set the pace: near 100 %, wrk's core was full, and req/s is wrk's limit as much as the
# server's (the server's own CPU per request is then the figure that tells servers apart).
measure() { # URL PID
    local before after load_before load_after output requests rps
    before=$(server_counters "$2")
    load_before=$(core_ticks "$LOAD_CPU")
    output=$(taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" "$1")
    load_after=$(core_ticks "$LOAD_CPU")
    after=$(server_counters "$2")
    requests=$(echo "$output" | sed -n 's/^ *\([0-9]*\) requests in.*/\1/p')
    rps=$(echo "$output" | sed -n 's/^Requests\/sec: *//p')
    awk -v rps="$rps" -v n="$requests" -v hz="$clock_ticks" -v b="$before" -v a="$after" \
        -v lb="$load_before" -v la="$load_after" 'BEGIN {
        split(b, x, " "); split(a, y, " "); split(lb, p, " "); split(la, q, " ")
        load = q[2] > p[2] ? (q[1] - p[1]) * 100 / (q[2] - p[2]) : 0
        if (n == 0) { printf "%s 0 0 %.0f\n", rps, load; exit }
        printf "%s %.2f %.2f %.0f\n", rps, (y[1] - x[1]) / hz * 1e6 / n, (y[2] - x[2]) / n, load
    }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "-" }'; }

echo "servers on core $SERVER_CPU (nginx $(nginx -v 2>&1 | sed 's/.*\///'), rustcorn async --threads 1, rustcorn sync, floor: C thread per connection)"
echo "load: wrk -t1 -c$CONNECTIONS -d${DURATION}s on core $LOAD_CPU, runs alternated; load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "cpu us/req: the server's CPU time (user + system) per request; cs/req: its context switches per request;"
echo "wrk core: how busy the load's core was (near 100 %, wrk set the pace and cpu us/req tells the servers apart)"
printf '%-4s %-6s %12s %11s %8s %9s %13s %14s\n' run server "req/s" "cpu us/req" "cs/req" "wrk core" "req/s vs ngx" \
    "cpu/req vs ngx"
for run in $(seq 1 "$RUNS"); do
    read -r nginx_rps nginx_cpu nginx_cs nginx_load < <(measure "$nginx_url" "$nginx_pid")
    printf '%-4s %-6s %12s %11s %8s %8s%% %13s %14s\n' "$run" nginx "$nginx_rps" "$nginx_cpu" "$nginx_cs" "$nginx_load" 1x 1x
    for model in async sync floor; do
        url_var=${model}_url pid_var=${model}_pid
        read -r rps cpu cs load < <(measure "${!url_var}" "${!pid_var}")
        # The CPU ratio is nginx's cost over this server's, so that above 1 means better than nginx on both.
        printf '%-4s %-6s %12s %11s %8s %8s%% %12sx %13sx\n' "$run" "$model" "$rps" "$cpu" "$cs" "$load" \
            "$(ratio "$rps" "$nginx_rps")" "$(ratio "$nginx_cpu" "$cpu")"
        printf -v "${model}_rps" '%s' "$rps"
        printf -v "${model}_cpu" '%s' "$cpu"
    done
    printf '%-4s %-6s %s\n' "$run" "sync" "vs floor: req/s $(ratio "$sync_rps" "$floor_rps")x, cpu/req $(ratio "$floor_cpu" "$sync_cpu")x"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
