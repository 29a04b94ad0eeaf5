"""Jobs for people's control of their data: CSV exports sent by DM, and the note that replaces a
deleted win's celebration."""

from __future__ import annotations

import logging
import tempfile

from slack_sdk.errors import SlackApiError

from bot.blocks.common import context, section
from bot.jobs.worker import JobContext
from bot.models import Job
from bot.services.export import write_export

log = logging.getLogger(__name__)

GUARD_NOTE = ("Text cells that start with = + - or @ begin with an apostrophe, so spreadsheets show them "
              "instead of running them as formulas.")


def _tell(ctx: JobContext, job: Job, text: str) -> None:
    ctx.client(job).chat_postMessage(channel=job.payload["user_id"], text=text, blocks=[section(text)])


def send_export(ctx: JobContext, job: Job) -> None:
    user_id, mine = job.payload["user_id"], bool(job.payload.get("mine"))
    client = ctx.client(job)
    with tempfile.TemporaryDirectory(prefix="aiwins-export-") as directory:
        with ctx.db.read(job.team_id) as session:
            files = write_export(session, job.team_id, directory, user_id=user_id if mine else None)
        counts = ", ".join(f"{f.rows:,} {f.label}" for f in files)
        whose = "your own data" if mine else "all AI wins, usage narratives and teach-backs in this workspace"
        channel = client.conversations_open(users=user_id)["channel"]["id"]
        try:
            client.files_upload_v2(
                channel=channel,
                file_uploads=[{"file": f.path, "filename": f.filename, "title": f.title} for f in files],
                initial_comment=f":package: Here's the export of {whose} ({counts}). {GUARD_NOTE}",
            )
        except SlackApiError as e:
            status, error = e.response.status_code, e.response.get("error")
            if status == 429 or status >= 500:
                raise  # the worker waits for Retry-After or backs off, then tries again
            log.warning("export upload for %s in %s refused by Slack: %s", user_id, job.team_id, error)
            _tell(ctx, job, f":warning: I couldn't send your export: Slack refused the file upload "
                            f"(`{error}`). Nothing else changed. Please try `/aiwin export` again later; "
                            "if it keeps failing, an admin can run `aiwins export --team …` on the server.")


def export_gave_up(ctx: JobContext, job: Job) -> None:
    _tell(ctx, job, ":warning: I couldn't send your export: Slack kept failing for a while. Nothing else "
                    "changed. Please try `/aiwin export` again later.")


def show_win_removed(ctx: JobContext, job: Job) -> None:
    p = job.payload
    who = "its author" if p.get("by_author") else "an admin"
    text = f":wastebasket: This AI win (#{p['win_id']}) was removed by {who}."
    # A message that is gone fails the job at once (bot/slack/errors.py: the worker's outcomes).
    ctx.client(job).chat_update(channel=p["channel"], ts=p["ts"], text=text, blocks=[context(text)])
