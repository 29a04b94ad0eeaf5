"""Job handlers for wins: post the celebration, fix it after an edit, tell the author of trouble."""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient
from sqlalchemy.orm import Session

from bot.blocks.win import celebration, post_problem
from bot.jobs.worker import JobContext, Permanent, handler
from bot.models import Job, Workspace
from bot.services import wins
from bot.services.wins import POST_WIN, WinView
from bot.services.workspaces import ensure_workspace

log = logging.getLogger(__name__)

# Errors after which posting to that channel cannot work until a person does something.
CHANNEL_ERRORS = {"not_in_channel", "channel_not_found", "is_archived", "restricted_action",
                  "ekm_access_denied", "team_access_not_granted"}


def _emoji(session, team_id: str) -> str:  # noqa: ANN001
    ws = session.get(Workspace, team_id)
    return ws.teachback_emoji if ws else "mortar_board"


@handler(POST_WIN)
def post_win(ctx: JobContext, job: Job) -> Callable[[Session], None] | None:
    win_id = job.payload["win_id"]
    with ctx.db.read(job.team_id) as session:
        win = wins.get_win(session, win_id)
        emoji = _emoji(session, job.team_id)
    if win is None or win.message_ts or not win.channel_id:
        return None  # deleted meanwhile, or already posted by an earlier attempt
    posted = find_celebration(ctx, job, win) if job.taken_over else None
    if posted is not None:  # the worker that died posted it and did not live to record it
        channel, ts = posted
        log.info("win %s was already celebrated (ts %s); recording it, not posting again", win_id, ts)
        return lambda session: wins.mark_posted(session, win_id, channel, ts)
    text, blocks = celebration(win, teachback_emoji=emoji)
    try:
        response = ctx.client(job).chat_postMessage(channel=win.channel_id, text=text, blocks=blocks,
                                                    unfurl_links=False, unfurl_media=False,
                                                    metadata=celebration_metadata(win_id))
    except SlackApiError as e:
        error = e.response.get("error")
        if error in CHANNEL_ERRORS:
            with ctx.db.session(job.team_id) as session:
                wins.mark_post_failed(session, win_id)
            tell_author(ctx, job, win, error)
            return None
        raise  # the worker retries rate limits and transient errors

    def complete(session: Session) -> None:
        wins.mark_posted(session, win_id, response["channel"], response["ts"])
        # Off the ack path: the first win of a workspace creates its settings row here.
        ensure_workspace(session, job.team_id, job.enterprise_id)

    return complete


CELEBRATED = "aiwin_celebrated"


def celebration_metadata(win_id: int) -> dict:
    """Message metadata that names the win, so a takeover can tell whether it was posted."""
    return {"event_type": CELEBRATED, "event_payload": {"win_id": win_id}}


def find_celebration(ctx: JobContext, job: Job, win: WinView, pages: int = 5) -> tuple[str, str] | None:
    """After a takeover: (channel, ts) of this win's celebration if the previous holder posted it.

    Slack has no idempotency key for chat.postMessage, so a worker killed between posting and
    recording would otherwise make its successor post twice. Only takeovers pay this read; when
    it cannot be done (no history scope, bot not in the channel) we post: a rare duplicate beats
    a lost celebration."""
    oldest = f"{win.created_at.timestamp() - 5:.6f}"
    cursor = None
    try:
        for _ in range(pages):
            r = ctx.client(job).conversations_history(channel=win.channel_id, oldest=oldest, limit=200,
                                                      include_all_metadata=True, cursor=cursor)
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


@handler(f"{POST_WIN}:failed")
def post_win_gave_up(ctx: JobContext, job: Job) -> None:
    with ctx.db.session(job.team_id) as session:
        wins.mark_post_failed(session, job.payload["win_id"])
        win = wins.get_win(session, job.payload["win_id"])
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


@handler("update_win_message")
def update_win_message(ctx: JobContext, job: Job) -> None:
    with ctx.db.read(job.team_id) as session:
        win = wins.get_win(session, job.payload["win_id"])
        emoji = _emoji(session, job.team_id)
    if win is None or not win.message_ts:
        return
    text, blocks = celebration(win, teachback_emoji=emoji)
    try:
        ctx.client(job).chat_update(channel=win.message_channel, ts=win.message_ts, text=text, blocks=blocks)
    except SlackApiError as e:
        if e.response.get("error") in ("message_not_found", "cant_update_message", "channel_not_found"):
            raise Permanent(e.response.get("error")) from e
        raise
