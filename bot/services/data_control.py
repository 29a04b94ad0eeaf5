"""People's control over their data: deleting a win, opting out of team views."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload

from bot.models import Win
from bot.models.queue import enqueue
from bot.services import rollups, search
from bot.services.home import enqueue_home_refresh
from bot.services.people import set_opt_out

WIN_REMOVED = "win_removed"
_WIN_ID_RE = re.compile(r"#?(\d{1,18})")


def parse_win_id(text: str) -> int | None:
    """`42` or `#42` → 42; anything else → None."""
    m = _WIN_ID_RE.fullmatch((text or "").strip())
    return int(m.group(1)) if m else None


@dataclass(frozen=True)
class Deletion:
    status: str  # "deleted", "not_found", "forbidden"
    win_id: int
    author_id: str | None = None


def win_author(session: Session, win_id: int) -> str | None:
    return session.scalar(select(Win.author_id).where(Win.id == win_id))


def delete_win(session: Session, team_id: str, win_id: int, user_id: str, *, is_admin: bool) -> Deletion:
    """Remove a win for good (its author, or an admin). Owners, nominations and teach-backs go
    with it (ON DELETE CASCADE), its words leave the search index; its celebration is replaced by a
    removal note (a job)."""
    win = session.scalars(select(Win).where(Win.id == win_id).options(selectinload(Win.owners))).first()
    if win is None:
        return Deletion("not_found", win_id)
    if win.author_id != user_id and not is_admin:
        return Deletion("forbidden", win_id, win.author_id)
    people = [win.author_id, *win.owner_ids]
    if win.message_ts and win.message_channel:
        enqueue(session, team_id=team_id, enterprise_id=win.enterprise_id, kind=WIN_REMOVED,
                payload={"win_id": win.id, "channel": win.message_channel, "ts": win.message_ts,
                         "by_author": win.author_id == user_id},
                dedupe_key=f"win_removed:{win.id}")
    enqueue_home_refresh(session, team_id, people, enterprise_id=win.enterprise_id)
    rollups.win_removed(session, team_id, rollups.facts_of(win))
    session.expunge(win)
    # A Core DELETE: the database's cascades remove the dependent rows in one statement.
    session.execute(delete(Win).where(Win.id == win_id).execution_options(synchronize_session=False))
    search.drop_deleted_words(session, "wins")
    return Deletion("deleted", win_id, win.author_id)


def opt_out(session: Session, team_id: str, user_id: str, out: bool) -> bool:
    """Leave (or rejoin) digests, rankings and team views. True when something changed."""
    changed = set_opt_out(session, team_id, user_id, out)
    if changed:
        enqueue_home_refresh(session, team_id, [user_id])
    return changed
