"""Workspaces: created on first contact, so every row has a parent with its settings; marked
uninstalled when Slack says the app left (bot/services/uninstall.py), unmarked when it is back."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, select, update
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


def uninstalled_since(session: Session, team_id: str) -> datetime | None:
    """When the app was uninstalled from the workspace; None while it is installed (or unknown)."""
    return session.scalar(select(Workspace.uninstalled_at).where(Workspace.team_id == team_id))


def mark_reinstalled(session: Session, team_id: str) -> bool:
    """The app is back in the workspace. True when it had been marked uninstalled."""
    return bool(session.execute(
        update(Workspace).where(Workspace.team_id == team_id, Workspace.uninstalled_at.is_not(None))
        .values(uninstalled_at=None, updated_at=utcnow()).execution_options(synchronize_session=False)
    ).rowcount)


def still_installed(team_id: ColumnElement[str]) -> ColumnElement[bool]:
    """For the scheduler's reads across workspaces: rows of workspaces the app was not uninstalled from."""
    gone = select(Workspace.team_id).where(Workspace.uninstalled_at.is_not(None)).correlate(None)
    return team_id.not_in(gone)
