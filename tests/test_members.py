"""Copying a big workspace's member list from users.list (a Tier 2 method, paginated): a 429 midway is
waited out and the walk resumes from its cursor, never from page 1; a copy cut short never shows
figures as if it were whole. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import func, select

from bot.jobs.members import copy_members
from bot.jobs.worker import JobContext
from bot.models import Job, Member, queue
from bot.services import adoption, figures
from bot.services.members import COPY_MEMBERS, PAGE_SIZE, refresh_members
from bot.slack.client import SlackClients
from tests.conftest import BOB, ENTERPRISE, TEAM
from tests.helpers import members_synced_at, wait_until

BIG = 5_000


def add_people(fake_slack, n: int) -> set[str]:
    ids = {f"U9{i:08d}" for i in range(n)}
    for user_id in sorted(ids):
        fake_slack.add_user(user_id, f"member.{user_id.lower()}")
    return ids


def cursors_of_a_walk(fake_slack) -> list[str | None]:
    """The cursor of each page of a walk in pages of PAGE_SIZE, as the sandbox gives them (page 1 has
    none); the calls made to learn them are then forgotten."""
    client = WebClient(token=fake_slack.token, base_url=fake_slack.api_url)
    cursors: list[str | None] = [None]
    while next_cursor := client.users_list(limit=PAGE_SIZE, cursor=cursors[-1])["response_metadata"]["next_cursor"]:
        cursors.append(next_cursor)
    fake_slack.reset()
    return cursors


def member_ids(db) -> set[str]:
    with db.read(TEAM) as s:
        return set(s.scalars(select(Member.user_id)))


def test_a_429_midway_is_waited_out_and_the_walk_resumes_from_its_cursor(slack, fake_slack, db):
    people = add_people(fake_slack, BIG)
    cursors = cursors_of_a_walk(fake_slack)
    pages = len(cursors)
    assert pages == 26  # 5,000 people, the four in every test and the bot, 200 a page
    middle = cursors[pages // 2]
    fake_slack.fail("users.list", status=429, retry_after=1, match={"cursor": middle})

    slack.command("/aiwin", "stats", user_id=BOB)  # copies the member list, at most daily, after the ack
    wait_until(lambda: members_synced_at(db, TEAM), timeout=60, message="the member list copied")

    calls = fake_slack.calls("users.list")
    assert len(calls) == pages + 1
    [refused] = [c for c in calls if c.status == 429]
    retried = calls[calls.index(refused) + 1]
    assert retried.params.get("cursor") == middle and retried.ok
    assert retried.at - refused.at >= 1.0  # Retry-After: 1, by the sandbox's own clock
    assert [c.params.get("cursor") for c in calls if c.ok] == cursors  # each page once, none again
    assert people <= member_ids(db)


def test_a_copy_cut_short_counts_for_nothing_and_the_next_run_resumes_where_it_stopped(db, fake_slack):
    add_people(fake_slack, 450)  # pages of 200, 200 and 55
    cursors = cursors_of_a_walk(fake_slack)
    assert len(cursors) == 3
    now = datetime(2026, 12, 1, 9, tzinfo=UTC)
    assert refresh_members(db, TEAM, ENTERPRISE, now=now)
    assert not refresh_members(db, TEAM, ENTERPRISE, now=now + timedelta(minutes=1))  # one copy at a time
    ctx = JobContext(db=db, clients=SlackClients(fake_slack.api_url, token=fake_slack.token))

    # Slack fails on the third page: the first two are stored, but the list is not whole.
    fake_slack.fail("users.list", status=500, times=None, match={"cursor": cursors[2]})
    with pytest.raises(SlackApiError) as e:  # the worker retries it later, with backoff
        copy_members(ctx, claim(db, "worker-a"))
    assert e.value.response["error"] == "internal_error"
    assert len(member_ids(db)) == 2 * PAGE_SIZE and members_synced_at(db, TEAM) is None
    with db.read(TEAM) as s:  # figures do not take 400 stored people for the workspace
        assert figures.coverage(s, TEAM, figures.last_weeks(now, 4)).now.share is None
        assert figures.totals(s, TEAM, [figures.last_weeks(now, 1)])[0].people is None
        assert adoption.adoption_figures(s, TEAM, manager_ids=(), now=now).members_known is False

    # The worker died there; another takes the job over from the database and goes on from page 3.
    fake_slack.clear_failures()
    fake_slack.reset()
    with db.session() as s:
        queue.release(s, holder="worker-a")
    complete = copy_members(ctx, claim(db, "worker-b"))
    assert [c.params.get("cursor") for c in fake_slack.calls("users.list")] == [cursors[2]]
    with db.session(TEAM) as s:
        complete(s)
    assert members_synced_at(db, TEAM) == now  # whole, as of when the copy began
    with db.read(TEAM) as s:
        assert s.scalar(select(func.count()).select_from(Member)) == 450 + 5


def claim(db, holder: str) -> Job:
    with db.session() as s:
        [job] = queue.claim(s, limit=1, lease=timedelta(seconds=15), holder=holder)
    assert job.kind == COPY_MEMBERS
    return job
