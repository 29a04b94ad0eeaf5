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

    def _slack_file_error(self, blocks: Any, channel_id: str) -> dict[str, Any] | None:
        """Slack refuses an image block whose slack_file the people in the channel cannot see: a file
        uploaded without a channel is the app's alone ("invalid slack file")."""
        if not isinstance(blocks, list):
            return None
        shared = {u["file_id"] for u in self._uploads if u["channel_id"] == channel_id}
        errors = []
        for i, block in enumerate(blocks):
            if not isinstance(block, dict) or block.get("type") != "image":
                continue
            ref = block.get("slack_file")
            if ref is not None and (not isinstance(ref, dict) or ref.get("id") not in shared):
                errors.append(f"invalid slack file [json-pointer:/blocks/{i}/slack_file]")
            if (ref is None) == (block.get("image_url") is None):
                errors.append(f"must provide exactly one of image_url or slack_file [json-pointer:/blocks/{i}]")
            if not isinstance(block.get("alt_text"), str) or not block["alt_text"]:
                errors.append(f"must provide alt_text [json-pointer:/blocks/{i}/alt_text]")
        return _invalid("invalid_blocks", errors) if errors else None
