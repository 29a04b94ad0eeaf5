"""Web API conversations.* methods: open, info, join, history, replies."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.sandbox.fake_slack.common import (
    _Ctx,
    _err,
    _missing_scope,
    _stable_id,
)


class ConversationsMethods:
    """Mixed into FakeSlack; runs with the fake's lock held."""

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
        if channel is None:
            return _err("channel_not_found")
        # Each kind of conversation has its own read scope.
        if channel["is_im"]:
            needed = "im:read"
        elif channel["is_mpim"]:
            needed = "mpim:read"
        else:
            needed = "groups:read" if channel["is_private"] else "channels:read"
        if ctx.lacks(needed):
            return _missing_scope(needed, ctx.scopes)
        if self._post_error(channel, ctx.ws) == "not_in_channel":
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

    def _readable(self, ctx: _Ctx) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """The conversation whose messages the token may read, or Slack's error. Like Slack: the
        history scope of its type (channels:, groups:, im:, mpim:history) and, for a channel, the
        bot's membership (chat:write.public posts without it; reading does not)."""
        channel = self._lookup_channel(ctx.params.get("channel"), allow_user=False)
        if channel is None or self._post_error(channel, ctx.ws) == "not_in_channel":
            return None, _err("channel_not_found")
        kind = "im" if channel["is_im"] else "mpim" if channel["is_mpim"] else (
            "groups" if channel["is_private"] else "channels")
        if ctx.lacks(f"{kind}:history"):
            return None, _missing_scope(f"{kind}:history", ctx.scopes)
        if ctx.ws.bot_user_id not in channel["members"]:
            return None, _err("not_in_channel")
        return channel, None

    def _listed(self, channel_id: str, with_metadata: bool) -> Callable[[dict[str, Any]], dict[str, Any]]:
        """How the read methods list a message: a thread parent carries its thread's summary, and
        metadata is there only when include_all_metadata asked for it."""
        threads = _threads(self._messages.get(channel_id, {}))

        def listed(message: dict[str, Any]) -> dict[str, Any]:
            shown = {k: v for k, v in message.items() if with_metadata or k != "metadata"}
            replies = threads.get(message["ts"]) if not _is_reply(message) else None
            if replies:
                users = sorted({r.get("user", "") for r in replies})
                shown.update(thread_ts=message["ts"], reply_count=len(replies), latest_reply=replies[-1]["ts"],
                             reply_users=users, reply_users_count=len(users))
            return shown

        return listed

    def _conversations_history(self, ctx: _Ctx) -> dict[str, Any]:
        """Parent messages only, as Slack: top-level messages and thread parents, never a reply
        (conversations.replies reads a thread). Newest first, between `oldest` and `latest`
        (exclusive unless `inclusive`), `limit` per page (default 100, at most 999), an opaque
        cursor; message metadata only with include_all_metadata."""
        channel, error = self._readable(ctx)
        if error:
            return error
        assert channel is not None
        window = _window(ctx.params, default_limit=100, max_limit=999)
        if isinstance(window, dict):
            return window
        found = sorted((m for m in self._messages.get(channel["id"], {}).values()
                        if not _is_reply(m) and window.inside(m["ts"])), key=lambda m: float(m["ts"]), reverse=True)
        return {**window.page(found, self._listed(channel["id"], window.metadata)), "pin_count": 0}

    def _conversations_replies(self, ctx: _Ctx) -> dict[str, Any]:
        """A thread: its parent first, then the replies oldest first. `ts` may name the parent or any
        reply; an unknown ts is thread_not_found. `oldest`/`latest`/`inclusive` narrow the replies
        (the parent still leads the first page); `limit` (default 1000, at most 1000) and an opaque
        cursor page through it. Same scopes, membership and include_all_metadata as history."""
        channel, error = self._readable(ctx)
        if error:
            return error
        assert channel is not None
        if not ctx.params.get("ts"):
            return _err("invalid_arguments", response_metadata={"messages": ["[ERROR] missing required field: ts"]})
        messages = self._messages.get(channel["id"], {})
        named = messages.get(str(ctx.params["ts"]))
        parent = messages.get(named.get("thread_ts") or named["ts"]) if named else None
        if parent is None:
            return _err("thread_not_found")
        window = _window(ctx.params, default_limit=1000, max_limit=1000)
        if isinstance(window, dict):
            return window
        replies = _threads(messages).get(parent["ts"], [])
        thread = [parent, *(r for r in replies if window.inside(r["ts"]))]
        return window.page(thread, self._listed(channel["id"], window.metadata))

    # views


def _is_reply(message: dict[str, Any]) -> bool:
    return bool(message.get("thread_ts")) and message["thread_ts"] != message["ts"]


def _threads(messages: dict[str, dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Each thread parent's ts -> its replies, oldest first."""
    threads: dict[str, list[dict[str, Any]]] = {}
    for m in sorted(messages.values(), key=lambda m: float(m["ts"])):
        if _is_reply(m):
            threads.setdefault(m["thread_ts"], []).append(m)
    return threads


@dataclass(frozen=True)
class _Window:
    """The time range and page a read method was asked for."""

    oldest: float
    latest: float
    inclusive: bool
    limit: int
    offset: int
    metadata: bool

    def inside(self, ts: str) -> bool:
        t = float(ts)
        return (self.oldest <= t <= self.latest) if self.inclusive else (self.oldest < t < self.latest)

    def page(self, found: list[dict[str, Any]], show: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
        has_more = self.offset + self.limit < len(found)
        cursor = base64.b64encode(f"offset:{self.offset + self.limit}".encode()).decode() if has_more else ""
        return {"ok": True, "messages": [show(m) for m in found[self.offset:self.offset + self.limit]],
                "has_more": has_more, "response_metadata": {"next_cursor": cursor}}


def _window(p: dict[str, Any], *, default_limit: int, max_limit: int) -> _Window | dict[str, Any]:
    """The window the arguments ask for, or Slack's error for a bad one."""
    def flag(name: str) -> bool:
        return str(p.get(name, "")).lower() in ("1", "true")

    try:
        offset = int(base64.b64decode(str(p["cursor"])).decode().removeprefix("offset:")) if p.get("cursor") else 0
    except (ValueError, binascii.Error):
        return _err("invalid_cursor")
    try:
        limit = int(p.get("limit") or default_limit)
        oldest = float(p.get("oldest") or 0)
        latest = float(p["latest"]) if p.get("latest") else float("inf")
    except (TypeError, ValueError):
        return _err("invalid_arguments")
    if limit < 1:
        return _err("invalid_limit")
    return _Window(oldest, latest, flag("inclusive"), min(limit, max_limit), offset, flag("include_all_metadata"))
