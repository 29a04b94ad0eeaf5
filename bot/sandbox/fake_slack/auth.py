"""Web API auth.test and oauth.v2.access."""

from __future__ import annotations

from typing import Any

from bot.sandbox.fake_slack.common import (
    _Ctx,
    _err,
    _Reply,
)


class AuthMethods:
    """Mixed into FakeSlack; runs with the fake's lock held."""

    def _auth_test(self, ctx: _Ctx) -> _Reply:
        ws = ctx.ws
        body: dict[str, Any] = {
            "ok": True,
            "url": f"https://{ws.domain}.slack.com/",
            "team": ws.name,
            "user": self.bot_name,
            "team_id": ws.team_id,
            "user_id": ws.bot_user_id,
            "bot_id": ws.bot_id,
            "is_enterprise_install": False,
        }
        if ws.enterprise_id:
            body["enterprise_id"] = ws.enterprise_id
        # Bolt reads the granted scopes from this header with a case-sensitive dict lookup
        # (slack_bolt/middleware/authorization/internals.py), so it must be lower-case like Slack's.
        return _Reply(200, body, {"x-oauth-scopes": ctx.scopes})

    def _oauth_v2_access(self, ctx: _Ctx) -> dict[str, Any]:
        """A canned install answer so the OAuth redirect flow can run against the fake."""
        if not ctx.params.get("code"):
            return _err("invalid_code")
        ws = self._default_ws
        humans = [u["id"] for u in self._users.values() if not u["is_bot"]]
        return {
            "ok": True,
            "app_id": self.app_id,
            "authed_user": {"id": humans[0] if humans else ws.bot_user_id},
            "scope": self.scopes,
            "token_type": "bot",
            "access_token": self.token,
            "bot_user_id": ws.bot_user_id,
            "team": {"id": ws.team_id, "name": ws.name},
            "enterprise": {"id": ws.enterprise_id, "name": ws.name} if ws.enterprise_id else None,
            "is_enterprise_install": False,
        }
