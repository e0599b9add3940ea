"""The work behind the seed's endpoints, shared by app.py (FastAPI) and app_wsgi.py (plain WSGI).

Mirrors crates/endpoints (work.rs, routing.rs): same loops, defaults, limits, messages and error bodies, so the
Python peers and the Rust models serve the same requests with the same JSON.
"""

import os
import time

# The google.com stand-in; set by the driver to its local upstream, never taken from a request.
UPSTREAM_URL = os.environ.get("RUSTCORN_UPSTREAM_URL", "http://127.0.0.1:9000/")
# Same bound as the Rust UpstreamClient, so a stuck upstream fails the request instead of hanging a worker.
UPSTREAM_TIMEOUT_SECONDS = 30.0

# The seed's 1000 x 100 nested loop and its list of 10 000 integers.
DEFAULT_CPU_ITERATIONS = 100_000
DEFAULT_MEMORY_N = 10_000
# Same ceilings as crates/endpoints/src/routing.rs.
MAX_CPU_ITERATIONS = 1_000_000_000
MAX_MEMORY_N = 10_000_000

CPU_MESSAGE = "CPU intensive task completed"
MEMORY_MESSAGE = "Memory intensive task completed"
SYNC_GOOGLE_MESSAGE = "Sync Google request completed"
ASYNC_GOOGLE_MESSAGE = "Async Google request completed"
HEALTH_BODY = {"message": "ok", "duration": 0.0}

# Every response carries the serving process's pid, like the Rust models, so the report can count requests per worker.
WORKER_PID_HEADER = "x-worker-pid"


def cpu_intensive(iterations: int) -> dict:
    """The seed's nested loop (inner loop of 100), `iterations` multiply-adds in all."""
    start = time.perf_counter()
    outer = iterations // 100
    result = 0
    for i in range(outer):
        for j in range(100):
            result += i * j
    for j in range(iterations % 100):
        result += outer * j
    return {"message": CPU_MESSAGE, "duration": time.perf_counter() - start}


def memory_intensive(n: int) -> dict:
    """The seed's list of `n` integers, built element by element, then dropped."""
    start = time.perf_counter()
    large_list = [i for i in range(n)]
    del large_list
    return {"message": MEMORY_MESSAGE, "duration": time.perf_counter() - start}


def completed(message: str, start: float) -> dict:
    return {"message": message, "duration": time.perf_counter() - start}


def upstream_failure(error: Exception) -> dict:
    """The 502 body the Rust models send when the upstream fails (FastAPI's `detail` shape)."""
    # Some errors (a timeout) have no text of their own: their type is the message then.
    return {"detail": f"upstream request failed: {str(error) or type(error).__name__}"}


class QueryError(ValueError):
    """A query parameter that is not a non-negative integer within its ceiling: answered with 400."""


def query_number(raw: "str | None", name: str, default: int, ceiling: int) -> int:
    """Parses one query value like routing.rs does; `raw` is None when the parameter is absent."""
    if raw is None:
        return default
    # More than 20 digits cannot be a u64: refused as the Rust side refuses it, before int() does the work.
    if not raw.isascii() or not raw.isdigit() or len(raw) > 20:
        raise QueryError(f"query parameter '{name}' must be a non-negative integer")
    value = int(raw)
    if value > ceiling:
        raise QueryError(f"query parameter '{name}' must be at most {ceiling}")
    return value
