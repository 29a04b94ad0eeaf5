"""Slack's AI features in the sandbox: the assistant pane's threads, their events and methods, streamed
messages (chat.startStream / appendStream / stopStream) and mentions of the bot.

What a person does (open the pane, type in it, move to another channel, mention the bot) is sent to the
app as Slack sends it: a signed Events API request, only for events manifest.yml subscribes to, and a
mention only where the bot is a member. The methods refuse what Slack refuses: a missing argument, a
thread that is not an assistant thread, more than 4 suggested prompts, text past 12,000 characters,
chunks of an unknown type, appending to a stream that was stopped, streaming outside a DM without the
recipient, and any of it without the scope (assistant:write, chat:write)."""

from __future__ import annotations

import json
import time
from typing import Any

from bot.manifest import load_manifest
from bot.sandbox.fake_slack.blockkit import _invalid, _is_block_list, block_errors
from bot.sandbox.fake_slack.common import MAX_MESSAGE_BLOCKS, _Ctx, _err
from bot.sandbox.requests import JSON, Response

MAX_MARKDOWN = 12_000
MAX_PROMPTS = 4
CHUNK_TYPES = frozenset({"markdown_text", "task_update", "plan_update", "blocks"})


def _subscribed(event_type: str) -> bool:
    manifest = load_manifest()
    if manifest is None:
        return True
    return event_type in ((manifest.get("settings") or {}).get("event_subscriptions") or {}).get("bot_events", [])


def _chunks_text(p: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
    """The markdown a call adds (its markdown_text and markdown chunks), or Slack's error."""
    text = p.get("markdown_text") or ""
    if not isinstance(text, str):
        return "", _err("invalid_arguments")
    chunks = p.get("chunks")
    if chunks is not None:
        if not isinstance(chunks, list) or not all(isinstance(c, dict) and c.get("type") in CHUNK_TYPES
                                                   for c in chunks):
            return "", _err("invalid_chunks")
        for c in chunks:
            if c["type"] == "markdown_text":
                if not isinstance(c.get("text"), str):
                    return "", _err("invalid_chunks")
                text += c["text"]
    if len(p.get("markdown_text") or "") > MAX_MARKDOWN or any(
            len(c.get("text") or "") > MAX_MARKDOWN for c in chunks or []):
        return "", _err("msg_too_long")
    return text, None


class AssistantMixin:
    """Mixed into FakeSlack; the methods run with the fake's lock held."""

    _assistant_threads: dict[tuple[str, str], dict[str, Any]]

    # ------------------------------------------------------------------ what a person does

    def open_assistant(self, user: str, *, context_channel: str | None = None) -> tuple[str, str, Response | None]:
        """`user` opens the assistant pane: a new thread in their DM with the app. Returns (channel,
        thread_ts, the app's answer to assistant_thread_started)."""
        with self._lock:
            dm = self._open_dm(user)
            ts = self._next_ts()
            self._messages.setdefault(dm["id"], {})[ts] = {
                "type": "message", "subtype": "assistant_app_thread", "user": self.bot_user_id, "ts": ts,
                "text": "New chat", "team": self.team_id}
            context = {"channel_id": context_channel, "team_id": self.team_id,
                       "enterprise_id": self.enterprise_id} if context_channel else {}
            self._assistant_threads[(dm["id"], ts)] = {"user": user, "status": None, "prompts": None, "title": None,
                                                       "context": context}
        event = {"type": "assistant_thread_started", "event_ts": f"{time.time():.6f}",
                 "assistant_thread": {"user_id": user, "channel_id": dm["id"], "thread_ts": ts, "context": context}}
        return dm["id"], ts, self._send_event(event)

    def change_assistant_context(self, user: str, channel: str, thread_ts: str,
                                 context_channel: str) -> Response | None:
        """`user` moves to another channel with the pane open."""
        with self._lock:
            thread = self._assistant_threads[(channel, thread_ts)]
            thread["context"] = {"channel_id": context_channel, "team_id": self.team_id,
                                 "enterprise_id": self.enterprise_id}
            context = dict(thread["context"])
        event = {"type": "assistant_thread_context_changed", "event_ts": f"{time.time():.6f}",
                 "assistant_thread": {"user_id": user, "channel_id": channel, "thread_ts": thread_ts,
                                      "context": context}}
        return self._send_event(event)

    def ask_assistant(self, user: str, channel: str, thread_ts: str, text: str) -> Response | None:
        """`user` types `text` in an assistant thread: a message.im event."""
        with self._lock:
            if (channel, thread_ts) not in self._assistant_threads:
                raise KeyError(f"no assistant thread {thread_ts} in {channel}")
            ts = self._next_ts()
            message = {"type": "message", "user": user, "text": text, "ts": ts, "thread_ts": thread_ts,
                       "team": self.team_id, "client_msg_id": f"cm-{ts}"}
            self._messages[channel][ts] = message
        if not _subscribed("message.im"):
            return None
        return self._send_event({**message, "channel": channel, "channel_type": "im", "event_ts": ts})

    def mention_bot(self, user: str, channel: str, text: str, *,
                    thread_ts: str | None = None) -> tuple[str, Response | None]:
        """`user` posts `text` mentioning the bot in `channel`. Returns (the message's ts, the app's answer
        to app_mention: None where Slack sends none, i.e. the bot is not a member)."""
        with self._lock:
            found = self._lookup_channel(channel)
            if found is None:
                raise KeyError(f"unknown channel {channel!r}")
            ts = self._next_ts()
            text = f"<@{self.bot_user_id}> {text}"
            message = {"type": "message", "user": user, "text": text, "ts": ts, "team": self.team_id}
            if thread_ts:
                message["thread_ts"] = thread_ts
            self._messages.setdefault(found["id"], {})[ts] = message
            member = self.bot_user_id in found["members"]
        if not member or not _subscribed("app_mention"):
            return ts, None
        return ts, self._send_event({**message, "type": "app_mention", "channel": found["id"], "event_ts": ts})

    def assistant_thread(self, channel: str, thread_ts: str) -> dict[str, Any]:
        """What the app set on a thread: status, prompts, title, context."""
        with self._lock:
            return json.loads(json.dumps(self._assistant_threads[(channel, thread_ts)]))

    def thread_messages(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        """The replies in a thread, oldest first (its parent left out)."""
        with self._lock:
            found = self._lookup_channel(channel)
            return json.loads(json.dumps(sorted(
                (m for m in self._messages.get(found["id"] if found else channel, {}).values()
                 if m.get("thread_ts") == thread_ts and m["ts"] != thread_ts), key=lambda m: m["ts"])))

    def _send_event(self, event: dict[str, Any]) -> Response | None:
        if not _subscribed(event["type"]) and event["type"] != "message":
            return None
        with self._lock:
            sender = self._event_sender
            if sender is None:
                raise RuntimeError("call deliver_events(request_url, signing_secret) first")
            event_id = sender.new_event_id()
            body = json.dumps(sender.event_envelope(event, event_id=event_id)).encode()
            self._delivered_events[event_id] = body
        return sender.post(body, JSON)

    # ------------------------------------------------------------------ assistant.threads.*

    def _assistant_thread_of(self, p: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        if not p.get("channel_id") or not p.get("thread_ts"):
            return None, _err("invalid_arguments")
        thread = self._assistant_threads.get((p["channel_id"], str(p["thread_ts"])))
        if thread is None:
            return None, _err("invalid_thread_ts")  # not a thread the assistant pane opened
        return thread, None

    def _assistant_set_status(self, ctx: _Ctx) -> dict[str, Any]:
        thread, error = self._assistant_thread_of(ctx.params)
        if error:
            return error
        status = ctx.params.get("status")
        loading = ctx.params.get("loading_messages")
        bad_loading = loading is not None and (not isinstance(loading, list) or len(loading) > 10)
        if not isinstance(status, str) or bad_loading:
            return _err("invalid_arguments")
        thread["status"] = status
        return {"ok": True}

    def _assistant_set_suggested_prompts(self, ctx: _Ctx) -> dict[str, Any]:
        thread, error = self._assistant_thread_of(ctx.params)
        if error:
            return error
        prompts = ctx.params.get("prompts")
        if not isinstance(prompts, list) or not 1 <= len(prompts) <= MAX_PROMPTS or not all(
                isinstance(x, dict) and isinstance(x.get("title"), str) and x["title"]
                and isinstance(x.get("message"), str) and x["message"] for x in prompts):
            return _err("invalid_arguments")
        thread["prompts"] = prompts
        return {"ok": True}

    def _assistant_set_title(self, ctx: _Ctx) -> dict[str, Any]:
        thread, error = self._assistant_thread_of(ctx.params)
        if error:
            return error
        title = ctx.params.get("title")
        if not isinstance(title, str) or not title:
            return _err("invalid_arguments")
        thread["title"] = title
        return {"ok": True}

    # ------------------------------------------------------------------ chat.*Stream

    def _chat_start_stream(self, ctx: _Ctx) -> dict[str, Any]:
        p = ctx.params
        channel = self._lookup_channel(p.get("channel"))
        if channel is None:
            return _err("channel_not_found")
        thread_ts = p.get("thread_ts")
        if not thread_ts or str(thread_ts) not in self._messages.get(channel["id"], {}):
            return _err("invalid_arguments" if not thread_ts else "thread_not_found")
        if not channel["is_im"] and not (p.get("recipient_user_id") and p.get("recipient_team_id")):
            return _err("invalid_arguments")  # outside a DM, Slack needs the recipient
        post_error = self._post_error(channel, ctx.ws)
        if post_error:
            return _err(post_error)
        text, error = _chunks_text(p)
        if error:
            return error
        ts = self._next_ts()
        self._messages[channel["id"]][ts] = {
            "type": "message", "user": ctx.ws.bot_user_id, "bot_id": ctx.ws.bot_id, "ts": ts,
            "thread_ts": str(thread_ts), "text": text, "streaming": True, "team": ctx.ws.team_id}
        return {"ok": True, "channel": channel["id"], "ts": ts}

    def _streaming(self, p: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        channel, error = self._find_message(p.get("channel"), p.get("ts"))
        if error:
            return None, _err(error)
        message = self._messages[channel["id"]][str(p["ts"])]
        if not message.get("streaming"):
            return None, _err("message_not_in_streaming_state")
        return message, None

    def _chat_append_stream(self, ctx: _Ctx) -> dict[str, Any]:
        p = ctx.params
        message, error = self._streaming(p)
        if error:
            return error
        if not p.get("markdown_text") and not p.get("chunks"):
            return _err("invalid_arguments")
        text, error = _chunks_text(p)
        if error:
            return error
        message["text"] += text
        return {"ok": True, "channel": p["channel"], "ts": message["ts"]}

    def _chat_stop_stream(self, ctx: _Ctx) -> dict[str, Any]:
        p = ctx.params
        message, error = self._streaming(p)
        if error:
            return error
        text, error = _chunks_text(p)
        if error:
            return error
        blocks = p.get("blocks")
        if blocks:
            if not _is_block_list(blocks):
                return _err("invalid_blocks_format")
            errors = block_errors(blocks, max_blocks=MAX_MESSAGE_BLOCKS)
            if errors:
                return _invalid("invalid_blocks", errors)
            message["blocks"] = blocks
        message["text"] += text
        message["streaming"] = False
        return {"ok": True, "channel": p["channel"], "ts": message["ts"], "message": dict(message)}
