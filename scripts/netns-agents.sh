#!/usr/bin/env bash
# scripts/netns-agents.sh N: load from N "machines" on this one. A network namespace for the target and one per
# agent, joined by veth pairs on a private bridge inside the target's namespace (10.213.0.0/24: addresses that
# exist only in the namespaces this script creates, and removes on exit). The target, `rustcorn upstream`, counts
# what it serves and prints `Requests served: N` when stopped; the N agents get one --start-at; `rustcorn bench
# collect` merges their reports. Prints the merged report and the server's count; exits 1 if they differ.
#
# Needs root and iproute2. Exit 77 (and a line starting "SKIP:") when namespaces cannot be made here.
# Environment: RUSTCORN (binary; default target/release/rustcorn, else target/debug/rustcorn), REQUESTS (each
# agent's measured requests, default 1500: a request budget closes the window at the last answer, so no request
# is left in flight and the counts can be equal), WARMUP (before it, default 500ms: a process woken late by a busy
# scheduler catches up there, not in the window), CONNECTIONS (per agent, default 4), LEAD_MS (from now to the start,
# default 2000), AGENT_RT (1, the default: agents run at real-time priority SCHED_RR 1; 0: ordinary priority),
# OUT (keep the agents' files there; default a temporary directory removed at exit).
set -euo pipefail

usage() { echo "usage: scripts/netns-agents.sh N   (1 <= N <= 50)" >&2; exit 2; }
[[ $# -eq 1 && $1 =~ ^[1-9][0-9]*$ && $1 -le 50 ]] || usage
agents=$1
root=$(cd "$(dirname "$0")/.." && pwd)
rustcorn=${RUSTCORN:-}
if [[ -z $rustcorn ]]; then
    rustcorn=$root/target/release/rustcorn
    [[ -x $rustcorn ]] || rustcorn=$root/target/debug/rustcorn
fi
[[ -x $rustcorn ]] || { echo "netns-agents: no rustcorn binary at $rustcorn (cargo build first)" >&2; exit 2; }
requests=${REQUESTS:-1500}
warmup=${WARMUP:-500ms}
connections=${CONNECTIONS:-4}
lead_ms=${LEAD_MS:-2000}
# On a machine shared with builds, the ordinary scheduler held an agent off the CPU for 44 ms right at its window's
# start (load average 17 on 2 cores), while the others started on time. Real-time priority lets each agent run
# when its instant comes, so the spread measures the start mechanism, not the neighbours. The agents mostly wait
# on sockets, and the kernel caps real-time tasks at 95 % of the CPU, so the server is not starved.
priority=()
if [[ ${AGENT_RT:-1} == 1 ]] && command -v chrt >/dev/null; then
    priority=(chrt --rr 1)
fi
subnet=10.213.0
server_addr=$subnet.1:8080

tag=rc$$                     # names unique to this run: namespaces and (briefly, in the root namespace) links
namespaces=()                # every namespace this run created, and only those, are deleted at exit
server_pid=
if [[ -n ${OUT:-} ]]; then
    out=$OUT
    mkdir -p "$out"
else
    out=$(mktemp -d)
fi

cleanup() {
    if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -KILL "$server_pid" 2>/dev/null || true
    fi
    for ns in "${namespaces[@]}"; do
        ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
        ip netns delete "$ns" 2>/dev/null || true
    done
    [[ -n ${OUT:-} ]] || rm -rf "$out"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ $EUID -ne 0 ]]; then
    echo "SKIP: network namespaces need root (running as uid $EUID)"
    exit 77
fi
if ! command -v ip >/dev/null; then
    echo "SKIP: iproute2's ip command is not installed"
    exit 77
fi
if ! error=$(ip netns add "$tag-srv" 2>&1); then
    echo "SKIP: cannot create a network namespace: $error"
    exit 77
fi
namespaces+=("$tag-srv")

# The target's namespace: loopback and the bridge every agent's link plugs into.
ip -n "$tag-srv" link set lo up
ip -n "$tag-srv" link add br0 type bridge
ip -n "$tag-srv" addr add "$subnet.1/24" dev br0
ip -n "$tag-srv" link set br0 up

# One namespace per agent, its end of a veth pair named eth0, the other end on the bridge.
for i in $(seq 1 "$agents"); do
    ns=$tag-a$i
    ip netns add "$ns"
    namespaces+=("$ns")
    ip -n "$ns" link set lo up
    ip link add "${tag}a$i" type veth peer name "${tag}s$i"
    ip link set "${tag}a$i" netns "$ns"
    ip link set "${tag}s$i" netns "$tag-srv"
    ip -n "$ns" link set "${tag}a$i" name eth0
    ip -n "$ns" addr add "$subnet.$((10 + i))/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$tag-srv" link set "${tag}s$i" master br0
    ip -n "$tag-srv" link set "${tag}s$i" up
done

# The target, in its namespace, on the bridge's address.
ip netns exec "$tag-srv" "$rustcorn" upstream --bind "$server_addr" --delay 1ms --jitter 0ms --body-bytes 64 \
    >"$out/server.out" 2>"$out/server.err" &
server_pid=$!
for _ in $(seq 1 300); do
    grep -q '^Listening at:' "$out/server.out" 2>/dev/null && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$out/server.err" >&2; exit 1; }
    sleep 0.1
done
grep -q '^Listening at:' "$out/server.out" || { echo "netns-agents: the server did not start" >&2; exit 1; }

# The agents, each in its namespace, all given one start instant.
start_at=$(( $(date +%s%3N) + lead_ms ))
mkdir -p "$out/agents"
pids=()
for i in $(seq 1 "$agents"); do
    ip netns exec "$tag-a$i" "${priority[@]}" "$rustcorn" load "http://$server_addr/" -c "$connections" -n "$requests" --warmup "$warmup" \
        --threads 1 --start-at "$start_at" --agent-id "agent-$i" --allow-remote --json \
        --hlog "$out/agents/agent-$i.hlog" >"$out/agents/agent-$i.json" 2>"$out/agent-$i.err" &
    pids+=($!)
done
failed=0
for i in "${!pids[@]}"; do
    if ! wait "${pids[$i]}"; then
        echo "netns-agents: agent-$((i + 1)) failed:" >&2
        cat "$out/agent-$((i + 1)).err" >&2
        failed=1
    fi
done
(( failed == 0 )) || exit 1

# The server's own count, then the merged report.
kill -TERM "$server_pid"
wait "$server_pid" || true
server_pid=
served=$(sed -n 's/^Requests served: //p' "$out/server.out")
[[ -n $served ]] || { echo "netns-agents: the server printed no count" >&2; cat "$out/server.err" >&2; exit 1; }

"$rustcorn" bench collect "$out/agents" --expect "$agents" -o "$out/merged.json" --hlog "$out/merged.hlog" \
    | tee "$out/merged.txt"
merged=$(sed -n 's/^  Requests: *\([0-9][0-9]*\) .*/\1/p' "$out/merged.txt")
warmup=$(sed -n 's/^  Window: .*(\([0-9][0-9]*\) warm-up requests answered before it)/\1/p' "$out/merged.txt")
echo
echo "Merged count:   $merged requests from $agents agents (+ ${warmup:-0} warm-up requests)"
echo "Server's count: $served requests served"
if [[ $(( merged + ${warmup:-0} )) -ne $served ]]; then
    echo "netns-agents: MISMATCH: the agents counted $((merged + ${warmup:-0})), the server served $served" >&2
    exit 1
fi
echo "Equal: every request the server served is in the merged report, once."
