"""The WSGI twin of app.py for gunicorn's sync workers: `gunicorn -w 2 app_wsgi:app`.

Plain WSGI, no framework: the sync-worker rows then measure gunicorn's process model with nothing but the seed's
work on top (no extra dependency to pin either), and routing five fixed paths needs no framework. Same paths,
query parameters, JSON bodies, statuses and `x-worker-pid` header as app.py and the Rust models. A sync worker
cannot await, so /async-google here is a blocking fetch exactly like /sync-google, only its message differs: on
gunicorn sync workers both hold the worker for the whole upstream wait, which is what the report shows.
"""

import json
import os
import time
from urllib.parse import parse_qsl

import requests

import workload


def health(query):
    return 200, workload.HEALTH_BODY


def cpu_intensive(query):
    total = workload.query_number(
        query.get("iterations"), "iterations", workload.DEFAULT_CPU_ITERATIONS, workload.MAX_CPU_ITERATIONS
    )
    return 200, workload.cpu_intensive(total)


def memory_intensive(query):
    count = workload.query_number(query.get("n"), "n", workload.DEFAULT_MEMORY_N, workload.MAX_MEMORY_N)
    return 200, workload.memory_intensive(count)


def blocking_google(message):
    start = time.perf_counter()
    try:
        response = requests.get(workload.UPSTREAM_URL, timeout=workload.UPSTREAM_TIMEOUT_SECONDS)
        response.raise_for_status()
    except requests.RequestException as error:
        return 502, workload.upstream_failure(error)
    return 200, workload.completed(message, start)


def sync_google(query):
    return blocking_google(workload.SYNC_GOOGLE_MESSAGE)


def async_google(query):
    return blocking_google(workload.ASYNC_GOOGLE_MESSAGE)


ROUTES = {
    "/health": health,
    "/cpu-intensive": cpu_intensive,
    "/memory-intensive": memory_intensive,
    "/sync-google": sync_google,
    "/async-google": async_google,
}

REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 502: "Bad Gateway"}


def first_values(query_string):
    """Query parameters, first occurrence wins (as the Rust router reads them); blank values kept so `?n=` is a 400."""
    values = {}
    for name, value in parse_qsl(query_string, keep_blank_values=True):
        values.setdefault(name, value)
    return values


def dispatch(method, path, query_string):
    handler = ROUTES.get(path)
    if handler is None:
        return 404, {"detail": "Not Found"}
    if method not in ("GET", "HEAD"):
        return 405, {"detail": "Method Not Allowed"}
    try:
        return handler(first_values(query_string))
    except workload.QueryError as error:
        return 400, {"detail": str(error)}


def app(environ, start_response):
    method = environ["REQUEST_METHOD"]
    status, body = dispatch(method, environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""))
    payload = json.dumps(body, separators=(",", ":")).encode()
    headers = [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(payload))),
        (workload.WORKER_PID_HEADER, str(os.getpid())),
    ]
    start_response(f"{status} {REASONS[status]}", headers)
    return [b"" if method == "HEAD" else payload]
