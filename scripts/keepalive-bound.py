#!/usr/bin/env python3
"""Measures `serve sync` under more kept-alive connections than threads: the README's keep-alive bound table.

For each run: `rustcorn upstream --delay 100ms` and `rustcorn serve sync` pinned to core 0, then
`rustcorn load URL/async-google -c 1024 -z 4s --warmup 1s --json` pinned to core 1, always with this tree's load
generator (so every server is measured by the same one). Servers are alternated, RUNS rounds. Prints one JSON line
per run: req/s, p50/p99, answers per connection (fewest/most/none), the requests in flight at the close and the
oldest one's age, failures.

Usage: scripts/keepalive-bound.py [--runs 3] [--duration 4s] LABEL=BINARY[:SERVE FLAGS] ...
e.g.   scripts/keepalive-bound.py before=/work/main/target/release/rustcorn after=target/release/rustcorn \
           'n10=target/release/rustcorn:--max-keepalive-requests 10'
"""
import argparse
import json
import re
import subprocess
import time

LOAD = "target/release/rustcorn"


def start(argv):
    """Starts a rustcorn server and returns it with the URL of its `Listening at:` line."""
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 20
    while time.time() < deadline:
        found = re.search(r"Listening at: (http://[0-9.:]+)", process.stdout.readline())
        if found:
            return process, found.group(1)
    process.kill()
    raise SystemExit(f"no 'Listening at:' line from {argv}")


def stop(process):
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def percentile(latency, wanted):
    return next(p["latency_us"] for p in latency["percentiles"] if p["percentile"] == wanted)


def measure(label, binary, flags, duration):
    upstream, upstream_url = start(["taskset", "-c", "0", LOAD, "upstream", "--delay", "100ms", "--bind", "127.0.0.1:0"])
    server, url = start(["taskset", "-c", "0", binary, "serve", "sync", "--bind", "127.0.0.1:0",
                         "--upstream", upstream_url, *flags])
    try:
        load = ["taskset", "-c", "1", LOAD, "load", f"{url}/async-google", "-c", "1024", "-z", duration,
                "--warmup", "1s", "--json"]
        report = json.loads(subprocess.run(load, capture_output=True, text=True, timeout=600).stdout)
    finally:
        stop(server)
        stop(upstream)
    total = report["aggregated"]
    spread = report.get("answers_per_connection") or {}
    return {
        "label": label,
        "rps": total["requests_per_second"],
        "p50_ms": percentile(total["latency"], 50.0) / 1000,
        "p99_ms": percentile(total["latency"], 99.0) / 1000,
        "fewest": spread.get("fewest"),
        "most": spread.get("most"),
        "none": spread.get("none"),
        "in_flight": total["in_flight"]["requests"],
        "oldest_s": total["in_flight"]["max_age_us"] / 1e6,
        "failures": sum(total["failures"].values()),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", default="4s")
    parser.add_argument("servers", nargs="+", help="LABEL=BINARY[:SERVE FLAGS]")
    args = parser.parse_args()
    servers = []
    for spec in args.servers:
        label, _, rest = spec.partition("=")
        binary, _, flags = rest.partition(":")
        servers.append((label, binary, flags.split()))
    for _ in range(args.runs):
        for label, binary, flags in servers:
            print(json.dumps(measure(label, binary, flags, args.duration)), flush=True)


if __name__ == "__main__":
    main()
