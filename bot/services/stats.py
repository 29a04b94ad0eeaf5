"""`/aiwin stats`: the caller's own figures and the team's this week and this month, with coverage over
the last 4 weeks. Every figure is defined and read in bot/services/figures.py, as on every other surface."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from bot.db import Database
from bot.models import OptOut, Workspace, utcnow
from bot.services import figures
from bot.services.figures import SHORT_WEEKS, Change, Personal, Totals
from bot.services.people import DEFAULT_TZ, remember_member
from bot.services.workspaces import ensure_workspace

MEMBERS_SYNC_EVERY = timedelta(days=1)


@dataclass(frozen=True)
class StatsReport:
    user_id: str
    personal: Personal
    week: Totals
    month: Totals
    coverage: Change  # the last 4 weeks
    members_known: bool
    opted_out: bool


def zone(tz: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(tz or DEFAULT_TZ)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TZ)


def stats_report(session: Session, team_id: str, user_id: str, now: datetime | None = None) -> StatsReport:
    now = now or utcnow()
    week, month = figures.totals(session, team_id, [figures.last_weeks(now, 1), figures.this_month(now)])
    return StatsReport(
        user_id=user_id,
        personal=figures.personal(session, team_id, user_id, now),
        week=week,
        month=month,
        coverage=figures.coverage(session, team_id, figures.last_weeks(now, SHORT_WEEKS)),
        members_known=figures.members_known(session, team_id),
        opted_out=session.get(OptOut, (team_id, user_id)) is not None,
    )


# -- the member list behind coverage ----------------------------------------------------------------------


class MemberDirectory(Protocol):
    def all_users(self) -> list[dict[str, Any]]: ...


def refresh_members(db: Database, directory: MemberDirectory, team_id: str, enterprise_id: str | None = None,
                    *, now: datetime | None = None) -> bool:
    """Copy users.list into `members` when the last copy is a day old. Returns True if it ran.

    The claim is a compare-and-set on `members_synced_at`, so concurrent callers (several App
    Home opens, several replicas) make one users.list pass; a failed pass releases the claim."""
    now = now or utcnow()
    with db.session(team_id) as session:
        ensure_workspace(session, team_id, enterprise_id)
        previous = session.scalar(select(Workspace.members_synced_at).where(Workspace.team_id == team_id))
        claimed = session.execute(
            update(Workspace)
            .where(Workspace.team_id == team_id,
                   or_(Workspace.members_synced_at.is_(None),
                       Workspace.members_synced_at < now - MEMBERS_SYNC_EVERY))
            .values(members_synced_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
    if not claimed:
        return False
    try:
        users = directory.all_users()
    except Exception:
        with db.session(team_id) as session:
            session.execute(update(Workspace).where(Workspace.team_id == team_id)
                            .values(members_synced_at=previous).execution_options(synchronize_session=False))
        raise
    store_members(db, team_id, users)
    return True


def store_members(db: Database, team_id: str, users: Iterable[dict[str, Any]]) -> None:
    with db.session(team_id) as session:
        for user in users:
            if user.get("id"):
                remember_member(session, team_id, user)
