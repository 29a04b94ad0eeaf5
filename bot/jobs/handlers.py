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
    text, blocks = celebration(win, teachback_emoji=emoji)
    try:
        # A win recorded from a message is celebrated in that message's thread (not broadcast).
        thread = {"thread_ts": win.source_thread_ts} if win.source_thread_ts else {}
        response = ctx.client(job).chat_postMessage(channel=win.channel_id, text=text, blocks=blocks,
                                                    unfurl_links=False, unfurl_media=False, **thread)
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
