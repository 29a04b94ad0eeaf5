"""The workspace's member list, copied from Slack's users.list, behind coverage and adoption figures.

users.list is a Tier 2 method (about 20 calls a minute) and pages through the workspace (Slack
recommends at most 200 members a page), so a big workspace takes dozens of calls and meets 429s
on the way. A copy is therefore its own job (bot/jobs/members.py, `COPY_MEMBERS`) that walks page by
page and never starts over:

* each page is stored (an upsert per member, so storing a page twice is harmless) in the same
  transaction as the cursor of the next one, kept in the job's payload; a 429, an error or a crash
  resumes from that cursor, after Retry-After for a 429 (the worker reschedules the job instead of
  holding a thread in a sleep);
* `Workspace.members_synced_at` says "a whole copy exists, as of then": it is set in the transaction
  that stores the last page, never before. Figures that need every member (coverage, adoption)
  read the list only once it is set, so a first copy cut short shows "not known yet" rather than a
  share of the members stored so far. A later copy cut short leaves rows from two complete copies a
  day apart, each true of its day: nothing is deleted on the way (a member who leaves Slack stays in
  users.list, marked `deleted`);
* at most one copy runs per workspace: a copy is started only when none is pending, and its dedupe
  key names the UTC day, so a copy that failed is tried again the next day, not on every Home open.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.db import Database
from bot.models import JOB_PENDING, Job, Workspace, utcnow
from bot.models.queue import enqueue
from bot.services.people import MEMBERS_SYNC_EVERY, remember_members
from bot.services.workspaces import ensure_workspace

COPY_MEMBERS = "copy_members"  # Job.kind
PAGE_SIZE = 200  # Slack: "We recommend no more than 200 results at a time" (the maximum is 1,000)


def refresh_members(db: Database, team_id: str, enterprise_id: str | None = None, *,
                    now: datetime | None = None, home_for: str | None = None) -> bool:
    """Start a copy of users.list when the last whole copy is a day old or there is none yet.
    Returns True if one was queued (the caller wakes the worker). When this is the workspace's first
    copy, `home_for`'s App Home is republished once it lands, so they see coverage straight away."""
    now = now or utcnow()
    with db.session(team_id) as session:
        ensure_workspace(session, team_id, enterprise_id)
        synced = session.scalar(select(Workspace.members_synced_at).where(Workspace.team_id == team_id))
        if synced is not None and now - synced < MEMBERS_SYNC_EVERY:
            return False
        pending = session.scalar(select(Job.id).where(Job.team_id == team_id, Job.kind == COPY_MEMBERS,
                                                      Job.status == JOB_PENDING).limit(1))
        if pending is not None:
            return False
        payload = {"cursor": None, "started_at": now.isoformat(), "first": synced is None, "home_for": home_for}
        job_id = enqueue(session, team_id=team_id, enterprise_id=enterprise_id, kind=COPY_MEMBERS,
                         payload=payload, dedupe_key=f"{COPY_MEMBERS}:{now:%Y-%m-%d}")
    return job_id is not None


def store_page(session: Session, team_id: str, users: Iterable[dict[str, Any]]) -> int:
    """One page of users.list into `members`, in the caller's transaction. Returns how many."""
    return remember_members(session, team_id, users)


def copy_finished(session: Session, team_id: str, started_at: datetime) -> None:
    """Mark the member list whole, as of when the copy began (a member who joined during a long copy
    may be missing until the next one)."""
    session.execute(update(Workspace).where(Workspace.team_id == team_id)
                    .values(members_synced_at=started_at).execution_options(synchronize_session=False))
