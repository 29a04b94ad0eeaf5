"""Web API users.* and usergroups.* methods."""

from __future__ import annotations

import base64
import time
from typing import Any

from bot.sandbox.fake_slack.common import (
    _Ctx,
    _err,
)


class UsersMethods:
    """Mixed into FakeSlack; runs with the fake's lock held."""

    def _users_info(self, ctx: _Ctx) -> dict[str, Any]:
        user = self._users.get(str(ctx.params.get("user", "")))
        if user is None:
            return _err("user_not_found")
        return {"ok": True, "user": user}

    def _users_list(self, ctx: _Ctx) -> dict[str, Any]:
        p = ctx.params
        try:
            limit = int(p.get("limit") or 200)
        except (TypeError, ValueError):
            limit = 200
        limit = min(max(limit, 1), 1000)
        cursor = str(p.get("cursor") or "")
        offset = 0
        if cursor:
            try:
                kind, _, number = base64.b64decode(cursor, validate=True).decode().partition(":")
                offset = int(number)
                if kind != "offset" or offset < 0:
                    raise ValueError(cursor)
            except ValueError:
                return _err("invalid_cursor")
        members = [u for u in self._users.values() if u["team_id"] == ctx.ws.team_id]
        page = members[offset : offset + limit]
        end = offset + len(page)
        next_cursor = base64.b64encode(f"offset:{end}".encode()).decode() if end < len(members) else ""
        return {
            "ok": True,
            "members": page,
            "cache_ts": int(time.time()),
            "response_metadata": {"next_cursor": next_cursor},
        }

    def _usergroups_users_list(self, ctx: _Ctx) -> dict[str, Any]:
        users = self._usergroups.get(str(ctx.params.get("usergroup", "")))
        if users is None:
            return _err("no_such_subteam")
        return {"ok": True, "users": list(users)}
