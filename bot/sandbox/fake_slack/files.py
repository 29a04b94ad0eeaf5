"""Web API files.* methods: the two-step external upload that files_upload_v2 uses."""

from __future__ import annotations

import time
from typing import Any

from bot.sandbox.fake_slack.blockkit import (
    _invalid,
)
from bot.sandbox.fake_slack.common import (
    _Ctx,
    _err,
)

# "Currently only png, jpg, jpeg, and gif Slack image files are supported" in image blocks.
IMAGE_TYPES = frozenset({"png", "jpg", "jpeg", "gif"})


class FilesMethods:
    """Mixed into FakeSlack; runs with the fake's lock held."""

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
        """Slack's files.completeUploadExternal: with `channel_id` the files are shared into that channel
        as a message of their own (`initial_comment` as its text, or `blocks` when there is no
        initial_comment); without it they stay private to the app that uploaded them. Either way Slack
        goes on processing a file for a moment (see `file_processing`)."""
        p = ctx.params
        files = p.get("files")
        if not isinstance(files, list) or not files or not all(isinstance(f, dict) and f.get("id") for f in files):
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
                    # Not shown by uploads(): who may reference it, and when Slack is done processing it.
                    "_owner": (ctx.ws.team_id, ctx.ws.bot_user_id),
                    "_ready_at": time.monotonic() + self._file_processing,
                }
            )
            url = f"https://files.slack.com/files-pri/{ctx.ws.team_id}-{f['id']}/{pending['filename']}"
            out.append(
                {
                    "id": f["id"],
                    "created": int(time.time()),
                    "name": pending["filename"],
                    "title": title,
                    "user": ctx.ws.bot_user_id,
                    "size": len(content),
                    "channels": [channel_id] if channel_id else [],
                    "url_private": url,
                    "permalink": f"https://{ctx.ws.domain}.slack.com/files/{ctx.ws.bot_user_id}/{f['id']}",
                }
            )
        if channel_id:
            self._share_files(channel_id, out, p, ctx)
        return {"ok": True, "files": out}

    def _share_files(self, channel_id: str, files: list[dict[str, Any]], p: dict[str, Any], ctx: _Ctx) -> None:
        """The message a file share puts in the channel: it shows the files themselves."""
        ts = self._next_ts()
        message: dict[str, Any] = {
            "type": "message",
            "user": ctx.ws.bot_user_id,
            "bot_id": ctx.ws.bot_id,
            "ts": ts,
            "text": p.get("initial_comment") or "",
            "files": files,
            "upload": True,
            "team": ctx.ws.team_id,
        }
        if p.get("blocks") and not p.get("initial_comment"):  # Slack ignores blocks beside initial_comment
            message["blocks"] = p["blocks"]
        if p.get("thread_ts"):
            message["thread_ts"] = str(p["thread_ts"])
        self._messages.setdefault(channel_id, {})[ts] = message

    def _slack_file_error(self, blocks: Any, channel_id: str, ctx: _Ctx) -> dict[str, Any] | None:
        """Slack's rule for an image block's `slack_file` (reference/block-kit/composition-objects/
        slack-file-object): an id or a url (url_private or permalink), not both; a png, jpg, jpeg or
        gif; one "the user posting these blocks must have access to": here, uploaded by this app
        (shared or still private) or shared into this channel. A file Slack has not finished
        processing is refused the same way ("invalid slack file") until it has."""
        if not isinstance(blocks, list):
            return None
        errors = []
        for i, block in enumerate(blocks):
            if not isinstance(block, dict) or block.get("type") != "image":
                continue
            ref = block.get("slack_file")
            if ref is not None and not self._usable_file(ref, channel_id, ctx):
                errors.append(f"invalid slack file [json-pointer:/blocks/{i}/slack_file]")
            if (ref is None) == (block.get("image_url") is None):
                errors.append(f"must provide exactly one of image_url or slack_file [json-pointer:/blocks/{i}]")
            if not isinstance(block.get("alt_text"), str) or not block["alt_text"]:
                errors.append(f"must provide alt_text [json-pointer:/blocks/{i}/alt_text]")
        return _invalid("invalid_blocks", errors) if errors else None

    def _usable_file(self, ref: Any, channel_id: str, ctx: _Ctx) -> bool:
        if not isinstance(ref, dict) or ("id" in ref) == ("url" in ref):
            return False
        upload = next((u for u in self._uploads if ref.get("id") == u["file_id"]
                       or ref.get("url") in self._file_urls(u)), None)
        if upload is None or upload["filename"].rsplit(".", 1)[-1].lower() not in IMAGE_TYPES:
            return False
        if time.monotonic() < upload["_ready_at"]:
            return False
        return upload["_owner"] == (ctx.ws.team_id, ctx.ws.bot_user_id) or upload["channel_id"] == channel_id

    def _file_urls(self, upload: dict[str, Any]) -> tuple[str, ...]:
        team_id, user_id = upload["_owner"]
        domain = next((w.domain for w in self._token_ws.values() if w.team_id == team_id), team_id.lower())
        return (f"https://files.slack.com/files-pri/{team_id}-{upload['file_id']}/{upload['filename']}",
                f"https://{domain}.slack.com/files/{user_id}/{upload['file_id']}")
