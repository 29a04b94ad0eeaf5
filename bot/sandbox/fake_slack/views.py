"""Web API views.* methods: modals and App Home, with Slack's view validation."""

from __future__ import annotations

import secrets
import time
from typing import Any

from bot.sandbox.fake_slack.blockkit import (
    _check_str,
    _check_text,
    _invalid,
    _is_block_list,
    block_errors,
)
from bot.sandbox.fake_slack.common import (
    MAX_CALLBACK_ID,
    MAX_PRIVATE_METADATA,
    MAX_VIEW_BLOCKS,
    MAX_VIEW_TITLE,
    _Ctx,
    _err,
    _Workspace,
)


class ViewsMethods:
    """Mixed into FakeSlack; runs with the fake's lock held."""

    def _view_errors(self, view: Any, kinds: tuple[str, ...]) -> dict[str, Any] | None:
        if not isinstance(view, dict):
            return _invalid("invalid_arguments", ["must be an object [json-pointer:/view]"])
        errors: list[str] = []
        if view.get("type") not in kinds:
            errors.append("must be a valid enum value [json-pointer:/view/type]")
        if view.get("type") == "modal":
            _check_text(view.get("title"), "/view/title", MAX_VIEW_TITLE, errors, plain_only=True)
        for key in ("submit", "close"):
            if view.get(key) is not None:
                _check_text(view[key], f"/view/{key}", MAX_VIEW_TITLE, errors, plain_only=True)
        _check_str(view.get("private_metadata"), "/view/private_metadata", MAX_PRIVATE_METADATA, errors)
        _check_str(view.get("callback_id"), "/view/callback_id", MAX_CALLBACK_ID, errors)
        _check_str(view.get("external_id"), "/view/external_id", MAX_CALLBACK_ID, errors)
        blocks = view.get("blocks")
        if not _is_block_list(blocks):
            errors.append("must provide an array of blocks [json-pointer:/view/blocks]")
        else:
            errors.extend(block_errors(blocks, max_blocks=MAX_VIEW_BLOCKS, pointer="/view/blocks"))
            needs_submit = view.get("type") == "modal" and view.get("submit") is None
            if needs_submit and any(b["type"] == "input" for b in blocks):
                errors.append("must provide submit when the view has input blocks [json-pointer:/view/submit]")
        return _invalid("invalid_arguments", errors) if errors else None

    def _store_view(
        self, view: dict[str, Any], ws: _Workspace, *, view_id: str | None = None, previous: str | None = None
    ) -> dict[str, Any]:
        old = self._views.get(view_id) if view_id else None
        new_id = view_id or self._next_id("V")
        if old:
            root_id = old["root_view_id"]
        elif previous in self._views:
            root_id = self._views[previous]["root_view_id"]
        else:
            root_id = new_id
        stored = {
            "id": new_id,
            "team_id": ws.team_id,
            "type": view.get("type"),
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{next(self._ids):08x}",
            "title": view.get("title"),
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "close": view.get("close"),
            "submit": view.get("submit"),
            "previous_view_id": old["previous_view_id"] if old else previous,
            "root_view_id": root_id,
            "app_id": self.app_id,
            "external_id": view.get("external_id", ""),
            "app_installed_team_id": ws.team_id,
            "bot_id": ws.bot_id,
        }
        if old and old.get("external_id") and old["external_id"] != stored["external_id"]:
            self._views_by_external.pop(old["external_id"], None)
        self._views[new_id] = stored
        if stored["external_id"]:
            self._views_by_external[stored["external_id"]] = new_id
        return stored

    def issue_trigger(self, trigger_id: str | None = None) -> str:
        """Slack sends `trigger_id` (a new one when None) to the app now: views.open/push accept it
        for `trigger_lifetime` seconds from now. SlackSender calls this for every request it sends
        with a trigger; a trigger sent again keeps its first time, as a click happens once."""
        with self._lock:
            trigger_id = trigger_id or f"{7712345678900 + next(self._ids)}.4123456789012.{secrets.token_hex(16)}"
            self._triggers.setdefault(trigger_id, time.monotonic())
        return trigger_id

    def _trigger_error(self, trigger_id: Any) -> dict[str, Any] | None:
        """Slack's answers for a trigger it never sent (invalid_trigger_id) or sent too long ago."""
        if not trigger_id or not isinstance(trigger_id, str):
            return _err("invalid_trigger_id")
        if trigger_id in self.expired_triggers:
            return _err("expired_trigger_id")
        issued = self._triggers.get(trigger_id)
        if issued is None:
            return _err("invalid_trigger_id")
        if time.monotonic() - issued > self.trigger_lifetime:
            return _err("expired_trigger_id")
        return None

    def _views_open(self, ctx: _Ctx, *, push: bool = False) -> dict[str, Any]:
        p = ctx.params
        error = self._trigger_error(p.get("trigger_id")) or self._view_errors(p.get("view"), ("modal",))
        if error:
            return error
        if p["view"].get("external_id") in self._views_by_external:
            return _err("duplicate_external_id")
        previous = None
        if push:
            modals = [v for v in self._views.values() if v["type"] == "modal"]
            previous = modals[-1]["id"] if modals else None
        return {"ok": True, "view": self._store_view(p["view"], ctx.ws, previous=previous)}

    def _views_push(self, ctx: _Ctx) -> dict[str, Any]:
        return self._views_open(ctx, push=True)

    def _views_update(self, ctx: _Ctx) -> dict[str, Any]:
        p = ctx.params
        view_id = p.get("view_id") or self._views_by_external.get(str(p.get("external_id") or ""))
        if not p.get("view_id") and not p.get("external_id"):
            return _invalid("invalid_arguments", ["must provide view_id or external_id"])
        if not view_id or view_id not in self._views:
            return _err("not_found")
        error = self._view_errors(p.get("view"), ("modal", "home"))
        if error:
            return error
        if p.get("hash") and p["hash"] != self._views[view_id]["hash"]:
            return _err("hash_conflict")
        return {"ok": True, "view": self._store_view(p["view"], ctx.ws, view_id=view_id)}

    def _views_publish(self, ctx: _Ctx) -> dict[str, Any]:
        p = ctx.params
        user_id = p.get("user_id")
        if not user_id:
            return _invalid("invalid_arguments", ["must provide user_id"])
        error = self._view_errors(p.get("view"), ("home",))
        if error:
            return error
        view_id = self._home_views.get(str(user_id))
        if p.get("hash") and view_id and p["hash"] != self._views[view_id]["hash"]:
            return _err("hash_conflict")
        stored = self._store_view(p["view"], ctx.ws, view_id=view_id)
        self._home_views[str(user_id)] = stored["id"]
        return {"ok": True, "view": stored}

    # files
