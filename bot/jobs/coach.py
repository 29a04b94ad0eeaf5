"""Job handlers for the AI coach: greet a new assistant thread, follow its context, answer messages
in the assistant pane and mentions in channels.

The events are stored by their acks (bot/listeners/assistant.py, keyed by event_id, so Slack's retries
are no-ops) and answered here at once: the worker is woken by the ack."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from slack_sdk.errors import SlackApiError

from bot import llm
from bot.blocks import coach as blocks
from bot.jobs.worker import JobContext
from bot.llm import Model, ModelError
from bot.models import Job
from bot.services import coach
from bot.services.coach import COACH_CONTEXT, COACH_MENTION, COACH_MESSAGE, COACH_STARTED
from bot.services.search import take_search
from bot.slack.links import workspace_url

log = logging.getLogger(__name__)

STATUS = "is looking through the playbook\u2026"
# A streamed answer is sent to Slack every FLUSH_CHARS characters or FLUSH_SECONDS, whichever comes first
# (the first words at once): few calls, and the text keeps moving.
FLUSH_CHARS, FLUSH_SECONDS = 200, 0.5


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
        with ctx.db.session(job.team_id) as session:  # a question reads like a search: the same limit
            wait = take_search(session, job.team_id, user, ctx.search_limits)
        if wait is not None:
            _post(client, channel, thread_ts, *blocks.slow_down(wait, ctx.search_limits))
            return
        with ctx.db.read(job.team_id) as session:
            found = coach.answer(session, job.team_id, intent, user_id=user if in_pane else None,
                                 channel_id=None if in_pane else channel)
            model = ctx.model if ctx.model is not None and coach.model_on(session, job.team_id) else None
        base_url = workspace_url(client, job.team_id)
        if model is not None and not found.empty and _streamed(model, client, job.team_id, channel, thread_ts,
                                                               user, found, base_url):
            return
        text, content = blocks.plain_answer(found, base_url)
    _post(client, channel, thread_ts, text, content)


def _streamed(model: Model, client: Any, team_id: str, channel: str, thread_ts: str, user: str,
              found: coach.Answer, base_url: str | None) -> bool:
    """The model's answer, streamed into the thread as it is written, then the app's own citations. False
    when nothing was posted (the model failed before its first words, or Slack would not stream): then
    the caller answers plainly. The model is given llm.coach_messages: the question and `found`'s items."""
    pieces = model.stream(llm.coach_messages(found.question, list(found.items)))
    try:
        first = next(pieces, None)
    except ModelError as e:
        log.info("coach: the model failed (%s); answering plainly (team=%s)", e, team_id)
        return False
    if first is None:
        return False
    streamer = client.chat_stream(channel=channel, thread_ts=thread_ts, recipient_team_id=team_id,
                                  recipient_user_id=user, buffer_size=1)
    try:
        streamer.append(markdown_text=llm.safe_markdown(first))  # the first words at once
    except SlackApiError as e:
        pieces.close()
        log.info("coach: Slack would not stream (%s); answering plainly (team=%s)", e.response.get("error"), team_id)
        return False
    held, flushed, tail = "", time.monotonic(), ""
    try:
        for piece in pieces:
            held += piece
            if len(held) >= FLUSH_CHARS or time.monotonic() - flushed >= FLUSH_SECONDS:
                streamer.append(markdown_text=llm.safe_markdown(held))
                held, flushed = "", time.monotonic()
    except ModelError as e:
        log.info("coach: the model stopped mid-answer (%s) (team=%s)", e, team_id)
        tail = "\n\n_(The model stopped before it finished; the sources are below.)_"
    streamer.stop(markdown_text=llm.safe_markdown(held) + tail, blocks=blocks.sources_blocks(found, base_url))
    return True


def _post(client: Any, channel: str, thread_ts: str, text: str, content: list[dict[str, Any]]) -> None:
    # Where an answer cannot go (a thread or channel gone, the bot not in it), the worker fails the job at
    # once by the error's group (bot/slack/errors.py); anything else is retried.
    client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text, blocks=content,
                            unfurl_links=False, unfurl_media=False)


HANDLERS = {
    COACH_STARTED: thread_started,
    COACH_CONTEXT: context_changed,
    COACH_MESSAGE: message,
    COACH_MENTION: message,
}
