"""The HTTP face of the app: a small WSGI router around Bolt, served by waitress.

POST /slack/events   every Slack request (commands, events, interactivity), verified and parsed here
GET  /slack/install, /slack/oauth_redirect   multi-workspace OAuth, when configured
GET  /healthz        200 when the database answers, 503 with the reason when not
GET  /metrics        Prometheus text format, for `Authorization: Bearer $METRICS_TOKEN` only

Hand-written rather than Bolt's WSGI adapter or a web framework: four routes, and what matters happens
before Bolt sees a request (the body size cap, the signature checked on the raw bytes, a malformed body
answered 400, the count of requests in flight that the job worker yields to, draining on SIGTERM).
A framework would add a dependency and a routing layer around these few lines, not remove them."""

from __future__ import annotations

import hmac
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from slack_bolt import App, BoltRequest
from slack_sdk.signature import SignatureVerifier

from bot.db import Database
from bot.metrics import HTTP_LATENCY, HTTP_REQUESTS
from bot.slack.client import TokenHealth

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


# What Slack sends: Unix seconds in ASCII digits, and "v0=" + a hex HMAC-SHA256. Anything else is a
# 401 before SignatureVerifier sees it: it calls int() on the timestamp, which raises on "²" (a digit
# to str.isdigit()) and reads "١٢٣" or " 123" as 123, and compare_digest raises on non-ASCII text.
_TIMESTAMP = re.compile(r"[0-9]{1,11}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


def _well_formed_signature_headers(headers: dict[str, str]) -> bool:
    ts = headers.get("x-slack-request-timestamp", "")
    sig = headers.get("x-slack-signature", "")
    return bool(_TIMESTAMP.fullmatch(ts) and _SIGNATURE.fullmatch(sig))


class MalformedBody(ValueError):
    """A signed request whose body is not one of the shapes Slack sends."""


def parse_slack_body(body: str, content_type: str | None) -> dict[str, Any]:
    """The request as a dict, decided by content type and exact field names only.

    Bolt's own parser guesses (slack_bolt/request/internals.py::parse_body): a form body that
    merely contains the text "payload" anywhere, e.g. in a command's text, is read as an
    interactivity payload, and any body starting with "{" as JSON."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind == "application/json":
        try:
            data = json.loads(body)
        except ValueError:
            raise MalformedBody("body is not JSON") from None
    elif kind == "application/x-www-form-urlencoded":
        fields = dict(parse_qsl(body, keep_blank_values=True))
        if "payload" not in fields:
            return fields
        try:
            data = json.loads(fields["payload"])
        except ValueError:
            raise MalformedBody("payload is not JSON") from None
    else:
        raise MalformedBody(f"unexpected content type {kind or 'none'!r}")
    if not isinstance(data, dict):
        raise MalformedBody(f"body is a JSON {type(data).__name__}, not an object")
    _check_shape(data)
    return data


# Fields Bolt indexes without checking their type (slack_bolt/request/payload_utils.py, internals.py).
_CONTAINERS = {"event": dict, "view": dict, "message": dict, "container": dict, "state": dict,
               "workflow_step": dict, "actions": list, "authorizations": list}
_IDS = ("user", "team", "channel", "enterprise")


def _check_shape(data: dict[str, Any]) -> None:
    for key, kind in _CONTAINERS.items():
        if key in data and not isinstance(data[key], kind):
            raise MalformedBody(f"{key!r} is not a JSON {'object' if kind is dict else 'array'}")
    if "actions" in data and not data["actions"]:
        raise MalformedBody("'actions' is empty")  # Bolt reads actions[0]
    for key in ("actions", "authorizations"):
        if not all(isinstance(x, dict) for x in data.get(key, ())):
            raise MalformedBody(f"{key!r} is not a list of objects")
    for key in _IDS:
        if not isinstance(data.get(key), dict | str | None):
            raise MalformedBody(f"{key!r} is neither an object nor an id")
    if not isinstance(data.get("event", {}).get("type", ""), str):
        raise MalformedBody("event.type is not a string")
    if "view" in data and not isinstance(data["view"].get("type"), str):
        raise MalformedBody("view.type is missing")


def _json(start_response: StartResponse, status: int, data: dict[str, Any]) -> Iterable[bytes]:
    return _plain(start_response, status, json.dumps(data), "application/json")


class WebApp:
    def __init__(self, bolt: App, db: Database, *, signing_secret: str | None,
                 metrics_token: str | None = None, token_health: TokenHealth | None = None) -> None:
        self.bolt = bolt
        self.db = db
        # None (Socket Mode without a signing secret): no HTTP request can be verified, so none is served.
        self.verifier = SignatureVerifier(signing_secret) if signing_secret else None
        self.metrics_token = metrics_token
        self.token_health = token_health
        self.database_down = False  # what the last health check found; outages are logged once
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
            return self.metrics(environ, start_response)
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
        raw = environ["wsgi.input"].read(length) if length else b""
        # Verify the raw bytes before reading anything in them (Bolt's own check is off: one place verifies).
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            body = None
        if (body is None or self.verifier is None or not _well_formed_signature_headers(headers)
                or not self.verifier.is_valid_request(raw, headers)):
            return _json(start_response, 401, {"error": "invalid request"})
        try:
            data = parse_slack_body(body, headers.get("content-type"))
        except MalformedBody as e:
            log.warning("ignored a signed Slack request with a malformed body: %s", e)
            return _json(start_response, 400, {"error": "malformed request body"})
        # Bolt gets a body it cannot misread: canonical JSON, which lazy listeners re-parse from
        # raw_body (BoltRequest.to_copyable) and so keep intact.
        headers["content-type"] = "application/json"
        request = BoltRequest(body=json.dumps(data), query=environ.get("QUERY_STRING", ""), headers=headers)
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

    def metrics(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if not self.metrics_token:
            return _plain(start_response, 404, "not found: set METRICS_TOKEN to serve /metrics\n")
        given = environ.get("HTTP_AUTHORIZATION", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {self.metrics_token}".encode()):
            return _plain(start_response, 401, "send Authorization: Bearer <METRICS_TOKEN>\n",
                          headers=[("WWW-Authenticate", "Bearer")])
        return _plain(start_response, 200, generate_latest(), CONTENT_TYPE_LATEST)

    def healthz(self, start_response: StartResponse) -> Iterable[bytes]:
        if self.draining:
            return _plain(start_response, 503, json.dumps({"status": "draining"}), "application/json")
        try:
            self.db.ping()
        except Exception as e:
            reason = f"database unavailable: {type(e).__name__}"
            if not self.database_down:
                log.warning("health check: %s", reason)  # once per outage, not once per probe
            self.database_down = True
            return _json(start_response, 503, {"status": "unavailable", "reason": reason})
        if self.database_down:
            log.info("health check: the database answers again")
            self.database_down = False
        problem = self.token_health.problem if self.token_health else None
        if problem:
            return _json(start_response, 503, {"status": "unavailable",
                                               "reason": f"Slack refuses SLACK_BOT_TOKEN: {problem}"})
        return _json(start_response, 200, {"status": "ok"})
