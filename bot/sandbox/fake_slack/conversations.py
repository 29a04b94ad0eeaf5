"""Web API conversations.* methods: open, info, join, history."""

from __future__ import annotations

import base64
import binascii
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

    def _conversations_history(self, ctx: _Ctx) -> dict[str, Any]:
        """Newest first, between `oldest` and `latest` (exclusive unless `inclusive`), `limit` per page
        (default 100, at most 999), an opaque cursor; message metadata only with include_all_metadata.
        Like Slack: needs channels:history (groups:history, im:history, mpim:history for the others)
        and, for a channel, the bot's membership (chat:write.public posts without it; reading does not)."""
        p = ctx.params
        channel = self._lookup_channel(p.get("channel"), allow_user=False)
        if channel is None or self._post_error(channel, ctx.ws) == "not_in_channel":
            return _err("channel_not_found")
        kind = "im" if channel["is_im"] else "mpim" if channel["is_mpim"] else (
            "groups" if channel["is_private"] else "channels")
        needed = f"{kind}:history"
        if needed not in {s.strip() for s in self.scopes.split(",")}:
            return _err("missing_scope", needed=needed, provided=self.scopes)
        if ctx.ws.bot_user_id not in channel["members"]:
            return _err("not_in_channel")
        try:
            limit = int(p.get("limit") or 100)
            oldest = float(p.get("oldest") or 0)
            latest = float(p["latest"]) if p.get("latest") else float("inf")
            offset = int(base64.b64decode(str(p["cursor"])).decode().removeprefix("offset:")) if p.get("cursor") else 0
        except (TypeError, ValueError, binascii.Error):
            return _err("invalid_arguments")
        if limit < 1:
            return _err("invalid_limit")
        limit = min(limit, 999)
        inclusive = str(p.get("inclusive", "")).lower() in ("1", "true")

        def inside(ts: float) -> bool:
            return (oldest <= ts <= latest) if inclusive else (oldest < ts < latest)

        with_metadata = str(p.get("include_all_metadata", "")).lower() in ("1", "true")
        found = sorted((m for ts, m in self._messages.get(channel["id"], {}).items() if inside(float(ts))),
                       key=lambda m: float(m["ts"]), reverse=True)
        page = found[offset:offset + limit]
        messages = [m if with_metadata else {k: v for k, v in m.items() if k != "metadata"} for m in page]
        has_more = offset + limit < len(found)
        cursor = base64.b64encode(f"offset:{offset + limit}".encode()).decode() if has_more else ""
        return {"ok": True, "messages": messages, "has_more": has_more, "pin_count": 0,
                "response_metadata": {"next_cursor": cursor}}

    # views
