"""Workspaces: created on first contact, so every row has a parent with its settings."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.models import Workspace, utcnow
from bot.models.queue import insert_ignore


def ensure_workspace(session: Session, team_id: str, enterprise_id: str | None) -> None:
    now = utcnow()
    insert_ignore(
        session,
        Workspace,
        {"team_id": team_id, "enterprise_id": enterprise_id, "created_at": now, "updated_at": now},
    )
