"""The fake's shared pieces: Slack's limits, the recorded Call, replies and small helpers."""

from __future__ import annotations

import hashlib
import math
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.manifest import manifest_bot_scopes

# Slack's Block Kit limits (the same numbers slack-sdk's models enforce).
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_MESSAGE_TEXT = 40_000
MAX_SECTION_TEXT = 3000
MAX_SECTION_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS_ELEMENTS = 25
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_URL = 3000
MAX_ACTION_ID = 255
MAX_BLOCK_ID = 255
MAX_OPTIONS = 100
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_MARKDOWN_TEXT = 12_000
MAX_VIEW_TITLE = 24
MAX_PRIVATE_METADATA = 3000
MAX_CALLBACK_ID = 255

# A token's scopes default to what manifest.yml asks for, so the fake and the manifest cannot drift.
DEFAULT_SCOPES = ",".join(manifest_bot_scopes())

# The scope each Web API method needs (docs.slack.dev/reference/methods/*). Methods not listed need
# none (auth.test, views.*, chat.getPermalink). conversations.info needs the read scope of the
# conversation's type (see ConversationsMethods); chat.postMessage in a public channel the bot is not
# in needs chat:write.public as well (else not_in_channel).
METHOD_SCOPES: dict[str, str] = {
    "chat.postMessage": "chat:write",
    "chat.postEphemeral": "chat:write",
    "chat.update": "chat:write",
    "chat.delete": "chat:write",
    "chat.startStream": "chat:write",
    "chat.appendStream": "chat:write",
    "chat.stopStream": "chat:write",
    "assistant.threads.setStatus": "assistant:write",
    "assistant.threads.setSuggestedPrompts": "assistant:write",
    "assistant.threads.setTitle": "assistant:write",
    "users.info": "users:read",
    "users.list": "users:read",
    "usergroups.users.list": "usergroups:read",
    "conversations.open": "im:write",
    "conversations.join": "channels:join",
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
}

# Generous on purpose: an unknown type is almost always a typo ("secton"), but a newer real
# type must not be rejected.
# fmt: off
_KNOWN_BLOCK_TYPES = frozenset({
    "actions", "context", "context_actions", "divider", "file", "header", "image", "input", "markdown",
    "rich_text", "section", "video", "table", "card", "carousel", "alert", "plan", "task_card",
})
# fmt: on
_SELECT_TYPES = frozenset({"static_select", "multi_static_select"})
# Form-encoded requests carry these as JSON strings; decode them so tests see structures.
_JSON_PARAMS = frozenset({"blocks", "attachments", "view", "files", "metadata", "unfurls", "user_auth_blocks",
                          "chunks", "prompts", "loading_messages"})
# Modelled methods that authenticate with client credentials instead of a bearer token.
_NO_TOKEN_METHODS = frozenset({"oauth.v2.access"})

_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]+$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]+$")


@dataclass(frozen=True)
class Call:
    """One request the fake received, with the answer it gave (for assertions)."""

    method: str
    params: dict[str, Any]
    token: str | None
    at: float
    response: dict[str, Any]
    status: int
    path: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.response.get("ok") is True

    @property
    def error(self) -> str | None:
        return None if self.ok else str(self.response.get("error", f"http_{self.status}"))


@dataclass
class _Workspace:
    team_id: str
    domain: str
    name: str
    enterprise_id: str | None
    bot_user_id: str
    bot_id: str


@dataclass
class _Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _FailRule:
    method: str
    error: str | None
    status: int | None
    retry_after: float | None
    remaining: int | None
    match: Mapping[str, Any] | Callable[[dict[str, Any]], bool] | None

    def matches(self, method: str, params: dict[str, Any]) -> bool:
        if method != self.method:
            return False
        if self.match is None:
            return True
        if callable(self.match):
            return bool(self.match(params))
        return all(params.get(k) == v for k, v in self.match.items())

    def reply(self) -> _Reply:
        headers: dict[str, str] = {}
        if self.status == 429 or self.retry_after is not None:
            seconds = 1 if self.retry_after is None else self.retry_after
            headers["Retry-After"] = str(math.ceil(seconds))
        if self.status is None:
            return _Reply(200, {"ok": False, "error": self.error or "ratelimited"}, headers)
        default = "ratelimited" if self.status == 429 else "internal_error"
        return _Reply(self.status, {"ok": False, "error": self.error or default}, headers)


class Hold:
    """Web API calls kept in flight (``FakeSlack.hold``): each matching call waits, unanswered, until
    ``release()``, as a slow Slack would keep it; other calls go on being answered meanwhile."""

    MAX_SECONDS = 30.0  # a hold a test forgot to release still ends

    def __init__(self, method: str, match: Mapping[str, Any]) -> None:
        self.method = method
        self.match = dict(match)
        self.held = 0  # calls that arrived and were held
        self.released = False
        self._cond = threading.Condition()

    def matches(self, method: str, params: dict[str, Any]) -> bool:
        return not self.released and method == self.method and _params_match(params, self.match)

    def keep(self) -> None:
        """Called on the request's own thread, without the fake's lock."""
        with self._cond:
            self.held += 1
            self._cond.notify_all()
            self._cond.wait_for(lambda: self.released, self.MAX_SECONDS)

    def wait_until_held(self, count: int = 1, timeout: float = 10.0) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: self.held >= count, timeout):
                raise TimeoutError(f"FakeSlack: {self.held} {self.method} call(s) held after {timeout:g}s, "
                                   f"waited for {count}")

    def release(self) -> None:
        with self._cond:
            self.released = True
            self._cond.notify_all()


@dataclass
class _Ctx:
    params: dict[str, Any]
    token: str | None
    ws: _Workspace
    scopes: str = ""  # the token's granted scopes, comma-separated as Slack lists them

    def lacks(self, scope: str) -> bool:
        return scope not in self.scopes.split(",")


def _err(error: str, **extra: Any) -> dict[str, Any]:
    return {"ok": False, "error": error, **extra}


def _missing_scope(needed: str, provided: str) -> dict[str, Any]:
    """Slack's answer when the token lacks a scope: the one needed and every one it has."""
    return _err("missing_scope", needed=needed, provided=provided)


def _json_default(value: Any) -> Any:
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if isinstance(value, bytes):
        return {"$bytes": len(value)}
    return repr(value)


def _brief(params: Mapping[str, Any]) -> str:
    parts = []
    for key in ("channel", "channel_id", "user", "user_id", "users", "ts", "trigger_id", "text"):
        if key in params:
            value = str(params[key])
            parts.append(f"{key}={value[:40] + '...' if len(value) > 40 else value}")
    return ", ".join(parts)


def _tz_fields(tz: str) -> tuple[str, int]:
    try:
        now = datetime.now(ZoneInfo(tz))
    except (ZoneInfoNotFoundError, ValueError):  # unknown zone name: keep the user usable
        return tz, 0
    offset = now.utcoffset()
    return now.tzname() or tz, int(offset.total_seconds()) if offset else 0


def _stable_id(prefix: str, key: str) -> str:
    return prefix + hashlib.sha1(key.encode(), usedforsecurity=False).hexdigest()[:10].upper()


def _bearer(header: str | None) -> str | None:
    if header and header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return None


def _params_match(params: Mapping[str, Any], match: Mapping[str, Any]) -> bool:
    return all(key in params and params[key] == value for key, value in match.items())


def _query_match(call: Call, q: Mapping[str, str]) -> bool:
    for key, value in q.items():
        if key == "ok":
            if call.ok != (value not in ("0", "false", "")):
                return False
        elif key not in call.params or str(call.params[key]) != value:
            return False
    return True


def _call_summary(call: Call) -> dict[str, Any]:
    return {
        "method": call.method,
        "params": call.params,
        "ok": call.ok,
        "status": call.status,
        "error": call.error,
        "at": call.at,
    }
