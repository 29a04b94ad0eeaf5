"""Who is who: admins, managers, time zones, opt-outs. The one place the permission rules live.

A user is an **admin** if Slack says `is_admin` or `is_owner`. A user is a **manager** if any of:
an admin; added with `/aiwin managers add`; a member of the user group an admin configured
(`/aiwin managers group @group`). Slack's user objects are cached in `members` for a short
while (MEMBER_TTL) for names, time zones and read-only views, and the managers group's members in
this process for GROUP_TTL; a permission check for a change or for manager-only figures
(`is_admin`, `is_manager`) asks Slack afresh (users.info and usergroups.users.list now), so a
demoted admin or a person removed from the managers group loses their powers at once. Those checks
run after the ack (lazy listeners, jobs), never before it.

A **human** is a user who is not a bot, not Slackbot (USLACKBOT, which Slack does not flag as a
bot) and not deactivated: `is_human` is the one rule for recipients, owners, nominees and counts.
Slack's "no such user" is remembered too (in this process, for MEMBER_TTL), so naming the same
unknown ids again asks Slack nothing. `humans` answers for many people at once: one read of the
cache (including the member list's daily copy), then users.info only for those it cannot answer."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol
from weakref import WeakKeyDictionary

from cachetools import TTLCache
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot.db import Database
from bot.models import Manager, Member, OptOut, Workspace, utcnow
from bot.models.queue import insert_ignore

log = logging.getLogger(__name__)

MEMBER_TTL = timedelta(minutes=10)
MEMBERS_SYNC_EVERY = timedelta(days=1)  # how often users.list is copied whole (bot/services/members.py)
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


# "No such user" answers, kept in this process per database (ids only: a row per typo would outlive it).
_absent: WeakKeyDictionary[Database, TTLCache[tuple[str, str], bool]] = WeakKeyDictionary()
_absent_lock = threading.Lock()


def _absent_of(db: Database) -> TTLCache[tuple[str, str], bool]:
    """Called with _absent_lock held."""
    cache = _absent.get(db)
    if cache is None:
        cache = _absent[db] = TTLCache(maxsize=100_000, ttl=MEMBER_TTL.total_seconds())
    return cache


def _known_absent(db: Database, team_id: str, user_id: str) -> bool:
    with _absent_lock:
        return (team_id, user_id) in _absent_of(db)


def _ask_slack(db: Database, directory: DirectoryLike, team_id: str, user_id: str) -> Person | None:
    """users.info now; the answer is cached, a "no such user" one too."""
    user = directory.user(user_id)
    with _absent_lock:
        if user is None:
            _absent_of(db)[(team_id, user_id)] = True
        else:
            _absent_of(db).pop((team_id, user_id), None)
    if user is None:
        return None
    with db.session(team_id) as session:
        return remember_member(session, team_id, user)


def person(db: Database, directory: DirectoryLike, team_id: str, user_id: str, *,
           fresh: bool = False) -> Person | None:
    """The person, from the cache when fresh enough, else from Slack. None if Slack has no such user
    (remembered for MEMBER_TTL). With `fresh`, always from Slack (users.info now): for permission
    checks on changes."""
    if not fresh:
        if _known_absent(db, team_id, user_id):
            return None
        with db.read(team_id) as session:
            member = session.get(Member, (team_id, user_id))
            if member is not None and utcnow() - member.fetched_at < MEMBER_TTL:
                return _person(member)
    return _ask_slack(db, directory, team_id, user_id)


def humans(db: Database, directory: DirectoryLike, team_id: str, user_ids: Iterable[str], *,
           fresh: bool = False) -> dict[str, bool | None]:
    """`is_human` for many people: None for one Slack could not be asked about (the caller decides).

    Without `fresh`, one read answers everyone the cache knows: a row fetched within MEMBER_TTL, or
    one from the member list's last whole copy while that copy is less than MEMBERS_SYNC_EVERY old
    (so a deactivation may take until the next copy to be seen here), and "no such user" answers.
    Slack is asked (users.info, one person a call: Slack has no batch form) only about the rest."""
    ids = tuple(dict.fromkeys(user_ids))
    answers: dict[str, bool | None] = {u: False for u in ids if u == SLACKBOT}
    if not fresh:
        answers.update({u: False for u in ids if _known_absent(db, team_id, u)})
        answers.update(_cached_humans(db, team_id, [u for u in ids if u not in answers]))
    for user_id in ids:
        if user_id in answers:
            continue
        try:
            p = _ask_slack(db, directory, team_id, user_id)
        except Exception:  # noqa: BLE001 - logged; the caller decides what an unknown answer means
            log.warning("could not ask Slack whether %s is a person", user_id, exc_info=True)
            answers[user_id] = None
            continue
        answers[user_id] = bool(p and not p.is_bot and not p.deleted)
    return answers


def _cached_humans(db: Database, team_id: str, user_ids: list[str]) -> dict[str, bool]:
    if not user_ids:
        return {}
    now = utcnow()
    with db.read(team_id) as session:
        synced = session.scalar(select(Workspace.members_synced_at).where(Workspace.team_id == team_id))
        rows = session.execute(select(Member.user_id, Member.fetched_at, Member.is_bot, Member.deleted)
                               .where(Member.team_id == team_id, Member.user_id.in_(user_ids))).all()
    copy_ok = synced is not None and now - synced < MEMBERS_SYNC_EVERY
    return {u: not (bot or deleted) for u, fetched, bot, deleted in rows
            if now - fetched < MEMBER_TTL or (copy_ok and fetched >= synced)}


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


def _group_members(directory: DirectoryLike, team_id: str, group_id: str, *, fresh: bool = False) -> frozenset[str]:
    """The group's members: this process's copy when younger than GROUP_TTL, unless `fresh` (then
    Slack now, and the copy is replaced with the answer)."""
    now = time.monotonic()
    with _group_lock:
        cached = _group_cache.get((team_id, group_id))
        if cached and now - cached[0] < GROUP_TTL and not fresh:
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
    """An admin, on the managers list, or in the managers user group. Fresh (Slack now, for the
    group and the admin flag) unless the caller only shows something that is not manager-only."""
    with db.read(team_id) as session:
        if session.get(Manager, (team_id, user_id)) is not None:
            return True
        ws = session.get(Workspace, team_id)
        group = ws.managers_usergroup_id if ws else None
    if group and user_id in _group_members(directory, team_id, group, fresh=fresh):
        return True
    return is_admin(db, directory, team_id, user_id, fresh=fresh)


def managers_group_members(db: Database, directory: DirectoryLike, team_id: str) -> frozenset[str]:
    """The members of the managers user group, if one is configured, for figures ("leaders modeling"),
    not permissions: this process's copy (GROUP_TTL), refreshed by every fresh `is_manager`."""
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
