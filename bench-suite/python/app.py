"""The seed's FastAPI app, the Python peer that rustcorn's report sets beside its Rust server models.

Run it as the seed did: `uvicorn app:app`, `gunicorn -w 2 -k uvicorn_worker.UvicornWorker app:app`. The `def`
handlers run on Starlette's thread pool (40 threads), `async def` ones on the event loop. Two changes from the seed,
both so that load stays on this machine and the comparison is fair: the "google" URL comes from
RUSTCORN_UPSTREAM_URL (the driver's local upstream), and /async-google uses one ClientSession per process
(created in the lifespan) instead of one per request.
"""

import asyncio
import os
import time
from contextlib import asynccontextmanager

import aiohttp
import requests
from fastapi import FastAPI, HTTPException
from fastapi.responses import JSONResponse

import workload


@asynccontextmanager
async def lifespan(app: FastAPI):
    # limit=0: no cap on concurrent upstream connections, like the seed's session-per-request and the Rust client;
    # aiohttp's default of 100 would queue /async-google beyond 100 in flight.
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=workload.UPSTREAM_TIMEOUT_SECONDS)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        app.state.upstream = session
        yield


app = FastAPI(lifespan=lifespan)


class WorkerPidMiddleware:
    """Adds `x-worker-pid` to every response (pure ASGI: no per-request task or body copy)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_pid(message):
            if message["type"] == "http.response.start":
                pid_header = (workload.WORKER_PID_HEADER.encode(), str(os.getpid()).encode())
                message["headers"] = [*message.get("headers", ()), pid_header]
            await send(message)

        await self.app(scope, receive, send_with_pid)


app.add_middleware(WorkerPidMiddleware)


def query_number(raw, name, default, ceiling):
    try:
        return workload.query_number(raw, name, default, ceiling)
    except workload.QueryError as error:
        raise HTTPException(status_code=400, detail=str(error)) from error


@app.get("/health")
async def health():
    return workload.HEALTH_BODY


@app.get("/cpu-intensive")
def cpu_intensive(iterations: str | None = None):
    total = query_number(iterations, "iterations", workload.DEFAULT_CPU_ITERATIONS, workload.MAX_CPU_ITERATIONS)
    return workload.cpu_intensive(total)


@app.get("/memory-intensive")
def memory_intensive(n: str | None = None):
    count = query_number(n, "n", workload.DEFAULT_MEMORY_N, workload.MAX_MEMORY_N)
    return workload.memory_intensive(count)


@app.get("/sync-google")
def sync_google():
    start = time.perf_counter()
    try:
        # The seed's call: a new connection per request, body read in full.
        response = requests.get(workload.UPSTREAM_URL, timeout=workload.UPSTREAM_TIMEOUT_SECONDS)
        response.raise_for_status()
    except requests.RequestException as error:
        return JSONResponse(status_code=502, content=workload.upstream_failure(error))
    return workload.completed(workload.SYNC_GOOGLE_MESSAGE, start)


@app.get("/async-google")
async def async_google():
    start = time.perf_counter()
    try:
        async with app.state.upstream.get(workload.UPSTREAM_URL) as response:
            response.raise_for_status()
            await response.read()
    except (aiohttp.ClientError, asyncio.TimeoutError) as error:
        return JSONResponse(status_code=502, content=workload.upstream_failure(error))
    return workload.completed(workload.ASYNC_GOOGLE_MESSAGE, start)
