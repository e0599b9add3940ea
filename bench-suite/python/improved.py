"""The article's app with the costs its code pays taken out: `uvicorn improved:app`, beside `uvicorn main:app`.

The suites run it as separate, named targets (`variant_of` the article's), so the report shows what each cost is
worth. /cpu-intensive, /memory-intensive and /health are main.py's own functions, registered here unchanged. The
two upstream calls keep the article's work (one GET of google.com, the body read) without what it pays per request:
- /sync-google: `requests.get` builds a Session, a connection pool and a new TCP connection for every request;
  here one `requests.Session` per process keeps its connections, with a pool as large as FastAPI's thread pool
  (40), so no thread waits for a connection or opens one that is thrown away;
- /async-google: `aiohttp.ClientSession()` per request builds a connector, a new TCP connection and tears them down;
  here one session per process is opened in the lifespan and its connections are reused. `limit=0` lifts aiohttp's
  default cap of 100 connections, which the article's session-per-request never met.
"""

import time
from contextlib import asynccontextmanager

import aiohttp
import requests
from fastapi import FastAPI

import main

# FastAPI runs `def` handlers on anyio's default thread pool of 40: one pooled connection per thread.
THREAD_POOL_SIZE = 40

sync_session = requests.Session()
for scheme in ("http://", "https://"):  # the upstream speaks TLS in the shipped suites
    sync_session.mount(scheme, requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=THREAD_POOL_SIZE))


@asynccontextmanager
async def lifespan(app: FastAPI):
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        app.state.session = session
        yield


app = FastAPI(lifespan=lifespan)
app.add_middleware(main.WorkerPidMiddleware)
app.get("/health")(main.health)
app.get("/cpu-intensive")(main.cpu_intensive_task)
app.get("/memory-intensive")(main.memory_intensive_task)


@app.get("/sync-google")
def request_google_sync():
    start_time = time.time()
    with sync_session.get(main.GOOGLE_URL) as response:
        response.content
    end_time = time.time()
    return {
        "message": "Sync request to google.com completed",
        "duration": end_time - start_time,
    }


@app.get("/async-google")
async def request_google_async():
    start_time = time.time()
    async with app.state.session.get(main.GOOGLE_URL) as response:
        await response.text()
    end_time = time.time()
    return {
        "message": "Async request to google.com completed",
        "duration": end_time - start_time,
    }
