"""Send requests to the app exactly as Slack does: same bodies, field order, headers and signature.

Why: the app's HTTP entry point must be tested (and benchmarked, and demoed) with what Slack
really sends, signed with the app's signing secret, so request verification, form/JSON parsing
and Bolt's routing all run for real. The shapes follow ``tests/fixtures`` byte for byte.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import itertools
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
# The deprecated verification token from the fixtures; Bolt ignores it but Slack still sends it.
VERIFICATION_TOKEN = "Fk3v9QzL2mN8pR4tW6yB1cD5"  # noqa: S105 - an invented fixture value

# Errors that mean a kept-alive connection was closed by the server while idle.
_STALE_CONNECTION_ERRORS = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


def sign(signing_secret: str, timestamp: str | int, body: bytes) -> str:
    """Slack's request signature: ``v0=`` + hex HMAC-SHA256 over ``v0:{timestamp}:{raw body}``."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()


class InvalidReply(AssertionError):
    """A command's immediate reply that Slack would refuse (invalid blocks or mrkdwn)."""


def command_reply_errors(reply: Response) -> list[str]:
    """Slack-style errors for a slash command's HTTP reply used as a message (empty when fine)."""
    from bot.sandbox.fake_slack.blockkit import _is_block_list, block_errors, mrkdwn_errors
    from bot.sandbox.fake_slack.common import MAX_MESSAGE_BLOCKS

    body = reply.json() if reply.status == 200 else None
    if not isinstance(body, dict):
        return []
    errors: list[str] = []
    blocks = body.get("blocks")
    if blocks:
        errors += (block_errors(blocks, max_blocks=MAX_MESSAGE_BLOCKS) if _is_block_list(blocks)
                   else ["invalid_blocks_format"])
    if isinstance(body.get("text"), str) and body.get("mrkdwn", True) is not False:
        errors += mrkdwn_errors(body["text"], "/text")
    return errors


_sign = sign  # SlackSender.post has a ``sign`` flag that shadows the function inside it


@dataclass
class Response:
    """What the app answered."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)  # lower-case keys
    body: bytes = b""

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        """The decoded JSON body, or None when the body is empty or not JSON."""
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None


class SlackSender:
    """Builds and sends signed Slack requests (slash commands, events, interactivity).

    Thread-safe: each thread keeps its own keep-alive ``HTTPConnection``.
    """

    def __init__(
        self,
        base_url: str,
        signing_secret: str,
        path: str = "/slack/events",
        team_id: str = "T0AB12CD3EF",
        enterprise_id: str | None = None,
        api_app_id: str = "A07AIWIN9QZ",
        *,
        team_domain: str = "acme-corp",
        enterprise_name: str = "Acme Corp",
        bot_user_id: str = "U07AIWINBOT",
        bot_id: str = "B07AIWINBOT",
        verification_token: str = VERIFICATION_TOKEN,
        response_url_base: str | None = None,
        timeout: float = 30.0,
        on_trigger: Callable[[str], object] | None = None,
        is_enterprise_install: bool = False,
    ) -> None:
        """``response_url_base``: where generated response_urls point (e.g. ``fake.webhook_url("r")``);
        by default they look like Slack's ``https://hooks.slack.com/...`` URLs.

        ``is_enterprise_install``: the app is installed org-wide (``enterprise_id`` is its org): requests say
        so, and interactivity payloads carry ``team: null`` as Slack's do for org-wide apps.

        ``on_trigger`` (e.g. ``fake.issue_trigger``) hears every trigger_id a request carries as it is
        sent: like Slack, the sandbox accepts a trigger in views.open only for 3 seconds after that."""
        url = urlsplit(base_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"base_url must be http(s)://host[:port], got {base_url!r}")
        self._https = url.scheme == "https"
        self._host = url.hostname
        self._port = url.port or (443 if self._https else 80)
        self._prefix = url.path.rstrip("/")
        self.path = path
        self.signing_secret = signing_secret
        self.team_id = team_id
        self.enterprise_id = enterprise_id
        self.api_app_id = api_app_id
        self.team_domain = team_domain
        self.enterprise_name = enterprise_name
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.verification_token = verification_token
        self.response_url_base = response_url_base.rstrip("/") if response_url_base else None
        self.timeout = timeout
        self.on_trigger = on_trigger
        self.is_enterprise_install = is_enterprise_install
        self._local = threading.local()
        self._connections: list[http.client.HTTPConnection] = []
        self._connections_lock = threading.Lock()
        self._counter = itertools.count(1)

    # ------------------------------------------------------------------ request kinds

    def command(
        self,
        command: str,
        text: str = "",
        *,
        user_id: str = "U05BOB12345",
        channel_id: str = "C05RPT12345",
        channel_name: str = "reporting",
        trigger_id: str | None = None,
        response_url: str | None = None,
        user_name: str = "bob.smith",
    ) -> Response:
        """A slash command, form-encoded in the field order of fixtures/slash_command.form."""
        fields: list[tuple[str, str]] = [
            ("token", self.verification_token),
            ("team_id", self.team_id),
            ("team_domain", self.team_domain),
        ]
        if self.enterprise_id:
            fields += [("enterprise_id", self.enterprise_id), ("enterprise_name", self.enterprise_name)]
        fields += [
            ("channel_id", channel_id),
            ("channel_name", channel_name),
            ("user_id", user_id),
            ("user_name", user_name),
            ("command", command),
            ("text", text),
            ("api_app_id", self.api_app_id),
            ("is_enterprise_install", "true" if self.is_enterprise_install else "false"),
            ("response_url", response_url or self._response_url("commands")),
            ("trigger_id", self._issue(trigger_id)),
        ]
        reply = self.post(urlencode(fields).encode(), FORM)
        problems = command_reply_errors(reply)
        if problems:
            # Slack shows the person an error instead of a reply it cannot render: the test must fail.
            raise InvalidReply(f"invalid_blocks: {problems}")
        return reply

    def event(
        self,
        event: dict[str, Any],
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        event_time: int | None = None,
        *,
        bot_user_id: str | None = None,
    ) -> Response:
        """An Events API delivery in the event_callback envelope of fixtures/reaction_added_event.json.

        Pass the same ``event_id`` with ``retry_num=1..3`` to send Slack's retries.
        """
        body = self.event_envelope(event, event_id=event_id, event_time=event_time, bot_user_id=bot_user_id)
        headers = None
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
        return self.post(_json_bytes(body), JSON, extra_headers=headers)

    def event_envelope(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        event_time: int | None = None,
        bot_user_id: str | None = None,
    ) -> dict[str, Any]:
        """The event_callback body ``event()`` sends, for tests that want to inspect or alter it."""
        event = dict(event)
        event.setdefault("event_ts", f"{time.time():.6f}")
        body: dict[str, Any] = {"token": self.verification_token, "team_id": self.team_id}
        if self.enterprise_id:
            body["enterprise_id"] = self.enterprise_id
        body["context_team_id"] = self.team_id
        body["context_enterprise_id"] = self.enterprise_id
        body["api_app_id"] = self.api_app_id
        body["event"] = event
        body["type"] = "event_callback"
        body["event_id"] = event_id or self.new_event_id()
        body["event_time"] = int(time.time()) if event_time is None else event_time
        body["authorizations"] = [
            {
                "enterprise_id": self.enterprise_id,
                # An org-wide install is the org's, not one workspace's: the workspace is the top-level team_id.
                "team_id": None if self.is_enterprise_install else self.team_id,
                "user_id": bot_user_id or self.bot_user_id,
                "is_bot": True,
                "is_enterprise_install": self.is_enterprise_install,
            }
        ]
        body["is_ext_shared_channel"] = False
        body["event_context"] = self._event_context(event)
        return body

    def block_action(
        self,
        user_id: str,
        action: dict[str, Any],
        *,
        container: dict[str, Any] | None = None,
        message: dict[str, Any] | None = None,
        channel_id: str | None = None,
        trigger_id: str | None = None,
        response_url: str | None = None,
        view: dict[str, Any] | None = None,
        user_name: str | None = None,
        channel_name: str = "",
    ) -> Response:
        """A block_actions payload shaped like fixtures/block_actions.json.

        The container defaults to the view when ``view`` is given, else to the message. Message actions
        get a response_url; view actions do not (as in Slack).
        """
        action = dict(action)
        action.setdefault("action_ts", f"{time.time():.6f}")
        if container is None:
            if view is not None:
                container = {"type": "view", "view_id": view.get("id", "")}
            else:
                container = {
                    "type": "message",
                    "message_ts": (message or {}).get("ts", ""),
                    "channel_id": channel_id or "",
                    "is_ephemeral": False,
                }
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user(user_id, user_name),
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
            "container": container,
            "trigger_id": self._issue(trigger_id),
            "team": self._team(),
            "enterprise": self._enterprise(),
            "is_enterprise_install": self.is_enterprise_install,
        }
        if channel_id:
            payload["channel"] = {"id": channel_id, "name": channel_name}
        if view is not None:
            payload["view"] = view
        if message is not None:
            payload["message"] = message
        if container.get("type") == "message":
            payload["state"] = {"values": {}}
            payload["response_url"] = response_url or self._response_url("actions")
        elif response_url:
            payload["response_url"] = response_url
        payload["actions"] = [action]
        return self._interactive(payload)

    def message_shortcut(
        self,
        user_id: str,
        message: dict[str, Any],
        *,
        callback_id: str = "record_ai_win",
        channel_id: str = "C05RPT12345",
        channel_name: str = "reporting",
        trigger_id: str | None = None,
        response_url: str | None = None,
        user_name: str | None = None,
    ) -> Response:
        """A message shortcut ("message_action"), as Slack sends it when someone picks the
        shortcut from a message's ⋯ menu: the whole message, the channel and a response_url."""
        message = {"type": "message", **message}
        payload: dict[str, Any] = {
            "type": "message_action",
            "token": self.verification_token,
            "action_ts": f"{time.time():.6f}",
            "team": self._team(),
            "user": self._user(user_id, user_name),
            "channel": {"id": channel_id, "name": channel_name},
            "is_enterprise_install": self.is_enterprise_install,
            "enterprise": self._enterprise(),
            "callback_id": callback_id,
            "trigger_id": self._issue(trigger_id),
            "response_url": response_url or self._response_url("app"),
            "message_ts": message.get("ts", ""),
            "message": message,
        }
        return self._interactive(payload)

    def global_shortcut(
        self,
        user_id: str,
        *,
        callback_id: str = "log_ai_win",
        trigger_id: str | None = None,
        user_name: str | None = None,
    ) -> Response:
        """A global shortcut ("shortcut"), from the composer's shortcuts menu or search: no channel,
        no message and no response_url."""
        payload: dict[str, Any] = {
            "type": "shortcut",
            "token": self.verification_token,
            "action_ts": f"{time.time():.6f}",
            "team": self._team(),
            "user": self._user(user_id, user_name),
            "is_enterprise_install": self.is_enterprise_install,
            "enterprise": self._enterprise(),
            "callback_id": callback_id,
            "trigger_id": self._issue(trigger_id),
        }
        return self._interactive(payload)

    def view_submission(
        self,
        user_id: str,
        view: dict[str, Any],
        trigger_id: str | None = None,
        *,
        user_name: str | None = None,
    ) -> Response:
        """A view_submission payload shaped like fixtures/view_submission.json.

        ``view`` needs callback_id, private_metadata and state.values; the rest is filled in.
        """
        payload = {
            "type": "view_submission",
            "team": self._team(),
            "user": self._user(user_id, user_name),
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
            "trigger_id": self._issue(trigger_id),
            "view": self._full_view(view),
            "response_urls": [],
            "is_enterprise_install": self.is_enterprise_install,
            "enterprise": self._enterprise(),
        }
        return self._interactive(payload)

    def url_verification(self, challenge: str) -> Response:
        """The signed challenge Slack sends when the Request URL is saved."""
        body = {"token": self.verification_token, "challenge": challenge, "type": "url_verification"}
        return self.post(_json_bytes(body), JSON)

    def post(
        self,
        raw_body: bytes,
        content_type: str,
        *,
        timestamp: str | int | None = None,
        signature: str | None = None,
        extra_headers: dict[str, str | None] | None = None,
        sign: bool = True,
        path: str | None = None,
    ) -> Response:
        """The raw primitive: POST ``raw_body`` with Slack's headers.

        ``sign=False`` leaves out both X-Slack headers (unless given); ``timestamp``/``signature``
        override the computed ones (stale or forged requests); an ``extra_headers`` value of None
        removes that header.
        """
        headers: dict[str, str] = {"Content-Type": content_type, "User-Agent": USER_AGENT}
        if sign or timestamp is not None:
            ts = str(int(time.time()) if timestamp is None else timestamp)
            headers["X-Slack-Request-Timestamp"] = ts
            if sign or signature is not None:
                headers["X-Slack-Signature"] = signature or _sign(self.signing_secret, ts, raw_body)
        elif signature is not None:
            headers["X-Slack-Signature"] = signature
        for key, value in (extra_headers or {}).items():
            existing = next((k for k in headers if k.lower() == key.lower()), key)
            headers.pop(existing, None)
            if value is not None:
                headers[key] = value
        return self._send(path or self.path, raw_body, headers)

    # ------------------------------------------------------------------ helpers

    def new_trigger_id(self) -> str:
        return f"7712345678901.4123456789012.{secrets.token_hex(16)}"

    def _issue(self, trigger_id: str | None) -> str:
        """The trigger a request carries (a new one unless given), told to ``on_trigger`` as it goes out."""
        trigger_id = trigger_id or self.new_trigger_id()
        if self.on_trigger is not None:
            self.on_trigger(trigger_id)
        return trigger_id

    def new_event_id(self) -> str:
        return "Ev" + secrets.token_hex(5).upper()

    def close(self) -> None:
        """Close every connection this sender opened (in any thread)."""
        with self._connections_lock:
            connections, self._connections = self._connections, []
        for conn in connections:
            conn.close()
        self._local = threading.local()

    def __enter__(self) -> SlackSender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _response_url(self, kind: str) -> str:
        n = next(self._counter)
        if self.response_url_base:
            return f"{self.response_url_base}/{kind}-{n}"
        return (
            f"https://hooks.slack.com/{kind}/{self.team_id}/{7712345678900 + n}/{secrets.token_urlsafe(18)}"
        )

    def _user(self, user_id: str, user_name: str | None) -> dict[str, str]:
        name = user_name or user_id.lower()
        return {"id": user_id, "username": name, "name": name, "team_id": self.team_id}

    def _team(self) -> dict[str, Any] | None:
        if self.is_enterprise_install:
            return None  # the workspace is in user.team_id (and view.team_id)
        team: dict[str, Any] = {"id": self.team_id, "domain": self.team_domain}
        if self.enterprise_id:
            team.update(enterprise_id=self.enterprise_id, enterprise_name=self.enterprise_name)
        return team

    def _enterprise(self) -> dict[str, str] | None:
        return {"id": self.enterprise_id, "name": self.enterprise_name} if self.enterprise_id else None

    def _full_view(self, view: dict[str, Any]) -> dict[str, Any]:
        view_id = view.get("id") or f"V{next(self._counter):010d}"
        defaults: dict[str, Any] = {
            "id": view_id,
            "team_id": self.team_id,
            "type": "modal",
            "blocks": [],
            "private_metadata": "",
            "callback_id": "",
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
            "title": {"type": "plain_text", "text": "AI Wins", "emoji": True},
            "clear_on_close": False,
            "notify_on_close": False,
            "close": None,
            "submit": None,
            "previous_view_id": None,
            "root_view_id": view_id,
            "app_id": self.api_app_id,
            "external_id": "",
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }
        return {key: view.get(key, default) for key, default in defaults.items()} | view

    def _event_context(self, event: dict[str, Any]) -> str:
        # Opaque to apps; shaped like Slack's ("4-" + base64 of a small JSON) for realism.
        channel = event.get("channel") or (event.get("item") or {}).get("channel") or ""
        info = {"et": event.get("type", ""), "tid": self.team_id, "aid": self.api_app_id, "cid": channel}
        raw = json.dumps(info, separators=(",", ":")).encode()
        return "4-" + base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def _interactive(self, payload: dict[str, Any]) -> Response:
        raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        try:
            raw.encode()
        except UnicodeEncodeError:  # a lone surrogate: Slack (like JSON.stringify) sends it as \udXXX
            raw = json.dumps(payload, separators=(",", ":"))
        body = urlencode({"payload": raw})
        return self.post(body.encode(), FORM)

    def _connection(self) -> tuple[http.client.HTTPConnection, bool]:
        """This thread's connection, and whether it was used before (so may have gone stale)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return conn, True
        cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        conn = cls(self._host, self._port, timeout=self.timeout)
        self._local.conn = conn
        with self._connections_lock:
            self._connections.append(conn)
        return conn, False

    def _drop_connection(self, conn: http.client.HTTPConnection) -> None:
        conn.close()
        self._local.conn = None
        with self._connections_lock:
            if conn in self._connections:
                self._connections.remove(conn)

    def _send(self, path: str, body: bytes, headers: dict[str, str]) -> Response:
        url = self._prefix + path
        while True:
            conn, reused = self._connection()
            try:
                conn.request("POST", url, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
            except _STALE_CONNECTION_ERRORS:
                self._drop_connection(conn)
                if reused:
                    continue  # the server closed an idle keep-alive connection: reconnect once
                raise
            except Exception:
                self._drop_connection(conn)
                raise
            response_headers = {k.lower(): v for k, v in resp.getheaders()}
            if resp.will_close:
                self._drop_connection(conn)
            return Response(resp.status, response_headers, data)


def _json_bytes(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def submitted_state(view: dict[str, Any], changes: dict[str, Any] | None = None,
                    current_conversation: str | None = None) -> dict[str, Any]:
    """`state.values` as Slack sends them when a person submits `view` (as views.open received it):
    every input keeps its initial value unless `changes` ({block_id: value}) says otherwise. A
    conversations_select with default_to_current_conversation gets `current_conversation`."""
    values: dict[str, Any] = {}
    changes = changes or {}
    for block in view.get("blocks", []):
        if block.get("type") != "input":
            continue
        el = block["element"]
        kind, action_id, block_id = el["type"], el["action_id"], block["block_id"]
        state: dict[str, Any] = {"type": kind}
        value = changes.get(block_id, ...)
        if kind == "plain_text_input":
            state["value"] = (el.get("initial_value") or None) if value is ... else value
        elif kind == "multi_users_select":
            state["selected_users"] = list(el.get("initial_users", [])) if value is ... else value
        elif kind in ("static_select", "external_select"):
            option = el.get("initial_option") if value is ... else next(
                (o for o in el["options"] if o["value"] == value), None)
            state["selected_option"] = option
        elif kind == "users_select":
            state["selected_user"] = el.get("initial_user") if value is ... else value
        elif kind == "channels_select":
            state["selected_channel"] = el.get("initial_channel") if value is ... else value
        elif kind == "conversations_select":
            default = el.get("initial_conversation") or (
                current_conversation if el.get("default_to_current_conversation") else None)
            state["selected_conversation"] = default if value is ... else value
        values[block_id] = {action_id: state}
    return values
