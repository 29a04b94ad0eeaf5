"""Where did the saved time go? A few days after a win that saved time without saying, each of
its owners gets one DM asking; the first button anyone presses is recorded on the win (a later
press changes it), and it flows into stats, App Home and digests from there."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.models import Win, utcnow
from bot.models.queue import enqueue
from bot.services import rollups
from bot.services.home import enqueue_home_refresh
from bot.services.people import opted_out_ids
from bot.services.wins import REINVEST_CATEGORIES, WinView, get_win

REINVEST_ASK = "reinvest_ask"
ASK_AFTER = timedelta(days=3)
ASK_UNTIL = timedelta(days=7)  # older wins are never asked about (e.g. history before an upgrade)
BATCH = 500


def queue_asks(session: Session, team_id: str, *, now: datetime | None = None, limit: int = BATCH) -> int:
    """Mark the workspace's due wins as asked and queue one DM per owner, in this transaction.

    Due: created 3 to 7 days ago, with time saved and no destination, never asked. The range is on
    the (team_id, created_at) index; the dedupe key makes a DM happen once even if two schedulers
    pick the same win. Returns how many DMs were queued."""
    now = now or utcnow()
    wins = session.scalars(
        select(Win)
        .where(Win.team_id == team_id, Win.created_at >= now - ASK_UNTIL, Win.created_at <= now - ASK_AFTER,
               Win.minutes_saved.is_not(None), Win.reinvested_in.is_(None), Win.reinvest_asked_at.is_(None))
        .order_by(Win.created_at)
        .limit(limit)
        .options(selectinload(Win.owners))
    ).all()
    if not wins:
        return 0
    hidden = opted_out_ids(session)
    queued = 0
    for win in wins:
        win.reinvest_asked_at = now
        for owner in win.owner_ids:
            if owner in hidden:
                continue
            job = enqueue(session, team_id=team_id, enterprise_id=win.enterprise_id, kind=REINVEST_ASK,
                          payload={"win_id": win.id, "user_id": owner},
                          dedupe_key=f"reinvest_ask:{win.id}:{owner}")
            queued += job is not None
    session.flush()
    return queued


def win_to_ask(session: Session, win_id: int, user_id: str) -> WinView | None:
    """The win, if asking this person about it still makes sense when the DM goes out."""
    win = get_win(session, win_id)
    if win is None or win.reinvested_in or not win.minutes_saved or user_id not in win.owner_ids:
        return None
    if user_id in opted_out_ids(session):
        return None
    return win


@dataclass(frozen=True)
class Answer:
    status: str  # "ok", "not_found", "not_owner", "bad_choice"
    win: WinView | None = None


def record_answer(session: Session, team_id: str, win_id: int, user_id: str, choice: str) -> Answer:
    """An owner says where the win's saved time went. Updates the celebration and Homes."""
    if choice not in REINVEST_CATEGORIES:
        return Answer("bad_choice")
    win = session.scalars(select(Win).where(Win.id == win_id).options(selectinload(Win.owners))).first()
    if win is None:
        return Answer("not_found")
    if user_id not in win.owner_ids:
        return Answer("not_owner")
    if win.reinvested_in != choice:
        before = rollups.facts_of(win)
        win.reinvested_in = choice
        rollups.win_changed(session, team_id, before, rollups.facts_of(win))
        if win.message_ts:
            enqueue(session, team_id=team_id, enterprise_id=win.enterprise_id, kind="update_win_message",
                    payload={"win_id": win.id})
        enqueue_home_refresh(session, team_id, win.owner_ids, enterprise_id=win.enterprise_id)
    session.flush()
    return Answer("ok", get_win(session, win_id))
