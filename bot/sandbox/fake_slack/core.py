"""FakeSlack: the world (workspaces, users, channels, messages, views), its knobs, recording and
waiting, and the dispatch of Web API calls to the method families mixed in from sibling modules."""

from __future__ import annotations

import argparse
import copy
import itertools
import signal
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

from bot.sandbox.fake_slack.assistant import AssistantMixin
from bot.sandbox.fake_slack.auth import AuthMethods
from bot.sandbox.fake_slack.chat import ChatMethods
from bot.sandbox.fake_slack.common import (
    _NO_TOKEN_METHODS,
    _USER_ID,
    DEFAULT_SCOPES,
    METHOD_SCOPES,
    Call,
    Hold,
    _bearer,
    _brief,
    _Ctx,
    _err,
    _FailRule,
    _missing_scope,
    _params_match,
    _Reply,
    _tz_fields,
    _Workspace,
)
from bot.sandbox.fake_slack.control import ControlMixin
from bot.sandbox.fake_slack.conversations import ConversationsMethods
from bot.sandbox.fake_slack.events import EventsMixin
from bot.sandbox.fake_slack.files import FilesMethods
from bot.sandbox.fake_slack.functions import FunctionsMethods
from bot.sandbox.fake_slack.grid import GridMixin
from bot.sandbox.fake_slack.http import _parse_multipart, _parse_params, _Server
from bot.sandbox.fake_slack.responses import ResponseUrlMixin
from bot.sandbox.fake_slack.users import UsersMethods
from bot.sandbox.fake_slack.views import ViewsMethods
from bot.sandbox.fake_slack.world import WorldMixin

# --------------------------------------------------------------------------- the fake


class FakeSlack(
    AssistantMixin, ControlMixin, WorldMixin, EventsMixin, AuthMethods, ChatMethods, UsersMethods,
    ConversationsMethods, ViewsMethods, FilesMethods, ResponseUrlMixin, FunctionsMethods, GridMixin,
):
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
        trigger_lifetime: float = 3.0,
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
        # Triggers that answer expired_trigger_id whatever their age (a click already too old).
        self.expired_triggers: set[str] = set()
        # Seconds a trigger_id stays good after the request that carried it (Slack's: 3); tests shorten it.
        self.trigger_lifetime = float(trigger_lifetime)
        self._triggers: dict[str, float] = {}  # trigger_id -> when Slack sent it (time.monotonic())
        self._revoked: set[str] = set()
        self._install_codes: dict[str, tuple[str, str | None]] = {}  # code -> (token, installer)
        self._init_grid()  # org-wide tokens, expiring tokens (grid.py)

        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._default_ws = _Workspace(team_id, team_domain, team_name, enterprise_id, bot_user_id, bot_id)
        self._token_ws: dict[str, _Workspace] = {token: self._default_ws}
        self._token_scopes: dict[str, str] = {}  # tokens granted other scopes than self.scopes
        self._calls: list[Call] = []
        self._calls_by_method: dict[str, list[Call]] = {}
        self._rules: list[_FailRule] = []
        self._holds: list[Hold] = []
        self._users: dict[str, dict[str, Any]] = {}
        self._channels: dict[str, dict[str, Any]] = {}
        self._usergroups: dict[str, list[str]] = {}
        self._messages: dict[str, dict[str, dict[str, Any]]] = {}  # channel -> ts -> message
        self._ephemerals: list[dict[str, Any]] = []
        self._response_origins: dict[str, dict[str, Any]] = {}  # response_url path -> what it answers
        self._response_messages: list[dict[str, Any]] = []  # messages sent through response_urls
        self._views: dict[str, dict[str, Any]] = {}
        self._views_by_external: dict[str, str] = {}
        self._home_views: dict[str, str] = {}
        self._pending_files: dict[str, dict[str, Any]] = {}
        self._uploads: list[dict[str, Any]] = []
        self._file_processing = 0.0  # seconds Slack takes to process an uploaded file
        self._ids = itertools.count(1)
        self._last_ts_us = 0
        self._latency = 0.0
        self._rate_interval: float | None = None
        self._last_post: dict[str, float] = {}
        self._executions: dict[str, dict[str, Any]] = {}  # custom step runs (functions.py)
        self._assistant_threads: dict[tuple[str, str], dict[str, Any]] = {}  # (dm, thread_ts) -> state

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
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
            "oauth.v2.access": self._oauth_v2_access,
            "functions.completeSuccess": self._functions_complete_success,
            "functions.completeError": self._functions_complete_error,
            "assistant.threads.setStatus": self._assistant_set_status,
            "assistant.threads.setSuggestedPrompts": self._assistant_set_suggested_prompts,
            "assistant.threads.setTitle": self._assistant_set_title,
            "chat.startStream": self._chat_start_stream,
            "chat.appendStream": self._chat_append_stream,
            "chat.stopStream": self._chat_stop_stream,
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
        with self._lock:
            holds, self._holds = self._holds, []
        for held in holds:
            held.release()
        if self._event_sender is not None:
            self._event_sender.close()
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
        scopes: str | None = None,
    ) -> None:
        """Accept another bot token, for multi-workspace tests; auth.test answers with its team.
        ``scopes`` (comma-separated) defaults to the fake's, i.e. manifest.yml's."""
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
            if scopes is not None:
                self._token_scopes[token] = scopes

    def scopes_of(self, token: str | None) -> str:
        """The scopes granted to ``token`` (comma-separated)."""
        with self._lock:
            return self._token_scopes.get(token or "", self.scopes)

    def revoke_token(self, token: str) -> None:
        """Stop accepting ``token`` (an uninstall): every call with it answers ``token_revoked``."""
        with self._lock:
            self.tokens.discard(token)
            self._revoked.add(token)

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
        teams: Iterable[str] = (),
        **extra: Any,
    ) -> dict[str, Any]:
        """Register a user shaped like Slack's user object; in an org, ``teams`` are the other workspaces
        the person is in (the same id everywhere, as on Enterprise Grid). ``extra`` keys such as title, display_name,
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
                "teams": [team, *(t for t in teams if t != team)],
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

    def add_message(self, channel_id: str, user_id: str, text: str, *, thread_ts: str | None = None) -> dict[str, Any]:
        """A message a person posted (wire format text), for shortcuts to act on; returns it as
        Slack would put it in a message_action payload."""
        with self._lock:
            channel = self._lookup_channel(channel_id, allow_user=False)
            if channel is None:
                raise KeyError(f"unknown channel {channel_id!r}")
            ts = self._next_ts()
            message: dict[str, Any] = {"type": "message", "user": user_id, "ts": ts, "text": text,
                                       "team": self.team_id}
            if thread_ts:
                if thread_ts not in self._messages.get(channel["id"], {}):
                    raise KeyError(f"no message {thread_ts} in {channel_id} to reply to")
                message["thread_ts"] = thread_ts
            self._messages.setdefault(channel["id"], {})[ts] = message
            return copy.deepcopy(message)

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

    def hold(self, method: str, **match: Any) -> Hold:
        """Keep matching calls in flight until ``release()`` on the returned Hold (a post that Slack
        is slow to answer); ``wait_until_held(n)`` blocks until n of them arrived."""
        held = Hold(method, match)
        with self._lock:
            self._holds.append(held)
        return held

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

    def file_processing(self, seconds: float) -> None:
        """Slack processes an uploaded file for a moment after files.completeUploadExternal answers
        (its shares and metadata appear later): files completed from now on can be referenced from an
        image block only ``seconds`` after their upload ("invalid slack file" before). 0 turns it off."""
        with self._lock:
            self._file_processing = max(0.0, float(seconds))

    def latency(self, seconds: float) -> None:
        """Delay every API call by ``seconds`` (real Slack takes ~100 ms)."""
        with self._lock:
            self._latency = max(0.0, float(seconds))

    def reset(self) -> None:
        """Forget recorded calls, failure rules, holds and rate-limit timestamps; keep the world
        (users, channels, messages, views, uploads) and the latency/rate-limit settings."""
        with self._lock:
            self._calls.clear()
            self._calls_by_method.clear()
            self._rules.clear()
            self._last_post.clear()
            holds, self._holds = self._holds, []
        for held in holds:
            held.release()

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
        """Completed uploads: {file_id, filename, title, channel_id, initial_comment, thread_ts, content};
        channel_id is None for a file kept private to the app."""
        with self._lock:
            return [{k: v for k, v in u.items() if not k.startswith("_")} for u in self._uploads]

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
                found = [c for c in self._calls_by_method.get(method, []) if (c.ok or not ok_only) and accept(c)]
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
            holds = [h for h in self._holds if h.matches(method, params)]
        for held in holds:
            held.keep()
        with self._lock:
            if parse_error:
                reply = _Reply(200, _err(parse_error))
            else:
                reply = self._take_failure(method, params) or self._dispatch(method, params, token)
            self._record(method, params, token, reply, path)
        return reply

    def _dispatch(self, method: str, params: dict[str, Any], token: str | None) -> _Reply:
        handler = self._handlers.get(method)
        if handler is None:
            # Slack answers a method it does not have before looking at the token. The sandbox models
            # only the methods the app calls, so a misspelt or new call fails here instead of passing.
            return _Reply(200, _err("unknown_method", req_method=method))
        if method not in _NO_TOKEN_METHODS:
            if not token:
                return _Reply(200, _err("not_authed"))
            if token in self._revoked:
                return _Reply(200, _err("token_revoked"))
            if token not in self.tokens:
                return _Reply(200, _err("invalid_auth"))
            problem = self._token_problem(token)
            if problem:
                return _Reply(200, _err(problem))
        ws, refusal = self._org_workspace(method, params, token, self._token_ws.get(token or "", self._default_ws))
        if refusal is not None:
            return refusal
        scopes = self._token_scopes.get(token or "", self.scopes)
        needed = METHOD_SCOPES.get(method)
        if needed and needed not in scopes.split(","):
            return _Reply(200, _missing_scope(needed, scopes))
        result = handler(_Ctx(params, token, ws, scopes))
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

    def _record(self, method: str, params: dict[str, Any], token: str | None, reply: _Reply, path: str) -> None:
        body = reply.body if isinstance(reply.body, dict) else {"ok": reply.status == 200}
        call = Call(method, params, token, time.monotonic(), body, reply.status, path)
        self._calls.append(call)
        self._calls_by_method.setdefault(method, []).append(call)
        self._cond.notify_all()

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


# --------------------------------------------------------------------------- standalone


def main(argv: list[str] | None = None) -> int:
    """Run the fake on its own, print its api_url on one line, serve until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(prog="python -m bot.sandbox.fake_slack", description=__doc__.splitlines()[0])
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
