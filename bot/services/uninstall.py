"""Uninstall means gone: what happens when Slack says the app left a workspace, and the full purge.

On `app_uninstalled` (or `tokens_revoked` for the bot token), in one transaction, once per event_id:
the workspace's tokens are deleted (the OAuth installation rows), its digest and prompt schedules are
turned off, its queued jobs are cancelled, and the workspace is marked uninstalled. While it is, its
requests are answered and not acted on (bot/listeners/uninstalled.py), the scheduler's ticks pass it
by, and the job worker cancels any job of it; a reinstall clears the mark. Its wins, stories
and settings are kept until an operator purges them (`aiwins purge --team T --yes`), so a workspace
that reinstalls finds its history; the README says so. The two events may arrive in either order
and more than once: whatever comes second finds nothing left to do."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Table, delete, update
from sqlalchemy.orm import Session

from bot.models import JOB_DONE, JOB_FAILED, JOB_PENDING, Base, Job, Narrative, Subscription, Win, Workspace, utcnow
from bot.models.queue import insert_ignore
from bot.models.slack_oauth import bots, installations
from bot.models.win import POST_FAILED, POST_PENDING
from bot.services import search
from bot.services.workspaces import ensure_workspace, forget_uninstall

UNINSTALLED = "workspace_uninstalled"  # a finished job row: the record that an event was handled
CANCELLED = "workspace uninstalled"


@dataclass(frozen=True)
class Uninstalled:
    first: bool  # False: this event_id was handled before (Slack's retry)
    tokens: int = 0
    jobs: int = 0
    schedules: int = 0


def uninstall(session: Session, team_id: str, enterprise_id: str | None, *, event_id: str | None,
              reason: str) -> Uninstalled:
    """Forget the workspace's tokens and stop its work. `session` is opened for `team_id`."""
    now = utcnow()
    if event_id:
        marker = insert_ignore(session, Job, {
            "team_id": team_id, "enterprise_id": enterprise_id, "kind": UNINSTALLED,
            "dedupe_key": f"event:{event_id}", "payload": {"reason": reason}, "status": JOB_DONE,
            "attempts": 0, "run_at": now, "created_at": now, "finished_at": now,
        }, returning=Job.id).first()
        if marker is None:
            return Uninstalled(False)
    tokens = 0
    for table in (installations, bots):
        tokens += session.execute(delete(table).where(table.c.team_id == team_id)).rowcount or 0
    jobs = session.execute(
        update(Job).where(Job.team_id == team_id, Job.status == JOB_PENDING)
        .values(status=JOB_FAILED, last_error=CANCELLED, finished_at=now, locked_until=None)
        .execution_options(synchronize_session=False)
    ).rowcount or 0
    schedules = session.execute(
        update(Subscription).where(Subscription.team_id == team_id, Subscription.active.is_(True))
        .values(active=False, updated_at=now).execution_options(synchronize_session=False)
    ).rowcount or 0
    for model in (Win, Narrative):  # their post jobs were just cancelled: "Post again" may retry them later
        session.execute(update(model).where(model.team_id == team_id, model.post_status == POST_PENDING)
                        .values(post_status=POST_FAILED).execution_options(synchronize_session=False))
    ensure_workspace(session, team_id, enterprise_id)
    forget_uninstall(session, team_id)
    session.execute(update(Workspace).where(Workspace.team_id == team_id).values(uninstalled_at=now)
                    .execution_options(synchronize_session=False))
    return Uninstalled(True, tokens, jobs, schedules)


def forget_org_install(session: Session, enterprise_id: str) -> int:
    """Delete an org-wide install's tokens (stored with the org and no workspace). Returns rows deleted."""
    return sum(session.execute(delete(table).where(table.c.enterprise_id == enterprise_id, table.c.team_id.is_(None)))
               .rowcount or 0 for table in (installations, bots))


def _tenant_tables() -> list[Table]:
    """Every table holding a workspace's rows, children before parents (foreign keys)."""
    return [t for t in reversed(Base.metadata.sorted_tables) if "team_id" in t.c]


def purge(session: Session, team_id: str) -> dict[str, int]:
    """Delete every row of the workspace, in every table (tokens included), and its words from the
    search index. Returns rows per table."""
    removed: dict[str, int] = {}
    for table in _tenant_tables():
        count = session.execute(delete(table).where(table.c.team_id == team_id)).rowcount or 0
        if count:
            removed[table.name] = count
    search.drop_deleted_words(session, "wins", "narratives")
    return removed
