"""Checks that one running Python peer serves the article's endpoints with the article's JSON; used by
scripts/python-peers-smoke.sh. Standard library only.

    python check_peer.py http://127.0.0.1:PORT --pid PID [--ready-timeout 30]

Waits for /health (giving up early if process PID exits), then prints one line per check and exits 1 if any failed.
"""

import argparse
import http.client
import json
import os
import sys
import time
import urllib.parse

# Path -> the message its 200 body must carry: the article's words (the Rust models send the same ones).
COMPLETED = {
    "/cpu-intensive": "CPU-intensive task completed",
    "/memory-intensive": "Memory-intensive task completed",
    "/sync-google": "Sync request to google.com completed",
    "/async-google": "Async request to google.com completed",
}
REQUEST_TIMEOUT_SECONDS = 35.0


def get(base, target):
    """One GET on a fresh connection: (status, headers with lower-case names, body bytes)."""
    url = urllib.parse.urlsplit(base)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=REQUEST_TIMEOUT_SECONDS)
    try:
        connection.request("GET", target)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def process_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped by the shell) still answers kill(0): read its state.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_ready(base, pid, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pid is not None and not process_alive(pid):
            return f"process {pid} exited before answering /health"
        try:
            status, _, _ = get(base, "/health")
            if status == 200:
                return None
        except OSError:
            pass
        time.sleep(0.1)
    return f"/health did not answer 200 within {timeout} s"


def json_body(response, want_status):
    """(problem, decoded body): problem names what is wrong with the status, headers or JSON, else None."""
    status, headers, body = response
    if status != want_status:
        return f"status {status}, wanted {want_status}: {body[:200]!r}", None
    if headers.get("content-type", "").split(";")[0].strip() != "application/json":
        return f"content-type {headers.get('content-type')!r}", None
    if not headers.get("x-worker-pid", "").isdigit():
        return f"x-worker-pid header {headers.get('x-worker-pid')!r}", None
    try:
        return None, json.loads(body)
    except ValueError as error:
        return f"body is not JSON ({error}): {body[:200]!r}", None


def check_completed(base, target, message):
    problem, value = json_body(get(base, target), 200)
    if problem:
        return problem
    # The article's handlers return {"message": ..., "duration": ...}, in that order.
    if not isinstance(value, dict) or list(value) != ["message", "duration"]:
        return f"body {value!r}, wanted the keys message and duration, in that order"
    if value["message"] != message:
        return f"message {value['message']!r}, wanted {message!r}"
    duration = value["duration"]
    if isinstance(duration, bool) or not isinstance(duration, (int, float)) or duration < 0:
        return f"duration {duration!r} is not a non-negative number of seconds"
    return None


def check_health(base):
    problem, value = json_body(get(base, "/health"), 200)
    if problem:
        return problem
    if value != {"message": "ok", "duration": 0.0}:
        return f"body {value!r}"
    return None


def check_refused(base, target, want_status):
    problem, value = json_body(get(base, target), want_status)
    if problem:
        return problem
    if not isinstance(value, dict) or not isinstance(value.get("detail"), (str, list)):
        return f"body {value!r}, wanted {{\"detail\": ...}}"
    return None


def checks(base):
    yield "GET /health -> 200 ok", lambda: check_health(base)
    for path, message in COMPLETED.items():
        yield f"GET {path} -> 200 {message!r}", lambda p=path, m=message: check_completed(base, p, m)
    yield "GET /cpu-intensive?iterations=1234 -> 200", lambda: check_completed(
        base, "/cpu-intensive?iterations=1234", COMPLETED["/cpu-intensive"]
    )
    yield "GET /memory-intensive?n=7 -> 200", lambda: check_completed(
        base, "/memory-intensive?n=7", COMPLETED["/memory-intensive"]
    )
    # FastAPI refuses a bad query value with 422; the WSGI twin answers the same way.
    yield "GET /memory-intensive?n=abc -> 422 detail", lambda: check_refused(base, "/memory-intensive?n=abc", 422)
    yield "GET /cpu-intensive?iterations=1000000001 -> 422 detail", lambda: check_refused(
        base, "/cpu-intensive?iterations=1000000001", 422
    )
    yield "GET /no-such-path -> 404 detail", lambda: check_refused(base, "/no-such-path", 404)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url")
    parser.add_argument("--pid", type=int, help="the peer's process: stop waiting if it exits")
    parser.add_argument("--ready-timeout", type=float, default=30.0)
    args = parser.parse_args()

    not_ready = wait_ready(args.base_url, args.pid, args.ready_timeout)
    if not_ready:
        print(f"  FAIL ready: {not_ready}")
        return 1
    failures = 0
    for name, check in checks(args.base_url):
        try:
            problem = check()
        except OSError as error:
            problem = f"request failed: {error}"
        print(f"  {'FAIL' if problem else 'ok  '} {name}" + (f": {problem}" if problem else ""))
        failures += bool(problem)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
