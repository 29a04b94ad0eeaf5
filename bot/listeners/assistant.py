"""The AI coach's ways in: Slack's assistant pane (Bolt's `Assistant` middleware) and mentions in channels.

Each event is stored in the durable job queue by its ack (keyed by event_id: Slack's retries are
no-ops) and answered by a job (bot/jobs/coach.py). The "log a win" draft's Save button records the
win through the win service, as every other way in does."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Assistant, BoltContext, Respond

from bot.blocks.coach import SAVE_DRAFT, saved_message
from bot.blocks.ratelimit import wait_words
from bot.deps import Deps
from bot.listeners.events.inbox import durable_event
from bot.models import TEXT_WIRE
from bot.services import ratelimit
from bot.services.coach import COACH_CONTEXT, COACH_MENTION, COACH_MESSAGE, COACH_STARTED, MAX_DRAFT
from bot.services.wins import NewWin, record_win


def ack_only(ack: Ack) -> None:
    ack()


def register(app: App) -> None:
    assistant = Assistant()
    assistant.thread_started(durable_event(COACH_STARTED))
    assistant.thread_context_changed(durable_event(COACH_CONTEXT))
    assistant.user_message(durable_event(COACH_MESSAGE))
    assistant.bot_message(ack_only)  # our own replies come back as message.im events
    app.use(assistant)
    app.event("app_mention")(durable_event(COACH_MENTION))
    # Other direct messages (the Messages tab outside a thread, edits, deletions): nothing to do.
    app.event("message")(ack_only)
    app.action(SAVE_DRAFT)(ack=ack_only, lazy=[save_draft])


def save_draft(body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    """Save on a "log a win" draft: the win is recorded now, once per draft (its message is the key)."""
    deps: Deps = context["deps"]
    text = str(((body.get("actions") or [{}])[0]).get("value") or "")
    container = body.get("container") or {}
    if not text.strip() or len(text) > MAX_DRAFT:
        respond({"replace_original": False, "text": "That draft can't be saved. Send the win with `/aiwin` instead."})
        return
    key = f"coach:{container.get('channel_id')}:{container.get('message_ts')}"
    new = NewWin(team_id=context.team_id, enterprise_id=context.enterprise_id, author_id=context.user_id,
                 channel_id=None, text=text, text_format=TEXT_WIRE, trigger_id=key, source="coach", post=False)
    with deps.db.session(context.team_id) as session:
        result = record_win(session, new, limits=ratelimit.limits_of(deps.settings))
    if result.created:
        deps.wake_worker()
    wait = wait_words(result.wait) if result.win is None and result.wait else None
    respond(saved_message(result.win.id if result.win else None, created=result.created, wait=wait))
