"""Web API conversations.* methods: open, info, join."""

from __future__ import annotations

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

    # views
