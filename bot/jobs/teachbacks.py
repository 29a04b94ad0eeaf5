"""Job handlers for teach-backs: reactions in, invitations and notices out.

`reaction_added` / `reaction_removed` arrive as jobs (bot/listeners/events/inbox.py, deduplicated
by event_id). Everything that talks to Slack (users.info for "is a manager", DMs, the thread
reply) happens here, after the ack, with each DM its own job so a retry never repeats another."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.blocks.teachbacks import invitation, manager_notice, thread_note
from bot.cache import TTLMemo
from bot.jobs.worker import JobContext, Permanent
from bot.models import TB_ACCEPTED, TB_DONE, Job, utcnow
from bot.services import owners, people, tries
from bot.services import teachbacks as tb
from bot.services.wins import WinView
from bot.slack.directory import Directory
from bot.slack.errors import MESSAGE_GONE, NOT_IN_CHANNEL, PERSON_GONE
from bot.slack.links import permalink

log = logging.getLogger(__name__)

# A DM or reply that cannot be delivered until a person does something: retrying cannot help.
UNDELIVERABLE = PERSON_GONE | NOT_IN_CHANNEL | MESSAGE_GONE


@dataclass(frozen=True)
class Reaction:
    user: str
    emoji: str
    channel: str
    ts: str
    at: datetime  # when Slack says it happened


def _reaction(payload: dict[str, Any]) -> Reaction | None:
    """The reaction in an event job, or None for anything but a well-formed reaction on a message."""
    event = payload.get("event")
    if not isinstance(event, dict):
        return None
    item = event.get("item")
    if not isinstance(item, dict) or item.get("type") != "message":
        return None  # reactions on files and the like
    fields = (event.get("user"), event.get("reaction"), item.get("channel"), item.get("ts"))
    if not all(isinstance(f, str) and f for f in fields):
        return None
    user, emoji, channel, ts = fields
    return Reaction(user, tb.normalize_emoji(emoji), channel, ts, _event_time(event, payload))


def _event_time(event: dict[str, Any], payload: dict[str, Any]) -> datetime:
    for raw in (event.get("event_ts"), payload.get("event_time")):
        try:
            return datetime.fromtimestamp(float(raw), UTC)
        except (TypeError, ValueError, OverflowError, OSError):
            continue
    return utcnow()


def _nominated_win(ctx: JobContext, job: Job) -> tuple[Reaction, WinView] | None:
    """The reaction and its win when it is the teach-back emoji on a win's celebration by someone
    who does not own the win; None (a harmless no-op) otherwise."""
    reaction = _reaction(job.payload)
    if reaction is None:
        log.info("ignoring malformed or non-message reaction event %s", job.payload.get("event_id"))
        return None
    with ctx.db.read(job.team_id) as session:
        if reaction.emoji != tb.teachback_emoji(session, job.team_id):
            return None
        win = tb.find_win_by_message(session, reaction.channel, reaction.ts)
    if win is None or reaction.user in win.owner_ids:
        return None
    return reaction, win


def _is_manager(ctx: JobContext, job: Job, user_id: str) -> bool:
    return people.is_manager(ctx.db, Directory(ctx.client(job)), job.team_id, user_id)


def on_reaction_added(ctx: JobContext, job: Job) -> None:
    found = _nominated_win(ctx, job)
    if found is None:
        return
    reaction, win = found
    if not _is_manager(ctx, job, reaction.user):
        log.info("reaction by %s on win %s: not a manager, no nomination", reaction.user, win.id)
        return
    directory = Directory(ctx.client(job))
    # Nominees are people: asked afresh, since an owner may have been deactivated since the post.
    gone = owners.non_humans(win.owner_ids, "",
                             lambda ids: people.humans(ctx.db, directory, job.team_id, ids, fresh=True))
    nominees = tuple(u for u in win.owner_ids if u not in gone)
    if gone:
        log.info("reaction by %s on win %s: not nominating %s (not people)", reaction.user, win.id, ", ".join(gone))
    if not nominees:
        return
    with ctx.db.session(job.team_id) as session:
        result = tb.nominate(session, team_id=job.team_id, win_id=win.id, manager_id=reaction.user,
                             at=reaction.at, nominees=nominees, limits=ctx.limits)
    if result.wait is not None:
        _log_dropped_once(job.team_id, reaction.user, win.id)
        return
    if result.invites:
        ctx.wake_worker()


# (team, person) whose nominations were dropped in the last 10 minutes: a burst ends after 10 quiet minutes.
_dropping: TTLMemo[tuple[str, str], bool] = TTLMemo(ttl=600.0)


def _log_dropped_once(team_id: str, user_id: str, win_id: int) -> None:
    """One log line per person per burst of dropped nominations, not one per reaction."""
    if _dropping.put((team_id, user_id), True) is None:
        log.warning("nominations by %s (team %s) are past the rate limit; dropping them (first: win %s)",
                    user_id, team_id, win_id)


def on_reaction_removed(ctx: JobContext, job: Job) -> None:
    found = _nominated_win(ctx, job)
    if found is None:
        return
    reaction, win = found
    with ctx.db.session(job.team_id) as session:
        withdrawn = tb.withdraw(session, team_id=job.team_id, win_id=win.id, manager_id=reaction.user,
                                at=reaction.at)
    if withdrawn is None and _is_manager(ctx, job, reaction.user):
        # The matching reaction_added may not have been processed yet: remember the removal so it
        # cannot nominate when it is.
        with ctx.db.session(job.team_id) as session:
            tb.withdraw(session, team_id=job.team_id, win_id=win.id, manager_id=reaction.user, at=reaction.at,
                        remember=True)


def send_invitation(ctx: JobContext, job: Job) -> None:
    teachback_id = job.payload["teachback_id"]
    with ctx.db.session(job.team_id) as session:
        view = tb.claim_invite(session, teachback_id)
    if view is None:
        return  # invited already, answered, or withdrawn meanwhile
    try:
        client = ctx.client(job)
        link = permalink(client, job.team_id, view.win.message_channel, view.win.message_ts)
        text, blocks = invitation(view, link)
        client.chat_postMessage(channel=view.owner_id, text=text, blocks=blocks, unfurl_links=False)
    except BaseException as e:
        with ctx.db.session(job.team_id) as session:
            tb.release_invite(session, teachback_id)
        if isinstance(e, SlackApiError) and e.response.get("error") in UNDELIVERABLE:
            # Nothing is lost: the teach-back stays nominated and listed in /aiwin teachbacks.
            log.warning("teach-back %s: invitation DM to %s undeliverable (%s)", teachback_id, view.owner_id,
                        e.response.get("error"))
            raise Permanent(f"invitation undeliverable: {e.response.get('error')}") from e
        raise


def post_thread_note(ctx: JobContext, job: Job) -> None:
    delivered = job.payload.get("event") == TB_DONE
    with ctx.db.read(job.team_id) as session:
        view = tb.get_teachback(session, job.payload["teachback_id"])
        tried = tries.count(session, tries.Target(tries.WIN, view.win.id)) if view and delivered else 0
    if view is None or not view.win.message_ts:
        return
    text, blocks = thread_note(view, delivered=delivered, tried=tried)
    try:
        ctx.client(job).chat_postMessage(channel=view.win.message_channel, thread_ts=view.win.message_ts,
                                         text=text, blocks=blocks)
    except SlackApiError as e:
        if e.response.get("error") in UNDELIVERABLE:
            raise Permanent(f"thread reply for teach-back {view.id}: {e.response.get('error')}") from e
        raise


def notify_manager(ctx: JobContext, job: Job) -> None:
    with ctx.db.read(job.team_id) as session:
        view = tb.get_teachback(session, job.payload["teachback_id"])
    if view is None:
        return
    client = ctx.client(job)
    event = job.payload.get("event", TB_ACCEPTED)
    text, blocks = manager_notice(view, event, permalink(client, job.team_id, view.win.message_channel,
                                                         view.win.message_ts))
    try:
        client.chat_postMessage(channel=job.payload["manager_id"], text=text, blocks=blocks,
                                unfurl_links=False)
    except SlackApiError as e:
        if e.response.get("error") in UNDELIVERABLE:
            raise Permanent(f"manager DM for teach-back {view.id}: {e.response.get('error')}") from e
        raise
