"""Teach-backs: a manager's reaction nominates a win's owners to show the team how they did it.

One Nomination per (win, manager) and one TeachBack per (win, owner), both guarded by unique
constraints and written with INSERT … ON CONFLICT DO NOTHING, so redelivered or concurrent
events give one row each. Reaction events can be processed out of order (several workers), so
a nomination remembers the Slack time of the last reaction event applied to it (`updated_at`)
and an older event never undoes a newer one.

Lifecycle: nominated → accepted → done, or declined; a teach-back still `nominated` when all of
its win's nominations are withdrawn becomes `withdrawn` (and comes back when one is renewed)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from bot.models import (
    NOMINATION_ACTIVE,
    NOMINATION_WITHDRAWN,
    TB_ACCEPTED,
    TB_DECLINED,
    TB_DONE,
    TB_NOMINATED,
    TB_WITHDRAWN,
    TEXT_PLAIN,
    Nomination,
    TeachBack,
    Win,
    Workspace,
    utcnow,
)
from bot.models.queue import enqueue
from bot.models.upsert import insert_ignore
from bot.services import ratelimit
from bot.services.ratelimit import Limits
from bot.services.visibility import may_see
from bot.services.wins import WinView, view_of
from bot.services.workspaces import ensure_workspace

DEFAULT_EMOJI = "mortar_board"
OPEN_STATUSES = (TB_NOMINATED, TB_ACCEPTED)

# Job kinds (handlers in bot/jobs/teachbacks.py).
INVITE = "teachback_invite"
THREAD_NOTE = "teachback_thread"
MANAGER_NOTE = "teachback_manager_dm"

_EMOJI_RE = re.compile(r"[a-z0-9][a-z0-9_+'\-]{0,99}")


@dataclass(frozen=True)
class TeachBackView:
    id: int
    team_id: str
    owner_id: str
    status: str
    first_manager_id: str
    managers: tuple[str, ...]  # managers whose nomination is active (oldest first)
    invited_at: datetime | None
    created_at: datetime
    win: WinView


@dataclass(frozen=True)
class Nominated:
    created: bool  # a new or renewed nomination (False: nothing changed)
    invites: tuple[int, ...] = ()  # teach-backs whose owner gets an invitation DM
    wait: float | None = None  # refused by the manager's per-person limit: seconds until the next one


@dataclass(frozen=True)
class Transition:
    """What happened when someone pressed a teach-back button (or typed the command).

    outcome: "ok" (changed), "already" (answered or done before: `teachback.status` says how),
    "closed" (withdrawn, or declined when marking done), "forbidden" (not theirs), "not_found"."""

    outcome: str
    teachback: TeachBackView | None = None


def normalize_emoji(name: str) -> str:
    """Slack's reaction name without colons or a skin tone: ":mortar_board::skin-tone-2:" → "mortar_board"."""
    return (name or "").strip().strip(":").split("::", 1)[0].strip(":").lower()


def valid_emoji(name: str) -> str | None:
    """The normalized emoji name when it could be a Slack emoji name, else None."""
    norm = normalize_emoji(name)
    return norm if _EMOJI_RE.fullmatch(norm) else None


def teachback_emoji(session: Session, team_id: str) -> str:
    ws = session.get(Workspace, team_id)
    return (ws.teachback_emoji if ws else None) or DEFAULT_EMOJI


def set_teachback_emoji(session: Session, *, team_id: str, enterprise_id: str | None, emoji: str) -> None:
    ensure_workspace(session, team_id, enterprise_id)
    session.get(Workspace, team_id).teachback_emoji = emoji


def find_win_by_message(session: Session, channel: str, ts: str) -> WinView | None:
    """The win whose celebration is message (channel, ts), if any."""
    win = session.scalars(
        select(Win)
        .where(Win.message_channel == channel, Win.message_ts == ts)
        .options(selectinload(Win.owners))
    ).first()
    return view_of(win) if win else None


def _win(session: Session, win_id: int, *, lock: bool = False) -> Win | None:
    stmt = select(Win).where(Win.id == win_id).options(selectinload(Win.owners))
    if lock:
        # Serializes nominations of one win on PostgreSQL (SQLite's BEGIN IMMEDIATE already does).
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def _nomination(session: Session, win_id: int, manager_id: str) -> Nomination | None:
    return session.scalars(
        select(Nomination).where(Nomination.win_id == win_id, Nomination.manager_id == manager_id)
    ).first()


def _active_managers(session: Session, win_id: int) -> tuple[str, ...]:
    return tuple(session.scalars(
        select(Nomination.manager_id)
        .where(Nomination.win_id == win_id, Nomination.status == NOMINATION_ACTIVE)
        .order_by(Nomination.created_at, Nomination.id)
    ).all())


def _enqueue_invite(session: Session, tb: TeachBack, enterprise_id: str | None, key: str) -> None:
    enqueue(session, team_id=tb.team_id, enterprise_id=enterprise_id, kind=INVITE,
            payload={"teachback_id": tb.id}, dedupe_key=key)


def nominate(session: Session, *, team_id: str, win_id: int, manager_id: str, at: datetime, limits: Limits,
             nominees: tuple[str, ...] | None = None) -> Nominated:
    """`manager_id` reacted on win `win_id` at Slack time `at`. The caller checked they are a manager;
    their per-person nomination limit applies here, so no way in can skip it.

    Creates (or renews) the nomination and a teach-back per owner, and queues each new owner's
    invitation DM in this transaction. A manager who owns the win nominates nobody."""
    win = _win(session, win_id, lock=True)
    if win is None:
        return Nominated(False)
    owners = tuple(win.owner_ids) or (win.author_id,)
    if manager_id in owners:
        return Nominated(False)
    if nominees is not None:  # the caller checked who of them are people (people.is_human)
        owners = tuple(o for o in owners if o in nominees)
        if not owners:
            return Nominated(False)
    wait = ratelimit.take(session, team_id, manager_id, ratelimit.NOMINATION, limits)
    if wait is not None:
        return Nominated(False, wait=wait)
    now = utcnow()
    inserted = insert_ignore(
        session, Nomination,
        {"team_id": team_id, "win_id": win_id, "manager_id": manager_id, "status": NOMINATION_ACTIVE,
         "created_at": now, "updated_at": at},
        returning=Nomination.id,
    ).scalar_one_or_none()
    if inserted is None:
        nom = _nomination(session, win_id, manager_id)
        if nom is None or nom.updated_at > at:
            return Nominated(False)  # a newer reaction event was applied already
        renewed = nom.status != NOMINATION_ACTIVE
        nom.status, nom.updated_at = NOMINATION_ACTIVE, at
        if not renewed:
            return Nominated(False)

    invites: list[int] = []
    for owner in owners:
        tb_id = insert_ignore(
            session, TeachBack,
            {"team_id": team_id, "win_id": win_id, "owner_id": owner, "status": TB_NOMINATED,
             "first_manager_id": manager_id, "created_at": now, "updated_at": now},
            returning=TeachBack.id,
        ).scalar_one_or_none()
        if tb_id is not None:
            tb = session.get(TeachBack, tb_id)
            _enqueue_invite(session, tb, win.enterprise_id, f"teachback_invite:{tb_id}")
            invites.append(tb_id)
            continue
        tb = session.scalars(
            select(TeachBack).where(TeachBack.win_id == win_id, TeachBack.owner_id == owner)
        ).first()
        if tb is not None and tb.status == TB_WITHDRAWN:
            tb.status = TB_NOMINATED
            if tb.invited_at is None:
                # Withdrawn before the first invitation went out: owe it again (the invite job's
                # compare-and-set on invited_at keeps it to one DM however many jobs exist).
                stamp = int(at.timestamp() * 1_000_000)
                _enqueue_invite(session, tb, win.enterprise_id, f"teachback_invite:{tb.id}:{stamp}")
                invites.append(tb.id)
    session.flush()
    return Nominated(True, tuple(invites))


def withdraw(session: Session, *, team_id: str, win_id: int, manager_id: str, at: datetime,
             remember: bool = False) -> bool | None:
    """`manager_id` removed their reaction at Slack time `at`. Returns True when a nomination was
    withdrawn, False when there was nothing to change, None when they never nominated this win.

    With `remember`, a never-seen nomination is stored as withdrawn, so a reaction_added event for
    an earlier time that is processed later does not nominate."""
    win = _win(session, win_id, lock=True)
    if win is None:
        return False
    nom = _nomination(session, win_id, manager_id)
    if nom is None:
        if remember:
            insert_ignore(session, Nomination,
                          {"team_id": team_id, "win_id": win_id, "manager_id": manager_id,
                           "status": NOMINATION_WITHDRAWN, "created_at": utcnow(), "updated_at": at})
            return False
        return None
    if nom.updated_at > at or nom.status == NOMINATION_WITHDRAWN:
        return False
    nom.status, nom.updated_at = NOMINATION_WITHDRAWN, at
    session.flush()
    if not _active_managers(session, win_id):
        session.execute(
            update(TeachBack)
            .where(TeachBack.win_id == win_id, TeachBack.status == TB_NOMINATED)
            .values(status=TB_WITHDRAWN, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    return True


def _view(session: Session, tb: TeachBack, win: Win | None = None) -> TeachBackView | None:
    win = win or _win(session, tb.win_id)
    if win is None:
        return None
    return TeachBackView(
        id=tb.id, team_id=tb.team_id, owner_id=tb.owner_id, status=tb.status,
        first_manager_id=tb.first_manager_id, managers=_active_managers(session, tb.win_id),
        invited_at=tb.invited_at, created_at=tb.created_at, win=view_of(win),
    )


def get_teachback(session: Session, teachback_id: int) -> TeachBackView | None:
    tb = session.get(TeachBack, teachback_id)
    return _view(session, tb) if tb else None


def claim_invite(session: Session, teachback_id: int) -> TeachBackView | None:
    """Take the right to send this teach-back's invitation (compare-and-set on `invited_at`).
    None when it was sent already, or the teach-back is no longer waiting for an answer."""
    claimed = session.execute(
        update(TeachBack)
        .where(TeachBack.id == teachback_id, TeachBack.invited_at.is_(None), TeachBack.status == TB_NOMINATED)
        .values(invited_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    return get_teachback(session, teachback_id) if claimed else None


def release_invite(session: Session, teachback_id: int) -> None:
    """The invitation DM did not go out: forget the claim so a later attempt may send it."""
    session.execute(
        update(TeachBack).where(TeachBack.id == teachback_id).values(invited_at=None)
        .execution_options(synchronize_session=False)
    )


def _notify(session: Session, tb: TeachBack, win: Win, event: str) -> None:
    """Queue the DMs to the nominating managers (and, on accept, the celebration thread reply)."""
    managers = _active_managers(session, win.id) or (tb.first_manager_id,)
    for manager in managers:
        enqueue(session, team_id=tb.team_id, enterprise_id=win.enterprise_id, kind=MANAGER_NOTE,
                payload={"teachback_id": tb.id, "manager_id": manager, "event": event},
                dedupe_key=f"teachback_dm:{event}:{tb.id}:{manager}")
    if event == TB_ACCEPTED and win.message_ts:
        enqueue(session, team_id=tb.team_id, enterprise_id=win.enterprise_id, kind=THREAD_NOTE,
                payload={"teachback_id": tb.id, "pace_channel": win.message_channel},
                dedupe_key=f"teachback_thread:accepted:{tb.id}")


def _locked(session: Session, teachback_id: int) -> TeachBack | None:
    return session.scalars(select(TeachBack).where(TeachBack.id == teachback_id).with_for_update()).first()


def answer(session: Session, teachback_id: int, user_id: str, *, accept: bool) -> Transition:
    """The owner accepts or declines. Anyone else is refused; a second click changes nothing."""
    tb = _locked(session, teachback_id)
    if tb is None:
        return Transition("not_found")
    win = _win(session, tb.win_id)
    if win is None:
        return Transition("not_found")
    if tb.owner_id != user_id:
        return Transition("forbidden", _view(session, tb, win))
    target = TB_ACCEPTED if accept else TB_DECLINED
    if tb.status != TB_NOMINATED:
        # Answered before (accepted, declined or done: say which) or withdrawn meanwhile.
        return Transition("closed" if tb.status == TB_WITHDRAWN else "already", _view(session, tb, win))
    now = utcnow()
    tb.status, tb.updated_at = target, now
    if accept:
        tb.accepted_at = now
    else:
        tb.declined_at = now
    session.flush()
    _notify(session, tb, win, target)
    return Transition("ok", _view(session, tb, win))


def mark_done(session: Session, teachback_id: int, user_id: str, *, is_manager: bool) -> Transition:
    """The owner or a manager says the teach-back happened. Works from nominated too: a teach-back
    can take place before anyone clicked Accept (or when the invitation could not be delivered)."""
    tb = _locked(session, teachback_id)
    if tb is None:
        return Transition("not_found")
    win = _win(session, tb.win_id)
    if win is None:
        return Transition("not_found")
    if tb.owner_id != user_id and not is_manager:
        return Transition("forbidden", _view(session, tb, win))
    if tb.status == TB_DONE:
        return Transition("already", _view(session, tb, win))
    if tb.status not in OPEN_STATUSES:
        return Transition("closed", _view(session, tb, win))
    now = utcnow()
    tb.status, tb.done_at, tb.updated_at = TB_DONE, now, now
    session.flush()
    if win.message_ts:  # the celebration's thread hears of it, with "I tried it too"
        enqueue(session, team_id=tb.team_id, enterprise_id=win.enterprise_id, kind=THREAD_NOTE,
                payload={"teachback_id": tb.id, "pace_channel": win.message_channel, "event": TB_DONE},
                dedupe_key=f"teachback_thread:done:{tb.id}")
    return Transition("ok", _view(session, tb, win))


def open_teachbacks(session: Session, *, limit: int = 20,
                    hidden: set[str] | frozenset[str] = frozenset(), viewer: str | None = None,
                    channel_id: str | None = None) -> tuple[list[TeachBackView], int]:
    """Nominated and accepted teach-backs, newest first (at most `limit`), and how many there are.
    `hidden`: owners left out (people who opted out of team views). The text (and link) of a win
    said in a private conversation is withheld unless `viewer` is its author or a recipient, or the
    list is shown in `channel_id` where it was said (bot/services/visibility.py)."""
    where = [TeachBack.status.in_(OPEN_STATUSES)]
    if hidden:
        where.append(TeachBack.owner_id.not_in(hidden))
    total = session.scalar(select(func.count()).select_from(TeachBack).where(*where)) or 0
    rows = session.scalars(
        select(TeachBack)
        .where(*where)
        .order_by(TeachBack.created_at.desc(), TeachBack.id.desc())
        .limit(limit)
    ).all()
    wins = {w.id: w for w in session.scalars(
        select(Win).where(Win.id.in_({r.win_id for r in rows})).options(selectinload(Win.owners))
    ).all()} if rows else {}
    views = [v for r in rows if (v := _view(session, r, wins.get(r.win_id))) is not None]
    private = {w.id: w.private for w in wins.values()}
    return [v if may_see(private.get(v.win.id), v.win.channel_id, (v.win.author_id, *v.win.owner_ids),
                         viewer=viewer, channel_id=channel_id) else _withheld(v) for v in views], total


PRIVATE_TEXT = "(said in a private conversation)"


def _withheld(view: TeachBackView) -> TeachBackView:
    win = replace(view.win, text=PRIVATE_TEXT, text_format=TEXT_PLAIN, how=None, tags=(),
                  message_channel=None, message_ts=None)
    return replace(view, win=win)
