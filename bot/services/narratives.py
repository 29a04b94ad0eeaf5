"""Usage narratives: how someone actually uses AI, step by step, shared as a "how I use AI" story.

A narrative is stored before the ack, with the job that shares it, in one transaction. Whether
its author is a leader (a manager) is decided by that job with `people.is_manager`, which may ask
Slack and so cannot run on the request thread; until then `is_leader` is False."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import TEXT_WIRE, Narrative, utcnow
from bot.models.queue import enqueue, insert_ignore
from bot.models.win import POST_FAILED, POST_NONE, POST_PENDING, POST_POSTED
from bot.services import ratelimit, rollups
from bot.services.ratelimit import Limits
from bot.services.wins import MAX_MINUTES_SAVED, claim_post_again
from bot.services.wintext import parse_win_text
from bot.services.workspaces import ensure_workspace

POST_NARRATIVE = "post_narrative"
_PERIOD_RE = re.compile(r"\d{4}-W(0[1-9]|[1-4]\d|5[0-3])")


@dataclass(frozen=True)
class NarrativeView:
    id: int
    team_id: str
    author_id: str
    text: str
    text_format: str
    tools: str | None
    checked: str | None
    minutes_saved: int | None
    is_leader: bool
    prompt_period: str | None
    channel_id: str | None
    message_channel: str | None
    message_ts: str | None
    post_status: str
    created_at: datetime


@dataclass(frozen=True)
class RecordResult:
    narrative: NarrativeView | None  # None when the per-person limit refused it (then nothing was recorded)
    created: bool  # False: this trigger_id was recorded before (a retry or double submit)
    wait: float | None = None  # refused by the per-person limit: seconds until the next one is allowed


def view_of(n: Narrative) -> NarrativeView:
    return NarrativeView(
        id=n.id, team_id=n.team_id, author_id=n.author_id, text=n.text, text_format=n.text_format,
        tools=n.tools, checked=n.checked, minutes_saved=n.minutes_saved, is_leader=n.is_leader,
        prompt_period=n.prompt_period, channel_id=n.channel_id, message_channel=n.message_channel,
        message_ts=n.message_ts, post_status=n.post_status, created_at=n.created_at,
    )


def valid_period(value: object) -> str | None:
    """An ISO week like "2026-W48", or None for anything else."""
    return value if isinstance(value, str) and _PERIOD_RE.fullmatch(value) else None


def get_narrative(session: Session, narrative_id: int) -> NarrativeView | None:
    n = session.get(Narrative, narrative_id)
    return view_of(n) if n else None


def record_narrative(
    session: Session,
    *,
    team_id: str,
    enterprise_id: str | None,
    author_id: str,
    text: str,
    text_format: str = TEXT_WIRE,
    tools: str | None = None,
    checked: str | None = None,
    minutes_saved: int | None = None,
    channel_id: str | None = None,
    prompt_period: str | None = None,
    trigger_id: str | None = None,
    response_url: str | None = None,
    limits: Limits,
) -> RecordResult:
    """Store a narrative and the job that shares it in `channel_id` (and decides `is_leader`).

    Slash-command text is kept exactly as typed; the tool and time saved are read from it when not
    given. A repeated `trigger_id` returns the narrative recorded the first time and takes no token;
    otherwise the author's per-person limit applies here, so no way in can skip it."""
    if trigger_id:
        existing = session.scalars(select(Narrative).where(Narrative.trigger_id == trigger_id)).first()
        if existing is not None:
            return RecordResult(view_of(existing), created=False)
    wait = ratelimit.take(session, team_id, author_id, ratelimit.NARRATIVE, limits)
    if wait is not None:
        return RecordResult(None, created=False, wait=wait)
    if text_format == TEXT_WIRE:
        parsed = parse_win_text(text)
        tools = tools or parsed.tool
        minutes_saved = parsed.minutes_saved if minutes_saved is None else minutes_saved
    if minutes_saved is not None and not 0 < minutes_saved <= MAX_MINUTES_SAVED:
        minutes_saved = None
    ensure_workspace(session, team_id, enterprise_id)
    now = utcnow()
    new_id = insert_ignore(
        session, Narrative,
        {"team_id": team_id, "enterprise_id": enterprise_id, "author_id": author_id, "text": text,
         "text_format": text_format, "tools": tools or None, "checked": checked or None,
         "minutes_saved": minutes_saved, "is_leader": False, "prompt_period": valid_period(prompt_period),
         "channel_id": channel_id, "trigger_id": trigger_id,
         "post_status": POST_PENDING if channel_id else POST_NONE, "created_at": now},
        returning=Narrative.id,
    ).scalar_one_or_none()
    if new_id is None:  # (team, trigger_id) exists: the same command or submission again
        existing = session.scalars(select(Narrative).where(Narrative.trigger_id == trigger_id)).one()
        return RecordResult(view_of(existing), created=False)
    narrative = session.get(Narrative, new_id)
    rollups.narrative_added(session, team_id, author_id, now)
    _enqueue_post(session, narrative, response_url=response_url, decide_leader=True, attempt=0)
    return RecordResult(view_of(narrative), created=True)


def _enqueue_post(session: Session, n: Narrative, *, response_url: str | None, decide_leader: bool,
                  attempt: int | str) -> None:
    payload: dict = {"narrative_id": n.id, "response_url": response_url, "decide_leader": decide_leader}
    if n.channel_id:
        payload["pace_channel"] = n.channel_id
    enqueue(session, team_id=n.team_id, enterprise_id=n.enterprise_id, kind=POST_NARRATIVE, payload=payload,
            dedupe_key=f"post_narrative:{n.id}:{attempt}")


def set_leader(session: Session, narrative_id: int, is_leader: bool) -> None:
    n = session.get(Narrative, narrative_id)
    if n is not None:
        n.is_leader = is_leader


def mark_posted(session: Session, narrative_id: int, channel: str, ts: str) -> None:
    n = session.get(Narrative, narrative_id)
    if n is not None:
        n.message_channel, n.message_ts, n.post_status = channel, ts, POST_POSTED


def mark_post_failed(session: Session, narrative_id: int) -> None:
    n = session.get(Narrative, narrative_id)
    if n is not None and not n.message_ts:
        n.post_status = POST_FAILED


def retry_post(session: Session, narrative_id: int, user_id: str, *,
               response_url: str | None) -> NarrativeView | None:
    """Queue the post again (after the author invited the bot). Authors only, once at a time."""
    if not claim_post_again(session, Narrative, narrative_id, user_id):
        return None
    n = session.get(Narrative, narrative_id, populate_existing=True)
    assert n is not None  # claimed just now, in this transaction
    _enqueue_post(session, n, response_url=response_url, decide_leader=False, attempt=secrets.token_hex(6))
    session.flush()
    return view_of(n)
