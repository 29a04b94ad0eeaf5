"""Slack took the app out of a workspace, or out of a whole Enterprise Grid org. Bolt skips
authorization for `app_uninstalled` and `tokens_revoked` (there is no token any more); the work is
database-only, so it is done before the ack, deduplicated by event_id (bot/services/uninstall.py).

- `app_uninstalled` / `tokens_revoked` (bot token) for a workspace install: that workspace stops.
- The same for an org-wide install (`authorizations[0].is_enterprise_install`): the org's token is
  deleted and every workspace of the org the app has met stops.
- `team_access_revoked`: an org admin removed the org-wide app from some workspaces (`team_ids`): those
  stop, the org's token is kept for the others. `team_access_granted`: added (back) to workspaces; they
  are served again.
Data is kept in every case until `aiwins purge`."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.deps import Deps
from bot.services.uninstall import forget_org_install, uninstall
from bot.services.workspaces import mark_reinstalled, org_workspaces

log = logging.getLogger(__name__)


def on_uninstall(ack: Ack, body: dict[str, Any], event: dict[str, Any], context: BoltContext) -> None:
    kind = event.get("type")
    team_id = context.team_id or body.get("team_id")
    tokens = event.get("tokens") if isinstance(event.get("tokens"), dict) else {}
    if kind == "tokens_revoked" and not tokens.get("bot"):
        # Only user tokens revoked: we keep none, so there is nothing to forget.
        ack()
        return
    deps: Deps = context["deps"]
    if context.is_enterprise_install and context.enterprise_id:
        with deps.db.session() as session:
            teams = org_workspaces(session, context.enterprise_id)
            tokens_deleted = forget_org_install(session, context.enterprise_id)
        log.info("org %s: %s of the org-wide install; deleted %s token rows", context.enterprise_id, kind,
                 tokens_deleted)
        _stop(deps, teams, context.enterprise_id, body, str(kind))
    elif team_id:
        _stop(deps, [team_id], context.enterprise_id, body, str(kind))
    ack()


def on_team_access(ack: Ack, body: dict[str, Any], event: dict[str, Any], context: BoltContext) -> None:
    deps: Deps = context["deps"]
    teams = [t for t in event.get("team_ids") or [] if isinstance(t, str)]
    enterprise_id = context.enterprise_id or body.get("enterprise_id")
    if event.get("type") == "team_access_revoked":
        _stop(deps, teams, enterprise_id, body, "team_access_revoked")
    else:
        for team in teams:
            with deps.db.session(team) as session:
                if mark_reinstalled(session, team):
                    log.info("workspace %s: the org-wide app was added back", team)
    ack()


def _stop(deps: Deps, teams: list[str], enterprise_id: str | None, body: dict[str, Any], reason: str) -> None:
    for team in teams:
        with deps.db.session(team) as session:
            done = uninstall(session, team, enterprise_id, event_id=body.get("event_id"), reason=reason)
        if done.first:
            log.info("workspace %s: %s; deleted %s token rows, cancelled %s jobs, stopped %s schedules",
                     team, reason, done.tokens, done.jobs, done.schedules)


def register(app: App) -> None:
    app.event("app_uninstalled")(on_uninstall)
    app.event("tokens_revoked")(on_uninstall)
    app.event("team_access_revoked")(on_team_access)
    app.event("team_access_granted")(on_team_access)
