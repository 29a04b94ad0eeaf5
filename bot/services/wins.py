"""Recording, reading and changing wins. Plain arguments in, plain data out; no Slack types."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from bot.metrics import WINS_RECORDED
from bot.models import TEXT_PLAIN, TEXT_WIRE, Narrative, Win, WinOwner, utcnow
from bot.models.queue import enqueue
from bot.models.upsert import DIALECTS, upsert
from bot.models.win import POST_NONE, POST_PENDING, POST_POSTED
from bot.services import ratelimit, rollups
from bot.services.home import enqueue_home_refresh
from bot.services.owners import CHECK_OWNERS
from bot.services.ratelimit import Limits
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
EDIT_BY_TRIGGER = "t:"  # an Edit button's value naming the win by its request's trigger_id (see find_win)


def counted_minutes(minutes: int | None) -> tuple[int | None, int | None]:
    """(the time saved that counts, the time given but not counted): "saved 300h" or "-3h" count nothing."""
    if minutes is not None and not 0 < minutes <= MAX_MINUTES_SAVED:
        return None, minutes
    return minutes, None


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
    source: str = "command"  # how it was recorded: command, modal, message, workflow

    @property
    def is_own(self) -> bool:
        return self.owner_ids == (self.author_id,)


@dataclass(frozen=True)
class RecordResult:
    win: WinView | None  # None when the per-person limit refused it (then nothing was recorded)
    created: bool  # False when this trigger_id was recorded before (a retry or double submit)
    dropped_minutes: int | None = None  # an absurd time that was not counted
    notes: tuple[str, ...] = field(default=())
    wait: float | None = None  # refused by the per-person limit: seconds until the next one is allowed


@dataclass(frozen=True)
class NewWin:
    """A win to record, from any way in (command, form, message shortcut, Workflow step, …). For
    command text (`text_format` wire), whatever is not given is parsed from the text."""

    team_id: str
    enterprise_id: str | None
    author_id: str
    channel_id: str | None
    text: str
    text_format: str = TEXT_WIRE
    recipients: tuple[str, ...] | None = None
    tool: str | None = None
    minutes_saved: int | None = None
    tags: tuple[str, ...] | None = None
    how: str | None = None
    reinvested_in: str | None = None
    trigger_id: str | None = None  # the request's key: the same one twice is one win
    response_url: str | None = None
    source: str = "command"
    post: bool = True  # celebrate it in `channel_id`
    source_channel: str | None = None  # recorded from a message: that message, and its thread
    source_ts: str | None = None
    source_thread_ts: str | None = None
    source_permalink: str | None = None
    step: dict[str, Any] | None = None  # the Workflow Builder step execution it comes from


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
        source=win.source,
    )


def get_win(session: Session, win_id: int) -> WinView | None:
    win = session.scalars(select(Win).where(Win.id == win_id).options(selectinload(Win.owners))).first()
    return view_of(win) if win else None


def find_by_trigger(session: Session, trigger_id: str) -> WinView | None:
    win_id = session.scalar(select(Win.id).where(Win.trigger_id == trigger_id))
    return get_win(session, win_id) if win_id is not None else None


def find_win(session: Session, key: str) -> WinView | None:
    """A win by an Edit button's value: its number, or EDIT_BY_TRIGGER + the request's trigger_id."""
    if key.startswith(EDIT_BY_TRIGGER):
        return find_by_trigger(session, key[len(EDIT_BY_TRIGGER):]) if len(key) > len(EDIT_BY_TRIGGER) else None
    try:
        win_id = int(key)
    except ValueError:
        return None
    return get_win(session, win_id) if 0 < win_id < 2**63 else None  # beyond a BIGINT the database would raise


def find_by_source(session: Session, author_id: str, channel: str, ts: str) -> WinView | None:
    """The win `author_id` already recorded from this message, if any."""
    win_id = session.scalar(select(Win.id).where(Win.author_id == author_id, Win.source_channel == channel,
                                                 Win.source_ts == ts))
    return get_win(session, win_id) if win_id is not None else None


# Core statements, built once: recording a win is on the ack path, so it skips the ORM unit of work.
# A repeated trigger_id inserts nothing (ON CONFLICT DO NOTHING) instead of being looked up first:
# one statement fewer on every new win.
_INSERT_WIN = {
    dialect: upsert(dialect, Win.__table__).on_conflict_do_nothing().returning(Win.__table__.c.id)
    for dialect in DIALECTS
}
_INSERT_OWNERS = WinOwner.__table__.insert()


def record_win(session: Session, new: NewWin, *, limits: Limits, known_new: bool = False,
               enqueue_celebration: bool = True) -> RecordResult:
    """Store a win, in the caller's transaction, if its author is within the per-person limit: the rule
    lives here, so no way in can skip it. With the win: its owners, the
    roll-ups, App Home refreshes, and (unless `enqueue_celebration` is False: the caller celebrates
    it itself) the job that celebrates it in `channel_id`.

    A repeated `trigger_id` (or the same message recorded twice by the same person) returns the win
    recorded the first time and takes no token; `known_new` skips that look-up for a request that is
    new by construction (one statement fewer per win)."""
    if not known_new:
        existing = _existing(session, new)
        if existing is not None:
            return RecordResult(existing, created=False)
    wait = ratelimit.take(session, new.team_id, new.author_id, ratelimit.WIN, limits)
    if wait is not None:
        return RecordResult(None, created=False, wait=wait)

    recipients, tool, minutes_saved, tags = new.recipients, new.tool, new.minutes_saved, new.tags
    if new.text_format == TEXT_WIRE:
        parsed = parse_win_text(new.text)
        recipients = parsed.recipients if recipients is None else recipients
        tool = tool or parsed.tool
        minutes_saved = parsed.minutes_saved if minutes_saved is None else minutes_saved
        tags = parsed.tags if tags is None else tags
    minutes_saved, dropped = counted_minutes(minutes_saved)
    author, team_id, channel_id = new.author_id, new.team_id, new.channel_id
    owners = tuple(dict.fromkeys(recipients or ())) or (author,)
    tags = tuple(dict.fromkeys(tags or ()))
    tool = tool[:80] if tool else None
    post_status = POST_PENDING if (new.post and channel_id) else POST_NONE

    now = utcnow()
    conn = session.connection()  # Core inserts on the connection: the ORM's execute layer adds nothing here
    win_id = conn.execute(_INSERT_WIN[conn.dialect.name], {
        "team_id": team_id, "enterprise_id": new.enterprise_id, "author_id": author, "channel_id": channel_id,
        "text": new.text, "text_format": new.text_format, "how": new.how or None, "tool": tool,
        "minutes_saved": minutes_saved, "reinvested_in": new.reinvested_in, "tags": " ".join(tags),
        "source": new.source, "trigger_id": new.trigger_id, "post_status": post_status, "message_channel": None,
        "message_ts": None, "reinvest_asked_at": None, "created_at": now, "updated_at": now,
        "source_channel": new.source_channel, "source_ts": new.source_ts, "source_thread_ts": new.source_thread_ts,
        "source_permalink": new.source_permalink,
    }).scalar_one_or_none()
    if win_id is None:  # the same request recorded at this very moment by another one
        existing = _existing(session, new)
        if existing is None:
            raise RuntimeError("win insert ignored without a matching trigger_id or source message")
        return RecordResult(existing, created=False)
    conn.execute(_INSERT_OWNERS, [
        {"win_id": win_id, "team_id": team_id, "user_id": u, "position": i, "created_at": now}
        for i, u in enumerate(owners)
    ])
    rollups.win_added(session, team_id, rollups.facts(author, owners, minutes_saved, new.reinvested_in, now, tool))
    if post_status == POST_PENDING and enqueue_celebration:
        enqueue_post(session, team_id=team_id, enterprise_id=new.enterprise_id, win_id=win_id, channel_id=channel_id,
                     response_url=new.response_url, step=new.step)
    elif post_status != POST_PENDING and owners != (author,):  # no celebration to check that owners are people
        enqueue(session, team_id=team_id, enterprise_id=new.enterprise_id, kind=CHECK_OWNERS,
                payload={"win_id": win_id, "response_url": new.response_url})
    enqueue_home_refresh(session, team_id, (author, *owners), enterprise_id=new.enterprise_id, now=now)
    WINS_RECORDED.labels(new.source).inc()
    # Ids only: what people write stays out of logs.
    log.info("win %s recorded (team=%s author=%s channel=%s source=%s)", win_id, team_id, author, channel_id,
             new.source)
    view = WinView(
        id=win_id, team_id=team_id, author_id=author, owner_ids=owners, text=new.text, text_format=new.text_format,
        tool=tool, minutes_saved=minutes_saved, tags=tags, how=new.how or None, reinvested_in=new.reinvested_in,
        channel_id=channel_id, message_channel=None, message_ts=None, post_status=post_status, created_at=now,
        source_channel=new.source_channel, source_ts=new.source_ts, source_thread_ts=new.source_thread_ts,
        source_permalink=new.source_permalink, source=new.source,
    )
    return RecordResult(view, created=True, dropped_minutes=dropped)


def _existing(session: Session, new: NewWin) -> WinView | None:
    """The win this request already recorded (same trigger_id, or the same message by the same person)."""
    if new.trigger_id:
        found = find_by_trigger(session, new.trigger_id)
        if found is not None:
            return found
    if new.source_channel and new.source_ts:
        return find_by_source(session, new.author_id, new.source_channel, new.source_ts)
    return None


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


def mark_posted(session: Session, win_id: int, channel: str, ts: str, *, private: bool | None = None) -> None:
    """The win's celebration is message `ts` in `channel`; `private`: whether that conversation is (None:
    not known, left as it is). One UPDATE: it runs once per win."""
    values: dict[str, Any] = {"message_channel": channel, "message_ts": ts, "post_status": "posted"}
    if private is not None:
        values["private"] = private
    session.execute(update(Win).where(Win.id == win_id).values(**values).execution_options(synchronize_session=False))


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
