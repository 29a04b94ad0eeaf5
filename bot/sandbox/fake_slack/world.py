"""World helpers: channel records, DMs, lookups and the checks shared by the Web API methods (lock held)."""

from __future__ import annotations

import time
from typing import Any

from bot.sandbox.fake_slack.blockkit import (
    _invalid,
    _is_block_list,
    block_errors,
    mrkdwn_errors,
)
from bot.sandbox.fake_slack.common import (
    _CHANNEL_ID,
    _USER_ID,
    MAX_MESSAGE_TEXT,
    _err,
    _stable_id,
    _Workspace,
)


class WorldMixin:
    """Mixed into FakeSlack."""

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
        if isinstance(text, str) and params.get("mrkdwn") not in (False, "false", "0"):
            # The top-level text is mrkdwn too (notifications, and the message when there are no blocks).
            errors = mrkdwn_errors(text, "/text")
            if errors:
                return _invalid("invalid_blocks", errors)
        return None

    def _find_message(self, channel_ref: Any, ts: Any) -> tuple[dict[str, Any] | None, str | None]:
        channel = self._lookup_channel(channel_ref)
        if channel is None:
            return None, "channel_not_found"
        if str(ts) not in self._messages.get(channel["id"], {}):
            return channel, "message_not_found"
        return channel, None
