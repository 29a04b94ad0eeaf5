"""What a response_url receives, kept the way Slack keeps it.

Slack reads `replace_original`, `delete_original` and `response_type` from the JSON body: replace or
delete the message the URL belongs to (the message whose button was pressed; for a slash command,
the last message sent through that URL), else post a new message: `in_channel` into the
conversation, anything else as an ephemeral message to the person. A body with neither text nor
blocks (nor attachments) is refused with `no_text`, unless it only deletes; replacing or deleting
a declared original that is gone is `message_not_found` (404). The default when a
block action's response says none of these is modelled as "a new ephemeral message"; our code
always says which it means."""

from __future__ import annotations

import copy
import json
from typing import Any

from bot.sandbox.fake_slack.common import MAX_MESSAGE_BLOCKS, _err, _Reply
from bot.sandbox.fake_slack.http import _parse_params


def _flag(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


class ResponseUrlMixin:
    """Mixed into FakeSlack; the response_url side of interactivity and slash commands."""

    def webhook_url(self, name: str, *, channel: str | None = None, user: str | None = None,
                    original: dict[str, Any] | None = None) -> str:
        """A stand-in response_url; POSTs to it are recorded as method ``response_url``.

        ``channel``/``user``: the conversation and person it answers (for `in_channel` posts and
        ephemerals). ``original``: the message it belongs to (a dict from ``response_messages()``
        or ``messages()``, identified by its ``ts``), which `replace_original`/`delete_original` change;
        without one, the last message sent through this URL is the one they change."""
        path = f"/webhook/{name}"
        with self._lock:
            self._response_origins[path] = {
                "channel": channel or (original or {}).get("channel"),
                "user": user or (original or {}).get("user"),
                "original": (original or {}).get("ts"),
            }
        return f"{self.base_url}{path}"

    def show_answer(self, body: dict[str, Any], *, channel: str, user: str) -> dict[str, Any]:
        """Keep a slash command's HTTP answer as the ephemeral message Slack shows for it (the fake
        never sees that answer: it goes back to the sender); returns it, for ``webhook_url(original=)``."""
        with self._lock:
            message = {"url": None, "channel": channel, "user": user, "ts": self._next_ts(),
                       "response_type": body.get("response_type") or "ephemeral",
                       "text": body.get("text") or "", "blocks": body.get("blocks") or None}
            self._response_messages.append(message)
            return copy.deepcopy(message)

    def response_messages(self, name: str | None = None) -> list[dict[str, Any]]:
        """Messages sent through response_urls (and command answers kept by ``show_answer``) that still
        exist, in order; each has url, channel, user, ts, text, blocks, response_type."""
        with self._lock:
            return copy.deepcopy([m for m in self._response_messages
                                  if name is None or m["url"] == f"/webhook/{name}"])

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
                reply = _Reply(400, _err(parse_error)) if parse_error else self._respond(path, params)
            self._record("response_url", params, None, reply, path)
        return reply

    def _response_target(self, path: str) -> dict[str, Any] | None:
        """The message replace/delete act on: the URL's original, else its last message."""
        origin = self._response_origins.get(path) or {}
        ts = origin.get("original")
        for m in reversed(self._response_messages):
            if (ts and m["ts"] == ts) or (not ts and m["url"] == path):
                return m
        if ts:
            for channel, messages in self._messages.items():
                if ts in messages:
                    return {"channel": channel, "ts": ts, "in_channel_message": True}
        return None

    def _respond(self, path: str, params: dict[str, Any]) -> _Reply:
        delete, replace = _flag(params.get("delete_original")), _flag(params.get("replace_original"))
        error = self._content_error(params, MAX_MESSAGE_BLOCKS, require_content=not delete)
        if error:
            return _Reply(400, error)
        target = self._response_target(path) if (delete or replace) else None
        declared = bool((self._response_origins.get(path) or {}).get("original"))
        if target is None and (delete or (replace and declared)):
            return _Reply(404, _err("message_not_found"))  # the message it belonged to is gone
        replace = replace and target is not None  # a command's URL with nothing sent yet: a new message
        if delete:
            if target.get("in_channel_message"):
                del self._messages[target["channel"]][target["ts"]]
            else:
                self._response_messages.remove(target)
            return _Reply(200, {"ok": True})
        content = {"text": params.get("text") or "", "blocks": params.get("blocks") or None}
        if replace:
            if target.get("in_channel_message"):
                old = self._messages[target["channel"]][target["ts"]]
                self._messages[target["channel"]][target["ts"]] = {**old, **content}
            else:
                target.update(content)
            return _Reply(200, {"ok": True})
        origin = self._response_origins.get(path) or {}
        response_type = "in_channel" if params.get("response_type") == "in_channel" else "ephemeral"
        message = {"url": path, "channel": origin.get("channel"), "user": origin.get("user"),
                   "ts": self._next_ts(), "response_type": response_type, **content}
        self._response_messages.append(message)
        return _Reply(200, {"ok": True})
