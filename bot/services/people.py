"""Who is who: admins, managers, time zones, opt-outs. The one place the permission rules live.

A user is an **admin** if Slack says `is_admin` or `is_owner`. A user is a **manager** if any of:
an admin; added with `/aiwin managers add`; a member of the user group an admin configured
(`/aiwin managers group @group`). Slack's user objects are cached in `members` for a short
while (MEMBER_TTL) for names, time zones and read-only views; a permission check for a change
(`is_admin`, `is_manager`) asks Slack afresh (users.info now), so a demoted admin loses their
powers at once. Those checks run after the ack (lazy listeners, jobs), never before it.

A **human** is a user who is not a bot, not Slackbot (USLACKBOT, which Slack does not flag as a
bot) and not deactivated: `is_human` is the one rule for recipients, owners, nominees and counts."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot.db import Database
from bot.models import Manager, Member, OptOut, Workspace, utcnow
from bot.models.queue import insert_ignore

MEMBER_TTL = timedelta(minutes=10)
GROUP_TTL = 300.0  # seconds
DEFAULT_TZ = "UTC"
SLACKBOT = "USLACKBOT"


class DirectoryLike(Protocol):
    def user(self, user_id: str) -> dict[str, Any] | None: ...
    def usergroup_members(self, group_id: str) -> list[str] | None: ...


@dataclass(frozen=True)
class Person:
    user_id: str
    name: str | None
    tz: str
    is_admin: bool
    is_bot: bool
    deleted: bool


def _person(m: Member) -> Person:
    return Person(m.user_id, m.name, m.tz or DEFAULT_TZ, m.is_admin or m.is_owner, m.is_bot, m.deleted)


def _member_values(team_id: str, user: dict[str, Any]) -> dict[str, Any]:
    profile = user.get("profile") or {}
    return {
        "team_id": team_id,
        "user_id": user["id"],
        "name": (profile.get("display_name") or profile.get("real_name") or user.get("real_name")
                 or user.get("name")),
        "tz": user.get("tz") or DEFAULT_TZ,
        "is_admin": bool(user.get("is_admin")),
        "is_owner": bool(user.get("is_owner") or user.get("is_primary_owner")),
        "is_bot": bool(user.get("is_bot")) or user["id"] == SLACKBOT,
        "deleted": bool(user.get("deleted")),
        "is_guest": bool(user.get("is_restricted") or user.get("is_ultra_restricted")),
        "fetched_at": utcnow(),
    }


def remember_member(session: Session, team_id: str, user: dict[str, Any]) -> Person:
    """Store (or refresh) Slack's user object in the cache. An upsert: two requests meeting a new
    person at the same moment both succeed (a plain INSERT made one of them fail)."""
    values = _member_values(team_id, user)
    _upsert_members(session, [values])
    return Person(values["user_id"], values["name"], values["tz"], values["is_admin"] or values["is_owner"],
                  values["is_bot"], values["deleted"])


def remember_members(session: Session, team_id: str, users: Iterable[dict[str, Any]]) -> int:
    """Store (or refresh) many user objects (a page of users.list) in one statement. Returns how many."""
    rows = list({v["user_id"]: v for v in (_member_values(team_id, u) for u in users if u.get("id"))}.values())
    if rows:
        _upsert_members(session, rows)
    return len(rows)


def _upsert_members(session: Session, rows: list[dict[str, Any]]) -> None:
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(Member).values(rows)
    stmt = stmt.on_conflict_do_update(
        index_elements=[Member.team_id, Member.user_id],
        set_={k: stmt.excluded[k] for k in rows[0] if k not in ("team_id", "user_id")},
    )
    session.execute(stmt)


def person(db: Database, directory: DirectoryLike, team_id: str, user_id: str, *,
           fresh: bool = False) -> Person | None:
    """The person, from the cache when fresh enough, else from Slack. None if Slack has no such user.
    With `fresh`, always from Slack (users.info now): for permission checks on changes."""
    if not fresh:
        with db.read(team_id) as session:
            member = session.get(Member, (team_id, user_id))
            if member is not None and utcnow() - member.fetched_at < MEMBER_TTL:
                return _person(member)
    user = directory.user(user_id)
    if user is None:
        return None
    with db.session(team_id) as session:
        return remember_member(session, team_id, user)


def is_admin(db: Database, directory: DirectoryLike, team_id: str, user_id: str, *, fresh: bool = True) -> bool:
    """Whether Slack says this user is a workspace admin or owner. Fresh (users.info now) unless the
    caller only shows something read-only: admin powers follow Slack at once, not after MEMBER_TTL."""
    p = person(db, directory, team_id, user_id, fresh=fresh)
    return bool(p and p.is_admin and not p.deleted)


def is_org_admin(directory: DirectoryLike, user_id: str) -> bool:
    """Whether Slack says this person is an admin or owner of their Enterprise Grid org (users.info's
    `enterprise_user`; a workspace admin is not), asked now: org-wide powers follow Slack at once."""
    user = directory.user(user_id) or {}
    org = user.get("enterprise_user") or {}
    return bool((org.get("is_admin") or org.get("is_owner")) and not user.get("deleted"))


def is_human(db: Database, directory: DirectoryLike, team_id: str, user_id: str, *, fresh: bool = False) -> bool:
    """A person, not a bot, Slackbot or a deactivated account; False when Slack does not know them.

    The cached answer is good enough here (accounts rarely turn into bots; a deactivation is seen
    within MEMBER_TTL; `fresh` asks Slack now). Callers that cannot reach Slack should decide to
    keep the person."""
    if user_id == SLACKBOT:
        return False
    p = person(db, directory, team_id, user_id, fresh=fresh)
    return bool(p and not p.is_bot and not p.deleted)


_group_cache: dict[tuple[str, str], tuple[float, frozenset[str]]] = {}
_group_lock = threading.Lock()


def _group_members(directory: DirectoryLike, team_id: str, group_id: str) -> frozenset[str]:
    now = time.monotonic()
    with _group_lock:
        cached = _group_cache.get((team_id, group_id))
        if cached and now - cached[0] < GROUP_TTL:
            return cached[1]
    members = frozenset(directory.usergroup_members(group_id) or ())
    with _group_lock:
        _group_cache[(team_id, group_id)] = (now, members)
    return members


def forget_group(team_id: str, group_id: str | None) -> None:
    with _group_lock:
        if group_id:
            _group_cache.pop((team_id, group_id), None)


def is_manager(db: Database, directory: DirectoryLike, team_id: str, user_id: str, *, fresh: bool = True) -> bool:
    with db.read(team_id) as session:
        if session.get(Manager, (team_id, user_id)) is not None:
            return True
        ws = session.get(Workspace, team_id)
        group = ws.managers_usergroup_id if ws else None
    if group and user_id in _group_members(directory, team_id, group):
        return True
    return is_admin(db, directory, team_id, user_id, fresh=fresh)


def managers_group_members(db: Database, directory: DirectoryLike, team_id: str) -> frozenset[str]:
    """The members of the managers user group, if one is configured (cached like is_manager's)."""
    with db.read(team_id) as session:
        ws = session.get(Workspace, team_id)
        group = ws.managers_usergroup_id if ws else None
    return _group_members(directory, team_id, group) if group else frozenset()


def user_tz(db: Database, directory: DirectoryLike, team_id: str, user_id: str) -> str:
    p = person(db, directory, team_id, user_id)
    return p.tz if p else DEFAULT_TZ


def opted_out_ids(session: Session) -> set[str]:
    """The session's workspace's opted-out people (a small set; used to filter team views)."""
    return set(session.scalars(select(OptOut.user_id)).all())


def set_opt_out(session: Session, team_id: str, user_id: str, out: bool) -> bool:
    """Opt out (or back in). Returns True when something changed."""
    if out:
        result = insert_ignore(session, OptOut, {"team_id": team_id, "user_id": user_id, "created_at": utcnow()},
                               returning=OptOut.user_id)
        return result.scalar_one_or_none() is not None
    row = session.get(OptOut, (team_id, user_id))
    if row is None:
        return False
    session.delete(row)
    return True


def known_names(session: Session, team_id: str, user_ids: Iterable[str]) -> dict[str, str]:
    """Display names of the people the app has cached (for showing `@name` instead of an id)."""
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(Member.user_id, Member.name).where(Member.team_id == team_id, Member.user_id.in_(ids))
    )
    return {user_id: name for user_id, name in rows if name}
