"""The article's app for gunicorn's sync workers: `gunicorn -w 2 main_wsgi:app`.

The article's app is FastAPI (ASGI), which a sync worker cannot serve. This WSGI app calls the article's handler
functions from main.py themselves, so every request does exactly the article's work: the same loops, `requests.get`
for /sync-google, and for /async-google the article's coroutine (a new `aiohttp.ClientSession` per request) run to
completion with `asyncio.run`, because a sync worker has no event loop to await on. Plain WSGI routes the five
fixed paths: a framework would add its own cost to every request. Same paths, query parameters (validated like
FastAPI does, 422 on a bad value), JSON bodies and `x-worker-pid` header as main.py.
"""

import asyncio
import json
import os
from urllib.parse import parse_qsl

import main


class BadQuery(ValueError):
    """A query value that is not an integer within its range: answered 422, as FastAPI answers it."""


def number(query, name, default, ceiling):
    raw = query.get(name)
    if raw is None:
        return default
    # The length test first: int() refuses strings of over 4300 digits with an error of its own.
    if not raw.isascii() or not raw.isdigit() or len(raw) > 20 or int(raw) > ceiling:
        raise BadQuery(f"query parameter '{name}' must be an integer from 0 to {ceiling}")
    return int(raw)


def cpu_intensive(query):
    return main.cpu_intensive_task(number(query, "iterations", main.DEFAULT_ITERATIONS, main.MAX_ITERATIONS))


def memory_intensive(query):
    return main.memory_intensive_task(number(query, "n", main.DEFAULT_N, main.MAX_N))


def sync_google(query):
    return main.request_google_sync()


def async_google(query):
    return asyncio.run(main.request_google_async())


def health(query):
    return {"message": "ok", "duration": 0.0}


ROUTES = {
    "/health": health,
    "/cpu-intensive": cpu_intensive,
    "/memory-intensive": memory_intensive,
    "/sync-google": sync_google,
    "/async-google": async_google,
}

REASONS = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 422: "Unprocessable Entity"}


def first_values(query_string):
    """Query parameters, the first occurrence of each; blank values kept so that `?n=` is refused."""
    values = {}
    for name, value in parse_qsl(query_string, keep_blank_values=True):
        values.setdefault(name, value)
    return values


def dispatch(method, path, query_string):
    handler = ROUTES.get(path)
    if handler is None:
        return 404, {"detail": "Not Found"}
    if method != "GET":
        return 405, {"detail": "Method Not Allowed"}
    try:
        return 200, handler(first_values(query_string))
    except BadQuery as error:
        return 422, {"detail": str(error)}


def app(environ, start_response):
    status, body = dispatch(environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""))
    payload = json.dumps(body, separators=(",", ":")).encode()  # FastAPI's JSONResponse writes it this compactly
    headers = [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(payload))),
        ("x-worker-pid", str(os.getpid())),
    ]
    start_response(f"{status} {REASONS[status]}", headers)
    return [payload]
