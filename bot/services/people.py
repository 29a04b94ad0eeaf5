"""Who is who: admins, managers, time zones, opt-outs. The one place the permission rules live.

A user is an **admin** if Slack says `is_admin` or `is_owner`. A user is a **manager** if any of:
an admin; added with `/aiwin managers add`; a member of the user group an admin configured
(`/aiwin managers group @group`). Slack's user objects are cached in `members` for a short
while (MEMBER_TTL) so permission checks do not call Slack on every click."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db import Database
from bot.models import Manager, Member, OptOut, Workspace, utcnow
from bot.models.queue import insert_ignore

MEMBER_TTL = timedelta(minutes=10)
GROUP_TTL = 300.0  # seconds
DEFAULT_TZ = "UTC"


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


def remember_member(session: Session, team_id: str, user: dict[str, Any]) -> Member:
    """Store (or refresh) Slack's user object in the cache."""
    member = session.get(Member, (team_id, user["id"]))
    if member is None:
        member = Member(team_id=team_id, user_id=user["id"])
        session.add(member)
    profile = user.get("profile") or {}
    member.name = (profile.get("display_name") or profile.get("real_name") or user.get("real_name")
                   or user.get("name"))
    member.tz = user.get("tz") or DEFAULT_TZ
    member.is_admin = bool(user.get("is_admin"))
    member.is_owner = bool(user.get("is_owner") or user.get("is_primary_owner"))
    member.is_bot = bool(user.get("is_bot")) or user["id"] == "USLACKBOT"
    member.deleted = bool(user.get("deleted"))
    member.is_guest = bool(user.get("is_restricted") or user.get("is_ultra_restricted"))
    member.fetched_at = utcnow()
    return member


def person(db: Database, directory: DirectoryLike, team_id: str, user_id: str) -> Person | None:
    """The person, from the cache when fresh, else from Slack. None if Slack has no such user."""
    with db.read(team_id) as session:
        member = session.get(Member, (team_id, user_id))
        if member is not None and utcnow() - member.fetched_at < MEMBER_TTL:
            return _person(member)
    user = directory.user(user_id)
    if user is None:
        return None
    with db.session(team_id) as session:
        return _person(remember_member(session, team_id, user))


def is_admin(db: Database, directory: DirectoryLike, team_id: str, user_id: str) -> bool:
    p = person(db, directory, team_id, user_id)
    return bool(p and p.is_admin and not p.deleted)


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


def is_manager(db: Database, directory: DirectoryLike, team_id: str, user_id: str) -> bool:
    with db.read(team_id) as session:
        if session.get(Manager, (team_id, user_id)) is not None:
            return True
        ws = session.get(Workspace, team_id)
        group = ws.managers_usergroup_id if ws else None
    if group and user_id in _group_members(directory, team_id, group):
        return True
    return is_admin(db, directory, team_id, user_id)


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
