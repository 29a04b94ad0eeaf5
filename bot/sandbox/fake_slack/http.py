"""HTTP plumbing: request parsing (form, JSON, multipart) and the threaded server."""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from bot.sandbox.fake_slack.common import (
    _JSON_PARAMS,
    _err,
    _json_default,
    _Reply,
)

if TYPE_CHECKING:
    from bot.sandbox.fake_slack.core import FakeSlack

logger = logging.getLogger(__name__)


def _parse_multipart(body: bytes, content_type: str) -> list[tuple[str, str | None, bytes]]:
    """(name, filename, content) for each part of a multipart/form-data body."""
    m = re.search(r'boundary="?([^";]+)"?', content_type)
    if not m:
        return []
    parts = body.split(b"--" + m.group(1).encode("latin-1"))
    out: list[tuple[str, str | None, bytes]] = []
    for part in parts[1:]:
        if part.startswith(b"--"):
            break
        head, sep, content = part.lstrip(b"\r\n").partition(b"\r\n\r\n")
        if not sep:
            continue
        if content.endswith(b"\r\n"):
            content = content[:-2]
        disposition = ""
        for line in head.decode("latin-1").split("\r\n"):
            key, _, value = line.partition(":")
            if key.strip().lower() == "content-disposition":
                disposition = value
        name = re.search(r'\bname="([^"]*)"', disposition)
        filename = re.search(r'\bfilename="([^"]*)"', disposition)
        out.append((name.group(1) if name else "", filename.group(1) if filename else None, content))
    return out


def _parse_params(content_type: str, body: bytes, query: str) -> tuple[dict[str, Any], str | None]:
    """Merge query string and body into one params dict, as Slack does. Returns (params, error)."""
    params: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    ctype = content_type.split(";", 1)[0].strip().lower()
    if body:
        if ctype == "application/json":
            try:
                data = json.loads(body)
            except (ValueError, RecursionError):
                return params, "invalid_json"
            if not isinstance(data, dict):
                return params, "invalid_json"
            params.update(data)
        elif ctype == "multipart/form-data":
            for name, filename, content in _parse_multipart(body, content_type):
                params[name] = content if filename is not None else content.decode("utf-8", "replace")
        else:
            params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    for key in _JSON_PARAMS & params.keys():
        value = params[key]
        if isinstance(value, str) and value[:1] in ("[", "{"):
            # Left as a string if it does not parse; the method then answers invalid_blocks_format.
            with contextlib.suppress(ValueError, RecursionError):
                params[key] = json.loads(value)
    return params, None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], fake: FakeSlack) -> None:
        self.fake = fake
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def close_connections(self) -> None:
        """Shut idle keep-alive connections so their handler threads end with the server."""
        with self.connections_lock:
            connections = list(self.connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so clients do not pay a TCP handshake per call
    server_version = "FakeSlack/1.0"
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            with self.server.connections_lock:
                self.server.connections.discard(self.connection)

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0:
            raise ValueError("negative Content-Length")
        return self.rfile.read(length) if length else b""

    def _route(self, verb: str) -> None:
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            self._send(_Reply(400, _err("invalid_request")))
            return
        try:
            reply = self.server.fake._handle_http(verb, self.path, self.headers, body)
        except Exception:
            logger.exception("FakeSlack failed on %s %s", verb, self.path)
            reply = _Reply(500, _err("fatal_error"))
        self._send(reply)

    def _send(self, reply: _Reply) -> None:
        if isinstance(reply.body, bytes):
            payload, content_type = reply.body, "text/plain; charset=utf-8"
        else:
            payload = json.dumps(reply.body, ensure_ascii=False, separators=(",", ":"), default=_json_default)
            payload, content_type = payload.encode("utf-8"), "application/json; charset=utf-8"
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for key, value in reply.headers.items():
                self.send_header(key, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            self.close_connection = True
