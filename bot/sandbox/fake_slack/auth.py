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
            "is_enterprise_install": self._org_of(ctx.token or "") is not None,
        }
        if ws.enterprise_id:
            body["enterprise_id"] = ws.enterprise_id
        # Bolt reads the granted scopes from this header with a case-sensitive dict lookup
        # (slack_bolt/middleware/authorization/internals.py), so it must be lower-case like Slack's.
        return _Reply(200, body, {"x-oauth-scopes": ctx.scopes})

    def issue_install_code(self, token: str, installer: str | None = None) -> str:
        """What Slack's authorize page hands the redirect after a person approves the install: a
        one-time code that oauth.v2.access exchanges for ``token`` (registered with add_token)."""
        with self._lock:
            if token not in self._token_ws:
                raise KeyError(f"unknown token {token!r}; add_token() it first")
            code = f"{next(self._ids)}.{abs(hash(token)) % 10**12}.sandbox"
            self._install_codes[code] = (token, installer)
            return code

    def _oauth_v2_access(self, ctx: _Ctx) -> dict[str, Any]:
        """Exchange an install code (issue_install_code) for the install's bot token, once, as Slack does;
        or, with grant_type=refresh_token, a refresh token for a new token pair (bot/sandbox/fake_slack/grid.py)."""
        if ctx.params.get("grant_type") == "refresh_token":
            return self._refresh_grant(ctx)
        issued = self._install_codes.pop(str(ctx.params.get("code") or ""), None)
        if issued is None:
            return _err("invalid_code")
        token, installer = issued
        humans = [u["id"] for u in self._users.values() if not u["is_bot"]]
        answer = self._install_answer(token)
        return {**answer, "authed_user": {"id": installer or (humans[0] if humans else answer["bot_user_id"])},
                **self._issue_tokens(token)}
