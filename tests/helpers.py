"""Small test helpers."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bot.db import Database
from bot.models import Win
from bot.services.ratelimit import Limits

T = TypeVar("T")


def wait_until(condition: Callable[[], T], timeout: float = 10.0, message: str = "condition") -> T:
    """Poll `condition` until it returns something truthy; fail after `timeout` seconds.

    This waits *for a condition* (a row written by another thread, a call recorded), checking
    every 20 ms; it is not a fixed sleep standing in for one."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(0.02)


def recorded(db: Database, team_id: str, count: int = 1, timeout: float = 15.0) -> list[Win]:
    """The workspace's wins once the job worker has recorded `count` of them (a command is acknowledged
    when it is stored in the queue; the worker records it a moment later)."""
    def enough() -> list[Win] | None:
        found = wins(db, team_id)
        return found if len(found) >= count else None

    return wait_until(enough, timeout=timeout, message=f"{count} win(s) recorded")


def settled(db: Database, team_id: str, timeout: float = 15.0) -> list[Win]:
    """The workspace's wins once every acknowledged command has been handled by the worker (recorded, or
    refused by the per-person limit's authority)."""
    from bot.models import JOB_PENDING

    try:
        wait_until(lambda: all(c.status != JOB_PENDING for c in commands(db, team_id)), timeout=timeout,
                   message="every command handled")
    except AssertionError as e:
        left = [(c.id, c.status, c.attempts, c.locked_by, c.last_error) for c in commands(db, team_id)
                if c.status == JOB_PENDING]
        raise AssertionError(f"{e}; still pending (id, status, attempts, holder, last error): {left}") from None
    return wins(db, team_id)


def commands(db: Database, team_id: str) -> list:  # noqa: ANN201 - Job rows
    """The `/aiwin <win>` commands stored by their acks (bot/services/inbox.py), oldest first."""
    from bot.models import Job
    from bot.services.inbox import RECORD_COMMAND

    with db.read(team_id) as s:
        return list(s.scalars(select(Job).where(Job.kind == RECORD_COMMAND).order_by(Job.id)).all())


def wins(db: Database, team_id: str) -> list[Win]:
    with db.read(team_id) as s:
        return list(s.scalars(select(Win).options(selectinload(Win.owners)).order_by(Win.id)).all())


def all_text(blocks: list[dict]) -> str:
    """Every string inside a Block Kit structure, joined: for asserting what a message says."""
    out: list[str] = []

    def walk(x: object) -> None:
        if isinstance(x, dict):
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)
        elif isinstance(x, str):
            out.append(x)

    walk(blocks)
    return "\n".join(out)


def answer(slack, fake_slack, user: str, text: str, name: str) -> str:  # noqa: ANN001
    """`/aiwin <text>`: the ack's answer, or (after an empty ack, while a check runs) the answer that
    came on the response_url named `name`."""
    r = slack.command("/aiwin", text, user_id=user, response_url=fake_slack.webhook_url(name))
    assert r.status == 200
    if r.body.strip():
        return all_text(r.json())
    [reply] = wait_until(lambda: [c for c in fake_slack.calls("response_url") if c.path.endswith("/" + name)],
                         message=f"the answer to /aiwin {text}")
    return all_text(reply.params)


def members_synced_at(db: Database, team_id: str):  # noqa: ANN201 - a datetime or None
    from bot.models import Workspace

    with db.read(team_id) as s:
        return s.scalar(select(Workspace.members_synced_at).where(Workspace.team_id == team_id))


def copy_members(server, db: Database, team_id: str, enterprise_id: str | None = None) -> None:  # noqa: ANN001
    """Copy users.list into `members` through the app's own job, and wait until the copy is whole."""
    from bot.services.members import refresh_members

    refresh_members(db, team_id, enterprise_id)
    server.runtime.worker.wake_worker()
    wait_until(lambda: members_synced_at(db, team_id), timeout=30, message="the member list copied")


# For tests that record through the win service directly: a limit nobody reaches, even when a test moves
# the clock back years (a burst of a billion at one a minute; the limit itself is tested in
# tests/test_hardening_rate.py).
UNLIMITED = Limits(burst=10**9, per_minute=1.0)


def restart_worker(server) -> None:  # noqa: ANN001
    """Start the server's job worker again after a test stopped it (a Worker cannot be restarted)."""
    from bot.jobs.worker import Worker

    old = server.runtime.worker
    new = Worker(old.ctx, threads=old.threads, poll_interval=old.poll_interval, handlers=old.handlers,
                 busy=old.busy, lease=old.lease)
    server.runtime.worker = new
    server.app.deps.wake_worker = new.wake_worker
    new.start()
