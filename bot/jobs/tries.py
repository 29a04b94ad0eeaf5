"""Job handlers for "I tried it too": show the new count on the message, tell the owner (once a day)."""

from __future__ import annotations

import logging

from sqlalchemy import select

from bot.blocks import tries as tries_blocks
from bot.blocks.narratives import narrative_post
from bot.blocks.teachbacks import thread_note
from bot.jobs import wins as win_jobs
from bot.jobs.teachbacks import permalink
from bot.jobs.worker import JobContext
from bot.models import TB_DONE, Job, TeachBack
from bot.services import narratives, tries, wins
from bot.services import teachbacks as tb
from bot.services.people import opted_out_ids
from bot.services.tries import STORY, WIN

log = logging.getLogger(__name__)


def _update(ctx: JobContext, job: Job, channel: str, ts: str, text: str, blocks: list[dict]) -> None:
    # A message that is gone fails the job at once (bot/slack/errors.py: the worker's outcomes).
    ctx.client(job).chat_update(channel=channel, ts=ts, text=text, blocks=blocks)


def tried_update(ctx: JobContext, job: Job) -> None:
    """Re-render the thing's own message (a celebration, a story) and, when the button was pressed on
    a delivered teach-back's note in the celebration's thread, that note too."""
    target = tries.parse_target(job.payload.get("target"))
    if target is None:
        return
    if target.kind == WIN:
        win_jobs.refresh_celebration(ctx, job, target.id)
        pressed = job.payload.get("pressed")
        if not pressed:
            return
        with ctx.db.read(job.team_id) as session:
            win = wins.get_win(session, target.id)
            done = session.scalar(select(TeachBack.id).where(TeachBack.win_id == target.id,
                                                             TeachBack.status == TB_DONE).limit(1))
            view = tb.get_teachback(session, done) if done else None
            tried = tries.count(session, target)
        if view is None or win is None or (win.message_channel, win.message_ts) == tuple(pressed):
            return
        text, blocks = thread_note(view, delivered=True, tried=tried)
        _update(ctx, job, pressed[0], pressed[1], text, blocks)
        return
    with ctx.db.read(job.team_id) as session:
        n = narratives.get_narrative(session, target.id)
        tried = tries.count(session, target)
    if n is None or not n.message_ts or not n.message_channel:
        return
    text, blocks = narrative_post(n, tried=tried)
    _update(ctx, job, n.message_channel, n.message_ts, text, blocks)


def tried_notice(ctx: JobContext, job: Job) -> None:
    """The owner's DM; the job's key (owner and day) makes it at most one a day."""
    p = job.payload
    target = tries.parse_target(p.get("target"))
    if target is None:
        return
    with ctx.db.read(job.team_id) as session:
        if target.kind == STORY:
            n = narratives.get_narrative(session, target.id)
            where = (n.message_channel, n.message_ts) if n else None
        else:
            w = wins.get_win(session, target.id)
            where = (w.message_channel, w.message_ts) if w else None
        tried = tries.count(session, target)
        anonymous = p["user_id"] in opted_out_ids(session)  # counted, never named
    if where is None:
        return  # deleted meanwhile
    link = permalink(ctx.client(job), job.team_id, *where)
    text, blocks = tries_blocks.tried_notice(p["owner_id"], None if anonymous else p["user_id"], target, tried, link)
    # An owner who cannot be reached fails the job at once (bot/slack/errors.py: the worker's outcomes).
    ctx.client(job).chat_postMessage(channel=p["owner_id"], text=text, blocks=blocks, unfurl_links=False)
