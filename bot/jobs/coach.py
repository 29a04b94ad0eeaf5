"""Job handlers for the AI coach: greet a new assistant thread, follow its context, answer messages
in the assistant pane and mentions in channels.

The events are stored by their acks (bot/listeners/assistant.py, keyed by event_id, so Slack's retries
are no-ops) and answered here at once: the worker is woken by the ack."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.blocks import coach as blocks
from bot.jobs.links import workspace_url
from bot.jobs.worker import JobContext, Permanent
from bot.models import Job
from bot.services import coach
from bot.services.coach import COACH_CONTEXT, COACH_MENTION, COACH_MESSAGE, COACH_STARTED

log = logging.getLogger(__name__)

STATUS = "is looking through the playbook\u2026"
# Where an answer cannot go until a person does something: retrying cannot help.
UNDELIVERABLE = {"channel_not_found", "not_in_channel", "is_archived", "thread_not_found", "restricted_action",
                 "messages_tab_disabled", "cannot_reply_to_message"}


def _thread(job: Job) -> tuple[str, str, str | None, dict[str, Any]]:
    """(channel, thread_ts, user, context) of an assistant_thread_* event."""
    t = job.payload["event"].get("assistant_thread") or {}
    return t.get("channel_id", ""), t.get("thread_ts", ""), t.get("user_id"), t.get("context") or {}


def _quietly(what: str, call: Callable[[], Any]) -> None:
    """An assistant-pane nicety (status, prompts, title): Slack may refuse it (a workspace without the AI
    features, a thread gone); the answer matters, not this."""
    try:
        call()
    except SlackApiError as e:
        log.info("coach: %s refused: %s", what, e.response.get("error"))


def thread_started(ctx: JobContext, job: Job) -> None:
    """Greet the person and offer prompts built from this workspace's own data."""
    channel, thread_ts, user, _ = _thread(job)
    if not channel or not thread_ts:
        return
    client = ctx.client(job)
    with ctx.db.read(job.team_id) as session:
        prompts = coach.suggested_prompts(session, job.team_id, user)
    _quietly("setSuggestedPrompts", lambda: client.assistant_threads_setSuggestedPrompts(
        channel_id=channel, thread_ts=thread_ts, title="Ask about how colleagues use AI",
        prompts=blocks.prompts_arg(prompts)))
    text, greeting = blocks.greeting()
    _post(client, channel, thread_ts, text, greeting)


def context_changed(ctx: JobContext, job: Job) -> None:
    """The person moved to another channel with the pane open: offer fresh prompts. Answers never depend
    on the channel being viewed (the pane is private to the person; a channel's private wins stay there)."""
    channel, thread_ts, user, _ = _thread(job)
    if not channel or not thread_ts:
        return
    with ctx.db.read(job.team_id) as session:
        prompts = coach.suggested_prompts(session, job.team_id, user)
    client = ctx.client(job)
    _quietly("setSuggestedPrompts", lambda: client.assistant_threads_setSuggestedPrompts(
        channel_id=channel, thread_ts=thread_ts, prompts=blocks.prompts_arg(prompts)))


def message(ctx: JobContext, job: Job) -> None:
    """A question in the assistant pane (private to the asker) or a mention in a channel (answered in a
    thread, with only what that channel may show)."""
    e = job.payload["event"]
    channel, user = e.get("channel"), e.get("user")
    thread_ts = e.get("thread_ts") or e.get("ts")
    if not channel or not thread_ts or not user:
        return
    in_pane = job.kind == COACH_MESSAGE
    client = ctx.client(job)
    intent = coach.understand(e.get("text") or "")
    if in_pane:
        _quietly("setStatus", lambda: client.assistant_threads_setStatus(
            channel_id=channel, thread_ts=thread_ts, status=STATUS))
        if intent.text and intent.kind != coach.DRAFT:
            _quietly("setTitle", lambda: client.assistant_threads_setTitle(
                channel_id=channel, thread_ts=thread_ts, title=intent.text[:255]))
    if intent.kind == coach.HELP:
        text, content = blocks.help_message()
    elif intent.kind == coach.DRAFT:
        text, content = blocks.draft_message(coach.draft(intent.text))
    else:
        with ctx.db.read(job.team_id) as session:
            found = coach.answer(session, job.team_id, intent, user_id=user if in_pane else None,
                                 channel_id=None if in_pane else channel)
        text, content = blocks.plain_answer(found, workspace_url(client, job.team_id))
    _post(client, channel, thread_ts, text, content)


def _post(client: Any, channel: str, thread_ts: str, text: str, content: list[dict[str, Any]]) -> None:
    try:
        client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text, blocks=content,
                                unfurl_links=False, unfurl_media=False)
    except SlackApiError as e:
        if e.response.get("error") in UNDELIVERABLE:
            raise Permanent(f"coach answer: {e.response.get('error')}") from e
        raise


HANDLERS = {
    COACH_STARTED: thread_started,
    COACH_CONTEXT: context_changed,
    COACH_MESSAGE: message,
    COACH_MENTION: message,
}
