"""Enterprise Grid and token rotation in the sandbox.

An **org** (enterprise) holds workspaces. An app installed org-wide gets one bot token for the whole
org (`add_org_token`); an org admin then adds the app to workspaces (`add_org_workspace`). With that
token, methods that list a workspace's things need `team_id` (docs.slack.dev: "required if org token
is used"): without it Slack answers `missing_argument`, and with a workspace the app was not added to,
`team_access_not_granted`. Other methods (chat.postMessage, users.info, views.publish …) need none.

**Token rotation** (`rotate_tokens`): installs from then on hand out access tokens that expire after
`expires_in` seconds (`token_expired` on every call after that) and a refresh token that
`oauth.v2.access` with `grant_type=refresh_token` exchanges for a new pair. The sandbox is stricter than
it needs to be where Slack is vague: a refresh token is good exactly once (`invalid_refresh_token` the
second time), so a test catches any code path that could use one twice. An access token stays good
until its own expiry after a refresh, as Slack's does."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.fake_slack.common import _Ctx, _err, _Reply, _Workspace

# Methods Slack refuses with an org-wide token unless they say which workspace (`team_id`).
TEAM_ID_METHODS = frozenset({
    "users.list", "usergroups.list", "usergroups.users.list", "conversations.list", "users.conversations",
    "conversations.create",
})


@dataclass
class _Org:
    enterprise_id: str
    name: str
    teams: set[str] = field(default_factory=set)


@dataclass
class _Rotation:
    """One install's rotating tokens: what the refresh token `refresh_token` is worth."""

    base: str  # the token the install was registered as (its workspace or org, scopes)
    expires_in: int


class GridMixin:
    """Mixed into FakeSlack; the `_`-methods run with the fake's lock held."""

    _orgs: dict[str, _Org]
    _expires: dict[str, float]  # access token -> when it stops working (time.time())
    _refresh_tokens: dict[str, _Rotation]  # unused refresh tokens
    _used_refresh_tokens: set[str]
    _rotation_seconds: int | None = None

    def _init_grid(self) -> None:
        self._orgs = {}
        self._expires = {}
        self._refresh_tokens = {}
        self._used_refresh_tokens = set()
        self._grid_ids = itertools.count(1)

    # ------------------------------------------------------------------ world setup

    def add_org_token(self, token: str, enterprise_id: str | None = None, *, teams: tuple[str, ...] = (),
                      enterprise_name: str = "Acme Corp", scopes: str | None = None) -> None:
        """An org-wide install's bot token for `enterprise_id` (default: the fake's), added to `teams`."""
        enterprise_id = enterprise_id or self.enterprise_id
        if not enterprise_id:
            raise ValueError("an org token needs an enterprise_id")
        ws = _Workspace(enterprise_id, enterprise_name.lower().replace(" ", "-"), enterprise_name, enterprise_id,
                        self.bot_user_id, self.bot_id)
        with self._lock:
            self._token_ws[token] = ws
            self.tokens.add(token)
            self._orgs[token] = _Org(enterprise_id, enterprise_name, set(teams))
            if scopes is not None:
                self._token_scopes[token] = scopes

    def add_org_workspace(self, token: str, team_id: str) -> None:
        """An org admin adds the org-wide app to one more workspace."""
        with self._lock:
            self._orgs[token].teams.add(team_id)

    def remove_org_workspace(self, token: str, team_id: str) -> None:
        """An org admin removes the org-wide app from one workspace (the org token stays good elsewhere)."""
        with self._lock:
            self._orgs[token].teams.discard(team_id)

    def rotate_tokens(self, expires_in: int | None = 43_200) -> None:
        """Installs from now on get expiring tokens (Slack's default lifetime: 12 hours); None: not."""
        with self._lock:
            self._rotation_seconds = expires_in

    def expires_at(self, token: str) -> float | None:
        with self._lock:
            return self._expires.get(token)

    # ------------------------------------------------------------------ dispatch (lock held)

    def _token_problem(self, token: str) -> str | None:
        expires = self._expires.get(token)
        return "token_expired" if expires is not None and time.time() >= expires else None

    def _org_workspace(self, method: str, params: dict[str, Any], token: str | None,
                       ws: _Workspace) -> tuple[_Workspace, _Reply | None]:
        """The workspace an org token's call is about, or Slack's refusal."""
        org = self._orgs.get(token or "")
        if org is None:
            return ws, None
        team = params.get("team_id")
        if team:
            if team not in org.teams:
                return ws, _Reply(200, _err("team_access_not_granted"))
            return _Workspace(str(team), str(team).lower(), str(team), org.enterprise_id, ws.bot_user_id,
                              ws.bot_id), None
        if method in TEAM_ID_METHODS:
            return ws, _Reply(200, _err("missing_argument"))
        return ws, None

    def _org_of(self, token: str) -> _Org | None:
        return self._orgs.get(token)

    # ------------------------------------------------------------------ oauth.v2.access (lock held)

    def _issue_tokens(self, base: str) -> dict[str, Any]:
        """The token fields of an oauth.v2.access answer for the install registered as `base`."""
        if self._rotation_seconds is None:
            return {"access_token": base}
        return self._new_pair(_Rotation(base, self._rotation_seconds))

    def _new_pair(self, rotation: _Rotation) -> dict[str, Any]:
        n = next(self._grid_ids)
        access = f"xoxe.xoxb-{n}-{abs(hash((rotation.base, n))) % 10**10}"
        refresh = f"xoxe-1-{n}-{abs(hash((rotation.base, n, 'r'))) % 10**12}"
        self._token_ws[access] = self._token_ws[rotation.base]
        self.tokens.add(access)
        if rotation.base in self._token_scopes:
            self._token_scopes[access] = self._token_scopes[rotation.base]
        if rotation.base in self._orgs:
            self._orgs[access] = self._orgs[rotation.base]
        self._expires[access] = time.time() + rotation.expires_in
        self._refresh_tokens[refresh] = rotation
        return {"access_token": access, "refresh_token": refresh, "expires_in": rotation.expires_in}

    def _refresh_grant(self, ctx: _Ctx) -> dict[str, Any]:
        """grant_type=refresh_token: a new access token and refresh token for an unused refresh token."""
        given = str(ctx.params.get("refresh_token") or "")
        rotation = self._refresh_tokens.pop(given, None)
        if rotation is None:
            return _err("invalid_refresh_token")
        self._used_refresh_tokens.add(given)
        return {**self._install_answer(rotation.base), **self._new_pair(rotation)}

    def _install_answer(self, base: str) -> dict[str, Any]:
        """What oauth.v2.access says about the install itself (without its tokens)."""
        ws = self._token_ws[base]
        org = self._orgs.get(base)
        body: dict[str, Any] = {
            "ok": True,
            "app_id": self.app_id,
            "scope": self._token_scopes.get(base, self.scopes),
            "token_type": "bot",
            "bot_user_id": ws.bot_user_id,
        }
        if org is not None:  # org-wide: no workspace (docs.slack.dev, "org-ready apps")
            body.update(team=None, enterprise={"id": org.enterprise_id, "name": org.name},
                        is_enterprise_install=True)
        else:
            body.update(team={"id": ws.team_id, "name": ws.name},
                        enterprise={"id": ws.enterprise_id, "name": ws.name} if ws.enterprise_id else None,
                        is_enterprise_install=False)
        return body
