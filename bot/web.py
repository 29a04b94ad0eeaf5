"""The HTTP face of the app: a small WSGI router around Bolt, served by waitress.

POST /slack/events   every Slack request (commands, events, interactivity), verified by Bolt
GET  /slack/install, /slack/oauth_redirect   multi-workspace OAuth, when configured
GET  /healthz        200 when the database answers, 503 with the reason when not
GET  /metrics        Prometheus text format"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from slack_bolt import App, BoltRequest

from bot.db import Database
from bot.metrics import HTTP_LATENCY, HTTP_REQUESTS

log = logging.getLogger(__name__)

MAX_BODY = 1_000_000  # Slack's payloads are a few KB; anything this big is not from Slack
KNOWN_PATHS = {"/slack/events", "/slack/install", "/slack/oauth_redirect", "/healthz", "/metrics"}

StartResponse = Callable[..., Any]


def _plain(start_response: StartResponse, status: int, body: bytes | str,
           content_type: str = "text/plain; charset=utf-8", headers: list[tuple[str, str]] | None = None
           ) -> Iterable[bytes]:
    data = body.encode() if isinstance(body, str) else body
    reason = {200: "OK", 302: "Found", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
              405: "Method Not Allowed", 413: "Payload Too Large", 500: "Internal Server Error",
              503: "Service Unavailable"}.get(status, "OK")
    start_response(f"{status} {reason}",
                   [("Content-Type", content_type), ("Content-Length", str(len(data)))] + (headers or []))
    return [data]


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = environ["CONTENT_TYPE"]
    return headers


def _well_formed_signature_headers(headers: dict[str, str]) -> bool:
    """Bolt verifies the signature; this only turns a malformed header into a 401, never a 500."""
    ts = headers.get("x-slack-request-timestamp", "")
    sig = headers.get("x-slack-signature", "")
    return ts.isdigit() and len(ts) < 12 and sig.startswith("v0=") and len(sig) < 200


class WebApp:
    def __init__(self, bolt: App, db: Database, *, verify_headers: bool = True) -> None:
        self.bolt = bolt
        self.db = db
        self.verify_headers = verify_headers
        self.in_flight = 0  # Slack requests being answered right now (the worker defers to them)
        self.draining = False  # SIGTERM received: /healthz fails so load balancers send no more
        self._lock = threading.Lock()

    def busy(self) -> bool:
        return self.in_flight > 0

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or "/"
        started = time.perf_counter()
        status_holder: list[str] = []

        def recording_start_response(status: str, headers: list, exc_info: Any = None) -> Any:
            status_holder.append(status.split(" ", 1)[0])
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        try:
            return self.route(environ, path, recording_start_response)
        except Exception:
            log.exception("unhandled error serving %s %s", environ.get("REQUEST_METHOD"), path)
            return _plain(recording_start_response, 500, "internal error")
        finally:
            label = path if path in KNOWN_PATHS else "other"
            HTTP_REQUESTS.labels(label, status_holder[0] if status_holder else "000").inc()
            HTTP_LATENCY.labels(label).observe(time.perf_counter() - started)

    def route(self, environ: dict[str, Any], path: str, start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/healthz" and method in ("GET", "HEAD"):
            return self.healthz(start_response)
        if path == "/metrics" and method == "GET":
            return _plain(start_response, 200, generate_latest(), CONTENT_TYPE_LATEST)
        if path == "/slack/events":
            if method != "POST":
                return _plain(start_response, 405, "use POST", headers=[("Allow", "POST")])
            return self.slack(environ, start_response)
        flow = self.bolt.oauth_flow
        if flow is not None and method == "GET" and path in (flow.install_path, flow.redirect_uri_path):
            request = BoltRequest(body="", query=environ.get("QUERY_STRING", ""), headers=_headers(environ))
            handle = flow.handle_installation if path == flow.install_path else flow.handle_callback
            return self.bolt_response(handle(request), start_response)
        return _plain(start_response, 404, "not found")

    def slack(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _plain(start_response, 400, "bad content length")
        if length > MAX_BODY:
            return _plain(start_response, 413, "request too large")
        headers = _headers(environ)
        if self.verify_headers and not _well_formed_signature_headers(headers):
            return _plain(start_response, 401, json.dumps({"error": "invalid request"}), "application/json")
        raw = environ["wsgi.input"].read(length) if length else b""
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            return _plain(start_response, 401, json.dumps({"error": "invalid request"}), "application/json")
        request = BoltRequest(body=body, query=environ.get("QUERY_STRING", ""), headers=headers)
        with self._lock:
            self.in_flight += 1
        try:
            response = self.bolt.dispatch(request)
        finally:
            with self._lock:
                self.in_flight -= 1
        return self.bolt_response(response, start_response)

    @staticmethod
    def bolt_response(response: Any, start_response: StartResponse) -> Iterable[bytes]:
        body = response.body.encode() if isinstance(response.body, str) else (response.body or b"")
        headers = []
        for key, values in response.headers.items():
            for value in values if isinstance(values, list) else [values]:
                if key.lower() != "content-length":
                    headers.append((key, str(value)))
        if not any(k.lower() == "content-type" for k, _ in headers):
            headers.append(("Content-Type", "text/plain; charset=utf-8"))
        headers.append(("Content-Length", str(len(body))))
        start_response(f"{response.status} {'OK' if response.status < 400 else 'Error'}", headers)
        return [body]

    def healthz(self, start_response: StartResponse) -> Iterable[bytes]:
        if self.draining:
            return _plain(start_response, 503, json.dumps({"status": "draining"}), "application/json")
        try:
            self.db.ping()
        except Exception as e:
            reason = f"database unavailable: {type(e).__name__}"
            log.warning("health check failed: %s", reason)
            return _plain(start_response, 503, json.dumps({"status": "unavailable", "reason": reason}),
                          "application/json")
        return _plain(start_response, 200, json.dumps({"status": "ok"}), "application/json")
