"""Job handler for usage narratives: decide whether the author leads (a manager), then share it."""

from __future__ import annotations

import logging
from dataclasses import replace

from slack_sdk.errors import SlackApiError

from bot.blocks.narratives import narrative_post, narrative_post_problem
from bot.jobs.wins import notify_author
from bot.jobs.worker import JobContext
from bot.models import Job, Narrative
from bot.services import channels, narratives, people
from bot.services.narratives import NarrativeView
from bot.slack.conversations import Conversations
from bot.slack.directory import Directory
from bot.slack.errors import NOT_IN_CHANNEL

log = logging.getLogger(__name__)


def post_narrative(ctx: JobContext, job: Job) -> None:
    narrative_id = job.payload["narrative_id"]
    with ctx.db.read(job.team_id) as session:
        n = narratives.get_narrative(session, narrative_id)
    if n is None:
        return  # deleted meanwhile
    if job.payload.get("decide_leader"):
        # "Leader" means a manager when the story was shared; this is the first moment we may ask Slack.
        leader = people.is_manager(ctx.db, Directory(ctx.client(job)), job.team_id, n.author_id)
        if leader != n.is_leader:
            with ctx.db.session(job.team_id) as session:
                narratives.set_leader(session, narrative_id, leader)
            n = replace(n, is_leader=leader)
    if n.message_ts or not n.channel_id:
        return  # already posted by an earlier attempt, or saved without sharing
    text, blocks = narrative_post(n)
    where = channels.ensure_member(ctx.db, Conversations(ctx.client(job)), job.team_id, n.channel_id)
    try:
        response = ctx.client(job).chat_postMessage(channel=n.channel_id, text=text, blocks=blocks,
                                                    unfurl_links=False, unfurl_media=False)
    except SlackApiError as e:
        error = e.response.get("error")
        if error in NOT_IN_CHANNEL:
            with ctx.db.session(job.team_id) as session:
                narratives.mark_post_failed(session, narrative_id)
                channels.set_private(session, Narrative, narrative_id, where.is_private)
            tell_author(ctx, job, n, error)
            return
        raise  # the worker retries rate limits and transient errors
    with ctx.db.session(job.team_id) as session:
        narratives.mark_posted(session, narrative_id, response["channel"], response["ts"])
        channels.set_private(session, Narrative, narrative_id, where.is_private)


def post_narrative_gave_up(ctx: JobContext, job: Job) -> None:
    with ctx.db.session(job.team_id) as session:
        narratives.mark_post_failed(session, job.payload["narrative_id"])
        n = narratives.get_narrative(session, job.payload["narrative_id"])
    if n is not None and n.channel_id and not n.message_ts:
        tell_author(ctx, job, n, "gave_up")


def tell_author(ctx: JobContext, job: Job, n: NarrativeView, error: str) -> None:
    text, blocks = narrative_post_problem(n, error)
    notify_author(ctx, job, n.author_id, text, blocks)
