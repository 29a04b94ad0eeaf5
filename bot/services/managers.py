"""The manager list an admin keeps: explicit managers and the managers user group.

Who *is* a manager (admins, the list, the group) is decided in bot/services/people.py; this
module only reads and changes what admins configured."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.models import Manager, Workspace, utcnow
from bot.models.upsert import insert_ignore
from bot.services.workspaces import ensure_workspace

_SUBTEAM_RE = re.compile(r"<!subteam\^(S[A-Z0-9]+)(?:\|[^>]*)?>")
MAX_PER_CHANGE = 50  # mentions honoured in one `/aiwin managers add`


@dataclass(frozen=True)
class ManagerList:
    user_ids: tuple[str, ...]  # added with `/aiwin managers add`, oldest first
    group_id: str | None  # the configured managers user group


def parse_usergroup(text: str) -> str | None:
    """`<!subteam^S123|@leads>` → "S123"; None when the text mentions no user group."""
    m = _SUBTEAM_RE.search(text or "")
    return m.group(1) if m else None


def list_managers(session: Session, team_id: str) -> ManagerList:
    ids = session.scalars(select(Manager.user_id).order_by(Manager.created_at, Manager.user_id)).all()
    ws = session.get(Workspace, team_id)
    return ManagerList(tuple(ids), ws.managers_usergroup_id if ws else None)


def add_managers(session: Session, *, team_id: str, enterprise_id: str | None, user_ids: tuple[str, ...],
                 added_by: str) -> tuple[str, ...]:
    """Add people to the list; returns those who were not on it before."""
    ensure_workspace(session, team_id, enterprise_id)
    added = []
    for user_id in user_ids[:MAX_PER_CHANGE]:
        row = {"team_id": team_id, "user_id": user_id, "added_by": added_by, "created_at": utcnow()}
        if insert_ignore(session, Manager, row, returning=Manager.user_id).scalar_one_or_none():
            added.append(user_id)
    return tuple(added)


def remove_managers(session: Session, user_ids: tuple[str, ...]) -> tuple[str, ...]:
    """Take people off the list; returns those who were on it."""
    removed = session.scalars(
        delete(Manager).where(Manager.user_id.in_(user_ids[:MAX_PER_CHANGE])).returning(Manager.user_id)
    ).all()
    return tuple(u for u in user_ids if u in set(removed))


def set_managers_group(session: Session, *, team_id: str, enterprise_id: str | None,
                       group_id: str | None) -> str | None:
    """Configure (or with None, clear) the managers user group; returns the previous one."""
    ensure_workspace(session, team_id, enterprise_id)
    ws = session.get(Workspace, team_id)
    previous = ws.managers_usergroup_id
    ws.managers_usergroup_id = group_id
    return previous
