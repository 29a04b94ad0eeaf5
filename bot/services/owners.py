"""Humans only own wins (issue 9 item 7).

Whether a mention is a person needs Slack (users.info), and the ack path never calls Slack, so
the check happens in the job that follows a recorded win: the celebration job before it posts
(or, for a win with no channel to post in, a `check_owners` job). Bots, Slackbot and deactivated
accounts are removed from the owners; if nobody is left, the win is the author's own. The author
is told who was left out. Nominations check their nominees the same way (bot/jobs/teachbacks.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.models import Win, WinOwner
from bot.services import rollups

CHECK_OWNERS = "check_owners"


def non_humans(owner_ids: tuple[str, ...], author_id: str,
               humans: Callable[[tuple[str, ...]], Mapping[str, bool | None]]) -> tuple[str, ...]:
    """The owners (other than the author, who typed the command) that are not people, asked all at once
    (`humans`: people.humans). A lookup that fails (None) keeps the person: a Slack hiccup must not take
    a colleague's win away."""
    others = tuple(u for u in owner_ids if u != author_id)
    if not others:
        return ()
    answers = humans(others)
    return tuple(u for u in others if answers.get(u) is False)


def drop_owners(session: Session, win_id: int, user_ids: tuple[str, ...]) -> tuple[str, ...]:
    """Remove `user_ids` from the win's owners; the author owns it when nobody is left.
    Returns the owners now."""
    win = session.get(Win, win_id)
    if win is None or not user_ids:
        return ()
    before = rollups.facts_of(win)
    session.execute(delete(WinOwner).where(WinOwner.win_id == win_id, WinOwner.user_id.in_(user_ids)))
    left = tuple(session.scalars(select(WinOwner.user_id).where(WinOwner.win_id == win_id)
                                 .order_by(WinOwner.position)).all())
    if not left:
        session.add(WinOwner(win_id=win_id, team_id=win.team_id, user_id=win.author_id, position=0,
                             created_at=win.created_at))
        left = (win.author_id,)
    session.expire(win)
    rollups.win_changed(session, win.team_id, before, rollups.facts_of(win))  # shout-outs received changed
    return left
