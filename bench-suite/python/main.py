"""The test app of the article "Gunicorn & Uvicorn" (2024-05-30), as the article wrote it.

Run it with the article's own commands, from this folder: `uvicorn main:app` and
`gunicorn -w 4 -k uvicorn.workers.UvicornWorker main:app`. The four handlers below are the article's, line for
line: plain `def` handlers (FastAPI runs them on its 40-thread pool) with `requests.get` for /sync-google, an
`async def` opening a new `aiohttp.ClientSession` per request for /async-google, `time.time()` around the work.

Added for the harness, without changing what a handler does (each marked "harness:"):
- `import requests` and `import aiohttp`: the article's listing uses both and imports neither;
- the google.com URL comes from RUSTCORN_UPSTREAM_URL (the benchmark's local upstream; default the same loopback
  address as the Rust models' `--upstream`), so the load stays on this machine;
- `?iterations=` and `?n=`, defaulting to the article's values: the article's inner loop of 100 runs
  `iterations // 100` times (1000 by default) and a last partial pass runs `iterations % 100` times, so the work
  is the article's loop by default and grows linearly with N; `n` is the length of the article's list;
- an `x-worker-pid` header on every response (a pure ASGI middleware, outside the handlers) and `/health` for the
  driver's readiness check.

improved.py sets the same handlers beside the improvements this code does without; main_wsgi.py serves these very
functions to gunicorn's sync workers.
"""

import os
import time
from typing import Annotated

import aiohttp  # harness: the article's code uses aiohttp without importing it
import requests  # harness: the same for requests
from fastapi import FastAPI, Query

# harness: google.com is the benchmark's local upstream.
GOOGLE_URL = os.environ.get("RUSTCORN_UPSTREAM_URL", "http://127.0.0.1:9000/")

# harness: the article's loop and list sizes, and ceilings that keep one request under about a minute of work
# (the Rust models accept the same ranges).
DEFAULT_ITERATIONS = 1000 * 100
DEFAULT_N = 10000
MAX_ITERATIONS = 1_000_000_000
MAX_N = 10_000_000

app = FastAPI()


class WorkerPidMiddleware:
    """harness: adds `x-worker-pid` to every response (pure ASGI: no task and no body copy per request)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_pid(message):
            if message["type"] == "http.response.start":
                # Read per response, not at import: with --preload gunicorn imports the app before it forks.
                pid = (b"x-worker-pid", str(os.getpid()).encode())
                message["headers"] = [*message.get("headers", ()), pid]
            await send(message)

        await self.app(scope, receive, send_with_pid)


app.add_middleware(WorkerPidMiddleware)


@app.get("/health")
async def health():
    """harness: the driver's readiness check."""
    return {"message": "ok", "duration": 0.0}


@app.get("/cpu-intensive")
def cpu_intensive_task(iterations: Annotated[int, Query(ge=0, le=MAX_ITERATIONS)] = DEFAULT_ITERATIONS):
    """중첩 for 루프로 CPU 사용량 증가"""
    start_time = time.time()
    for i in range(iterations // 100):
        for j in range(100):
            pass
    for j in range(iterations % 100):  # harness: the last partial pass of ?iterations=N (none by default)
        pass
    end_time = time.time()
    return {
        "message": "CPU-intensive task completed",
        "duration": end_time - start_time,
    }


@app.get("/memory-intensive")
def memory_intensive_task(n: Annotated[int, Query(ge=0, le=MAX_N)] = DEFAULT_N):
    """대용량 리스트 생성"""
    start_time = time.time()
    data = [i for i in range(n)]
    end_time = time.time()
    return {
        "message": "Memory-intensive task completed",
        "duration": end_time - start_time,
    }


@app.get("/sync-google")
def request_google_sync():
    """google.com에 동기적으로 요청"""
    start_time = time.time()
    response = requests.get(GOOGLE_URL)
    end_time = time.time()
    return {
        "message": "Sync request to google.com completed",
        "duration": end_time - start_time,
    }


@app.get("/async-google")
async def request_google_async():
    """google.com에 비동기적으로 요청"""
    start_time = time.time()
    async with aiohttp.ClientSession() as session:
        async with session.get(GOOGLE_URL) as response:
            await response.text()
    end_time = time.time()
    return {
        "message": "Async request to google.com completed",
        "duration": end_time - start_time,
    }
