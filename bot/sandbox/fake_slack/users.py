"""Web API users.* and usergroups.* methods."""

from __future__ import annotations

import base64
import time
from typing import Any

from bot.sandbox.fake_slack.common import (
    _Ctx,
    _err,
)

# users.list: Slack's largest page ("The limit parameter maximum is 1000").
MAX_PAGE = 1000


class UsersMethods:
    """Mixed into FakeSlack; runs with the fake's lock held."""

    def _users_info(self, ctx: _Ctx) -> dict[str, Any]:
        user = self._users.get(str(ctx.params.get("user", "")))
        if user is None:
            return _err("user_not_found")
        return {"ok": True, "user": user}

    def _users_list(self, ctx: _Ctx) -> dict[str, Any]:
        """Slack's cursor pagination (docs.slack.dev/apis/web-api/pagination, reference/methods/users.list):
        `limit` at most 1,000 (more is cut to 1,000); no limit asks for everything, which Slack refuses
        for a big workspace (`limit_required`, here above 1,000 members); the cursor is opaque (here,
        like Slack's, the base64 of "user:<id of the next member>"); `next_cursor` is "" on the last
        page; a cursor that does not decode, or names no member, is `invalid_cursor`."""
        p = ctx.params
        try:
            limit = int(p.get("limit") or 0)
        except (TypeError, ValueError):
            limit = 0
        members = [u for u in self._users.values() if ctx.ws.team_id in _teams_of(u)]
        if limit <= 0:
            if len(members) > MAX_PAGE:
                return _err("limit_required")
            limit = MAX_PAGE
        limit = min(limit, MAX_PAGE)
        cursor = str(p.get("cursor") or "")
        offset = 0
        if cursor:
            ids = [u["id"] for u in members]
            try:
                kind, _, user_id = base64.b64decode(cursor, validate=True).decode().partition(":")
                if kind != "user" or user_id not in ids:
                    raise ValueError(cursor)
            except ValueError:  # also binascii.Error and UnicodeDecodeError
                return _err("invalid_cursor")
            offset = ids.index(user_id)
        page = members[offset : offset + limit]
        end = offset + len(page)
        next_cursor = base64.b64encode(f"user:{members[end]['id']}".encode()).decode() if end < len(members) else ""
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


def _teams_of(user: dict[str, Any]) -> list[str]:
    """The workspaces a person is in: their own, and in an org every workspace they were added to."""
    return (user.get("enterprise_user") or {}).get("teams") or [user["team_id"]]
