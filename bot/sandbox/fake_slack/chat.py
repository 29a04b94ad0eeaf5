"""Web API chat.* methods: post, ephemeral, update, delete, permalinks."""

from __future__ import annotations

import math
import re
import time
from typing import Any

from bot.sandbox.fake_slack.common import (
    MAX_MESSAGE_BLOCKS,
    _Ctx,
    _err,
    _Reply,
)


def _metadata_error(metadata: Any) -> dict[str, Any] | None:
    """Slack's message metadata: {"event_type": "snake_case_name", "event_payload": {...}}."""
    if metadata is None:
        return None
    if not isinstance(metadata, dict):
        return _err("invalid_metadata_format")
    event_type, payload = metadata.get("event_type"), metadata.get("event_payload")
    if not (isinstance(event_type, str) and re.fullmatch(r"[A-Za-z0-9_]{1,255}", event_type)
            and isinstance(payload, dict)):
        return _err("invalid_metadata_schema")
    return None


class ChatMethods:
    """Mixed into FakeSlack; runs with the fake's lock held."""

    def _chat_post_message(self, ctx: _Ctx) -> dict[str, Any] | _Reply:
        p = ctx.params
        if not p.get("channel"):
            return _err("channel_not_found")
        error = self._content_error(p, MAX_MESSAGE_BLOCKS) or _metadata_error(p.get("metadata"))
        if error:
            return error
        metadata = p.get("metadata")
        if metadata is not None and not (
            isinstance(metadata, dict) and isinstance(metadata.get("event_type"), str) and metadata["event_type"]
            and isinstance(metadata.get("event_payload"), dict)
        ):
            return _err("invalid_metadata_format")  # Slack: {"event_type": str, "event_payload": {...}}
        channel = self._lookup_channel(p["channel"])
        if channel is None:
            return _err("channel_not_found")
        post_error = self._post_error(channel, ctx.ws) or self._public_post_error(channel, ctx)
        if post_error:
            return _err(post_error)
        file_error = self._slack_file_error(p.get("blocks"), channel["id"], ctx)
        if file_error:
            return file_error
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
        post_error = self._post_error(channel, ctx.ws) or self._public_post_error(channel, ctx)
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

    def _public_post_error(self, channel: dict[str, Any], ctx: _Ctx) -> str | None:
        """Posting in a public channel the bot has not joined needs chat:write.public."""
        outside = not channel["is_private"] and not channel["is_im"] and ctx.ws.bot_user_id not in channel["members"]
        return "not_in_channel" if outside and ctx.lacks("chat:write.public") else None

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
