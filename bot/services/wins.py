"""Recording, reading and changing wins. Plain arguments in, plain data out; no Slack types."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, selectinload

from bot.metrics import WINS_RECORDED
from bot.models import TEXT_PLAIN, TEXT_WIRE, Narrative, Win, WinOwner, utcnow
from bot.models.queue import enqueue
from bot.models.win import POST_NONE, POST_PENDING, POST_POSTED
from bot.services import rollups
from bot.services.home import enqueue_home_refresh
from bot.services.owners import CHECK_OWNERS
from bot.services.wintext import parse_win_text

log = logging.getLogger(__name__)

# A single win saving more than this is almost certainly a typo ("saved 300h"); the modal
# refuses it with a field error and the command records the win without the time.
MAX_MINUTES_SAVED = 200 * 60

REINVEST_CATEGORIES: dict[str, str] = {
    "customers": "Customers",
    "strategy": "Strategy",
    "learning": "Learning",
    "quality": "Quality",
    "creative": "Creative work",
    "rest": "Rest",
    "other": "Other",
}

POST_WIN = "post_win"


@dataclass(frozen=True)
class WinView:
    """What builders and callers need to know about a win."""

    id: int
    team_id: str
    author_id: str
    owner_ids: tuple[str, ...]
    text: str
    text_format: str
    tool: str | None
    minutes_saved: int | None
    tags: tuple[str, ...]
    how: str | None
    reinvested_in: str | None
    channel_id: str | None
    message_channel: str | None
    message_ts: str | None
    post_status: str
    created_at: datetime
    # Recorded from a message ("Record as AI win"): that message, and the thread it is celebrated in.
    source_channel: str | None = None
    source_ts: str | None = None
    source_thread_ts: str | None = None
    source_permalink: str | None = None

    @property
    def is_own(self) -> bool:
        return self.owner_ids == (self.author_id,)


@dataclass(frozen=True)
class RecordResult:
    win: WinView
    created: bool  # False when this trigger_id was recorded before (a retry or double submit)
    dropped_minutes: int | None = None  # an absurd time that was not counted
    notes: tuple[str, ...] = field(default=())


def view_of(win: Win) -> WinView:
    return WinView(
        id=win.id,
        team_id=win.team_id,
        author_id=win.author_id,
        owner_ids=tuple(win.owner_ids) or (win.author_id,),
        text=win.text,
        text_format=win.text_format,
        tool=win.tool,
        minutes_saved=win.minutes_saved,
        tags=tuple(win.tag_list),
        how=win.how,
        reinvested_in=win.reinvested_in,
        channel_id=win.channel_id,
        message_channel=win.message_channel,
        message_ts=win.message_ts,
        post_status=win.post_status,
        created_at=win.created_at,
        source_channel=win.source_channel,
        source_ts=win.source_ts,
        source_thread_ts=win.source_thread_ts,
        source_permalink=win.source_permalink,
    )


def get_win(session: Session, win_id: int) -> WinView | None:
    win = session.scalars(select(Win).where(Win.id == win_id).options(selectinload(Win.owners))).first()
    return view_of(win) if win else None


def find_by_trigger(session: Session, trigger_id: str) -> WinView | None:
    win_id = session.scalar(select(Win.id).where(Win.trigger_id == trigger_id))
    return get_win(session, win_id) if win_id is not None else None


def find_by_source(session: Session, author_id: str, channel: str, ts: str) -> WinView | None:
    """The win `author_id` already recorded from this message, if any."""
    win_id = session.scalar(select(Win.id).where(Win.author_id == author_id, Win.source_channel == channel,
                                                 Win.source_ts == ts))
    return get_win(session, win_id) if win_id is not None else None


# Core statements, built once: recording a win is on the ack path, so it skips the ORM unit of work.
# A repeated trigger_id inserts nothing (ON CONFLICT DO NOTHING) instead of being looked up first:
# one statement fewer on every new win.
_INSERT_WIN = {
    is_pg: (pg_insert if is_pg else sqlite_insert)(Win.__table__).on_conflict_do_nothing().returning(Win.__table__.c.id)
    for is_pg in (False, True)
}
_INSERT_OWNERS = WinOwner.__table__.insert()


def record_win(
    session: Session,
    *,
    team_id: str,
    enterprise_id: str | None,
    author_id: str,
    channel_id: str | None,
    text: str,
    text_format: str = TEXT_WIRE,
    recipients: tuple[str, ...] | None = None,
    tool: str | None = None,
    minutes_saved: int | None = None,
    tags: tuple[str, ...] | None = None,
    how: str | None = None,
    reinvested_in: str | None = None,
    trigger_id: str | None = None,
    response_url: str | None = None,
    source: str = "command",
    post: bool = True,
    source_channel: str | None = None,
    source_ts: str | None = None,
    source_thread_ts: str | None = None,
    source_permalink: str | None = None,
    step: dict[str, Any] | None = None,
) -> RecordResult:
    """Store a win and, in the same transaction, the job that will celebrate it in `channel_id`.

    For command text, whatever the caller does not give is parsed from the text. A repeated
    `trigger_id` returns the win recorded the first time (two racing at once: the unique
    constraint makes one of them fail, and the caller looks the first one up). `step`: the
    Workflow Builder step execution the win comes from (bot/services/steps.py), which the
    celebration job completes once it is done."""
    if source_channel and source_ts:  # the same message recorded twice by the same person is one win
        existing = find_by_source(session, author_id, source_channel, source_ts)
        if existing is not None:
            return RecordResult(existing, created=False)

    if text_format == TEXT_WIRE:
        parsed = parse_win_text(text)
        recipients = parsed.recipients if recipients is None else recipients
        tool = tool or parsed.tool
        minutes_saved = parsed.minutes_saved if minutes_saved is None else minutes_saved
        tags = parsed.tags if tags is None else tags
    dropped = None
    if minutes_saved is not None and not 0 < minutes_saved <= MAX_MINUTES_SAVED:
        dropped, minutes_saved = minutes_saved, None
    owners = tuple(dict.fromkeys(recipients or ())) or (author_id,)
    tags = tuple(dict.fromkeys(tags or ()))
    tool = tool[:80] if tool else None
    post_status = POST_PENDING if (post and channel_id) else POST_NONE

    now = utcnow()
    conn = session.connection()  # Core inserts on the connection: the ORM's execute layer adds nothing here
    win_id = conn.execute(_INSERT_WIN[conn.dialect.name == "postgresql"], {
        "team_id": team_id, "enterprise_id": enterprise_id, "author_id": author_id, "channel_id": channel_id,
        "text": text, "text_format": text_format, "how": how or None, "tool": tool,
        "minutes_saved": minutes_saved, "reinvested_in": reinvested_in, "tags": " ".join(tags),
        "source": source, "trigger_id": trigger_id, "post_status": post_status, "message_channel": None,
        "message_ts": None, "reinvest_asked_at": None, "created_at": now, "updated_at": now,
        "source_channel": source_channel, "source_ts": source_ts, "source_thread_ts": source_thread_ts,
        "source_permalink": source_permalink,
    }).scalar_one_or_none()
    if win_id is None:  # a retry or double submit (same trigger_id), or the same message recorded at once
        existing = (find_by_trigger(session, trigger_id) if trigger_id else None) or (
            find_by_source(session, author_id, source_channel, source_ts) if source_channel and source_ts else None)
        if existing is None:
            raise RuntimeError("win insert ignored without a matching trigger_id or source message")
        return RecordResult(existing, created=False)
    conn.execute(_INSERT_OWNERS, [
        {"win_id": win_id, "team_id": team_id, "user_id": u, "position": i, "created_at": now}
        for i, u in enumerate(owners)
    ])
    rollups.win_added(session, team_id, rollups.facts(author_id, owners, minutes_saved, reinvested_in, now, tool))
    if post_status == POST_PENDING:
        enqueue_post(session, team_id=team_id, enterprise_id=enterprise_id, win_id=win_id, channel_id=channel_id,
                     response_url=response_url, step=step)
    elif owners != (author_id,):  # no post job to check that the owners are people: a job of its own
        enqueue(session, team_id=team_id, enterprise_id=enterprise_id, kind=CHECK_OWNERS,
                payload={"win_id": win_id, "response_url": response_url})
    enqueue_home_refresh(session, team_id, (author_id, *owners), enterprise_id=enterprise_id, now=now)
    WINS_RECORDED.labels(source).inc()
    # Ids only: what people write stays out of logs.
    log.info("win %s recorded (team=%s author=%s channel=%s source=%s)", win_id, team_id, author_id, channel_id,
             source)
    view = WinView(
        id=win_id, team_id=team_id, author_id=author_id, owner_ids=owners, text=text, text_format=text_format,
        tool=tool, minutes_saved=minutes_saved, tags=tags, how=how or None, reinvested_in=reinvested_in,
        channel_id=channel_id, message_channel=None, message_ts=None, post_status=post_status, created_at=now,
        source_channel=source_channel, source_ts=source_ts, source_thread_ts=source_thread_ts,
        source_permalink=source_permalink,
    )
    return RecordResult(view, created=True, dropped_minutes=dropped)


def enqueue_post(session: Session, *, team_id: str, enterprise_id: str | None, win_id: int, channel_id: str,
                 response_url: str | None, attempt: int | str = 0, step: dict[str, Any] | None = None) -> None:
    """`attempt` makes the dedupe key: 0 for the first post, a fresh value for each "Post again"."""
    payload: dict[str, Any] = {"win_id": win_id, "response_url": response_url, "pace_channel": channel_id}
    if step:
        payload["step"] = step
    enqueue(
        session,
        team_id=team_id,
        enterprise_id=enterprise_id,
        kind=POST_WIN,
        dedupe_key=f"post_win:{win_id}:{attempt}",
        payload=payload,
    )


def claim_post_again(session: Session, model: type[Win] | type[Narrative], row_id: int, author_id: str) -> bool:
    """Take a win's (or story's) post for one more try, if it is `author_id`'s, has a channel, and its
    post is neither done nor on its way: a compare-and-set on `post_status`, as the job queue claims
    jobs. However many presses of "Post again" arrive at once, one sees its update change the row
    and queues the post; the others change nothing (PostgreSQL re-checks the condition on the row
    the first one committed; SQLite has one writer at a time)."""
    claimed = session.execute(
        update(model)
        .where(model.id == row_id, model.author_id == author_id, model.channel_id.is_not(None),
               model.message_ts.is_(None), model.post_status.not_in((POST_PENDING, POST_POSTED)))
        .values(post_status=POST_PENDING)
        .execution_options(synchronize_session=False)
    ).rowcount
    return bool(claimed)


def retry_post(session: Session, win_id: int, user_id: str, *, response_url: str | None) -> WinView | None:
    """Queue the celebration again (after the author invited the bot). Authors only, once at a time."""
    if not claim_post_again(session, Win, win_id, user_id):
        return None
    win = session.get(Win, win_id, populate_existing=True)
    assert win is not None  # claimed just now, in this transaction
    enqueue_post(session, team_id=win.team_id, enterprise_id=win.enterprise_id, win_id=win.id,
                 channel_id=win.channel_id, response_url=response_url, attempt=secrets.token_hex(6))
    session.flush()
    return view_of(win)


def mark_posted(session: Session, win_id: int, channel: str, ts: str) -> None:
    win = session.get(Win, win_id)
    if win is not None:
        win.message_channel, win.message_ts, win.post_status = channel, ts, "posted"


def mark_post_failed(session: Session, win_id: int) -> None:
    win = session.get(Win, win_id)
    if win is not None and not win.message_ts:
        win.post_status = "failed"


def update_win(
    session: Session,
    win_id: int,
    editor_id: str,
    *,
    text: str | None,
    recipients: tuple[str, ...],
    tool: str | None,
    minutes_saved: int | None,
    how: str | None,
    reinvested_in: str | None,
) -> WinView | None:
    """Correct a win (its author only). Text typed into the modal is plain text; None keeps the stored text."""
    win = session.scalars(select(Win).where(Win.id == win_id).options(selectinload(Win.owners))).first()
    if win is None or win.author_id != editor_id:
        return None
    before = rollups.facts_of(win)
    if text is not None:
        win.text, win.text_format = text, TEXT_PLAIN
    win.tool, win.minutes_saved, win.how, win.reinvested_in = tool, minutes_saved, how, reinvested_in
    owners = tuple(dict.fromkeys(recipients)) or (win.author_id,)
    if owners != tuple(win.owner_ids):
        win.owners.clear()
        session.flush()
        win.owners.extend(
            WinOwner(team_id=win.team_id, user_id=u, position=i, created_at=win.created_at)
            for i, u in enumerate(owners)
        )
    session.flush()
    rollups.win_changed(session, win.team_id, before, rollups.facts_of(win))
    enqueue_home_refresh(session, win.team_id, (win.author_id, *owners), enterprise_id=win.enterprise_id)
    if win.message_ts:
        enqueue(
            session,
            team_id=win.team_id,
            enterprise_id=win.enterprise_id,
            kind="update_win_message",
            payload={"win_id": win.id},
        )
    return view_of(win)
