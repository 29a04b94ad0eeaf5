"""Workspaces: created on first contact, so every row has a parent with its settings; marked
uninstalled when Slack says the app left (bot/services/uninstall.py), unmarked when it is back."""

from __future__ import annotations

import threading
from datetime import datetime

from cachetools import TTLCache
from sqlalchemy import ColumnElement, event, select, update
from sqlalchemy.orm import Session

from bot.db import Database
from bot.models import Workspace, utcnow
from bot.models.queue import insert_ignore


def ensure_workspace(session: Session, team_id: str, enterprise_id: str | None) -> None:
    now = utcnow()
    insert_ignore(
        session,
        Workspace,
        {"team_id": team_id, "enterprise_id": enterprise_id, "created_at": now, "updated_at": now},
    )


# What this process read of each workspace's uninstall, for a few seconds: the job worker asks before every
# job. An uninstall or reinstall in this process forgets it at once; another process's, within UNINSTALL_TTL.
UNINSTALL_TTL = 5.0
_uninstalled: TTLCache[str, bool] = TTLCache(maxsize=100_000, ttl=UNINSTALL_TTL)
_lock = threading.Lock()


def is_uninstalled(db: Database, team_id: str) -> bool:
    """Whether the app was removed from the workspace (cached briefly, see above)."""
    with _lock:
        known = _uninstalled.get(team_id)
    if known is None:
        with db.read(team_id) as s:
            known = uninstalled_since(s, team_id) is not None
        with _lock:
            _uninstalled[team_id] = known
    return known


def forget_uninstall(session: Session, team_id: str) -> None:
    """Forget what this process read of the workspace's uninstall, now and once `session` commits (a read
    in between must not keep the old answer)."""
    def forget(*_: object) -> None:
        with _lock:
            _uninstalled.pop(team_id, None)

    forget()
    event.listen(session, "after_commit", forget, once=True)


def uninstalled_since(session: Session, team_id: str) -> datetime | None:
    """When the app was uninstalled from the workspace; None while it is installed (or unknown)."""
    return session.scalar(select(Workspace.uninstalled_at).where(Workspace.team_id == team_id))


def mark_reinstalled(session: Session, team_id: str) -> bool:
    """The app is back in the workspace. True when it had been marked uninstalled."""
    forget_uninstall(session, team_id)
    return bool(session.execute(
        update(Workspace).where(Workspace.team_id == team_id, Workspace.uninstalled_at.is_not(None))
        .values(uninstalled_at=None, updated_at=utcnow()).execution_options(synchronize_session=False)
    ).rowcount)


def still_installed(team_id: ColumnElement[str]) -> ColumnElement[bool]:
    """For the scheduler's reads across workspaces: rows of workspaces the app was not uninstalled from."""
    gone = select(Workspace.team_id).where(Workspace.uninstalled_at.is_not(None)).correlate(None)
    return team_id.not_in(gone)


def org_workspaces(session: Session, enterprise_id: str, *, installed: bool = False) -> list[str]:
    """The workspaces of an Enterprise Grid org the app has met (`installed`: those it was not removed from)."""
    q = select(Workspace.team_id).where(Workspace.enterprise_id == enterprise_id)
    if installed:
        q = q.where(Workspace.uninstalled_at.is_(None))
    return list(session.scalars(q.order_by(Workspace.team_id).execution_options(all_tenants=True)))
