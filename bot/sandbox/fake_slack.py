"""A fake Slack Web API served over real HTTP on loopback.

Why it exists: the tests, the benchmarks and ``aiwins demo`` must drive the app's real
Slack client path (slack-sdk over HTTP, its retry handlers, 429 handling, Block Kit
limits) without touching slack.com. The fake answers with Slack's response shapes and
error codes, records every request, and lets a test block on a ``threading.Condition``
until the app has made the calls it expects, instead of sleeping and hoping.

Standard library only, so it can run anywhere the app runs, also as its own process::

    python -m bot.sandbox.fake_slack --port 8888
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import copy
import hashlib
import itertools
import json
import logging
import math
import re
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

logger = logging.getLogger(__name__)

# Limits from SLACK_FACTS.md section 3 (the same numbers slack-sdk's models enforce).
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

DEFAULT_SCOPES = (
    "commands,chat:write,chat:write.public,reactions:read,users:read,im:write,"
    "channels:read,channels:join,app_mentions:read"
)

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
_JSON_PARAMS = frozenset(
    {"blocks", "attachments", "view", "files", "metadata", "unfurls", "user_auth_blocks"}
)
# Methods that authenticate with client credentials instead of a bearer token.
_NO_TOKEN_METHODS = frozenset({"oauth.v2.access", "oauth.access", "oauth.v2.exchange", "api.test"})

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


@dataclass
class _Ctx:
    params: dict[str, Any]
    token: str | None
    ws: _Workspace


def _err(error: str, **extra: Any) -> dict[str, Any]:
    return {"ok": False, "error": error, **extra}


# --------------------------------------------------------------------------- Block Kit checks


def _too_long(pointer: str, limit: int) -> str:
    return f"must be less than {limit + 1} characters [json-pointer:{pointer}]"


def _is_block_list(blocks: Any) -> bool:
    return isinstance(blocks, list) and all(
        isinstance(b, dict) and isinstance(b.get("type"), str) for b in blocks
    )


def _check_str(value: Any, pointer: str, limit: int, errors: list[str]) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        errors.append(f"must be a string [json-pointer:{pointer}]")
    elif len(value) > limit:
        errors.append(_too_long(pointer, limit))


def _check_text(obj: Any, pointer: str, limit: int, errors: list[str], *, plain_only: bool = False) -> None:
    if not isinstance(obj, dict):
        errors.append(f"must be an object [json-pointer:{pointer}]")
        return
    allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
    if obj.get("type") not in allowed:
        errors.append(f"must be a valid enum value [json-pointer:{pointer}/type]")
    text = obj.get("text")
    if not isinstance(text, str):
        errors.append(f"must be a string [json-pointer:{pointer}/text]")
    elif not text:
        errors.append(f"must be more than 0 characters [json-pointer:{pointer}/text]")
    elif len(text) > limit:
        errors.append(_too_long(f"{pointer}/text", limit))


def _check_options(options: Any, pointer: str, errors: list[str]) -> None:
    if not isinstance(options, list):
        errors.append(f"must be an array [json-pointer:{pointer}]")
        return
    if len(options) > MAX_OPTIONS:
        errors.append(f"no more than {MAX_OPTIONS} items allowed [json-pointer:{pointer}]")
    for i, option in enumerate(options):
        if not isinstance(option, dict):
            errors.append(f"must be an object [json-pointer:{pointer}/{i}]")
            continue
        _check_text(option.get("text"), f"{pointer}/{i}/text", MAX_OPTION_TEXT, errors)
        _check_str(option.get("value"), f"{pointer}/{i}/value", MAX_OPTION_VALUE, errors)


def _check_element(element: Any, pointer: str, errors: list[str]) -> None:
    if not isinstance(element, dict) or not isinstance(element.get("type"), str):
        errors.append(f"must be an object with a type [json-pointer:{pointer}]")
        return
    _check_str(element.get("action_id"), f"{pointer}/action_id", MAX_ACTION_ID, errors)
    kind = element["type"]
    if kind == "button":
        _check_text(element.get("text"), f"{pointer}/text", MAX_BUTTON_TEXT, errors, plain_only=True)
        _check_str(element.get("value"), f"{pointer}/value", MAX_BUTTON_VALUE, errors)
        _check_str(element.get("url"), f"{pointer}/url", MAX_URL, errors)
    elif kind in _SELECT_TYPES:
        if "options" in element:
            _check_options(element["options"], f"{pointer}/options", errors)
        groups = element.get("option_groups")
        if isinstance(groups, list):
            if len(groups) > MAX_OPTIONS:
                errors.append(
                    f"no more than {MAX_OPTIONS} items allowed [json-pointer:{pointer}/option_groups]"
                )
            for i, group in enumerate(groups):
                if isinstance(group, dict):
                    _check_options(group.get("options"), f"{pointer}/option_groups/{i}/options", errors)


def _check_block(block: dict[str, Any], pointer: str, errors: list[str], seen_ids: set[str]) -> None:
    block_id = block.get("block_id")
    if block_id is not None:
        if not isinstance(block_id, str):
            errors.append(f"must be a string [json-pointer:{pointer}/block_id]")
        elif len(block_id) > MAX_BLOCK_ID:
            errors.append(_too_long(f"{pointer}/block_id", MAX_BLOCK_ID))
        elif block_id in seen_ids:
            errors.append(f"duplicate block_id {block_id!r} [json-pointer:{pointer}/block_id]")
        else:
            seen_ids.add(block_id)
    kind = block["type"]
    if kind not in _KNOWN_BLOCK_TYPES:
        errors.append(f"unsupported type: {kind} [json-pointer:{pointer}/type]")
    elif kind == "section":
        text, fields = block.get("text"), block.get("fields")
        if text is None and not fields:
            errors.append(f"must provide either text or fields [json-pointer:{pointer}]")
        if text is not None:
            _check_text(text, f"{pointer}/text", MAX_SECTION_TEXT, errors)
        if fields is not None:
            if not isinstance(fields, list):
                errors.append(f"must be an array [json-pointer:{pointer}/fields]")
            else:
                if len(fields) > MAX_SECTION_FIELDS:
                    errors.append(
                        f"no more than {MAX_SECTION_FIELDS} items allowed [json-pointer:{pointer}/fields]"
                    )
                for i, item in enumerate(fields):
                    _check_text(item, f"{pointer}/fields/{i}", MAX_FIELD_TEXT, errors)
        if "accessory" in block:
            _check_element(block["accessory"], f"{pointer}/accessory", errors)
    elif kind == "header":
        _check_text(block.get("text"), f"{pointer}/text", MAX_HEADER_TEXT, errors, plain_only=True)
    elif kind in ("context", "actions"):
        limit = MAX_CONTEXT_ELEMENTS if kind == "context" else MAX_ACTIONS_ELEMENTS
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            errors.append(f"must provide a non-empty array [json-pointer:{pointer}/elements]")
            return
        if len(elements) > limit:
            errors.append(f"no more than {limit} items allowed [json-pointer:{pointer}/elements]")
        for i, element in enumerate(elements):
            ptr = f"{pointer}/elements/{i}"
            if (
                kind == "context"
                and isinstance(element, dict)
                and element.get("type") in ("plain_text", "mrkdwn")
            ):
                _check_text(element, ptr, MAX_SECTION_TEXT, errors)
            elif kind == "actions":
                _check_element(element, ptr, errors)
    elif kind == "input":
        _check_text(block.get("label"), f"{pointer}/label", MAX_FIELD_TEXT, errors, plain_only=True)
        _check_element(block.get("element"), f"{pointer}/element", errors)
    elif kind == "markdown":
        _check_str(block.get("text"), f"{pointer}/text", MAX_MARKDOWN_TEXT, errors)


def block_errors(blocks: list[dict[str, Any]], *, max_blocks: int, pointer: str = "/blocks") -> list[str]:
    """Slack-style error strings for Block Kit limit violations; empty when the blocks are fine.

    ``blocks`` must already be a list of dicts with a ``type`` (see the format check).
    """
    errors: list[str] = []
    if len(blocks) > max_blocks:
        errors.append(f"no more than {max_blocks} items allowed [json-pointer:{pointer}]")
    seen_ids: set[str] = set()
    for i, block in enumerate(blocks):
        _check_block(block, f"{pointer}/{i}", errors, seen_ids)
    return errors


def _invalid(error: str, errors: list[str]) -> dict[str, Any]:
    return _err(error, errors=errors, response_metadata={"messages": [f"[ERROR] {e}" for e in errors]})


# --------------------------------------------------------------------------- request parsing


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


# --------------------------------------------------------------------------- the fake


class FakeSlack:
    """Fake Slack Web API over HTTP. All state is guarded by one lock; see the module docstring."""

    def __init__(
        self,
        team_id: str = "T0AB12CD3EF",
        enterprise_id: str | None = None,
        bot_user_id: str = "U07AIWINBOT",
        bot_id: str = "B07AIWINBOT",
        token: str = "xoxb-sandbox",  # noqa: S107 - a sandbox token, not a secret
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        team_domain: str = "acme-corp",
        team_name: str = "Acme Corp",
        app_id: str = "A07AIWIN9QZ",
        bot_name: str = "aiwins",
        scopes: str = DEFAULT_SCOPES,
    ) -> None:
        self.team_id = team_id
        self.enterprise_id = enterprise_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.token = token
        self.host = host
        self.port = port
        self.app_id = app_id
        self.bot_name = bot_name
        self.scopes = scopes
        # Tests may add to these sets directly.
        self.tokens: set[str] = {token}
        self.expired_triggers: set[str] = set()

        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._default_ws = _Workspace(team_id, team_domain, team_name, enterprise_id, bot_user_id, bot_id)
        self._token_ws: dict[str, _Workspace] = {token: self._default_ws}
        self._calls: list[Call] = []
        self._calls_by_method: dict[str, list[Call]] = {}
        self._rules: list[_FailRule] = []
        self._users: dict[str, dict[str, Any]] = {}
        self._channels: dict[str, dict[str, Any]] = {}
        self._usergroups: dict[str, list[str]] = {}
        self._messages: dict[str, dict[str, dict[str, Any]]] = {}  # channel -> ts -> message
        self._ephemerals: list[dict[str, Any]] = []
        self._views: dict[str, dict[str, Any]] = {}
        self._views_by_external: dict[str, str] = {}
        self._home_views: dict[str, str] = {}
        self._pending_files: dict[str, dict[str, Any]] = {}
        self._uploads: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self._last_ts_us = 0
        self._latency = 0.0
        self._rate_interval: float | None = None
        self._last_post: dict[str, float] = {}

        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._handlers: dict[str, Callable[[_Ctx], dict[str, Any] | _Reply]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "chat.getPermalink": self._chat_get_permalink,
            "users.info": self._users_info,
            "users.list": self._users_list,
            "usergroups.users.list": self._usergroups_users_list,
            "conversations.open": self._conversations_open,
            "conversations.info": self._conversations_info,
            "conversations.join": self._conversations_join,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
            "oauth.v2.access": self._oauth_v2_access,
        }
        self.add_user(bot_user_id, bot_name, is_bot=True, profile={"bot_id": bot_id, "api_app_id": app_id})

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeSlack:
        """Bind and serve in a daemon thread. Idempotent."""
        if self._server is not None:
            return self
        self._server = _Server((self.host, self.port), self)
        self.port = self._server.server_address[1]
        # A short poll interval only bounds how long stop() waits for the serve loop to notice.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"FakeSlack:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close open keep-alive connections. Idempotent."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://host:port`` of the running fake (raises before start())."""
        if self._server is None:
            raise RuntimeError("FakeSlack is not started; call start() first")
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """What ``WebClient(base_url=...)`` takes."""
        return f"{self.base_url}/api/"

    def webhook_url(self, name: str) -> str:
        """A stand-in response_url; POSTs to it are recorded as method ``response_url``."""
        return f"{self.base_url}/webhook/{name}"

    # ------------------------------------------------------------------ world setup

    def add_token(
        self,
        token: str,
        team_id: str,
        *,
        team_domain: str | None = None,
        team_name: str | None = None,
        enterprise_id: str | None = None,
        bot_user_id: str | None = None,
        bot_id: str | None = None,
    ) -> None:
        """Accept another bot token, for multi-workspace tests; auth.test answers with its team."""
        ws = _Workspace(
            team_id,
            team_domain or team_id.lower(),
            team_name or team_id,
            enterprise_id,
            bot_user_id or self.bot_user_id,
            bot_id or self.bot_id,
        )
        with self._lock:
            self._token_ws[token] = ws
            self.tokens.add(token)

    def add_user(
        self,
        user_id: str,
        name: str | None = None,
        *,
        is_admin: bool = False,
        is_owner: bool = False,
        is_bot: bool = False,
        deleted: bool = False,
        tz: str = "America/New_York",
        team_id: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """Register a user shaped like Slack's user object. ``extra`` keys such as title, display_name,
        real_name, email land in ``profile`` where Slack keeps them; ``profile={...}`` merges; the
        rest (is_restricted, is_primary_owner, ...) are top-level."""
        name = name or user_id.lower()
        team = team_id or self.team_id
        real_name = str(extra.pop("real_name", name.replace(".", " ").replace("_", " ").title()))
        profile: dict[str, Any] = {
            "title": "",
            "real_name": real_name,
            "real_name_normalized": real_name,
            "display_name": name,
            "display_name_normalized": name,
            "status_text": "",
            "status_emoji": "",
            "team": team,
        }
        for key in ("title", "display_name", "email", "first_name", "last_name", "phone", "image_72"):
            if key in extra:
                profile[key] = extra.pop(key)
        profile.update(extra.pop("profile", None) or {})
        tz_label, tz_offset = _tz_fields(tz)
        user: dict[str, Any] = {
            "id": user_id,
            "team_id": team,
            "name": name,
            "deleted": deleted,
            "real_name": real_name,
            "tz": tz,
            "tz_label": tz_label,
            "tz_offset": tz_offset,
            "profile": profile,
            "is_admin": is_admin,
            "is_owner": is_owner,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": is_bot,
            "is_app_user": False,
            "updated": int(time.time()),
        }
        if self.enterprise_id:
            user["enterprise_user"] = {
                "id": user_id,
                "enterprise_id": self.enterprise_id,
                "is_admin": is_admin,
                "is_owner": is_owner,
                "teams": [team],
            }
        user.update(extra)
        with self._lock:
            self._users[user_id] = user
        return copy.deepcopy(user)

    def add_channel(
        self,
        channel_id: str,
        name: str,
        *,
        is_private: bool = False,
        is_archived: bool = False,
        bot_member: bool | None = None,
        members: Iterable[str] = (),
    ) -> None:
        """Register a channel. The bot is not a member unless ``bot_member`` is true; for public
        channels that still lets it post (chat:write.public), for private ones it does not."""
        with self._lock:
            self._channels[channel_id] = self._channel_record(
                channel_id,
                name,
                is_private=is_private,
                is_archived=is_archived,
                members=set(members) | ({self.bot_user_id} if bot_member else set()),
            )

    def add_usergroup(self, group_id: str, user_ids: Iterable[str]) -> None:
        """Register a user group (S-id) for usergroups.users.list, e.g. a managers group."""
        with self._lock:
            self._usergroups[group_id] = list(user_ids)

    def invite_bot(self, channel_id: str) -> None:
        """Make the bot a member, as ``/invite @aiwins`` would (auto-creating a C/G channel)."""
        with self._lock:
            channel = self._lookup_channel(channel_id, allow_user=False)
            if channel is None:
                raise KeyError(f"unknown channel {channel_id!r}")
            channel["members"].add(self.bot_user_id)

    # ------------------------------------------------------------------ knobs

    def fail(
        self,
        method: str,
        *,
        error: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
        times: int | None = 1,
        match: Mapping[str, Any] | Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:
        """Make the next ``times`` matching calls fail (``times=None``: until clear_failures()).

        status None -> HTTP 200 ``{"ok": false, "error": error or "ratelimited"}``;
        429 -> HTTP 429 + ``Retry-After`` (default 1) + ``ratelimited``; other statuses -> that status
        with ``error or "internal_error"``. Rules are checked in the order they were added.
        """
        with self._lock:
            self._rules.append(_FailRule(method, error, status, retry_after, times, match))

    def clear_failures(self) -> None:
        """Drop every failure rule, including the ``times=None`` ones."""
        with self._lock:
            self._rules.clear()

    def rate_limit_per_channel(self, interval_seconds: float | None) -> None:
        """Answer 429 to chat.postMessage calls closer than ``interval_seconds`` in one channel
        (Slack's ~1 msg/s/channel). ``None`` or 0 turns it off."""
        with self._lock:
            self._rate_interval = interval_seconds or None
            self._last_post.clear()

    def latency(self, seconds: float) -> None:
        """Delay every API call by ``seconds`` (real Slack takes ~100 ms)."""
        with self._lock:
            self._latency = max(0.0, float(seconds))

    def reset(self) -> None:
        """Forget recorded calls, failure rules and rate-limit timestamps; keep the world
        (users, channels, messages, views, uploads) and the latency/rate-limit settings."""
        with self._lock:
            self._calls.clear()
            self._calls_by_method.clear()
            self._rules.clear()
            self._last_post.clear()

    # ------------------------------------------------------------------ inspection

    def calls(self, method: str | None = None, **match: Any) -> list[Call]:
        """Recorded calls in arrival order, filtered by method and ``params[key] == value``."""
        with self._lock:
            source = self._calls if method is None else self._calls_by_method.get(method, [])
            return [c for c in source if _params_match(c.params, match)]

    def wait_for(self, method: str, count: int = 1, timeout: float = 10.0, **match: Any) -> list[Call]:
        """Block until at least ``count`` matching *successful* calls exist; return all of them.

        Raises TimeoutError listing what was received instead.
        """
        return self._wait(method, count, timeout, match, ok_only=True)

    def wait_for_calls(self, method: str, count: int = 1, timeout: float = 10.0, **match: Any) -> list[Call]:
        """Like wait_for, but failed calls count too."""
        return self._wait(method, count, timeout, match, ok_only=False)

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """Messages currently in a channel (a U/W user id means the bot's DM with that user)."""
        with self._lock:
            channel_id = self._dm_id(channel) if _USER_ID.match(channel) else channel
            return copy.deepcopy(list(self._messages.get(channel_id, {}).values()))

    def ephemerals(self, channel: str | None = None) -> list[dict[str, Any]]:
        """chat.postEphemeral messages (they never appear in ``messages()``, as in Slack)."""
        with self._lock:
            return copy.deepcopy([e for e in self._ephemerals if channel is None or e["channel"] == channel])

    def home_view(self, user_id: str) -> dict[str, Any] | None:
        """The last view published to this user's App Home, or None."""
        with self._lock:
            view_id = self._home_views.get(user_id)
            return copy.deepcopy(self._views[view_id]) if view_id else None

    def views(self) -> list[dict[str, Any]]:
        """Every modal and home view, current version, in creation order."""
        with self._lock:
            return copy.deepcopy(list(self._views.values()))

    def uploads(self) -> list[dict[str, Any]]:
        """Completed uploads: {file_id, filename, title, channel_id, initial_comment, thread_ts, content}."""
        with self._lock:
            return [dict(u) for u in self._uploads]

    def user(self, user_id: str) -> dict[str, Any] | None:
        """The stored user object, as users.info would return it."""
        with self._lock:
            user = self._users.get(user_id)
            return copy.deepcopy(user) if user else None

    def dm_channel_id(self, user_id: str) -> str:
        """The stable D-id the fake uses for the bot's DM with ``user_id``."""
        return self._dm_id(user_id)

    # ------------------------------------------------------------------ waiting

    def _wait(
        self,
        method: str,
        count: int,
        timeout: float,
        match: Mapping[str, Any],
        *,
        ok_only: bool,
        accept: Callable[[Call], bool] | None = None,
    ) -> list[Call]:
        accept = accept or (lambda c: _params_match(c.params, match))
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [
                    c for c in self._calls_by_method.get(method, []) if (c.ok or not ok_only) and accept(c)
                ]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(self._timeout_message(method, count, timeout, match, ok_only, found))
                self._cond.wait(remaining)

    def _timeout_message(
        self,
        method: str,
        count: int,
        timeout: float,
        match: Mapping[str, Any],
        ok_only: bool,
        found: list[Call],
    ) -> str:
        what = f"{count} {'successful ' if ok_only else ''}{method} call(s)"
        if match:
            what += f" matching {match}"
        lines = [f"FakeSlack: timed out after {timeout:g}s waiting for {what}; {len(found)} matched."]
        recent = self._calls[-25:]
        lines.append(f"Received {len(self._calls)} call(s){' (last 25)' if len(self._calls) > 25 else ''}:")
        for c in recent:
            outcome = "ok" if c.ok else f"{c.error} (HTTP {c.status})"
            lines.append(f"  {c.method}({_brief(c.params)}) -> {outcome}")
        if not self._calls:
            lines.append("  (none)")
        return "\n".join(lines)

    # ------------------------------------------------------------------ HTTP entry points

    def _handle_http(self, verb: str, raw_path: str, headers: Any, body: bytes) -> _Reply:
        url = urlsplit(raw_path)
        path = url.path
        if path.startswith("/api/"):
            method = unquote(path[len("/api/") :]).strip("/")
            if not method:
                return _Reply(404, _err("unknown_method"))
            return self._handle_api(method, path, url.query, headers, body)
        if path.startswith("/_sandbox/"):
            return self._handle_control(verb, path[len("/_sandbox/") :].strip("/"), url.query, body)
        if verb == "POST" and path.startswith("/webhook/"):
            return self._handle_webhook(path, headers.get("Content-Type", ""), body)
        if verb == "POST" and path.startswith("/upload/"):
            return self._handle_upload(path, path[len("/upload/") :], headers.get("Content-Type", ""), body)
        return _Reply(404, _err("not_found"))

    def _handle_api(self, method: str, path: str, query: str, headers: Any, body: bytes) -> _Reply:
        params, parse_error = _parse_params(headers.get("Content-Type", ""), body, query)
        token = _bearer(headers.get("Authorization"))
        param_token = params.pop("token", None)
        if token is None and param_token:
            token = str(param_token)
        if self._latency:
            time.sleep(self._latency)  # simulated network time, not a wait on a condition
        with self._lock:
            if parse_error:
                reply = _Reply(200, _err(parse_error))
            else:
                reply = self._take_failure(method, params) or self._dispatch(method, params, token)
            self._record(method, params, token, reply, path)
        return reply

    def _dispatch(self, method: str, params: dict[str, Any], token: str | None) -> _Reply:
        if method not in _NO_TOKEN_METHODS:
            if not token:
                return _Reply(200, _err("not_authed"))
            if token not in self.tokens:
                return _Reply(200, _err("invalid_auth"))
        ws = self._token_ws.get(token or "", self._default_ws)
        handler = self._handlers.get(method)
        if handler is None:
            return _Reply(200, {"ok": True})
        result = handler(_Ctx(params, token, ws))
        return result if isinstance(result, _Reply) else _Reply(200, result)

    def _take_failure(self, method: str, params: dict[str, Any]) -> _Reply | None:
        for rule in self._rules:
            if rule.matches(method, params):
                if rule.remaining is not None:
                    rule.remaining -= 1
                    if rule.remaining <= 0:
                        self._rules.remove(rule)
                return rule.reply()
        return None

    def _record(
        self, method: str, params: dict[str, Any], token: str | None, reply: _Reply, path: str
    ) -> None:
        body = reply.body if isinstance(reply.body, dict) else {"ok": reply.status == 200}
        call = Call(method, params, token, time.monotonic(), body, reply.status, path)
        self._calls.append(call)
        self._calls_by_method.setdefault(method, []).append(call)
        self._cond.notify_all()

    def _handle_webhook(self, path: str, content_type: str, body: bytes) -> _Reply:
        params, parse_error = _parse_params(content_type, body, "")
        if isinstance(params.get("payload"), str):  # form-encoded ``payload=<json>``
            try:
                payload = json.loads(params["payload"])
                params = payload if isinstance(payload, dict) else params
            except ValueError:
                parse_error = "invalid_payload"
        with self._lock:
            reply = self._take_failure("response_url", params)
            if reply is None:
                if parse_error:
                    reply = _Reply(400, _err(parse_error))
                else:
                    error = self._content_error(params, MAX_MESSAGE_BLOCKS, require_content=False)
                    reply = _Reply(400, error) if error else _Reply(200, {"ok": True})
            self._record("response_url", params, None, reply, path)
        return reply

    def _handle_upload(self, path: str, file_id: str, content_type: str, body: bytes) -> _Reply:
        content = body
        if content_type.split(";", 1)[0].strip().lower() == "multipart/form-data":
            parts = _parse_multipart(body, content_type)
            with_name = [p for p in parts if p[1] is not None]
            if with_name or parts:
                content = (with_name or parts)[0][2]
        with self._lock:
            pending = self._pending_files.get(file_id)
            if pending is None:
                reply = _Reply(404, b"file_not_found")
            else:
                pending["content"] = content
                pending["raw"] = body
                reply = _Reply(200, f"OK - {len(content)}".encode())
            self._record("upload", {"file_id": file_id, "length": len(content)}, None, reply, path)
        return reply

    # ------------------------------------------------------------------ HTTP control (benchmarks)

    def _handle_control(self, verb: str, action: str, query: str, body: bytes) -> _Reply:
        q = dict(parse_qsl(query, keep_blank_values=True))
        if verb == "GET":
            if action == "calls":
                calls = self.calls(q.pop("method", None))
                return _Reply(200, [_call_summary(c) for c in calls if _query_match(c, q)])
            if action == "count":
                calls = self.calls(q.pop("method", None))
                return _Reply(200, {"count": sum(1 for c in calls if _query_match(c, q))})
            if action == "wait":
                return self._control_wait(q)
            if action == "messages":
                return _Reply(200, self.messages(q.get("channel", "")))
            if action == "uploads":
                uploads = [{**u, "content": base64.b64encode(u["content"]).decode()} for u in self.uploads()]
                return _Reply(200, uploads)
            return _Reply(404, _err("unknown_control"))
        try:
            data = json.loads(body) if body else None
        except ValueError:
            return _Reply(400, _err("invalid_json"))
        try:
            if action == "reset":
                self.reset()
            elif action == "fail":
                self.fail(**(data or {}))
            elif action == "users":
                for kwargs in data or []:
                    self.add_user(**kwargs)
            elif action == "channels":
                for kwargs in data or []:
                    self.add_channel(**kwargs)
            elif action == "usergroups":
                for group_id, user_ids in (data or {}).items():
                    self.add_usergroup(group_id, user_ids)
            elif action == "tokens":
                for kwargs in data or []:
                    self.add_token(**kwargs)
            elif action == "config":
                data = data or {}
                if "latency" in data:
                    self.latency(data["latency"])
                if "rate_limit_per_channel" in data:
                    self.rate_limit_per_channel(data["rate_limit_per_channel"])
            else:
                return _Reply(404, _err("unknown_control"))
        except (TypeError, AttributeError, ValueError) as exc:
            return _Reply(400, _err("invalid_arguments", detail=str(exc)))
        return _Reply(200, {"ok": True})

    def _control_wait(self, q: dict[str, str]) -> _Reply:
        method = q.pop("method", "")
        try:
            count = int(q.pop("count", "1"))
            timeout = float(q.pop("timeout", "10"))
        except ValueError:
            return _Reply(400, _err("invalid_arguments"))
        ok_only = q.pop("ok", "1") != "0"
        try:
            # Query-string values are strings, so compare params as strings.
            found = self._wait(
                method, count, timeout, q, ok_only=ok_only, accept=lambda c: _query_match(c, q)
            )
        except TimeoutError as exc:
            return _Reply(408, _err("timeout", count=len(self.calls(method)), detail=str(exc)))
        return _Reply(200, {"ok": True, "count": len(found)})

    # ------------------------------------------------------------------ world helpers (lock held)

    def _channel_record(
        self,
        channel_id: str,
        name: str,
        *,
        is_private: bool,
        is_archived: bool = False,
        members: set[str] | None = None,
        is_im: bool = False,
        is_mpim: bool = False,
        user: str | None = None,
    ) -> dict[str, Any]:
        return {
            "id": channel_id,
            "name": name,
            "is_private": is_private,
            "is_archived": is_archived,
            "is_im": is_im,
            "is_mpim": is_mpim,
            "user": user,
            "members": members if members is not None else set(),
            "created": int(time.time()),
        }

    def _dm_id(self, user_id: str) -> str:
        return _stable_id("D", user_id)

    def _open_dm(self, user_id: str) -> dict[str, Any]:
        dm_id = self._dm_id(user_id)
        channel = self._channels.get(dm_id)
        if channel is None:
            channel = self._channel_record(
                dm_id, "", is_private=True, members={user_id, self.bot_user_id}, is_im=True, user=user_id
            )
            self._channels[dm_id] = channel
        return channel

    def _lookup_channel(self, ref: Any, *, allow_user: bool = True) -> dict[str, Any] | None:
        """Find a conversation by id (C/G auto-created, U/W -> the bot's DM) or by #name."""
        if not isinstance(ref, str) or not ref:
            return None
        channel = self._channels.get(ref)
        if channel is not None:
            return channel
        if _CHANNEL_ID.match(ref):
            private = ref.startswith("G")
            channel = self._channel_record(ref, ref.lower(), is_private=private)
            self._channels[ref] = channel
            return channel
        if _USER_ID.match(ref):
            return self._open_dm(ref) if allow_user and ref in self._users else None
        name = ref.removeprefix("#")
        return next((c for c in self._channels.values() if c["name"] == name and not c["is_im"]), None)

    def _post_error(self, channel: dict[str, Any], ws: _Workspace) -> str | None:
        if channel["is_archived"]:
            return "is_archived"
        if channel["is_private"] and not channel["is_im"] and ws.bot_user_id not in channel["members"]:
            return "not_in_channel"
        return None

    def _channel_obj(self, channel: dict[str, Any], ws: _Workspace) -> dict[str, Any]:
        if channel["is_im"]:
            return {
                "id": channel["id"],
                "created": channel["created"],
                "is_im": True,
                "is_org_shared": False,
                "user": channel["user"],
                "is_user_deleted": False,
                "priority": 0,
            }
        private = channel["is_private"]
        return {
            "id": channel["id"],
            "name": channel["name"],
            "is_channel": not private,
            "is_group": private and not channel["is_mpim"],
            "is_im": False,
            "is_mpim": channel["is_mpim"],
            "is_private": private,
            "created": channel["created"],
            "is_archived": channel["is_archived"],
            "is_general": False,
            "unlinked": 0,
            "name_normalized": channel["name"],
            "is_shared": False,
            "is_org_shared": False,
            "is_ext_shared": False,
            "is_pending_ext_shared": False,
            "context_team_id": ws.team_id,
            "is_member": ws.bot_user_id in channel["members"],
            "num_members": len(channel["members"]),
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
        }

    def _next_ts(self) -> str:
        """Unique, strictly increasing message ts near the wall clock, like Slack's."""
        now_us = int(time.time() * 1_000_000)
        self._last_ts_us = max(now_us, self._last_ts_us + 1)
        return f"{self._last_ts_us // 1_000_000}.{self._last_ts_us % 1_000_000:06d}"

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):010d}"

    def _content_error(
        self, params: dict[str, Any], max_blocks: int, *, require_content: bool = True
    ) -> dict[str, Any] | None:
        blocks = params.get("blocks")
        if blocks is not None and blocks != "":
            if not _is_block_list(blocks):
                return _err("invalid_blocks_format")
            errors = block_errors(blocks, max_blocks=max_blocks)
            if errors:
                return _invalid("invalid_blocks", errors)
        text = params.get("text")
        if require_content and not text and not blocks and not params.get("attachments"):
            return _err("no_text")
        if isinstance(text, str) and len(text) > MAX_MESSAGE_TEXT:
            return _err("msg_too_long")
        return None

    def _find_message(self, channel_ref: Any, ts: Any) -> tuple[dict[str, Any] | None, str | None]:
        channel = self._lookup_channel(channel_ref)
        if channel is None:
            return None, "channel_not_found"
        if str(ts) not in self._messages.get(channel["id"], {}):
            return channel, "message_not_found"
        return channel, None

    # ------------------------------------------------------------------ Web API methods (lock held)

    def _auth_test(self, ctx: _Ctx) -> _Reply:
        ws = ctx.ws
        body: dict[str, Any] = {
            "ok": True,
            "url": f"https://{ws.domain}.slack.com/",
            "team": ws.name,
            "user": self.bot_name,
            "team_id": ws.team_id,
            "user_id": ws.bot_user_id,
            "bot_id": ws.bot_id,
            "is_enterprise_install": False,
        }
        if ws.enterprise_id:
            body["enterprise_id"] = ws.enterprise_id
        # Bolt reads the granted scopes from this header with a case-sensitive dict lookup
        # (slack_bolt/middleware/authorization/internals.py), so it must be lower-case like Slack's.
        return _Reply(200, body, {"x-oauth-scopes": self.scopes})

    def _chat_post_message(self, ctx: _Ctx) -> dict[str, Any] | _Reply:
        p = ctx.params
        if not p.get("channel"):
            return _err("channel_not_found")
        error = self._content_error(p, MAX_MESSAGE_BLOCKS)
        if error:
            return error
        channel = self._lookup_channel(p["channel"])
        if channel is None:
            return _err("channel_not_found")
        post_error = self._post_error(channel, ctx.ws)
        if post_error:
            return _err(post_error)
        if self._rate_interval:
            now = time.monotonic()
            last = self._last_post.get(channel["id"])
            if last is not None and now - last < self._rate_interval:
                retry = max(1, math.ceil(self._rate_interval - (now - last)))
                return _Reply(429, _err("ratelimited"), {"Retry-After": str(retry)})
            self._last_post[channel["id"]] = now
        ts = self._next_ts()
        message: dict[str, Any] = {
            "user": ctx.ws.bot_user_id,
            "type": "message",
            "ts": ts,
            "bot_id": ctx.ws.bot_id,
            "app_id": self.app_id,
            "text": p.get("text") or "",
            "team": ctx.ws.team_id,
        }
        for key in ("blocks", "attachments", "metadata"):
            if p.get(key):
                message[key] = p[key]
        if p.get("thread_ts"):
            message["thread_ts"] = str(p["thread_ts"])
        self._messages.setdefault(channel["id"], {})[ts] = message
        return {"ok": True, "channel": channel["id"], "ts": ts, "message": message}

    def _chat_post_ephemeral(self, ctx: _Ctx) -> dict[str, Any]:
        p = ctx.params
        if not p.get("user"):
            return _err("user_not_found")
        error = self._content_error(p, MAX_MESSAGE_BLOCKS)
        if error:
            return error
        channel = self._lookup_channel(p.get("channel"))
        if channel is None:
            return _err("channel_not_found")
        post_error = self._post_error(channel, ctx.ws)
        if post_error:
            return _err(post_error)
        ts = self._next_ts()
        self._ephemerals.append(
            {
                "channel": channel["id"],
                "user": p["user"],
                "ts": ts,
                "text": p.get("text") or "",
                "blocks": p.get("blocks"),
                "thread_ts": p.get("thread_ts"),
            }
        )
        return {"ok": True, "message_ts": ts}

    def _chat_update(self, ctx: _Ctx) -> dict[str, Any]:
        p = ctx.params
        channel, error = self._find_message(p.get("channel"), p.get("ts"))
        if error:
            return _err(error)
        assert channel is not None
        content_error = self._content_error(p, MAX_MESSAGE_BLOCKS, require_content=False)
        if content_error:
            return content_error
        if "text" not in p and "blocks" not in p and "attachments" not in p:
            return _err("no_text")
        ts = str(p["ts"])
        old = self._messages[channel["id"]][ts]
        # Copy-on-write: earlier responses and Call records keep the version they saw.
        message = {**old, "edited": {"user": ctx.ws.bot_user_id, "ts": self._next_ts()}}
        if "text" in p:
            message["text"] = p["text"] or ""
        for key in ("blocks", "attachments"):
            if key in p:
                message[key] = p[key]
        self._messages[channel["id"]][ts] = message
        return {"ok": True, "channel": channel["id"], "ts": ts, "text": message["text"], "message": message}

    def _chat_delete(self, ctx: _Ctx) -> dict[str, Any]:
        p = ctx.params
        channel, error = self._find_message(p.get("channel"), p.get("ts"))
        if error:
            return _err(error)
        assert channel is not None
        del self._messages[channel["id"]][str(p["ts"])]
        return {"ok": True, "channel": channel["id"], "ts": str(p["ts"])}

    def _chat_get_permalink(self, ctx: _Ctx) -> dict[str, Any]:
        p = ctx.params
        channel, error = self._find_message(p.get("channel"), p.get("message_ts"))
        if error:
            return _err(error)
        assert channel is not None
        ts = str(p["message_ts"])
        link = f"https://{ctx.ws.domain}.slack.com/archives/{channel['id']}/p{ts.replace('.', '')}"
        thread_ts = self._messages[channel["id"]][ts].get("thread_ts")
        if thread_ts and thread_ts != ts:
            link += f"?thread_ts={thread_ts}&cid={channel['id']}"
        return {"ok": True, "channel": channel["id"], "permalink": link}

    def _users_info(self, ctx: _Ctx) -> dict[str, Any]:
        user = self._users.get(str(ctx.params.get("user", "")))
        if user is None:
            return _err("user_not_found")
        return {"ok": True, "user": user}

    def _users_list(self, ctx: _Ctx) -> dict[str, Any]:
        p = ctx.params
        try:
            limit = int(p.get("limit") or 200)
        except (TypeError, ValueError):
            limit = 200
        limit = min(max(limit, 1), 1000)
        cursor = str(p.get("cursor") or "")
        offset = 0
        if cursor:
            try:
                kind, _, number = base64.b64decode(cursor, validate=True).decode().partition(":")
                offset = int(number)
                if kind != "offset" or offset < 0:
                    raise ValueError(cursor)
            except ValueError:
                return _err("invalid_cursor")
        members = [u for u in self._users.values() if u["team_id"] == ctx.ws.team_id]
        page = members[offset : offset + limit]
        end = offset + len(page)
        next_cursor = base64.b64encode(f"offset:{end}".encode()).decode() if end < len(members) else ""
        return {
            "ok": True,
            "members": page,
            "cache_ts": int(time.time()),
            "response_metadata": {"next_cursor": next_cursor},
        }

    def _usergroups_users_list(self, ctx: _Ctx) -> dict[str, Any]:
        users = self._usergroups.get(str(ctx.params.get("usergroup", "")))
        if users is None:
            return _err("no_such_subteam")
        return {"ok": True, "users": list(users)}

    def _conversations_open(self, ctx: _Ctx) -> dict[str, Any]:
        p = ctx.params
        if p.get("channel"):
            channel = self._lookup_channel(p["channel"], allow_user=False)
            if channel is None:
                return _err("channel_not_found")
            return {"ok": True, "no_op": True, "already_open": True, "channel": {"id": channel["id"]}}
        raw = p.get("users")
        users = raw if isinstance(raw, list) else [u.strip() for u in str(raw or "").split(",") if u.strip()]
        if not users:
            return _err("users_list_not_supplied")
        if any(u not in self._users for u in users):
            return _err("user_not_found")
        if len(users) == 1:
            already = self._dm_id(users[0]) in self._channels
            channel = self._open_dm(users[0])
        else:
            mpim_id = _stable_id("G", ",".join(sorted(users)))
            already = mpim_id in self._channels
            channel = self._channels.setdefault(
                mpim_id,
                self._channel_record(
                    mpim_id,
                    "mpdm-" + "--".join(sorted(users)) + "-1",
                    is_private=True,
                    members={*users, ctx.ws.bot_user_id},
                    is_mpim=True,
                ),
            )
        return {"ok": True, "no_op": already, "already_open": already, "channel": {"id": channel["id"]}}

    def _conversations_info(self, ctx: _Ctx) -> dict[str, Any]:
        channel = self._lookup_channel(ctx.params.get("channel"), allow_user=False)
        if channel is None or self._post_error(channel, ctx.ws) == "not_in_channel":
            return _err("channel_not_found")  # Slack hides private channels the bot is not in
        return {"ok": True, "channel": self._channel_obj(channel, ctx.ws)}

    def _conversations_join(self, ctx: _Ctx) -> dict[str, Any]:
        channel = self._lookup_channel(ctx.params.get("channel"), allow_user=False)
        if channel is None:
            return _err("channel_not_found")
        if channel["is_private"] or channel["is_im"]:
            return _err("method_not_supported_for_channel_type")
        if channel["is_archived"]:
            return _err("is_archived")
        body: dict[str, Any] = {"ok": True}
        if ctx.ws.bot_user_id in channel["members"]:
            body.update(warning="already_in_channel", response_metadata={"warnings": ["already_in_channel"]})
        channel["members"].add(ctx.ws.bot_user_id)
        body["channel"] = self._channel_obj(channel, ctx.ws)
        return body

    # views

    def _view_errors(self, view: Any, kinds: tuple[str, ...]) -> dict[str, Any] | None:
        if not isinstance(view, dict):
            return _invalid("invalid_arguments", ["must be an object [json-pointer:/view]"])
        errors: list[str] = []
        if view.get("type") not in kinds:
            errors.append("must be a valid enum value [json-pointer:/view/type]")
        if view.get("type") == "modal":
            _check_text(view.get("title"), "/view/title", MAX_VIEW_TITLE, errors, plain_only=True)
        for key in ("submit", "close"):
            if view.get(key) is not None:
                _check_text(view[key], f"/view/{key}", MAX_VIEW_TITLE, errors, plain_only=True)
        _check_str(view.get("private_metadata"), "/view/private_metadata", MAX_PRIVATE_METADATA, errors)
        _check_str(view.get("callback_id"), "/view/callback_id", MAX_CALLBACK_ID, errors)
        _check_str(view.get("external_id"), "/view/external_id", MAX_CALLBACK_ID, errors)
        blocks = view.get("blocks")
        if not _is_block_list(blocks):
            errors.append("must provide an array of blocks [json-pointer:/view/blocks]")
        else:
            errors.extend(block_errors(blocks, max_blocks=MAX_VIEW_BLOCKS, pointer="/view/blocks"))
            needs_submit = view.get("type") == "modal" and view.get("submit") is None
            if needs_submit and any(b["type"] == "input" for b in blocks):
                errors.append(
                    "must provide submit when the view has input blocks [json-pointer:/view/submit]"
                )
        return _invalid("invalid_arguments", errors) if errors else None

    def _store_view(
        self, view: dict[str, Any], ws: _Workspace, *, view_id: str | None = None, previous: str | None = None
    ) -> dict[str, Any]:
        old = self._views.get(view_id) if view_id else None
        new_id = view_id or self._next_id("V")
        if old:
            root_id = old["root_view_id"]
        elif previous in self._views:
            root_id = self._views[previous]["root_view_id"]
        else:
            root_id = new_id
        stored = {
            "id": new_id,
            "team_id": ws.team_id,
            "type": view.get("type"),
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{next(self._ids):08x}",
            "title": view.get("title"),
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "close": view.get("close"),
            "submit": view.get("submit"),
            "previous_view_id": old["previous_view_id"] if old else previous,
            "root_view_id": root_id,
            "app_id": self.app_id,
            "external_id": view.get("external_id", ""),
            "app_installed_team_id": ws.team_id,
            "bot_id": ws.bot_id,
        }
        if old and old.get("external_id") and old["external_id"] != stored["external_id"]:
            self._views_by_external.pop(old["external_id"], None)
        self._views[new_id] = stored
        if stored["external_id"]:
            self._views_by_external[stored["external_id"]] = new_id
        return stored

    def _trigger_error(self, trigger_id: Any) -> dict[str, Any] | None:
        if not trigger_id or not isinstance(trigger_id, str) or trigger_id in self.expired_triggers:
            return _err("invalid_trigger_id")
        return None

    def _views_open(self, ctx: _Ctx, *, push: bool = False) -> dict[str, Any]:
        p = ctx.params
        error = self._trigger_error(p.get("trigger_id")) or self._view_errors(p.get("view"), ("modal",))
        if error:
            return error
        if p["view"].get("external_id") in self._views_by_external:
            return _err("duplicate_external_id")
        previous = None
        if push:
            modals = [v for v in self._views.values() if v["type"] == "modal"]
            previous = modals[-1]["id"] if modals else None
        return {"ok": True, "view": self._store_view(p["view"], ctx.ws, previous=previous)}

    def _views_push(self, ctx: _Ctx) -> dict[str, Any]:
        return self._views_open(ctx, push=True)

    def _views_update(self, ctx: _Ctx) -> dict[str, Any]:
        p = ctx.params
        view_id = p.get("view_id") or self._views_by_external.get(str(p.get("external_id") or ""))
        if not p.get("view_id") and not p.get("external_id"):
            return _invalid("invalid_arguments", ["must provide view_id or external_id"])
        if not view_id or view_id not in self._views:
            return _err("not_found")
        error = self._view_errors(p.get("view"), ("modal", "home"))
        if error:
            return error
        if p.get("hash") and p["hash"] != self._views[view_id]["hash"]:
            return _err("hash_conflict")
        return {"ok": True, "view": self._store_view(p["view"], ctx.ws, view_id=view_id)}

    def _views_publish(self, ctx: _Ctx) -> dict[str, Any]:
        p = ctx.params
        user_id = p.get("user_id")
        if not user_id:
            return _invalid("invalid_arguments", ["must provide user_id"])
        error = self._view_errors(p.get("view"), ("home",))
        if error:
            return error
        view_id = self._home_views.get(str(user_id))
        if p.get("hash") and view_id and p["hash"] != self._views[view_id]["hash"]:
            return _err("hash_conflict")
        stored = self._store_view(p["view"], ctx.ws, view_id=view_id)
        self._home_views[str(user_id)] = stored["id"]
        return {"ok": True, "view": stored}

    # files

    def _files_get_upload_url(self, ctx: _Ctx) -> dict[str, Any]:
        p = ctx.params
        if not p.get("filename") or p.get("length") in (None, ""):
            return _invalid("invalid_arguments", ["must provide filename and length"])
        file_id = self._next_id("F")
        self._pending_files[file_id] = {
            "filename": str(p["filename"]),
            "length": p["length"],
            "content": None,
        }
        return {"ok": True, "upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, ctx: _Ctx) -> dict[str, Any]:
        p = ctx.params
        files = p.get("files")
        if (
            not isinstance(files, list)
            or not files
            or not all(isinstance(f, dict) and f.get("id") for f in files)
        ):
            return _invalid("invalid_arguments", ["must provide files as a JSON array of {id, title}"])
        if any(f["id"] not in self._pending_files for f in files):
            return _err("file_not_found")
        channel_id = p.get("channel_id") or None
        if channel_id:
            channel = self._lookup_channel(channel_id)
            if channel is None:
                return _err("channel_not_found")
            post_error = self._post_error(channel, ctx.ws)
            if post_error:
                return _err(post_error)
            channel_id = channel["id"]
        out = []
        for f in files:
            pending = self._pending_files.pop(f["id"])
            content = pending["content"] or b""
            title = f.get("title") or pending["filename"]
            self._uploads.append(
                {
                    "file_id": f["id"],
                    "filename": pending["filename"],
                    "title": title,
                    "channel_id": channel_id,
                    "initial_comment": p.get("initial_comment"),
                    "thread_ts": p.get("thread_ts"),
                    "content": content,
                }
            )
            out.append(
                {
                    "id": f["id"],
                    "created": int(time.time()),
                    "name": pending["filename"],
                    "title": title,
                    "user": ctx.ws.bot_user_id,
                    "size": len(content),
                    "channels": [channel_id] if channel_id else [],
                    "permalink": f"https://{ctx.ws.domain}.slack.com/files/{ctx.ws.bot_user_id}/{f['id']}",
                }
            )
        return {"ok": True, "files": out}

    def _oauth_v2_access(self, ctx: _Ctx) -> dict[str, Any]:
        """A canned install answer so the OAuth redirect flow can run against the fake."""
        if not ctx.params.get("code"):
            return _err("invalid_code")
        ws = self._default_ws
        humans = [u["id"] for u in self._users.values() if not u["is_bot"]]
        return {
            "ok": True,
            "app_id": self.app_id,
            "authed_user": {"id": humans[0] if humans else ws.bot_user_id},
            "scope": self.scopes,
            "token_type": "bot",
            "access_token": self.token,
            "bot_user_id": ws.bot_user_id,
            "team": {"id": ws.team_id, "name": ws.name},
            "enterprise": {"id": ws.enterprise_id, "name": ws.name} if ws.enterprise_id else None,
            "is_enterprise_install": False,
        }


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


# --------------------------------------------------------------------------- HTTP plumbing


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


# --------------------------------------------------------------------------- standalone


def main(argv: list[str] | None = None) -> int:
    """Run the fake on its own, print its api_url on one line, serve until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(
        prog="python -m bot.sandbox.fake_slack", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--token", default="xoxb-sandbox")
    parser.add_argument("--team-id", default="T0AB12CD3EF")
    parser.add_argument("--enterprise-id", default=None)
    parser.add_argument("--bot-user-id", default="U07AIWINBOT")
    parser.add_argument("--bot-id", default="B07AIWINBOT")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every API call")
    parser.add_argument("--rate-limit-per-channel", type=float, default=None, help="seconds between posts")
    args = parser.parse_args(argv)

    fake = FakeSlack(
        team_id=args.team_id,
        enterprise_id=args.enterprise_id,
        bot_user_id=args.bot_user_id,
        bot_id=args.bot_id,
        token=args.token,
        host=args.host,
        port=args.port,
    )
    fake.latency(args.latency)
    fake.rate_limit_per_channel(args.rate_limit_per_channel)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    fake.start()
    print(fake.api_url, flush=True)
    try:
        stop.wait()
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
