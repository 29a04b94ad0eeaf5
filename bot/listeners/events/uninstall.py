"""`app_uninstalled` and `tokens_revoked`: Slack took the app out of a workspace. Bolt skips
authorization for both (there is no token any more); the work is database-only, so it is done before
the ack, deduplicated by event_id (bot/services/uninstall.py)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.deps import Deps
from bot.services.uninstall import uninstall

log = logging.getLogger(__name__)


def on_uninstall(ack: Ack, body: dict[str, Any], event: dict[str, Any], context: BoltContext) -> None:
    kind = event.get("type")
    team_id = context.team_id or body.get("team_id")
    tokens = event.get("tokens") if isinstance(event.get("tokens"), dict) else {}
    if not team_id or (kind == "tokens_revoked" and not tokens.get("bot")):
        # Only user tokens revoked: we keep none, so there is nothing to forget.
        ack()
        return
    deps: Deps = context["deps"]
    with deps.db.session(team_id) as session:
        done = uninstall(session, team_id, context.enterprise_id, event_id=body.get("event_id"), reason=kind)
    if done.first:
        log.info("workspace %s: %s; deleted %s token rows, cancelled %s jobs, stopped %s schedules",
                 team_id, kind, done.tokens, done.jobs, done.schedules)
    ack()


def register(app: App) -> None:
    app.event("app_uninstalled")(on_uninstall)
    app.event("tokens_revoked")(on_uninstall)
