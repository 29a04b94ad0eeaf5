"""A fake OpenAI-compatible chat-completions server over real HTTP on loopback, for tests and the demo.

`POST /v1/chat/completions` answers as the protocol does: a JSON completion, or with `"stream": true`
server-sent events (`data: {chunk}` lines, then `data: [DONE]`). It checks the bearer key when given
one, records every request body (a test reads exactly what the model was given), and can be told to
fail (HTTP 500) or to hang (answer nothing until released). Standard library only."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

OK, ERROR, HANG, HANG_AFTER_FIRST = "ok", "error", "hang", "hang_after_first"


class FakeLLM:
    def __init__(self, *, api_key: str | None = "sk-fake", model: str = "fake-coach",
                 reply: str = "Colleagues have done this a few ways. The clearest is the first source [1].") -> None:
        self.api_key = api_key
        self.model = model
        self.reply = reply
        self.mode = OK
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    # -- control --------------------------------------------------------------------------------------

    def start(self) -> FakeLLM:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                try:
                    fake._handle(self)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client gave up (its timeout): nobody to answer

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        self._released.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def base_url(self) -> str:
        """What LLM_BASE_URL takes."""
        assert self._server is not None, "start() first"
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def set_mode(self, mode: str) -> None:
        self._released.clear()
        self.mode = mode

    def release(self) -> None:
        """Let hanging requests go (they then end without an answer)."""
        self._released.set()

    def received(self) -> list[dict[str, Any]]:
        with self._lock:
            return json.loads(json.dumps(self.requests))

    # -- the protocol ---------------------------------------------------------------------------------

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length)
        if h.path.rstrip("/") != "/v1/chat/completions":
            return self._json(h, 404, {"error": {"message": "not found", "type": "invalid_request_error"}})
        if self.api_key and h.headers.get("Authorization") != f"Bearer {self.api_key}":
            return self._json(h, 401, {"error": {"message": "Incorrect API key", "type": "invalid_request_error"}})
        try:
            body = json.loads(raw)
            messages = body["messages"]
            assert isinstance(messages, list) and messages and body.get("model")
        except Exception:  # noqa: BLE001 - anything malformed is the protocol's 400
            return self._json(h, 400, {"error": {"message": "bad request", "type": "invalid_request_error"}})
        with self._lock:
            self.requests.append(body)
        if self.mode == ERROR:
            return self._json(h, 500, {"error": {"message": "the model is down", "type": "server_error"}})
        if self.mode == HANG:
            self._released.wait(60)
            return self._json(h, 504, {"error": {"message": "gave up", "type": "server_error"}})
        if not body.get("stream"):
            return self._json(h, 200, {
                "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()), "model": self.model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": self.reply},
                             "finish_reason": "stop"}]})
        h.send_response(200)
        h.send_header("Content-Type", "text/event-stream")
        h.send_header("Cache-Control", "no-cache")
        h.send_header("Connection", "close")
        h.end_headers()
        words = self.reply.split(" ")
        for i, word in enumerate(words):
            self._event(h, {"role": "assistant", "content": word} if i == 0 else {"content": " " + word})
            if i == 0 and self.mode == HANG_AFTER_FIRST:
                self._released.wait(60)
                return
        self._event(h, {}, finish="stop")
        h.wfile.write(b"data: [DONE]\n\n")
        h.wfile.flush()
        h.close_connection = True

    def _event(self, h: BaseHTTPRequestHandler, delta: dict[str, Any], finish: str | None = None) -> None:
        chunk = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()),
                 "model": self.model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        h.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
        h.wfile.flush()

    @staticmethod
    def _json(h: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)
