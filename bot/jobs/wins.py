"""Job handlers for wins: post the celebration, fix it after an edit, tell the author of trouble."""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.blocks.owners import left_out
from bot.blocks.ratelimit import unsaved, unsaved_blocks
from bot.blocks.win import celebration, post_problem, too_many_people
from bot.jobs.worker import JobContext
from bot.models import Job, Win, Workspace
from bot.models.win import POST_PENDING
from bot.services import channels, owners, people, steps, tries, wins
from bot.services.wins import WinView
from bot.services.wintext import MAX_RECIPIENTS, mentions
from bot.services.workspaces import ensure_workspace
from bot.slack.conversations import Conversations
from bot.slack.directory import Directory
from bot.slack.errors import NOT_IN_CHANNEL

log = logging.getLogger(__name__)


def _emoji(session, team_id: str, enterprise_id: str | None = None, *, ensure: bool = False) -> str:  # noqa: ANN001
    """The workspace's teach-back emoji. With `ensure`, a workspace seen for the first time gets its
    settings row (one statement more, once)."""
    emoji = session.scalar(select(Workspace.teachback_emoji).where(Workspace.team_id == team_id))
    if emoji is None and ensure:
        ensure_workspace(session, team_id, enterprise_id)
    return emoji or "mortar_board"


def step_done(session: Session, job: Job) -> None:
    """A win from a Workflow Builder step: its celebration is settled (posted or not), so the step
    can be completed (bot/jobs/steps.py). Once per execution, whichever way the post job ends."""
    if job.payload.get("step"):
        steps.enqueue_completion(session, team_id=job.team_id, enterprise_id=job.enterprise_id,
                                 win_id=job.payload["win_id"], step=job.payload["step"])


def record_command(ctx: JobContext, job: Job) -> Callable[[Session], None] | None:
    """`/aiwin <win>` stored by its ack (bot/services/inbox.py): record it through the win service (the
    per-person limit's authority) in one transaction, then celebrate it in this same job. A retry of
    this job finds the win it recorded by the command's trigger_id and goes on to the celebration."""
    p = job.payload
    # Once it is settled, the job keeps no text: a deleted win's words must not live on in the queue.
    job.final_payload = {k: v for k, v in p.items() if k != "text"}
    new = wins.NewWin(team_id=job.team_id, enterprise_id=job.enterprise_id, author_id=p["user_id"],
                      channel_id=p.get("channel_id"), text=p["text"], trigger_id=p.get("trigger_id"),
                      response_url=p.get("response_url"))
    named = len(mentions(new.text))
    if named > MAX_RECIPIENTS:  # the ack refuses these; a command queued before that rule is refused here
        message = too_many_people(named, new.text)
        notify_author(ctx, job, new.author_id, message["text"], message["blocks"])
        return None
    uninstalled = getattr(job, "uninstalled", False)
    with ctx.db.session(job.team_id) as session:
        result = wins.record_win(session, new, limits=ctx.limits, known_new=job.attempts <= 1 and not job.taken_over,
                                 enqueue_celebration=False)
        emoji = _emoji(session, job.team_id, job.enterprise_id, ensure=True)
        if uninstalled and result.win is not None:
            # Acknowledged before the app was removed: kept, not posted ("Post again" after a reinstall).
            wins.mark_post_failed(session, result.win.id)
            return None
    if result.win is None:  # past the limit (the ack's per-process copy let it through): not recorded
        log.info("command %s not recorded: past the per-person limit (team=%s user=%s)", job.id, job.team_id,
                 new.author_id)
        text, blocks = unsaved(result.wait or ctx.limits.interval, ctx.limits, new.text)
        notify_author(ctx, job, new.author_id, text, blocks)
        return None
    if result.win.post_status != POST_PENDING:
        return None
    job.payload = {**p, "win_id": result.win.id}
    job.final_payload["win_id"] = result.win.id
    return post_win(ctx, job, win=result.win, emoji=emoji)


record_command.runs_when_uninstalled = True  # an acknowledged command is kept whatever happens (see above)


def record_command_gave_up(ctx: JobContext, job: Job) -> None:
    """The worker gave up on a command: it was recorded and not celebrated (the usual give-up), or never
    recorded at all (the database kept failing): then the author is told to send it again."""
    with ctx.db.read(job.team_id) as session:
        win = wins.find_by_trigger(session, job.payload["trigger_id"]) if job.payload.get("trigger_id") else None
    if win is not None:
        job.payload = {**job.payload, "win_id": win.id}
        post_win_gave_up(ctx, job)
        return
    text = "Sorry, your AI win could not be saved. Please send it again:"
    notify_author(ctx, job, job.payload["user_id"], text, unsaved_blocks(text, job.payload["text"]))


def post_win(ctx: JobContext, job: Job, *, win: WinView | None = None,
             emoji: str | None = None) -> Callable[[Session], None] | None:
    """Celebrate a recorded win (`win` and the teach-back `emoji` when the caller has them already)."""
    win_id = job.payload["win_id"]
    tried = 0  # a new win; one posted again may have been tried meanwhile (from a teach-back's note)
    if win is None or emoji is None:
        with ctx.db.read(job.team_id) as session:
            win = wins.get_win(session, win_id)
            emoji = _emoji(session, job.team_id)
            tried = tries.count(session, tries.Target(tries.WIN, win_id))
    if win is None or win.message_ts or not win.channel_id:
        # Deleted meanwhile, or already posted by an earlier attempt.
        return (lambda session: step_done(session, job)) if job.payload.get("step") else None
    # Join a public channel first, so managers' 🎓 reactions reach us; learn whether it is private.
    where = channels.ensure_member(ctx.db, Conversations(ctx.client(job)), job.team_id, win.channel_id)
    posted = find_celebration(ctx, job, win) if job.taken_over else None
    if posted is not None:  # the worker that died posted it and did not live to record it
        channel, ts = posted
        log.info("win %s was already celebrated (ts %s); recording it, not posting again", win_id, ts)

        def record(session: Session) -> None:
            wins.mark_posted(session, win_id, channel, ts, private=where.is_private)
            step_done(session, job)

        return record
    win = humans_only(ctx, job, win)
    text, blocks = celebration(win, teachback_emoji=emoji, tried=tried)
    try:
        # A win recorded from a message is celebrated in that message's thread (not broadcast).
        thread = {"thread_ts": win.source_thread_ts} if win.source_thread_ts else {}
        response = ctx.client(job).chat_postMessage(channel=win.channel_id, text=text, blocks=blocks,
                                                    unfurl_links=False, unfurl_media=False,
                                                    metadata=celebration_metadata(win_id), **thread)
    except SlackApiError as e:
        error = e.response.get("error")
        if error in NOT_IN_CHANNEL:
            with ctx.db.session(job.team_id) as session:
                wins.mark_post_failed(session, win_id)
                channels.set_private(session, Win, win_id, where.is_private)
                step_done(session, job)
            ctx.wake_worker()
            log.info("win %s could not be posted (team=%s channel=%s): %s; the author is told",
                     win_id, job.team_id, win.channel_id, error)
            tell_author(ctx, job, win, error)
            return None
        raise  # the worker retries rate limits and transient errors

    log.info("win %s posted (team=%s channel=%s ts=%s)", win_id, job.team_id, response["channel"], response["ts"])

    def complete(session: Session) -> None:
        wins.mark_posted(session, win_id, response["channel"], response["ts"], private=where.is_private)
        step_done(session, job)

    return complete


def humans_only(ctx: JobContext, job: Job, win: WinView) -> WinView:
    """Drop bots, Slackbot and deactivated accounts from the win's owners (the ack path cannot ask
    Slack who is a person) and tell the author who was left out. Returns the win as it is now."""
    directory = Directory(ctx.client(job))
    dropped = owners.non_humans(win.owner_ids, win.author_id,
                                lambda ids: people.humans(ctx.db, directory, job.team_id, ids))
    if not dropped:
        return win
    with ctx.db.session(job.team_id) as session:
        owners.drop_owners(session, win.id, dropped)
        now = wins.get_win(session, win.id) or win
    log.info("win %s: left out %s from the owners (not people)", win.id, ", ".join(dropped))
    text, blocks = left_out(win.id, dropped)
    try:
        notify_author(ctx, job, win.author_id, text, blocks)
    except Exception:  # noqa: BLE001 - the win is right either way; the note is a courtesy
        log.warning("could not tell the author of win %s who was left out", win.id, exc_info=True)
    return now


def check_owners(ctx: JobContext, job: Job) -> None:
    """For a win with no channel to celebrate in: the same humans-only check as post_win's."""
    with ctx.db.read(job.team_id) as session:
        win = wins.get_win(session, job.payload["win_id"])
    if win is not None:
        humans_only(ctx, job, win)


CELEBRATED = "aiwins_win"


def celebration_metadata(win_id: int) -> dict:
    """Message metadata that names the win, so a takeover can tell whether it was posted."""
    return {"event_type": CELEBRATED, "event_payload": {"win_id": win_id}}


def find_celebration(ctx: JobContext, job: Job, win: WinView, pages: int = 5) -> tuple[str, str] | None:
    """After a takeover: (channel, ts) of this win's celebration if the previous holder posted it.

    Slack has no idempotency key for chat.postMessage, so a worker killed between posting and
    recording would otherwise make its successor post twice. Only takeovers pay this read; when
    it cannot be done (no history scope, bot not in the channel) we post: a rare duplicate beats
    a lost celebration. A celebration in a thread is a reply, and conversations.history lists
    parent messages only: a threaded one is read back with conversations.replies."""
    oldest = f"{win.created_at.timestamp() - 5:.6f}"
    where = {"channel": win.channel_id, "oldest": oldest, "limit": 200, "include_all_metadata": True}
    client = ctx.client(job)
    cursor = None
    try:
        for _ in range(pages):
            if win.source_thread_ts:
                r = client.conversations_replies(ts=win.source_thread_ts, cursor=cursor, **where)
            else:
                r = client.conversations_history(cursor=cursor, **where)
            for m in r.get("messages") or []:
                meta = m.get("metadata") or {}
                if meta.get("event_type") == CELEBRATED and (meta.get("event_payload") or {}).get("win_id") == win.id:
                    return win.channel_id, m["ts"]
            cursor = (r.get("response_metadata") or {}).get("next_cursor")
            if not r.get("has_more") or not cursor:
                return None
    except SlackApiError as e:
        log.warning("cannot check whether win %s was posted before a takeover (%s); posting it",
                    win.id, e.response.get("error"))
    return None


def post_win_gave_up(ctx: JobContext, job: Job) -> None:
    with ctx.db.session(job.team_id) as session:
        wins.mark_post_failed(session, job.payload["win_id"])
        win = wins.get_win(session, job.payload["win_id"])
        step_done(session, job)  # with the win's number only: there is no celebration to link to
    ctx.wake_worker()
    log.info("win %s could not be posted (team=%s): gave up after %s attempts", job.payload["win_id"],
             job.team_id, job.attempts)
    if win is not None:
        tell_author(ctx, job, win, "gave_up")


def tell_author(ctx: JobContext, job: Job, win: WinView, error: str) -> None:
    text, blocks = post_problem(win, error)
    notify_author(ctx, job, win.author_id, text, blocks)


def notify_author(ctx: JobContext, job: Job, author_id: str, text: str, blocks: list[dict]) -> None:
    """Ephemeral through the command's response_url when we have one (works in channels the bot
    is not in), else a DM from the bot."""
    url = job.payload.get("response_url")
    if url:
        try:
            r = WebhookClient(url, timeout=10).send(text=text, blocks=blocks, response_type="ephemeral",
                                                    replace_original=False)
            if r.status_code == 200:
                return
        except Exception:
            log.warning("response_url for job %s failed; sending a DM instead", job.id, exc_info=True)
    ctx.client(job).chat_postMessage(channel=author_id, text=text, blocks=blocks)


def update_win_message(ctx: JobContext, job: Job) -> None:
    refresh_celebration(ctx, job, job.payload["win_id"])


def refresh_celebration(ctx: JobContext, job: Job, win_id: int) -> None:
    """Show a win's celebration as the win is now: after an edit, or with a new "I tried it too" count."""
    with ctx.db.read(job.team_id) as session:
        win = wins.get_win(session, win_id)
        emoji = _emoji(session, job.team_id)
        tried = tries.count(session, tries.Target(tries.WIN, win_id))
    if win is None or not win.message_ts:
        return
    win = humans_only(ctx, job, win)  # an edit may have added a bot
    text, blocks = celebration(win, teachback_emoji=emoji, tried=tried)
    # A message that is gone fails the job at once (bot/slack/errors.py: the worker's outcomes).
    ctx.client(job).chat_update(channel=win.message_channel, ts=win.message_ts, text=text, blocks=blocks)
