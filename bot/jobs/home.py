"""Publishing App Home: when someone opens it, and shortly after data they see changed."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from bot.blocks.home import home_view
from bot.directory import Directory
from bot.jobs.worker import JobContext, Permanent
from bot.models import Job
from bot.services import people
from bot.services.home import build_home
from bot.services.home import home_opened as mark_home_opened
from bot.services.members import refresh_members

log = logging.getLogger(__name__)

# users.info / views.publish answers after which publishing for this person cannot work.
GONE = {"user_not_found", "account_inactive", "user_not_visible", "not_allowed_token_type"}


def publish_home(ctx: JobContext, job: Job, user_id: str, *, opened: bool = False) -> None:
    """Build and publish this person's Home; `opened`: they are looking at it now (app_home_opened)."""
    client = ctx.client(job)
    directory = Directory(client)
    team_id = job.team_id
    person = people.person(ctx.db, directory, team_id, user_id)  # also caches their time zone
    if person is None or person.is_bot or person.deleted:
        return
    if opened:  # before publishing: a change they make right after sees them as a recent opener
        with ctx.db.session(team_id) as session:
            mark_home_opened(session, team_id, user_id)
    # Managers and admins see adoption figures: asked afresh (the group's copy is refreshed with it).
    adoption = people.is_manager(ctx.db, directory, team_id, user_id)
    group = people.managers_group_members(ctx.db, directory, team_id)
    with ctx.db.read(team_id) as session:
        data = build_home(session, team_id, user_id, person.is_admin, tz=person.tz, group_members=group,
                          adoption=adoption)
    view = home_view(data)
    try:
        client.views_publish(user_id=user_id, view=view)
    except SlackApiError as e:
        error = e.response.get("error")
        if error in GONE:
            raise Permanent(error) from e
        if error == "invalid_arguments":
            log.error("App Home for %s in %s was refused by Slack: %s", user_id, team_id,
                      e.response.get("response_metadata"))
            raise Permanent(error) from e
        raise
    # At most daily, in the background: the member list behind coverage. Home shows the last whole
    # copy (or "not known yet") now, and is republished when a first copy lands. Queued only after this
    # publish, so that republish always comes after it (never overwritten by this older view).
    if refresh_members(ctx.db, team_id, job.enterprise_id, home_for=user_id):
        ctx.enqueue_hook()


def home_opened(ctx: JobContext, job: Job) -> None:
    event = job.payload.get("event") or {}
    if event.get("tab", "home") != "home" or not event.get("user"):
        return  # the Messages tab, or nothing to publish for
    publish_home(ctx, job, event["user"], opened=True)


def home_refresh(ctx: JobContext, job: Job) -> None:
    publish_home(ctx, job, job.payload["user_id"])
