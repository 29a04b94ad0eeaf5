"""Digest and prompt schedules: `/aiwin digest|prompts on|off|preview`, the scheduler's tick, exactly-once
delivery (threads, processes, the CLI), catch-up, daylight saving, and a 1,000-channel fan-out.

Time is explicit: the tick and the services take `now`, so each test says what time it is.
Every test that uses the database runs on SQLite and on PostgreSQL (see conftest.py)."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from bot.db import Database
from bot.jobs.deliveries import POST_DELIVERY, run_tick
from bot.jobs.worker import JobContext, Worker
from bot.models import (
    DELIVERY_FAILED,
    DELIVERY_POSTED,
    KIND_DIGEST,
    KIND_PROMPTS,
    Delivery,
    Job,
    Subscription,
    Win,
)
from bot.registry import JOB_HANDLERS, PERIODIC
from bot.services import subscriptions as subs
from bot.services.subscriptions import Schedule, ScheduleError, parse_schedule
from bot.services.wins import NewWin, record_win
from bot.services.workspaces import ensure_workspace
from bot.slack.client import SlackClients
from tests.conftest import ALICE, BOB, CAROL, CHANNEL, DAVE, TEAM
from tests.helpers import UNLIMITED, all_text, members_synced_at, wait_until

pytestmark = pytest.mark.dates  # .ci/run runs these again with the clock moved ahead


def record_public_win(s, text: str) -> None:
    """A win said in a public channel (as conversations.info would say), so digests may show its text."""
    new = NewWin(team_id=TEAM, enterprise_id=None, author_id=BOB, channel_id=None, text=text, post=False)
    result = record_win(s, new, limits=UNLIMITED)
    s.execute(update(Win).where(Win.id == result.win.id).values(private=False))

NY = "America/New_York"
# Friday 27 Nov 2026, 16:00 in New York (EST, UTC-5): the default digest time of week 2026-W48.
FRIDAY_DUE = datetime(2026, 11, 27, 21, 0, tzinfo=UTC)
SUBSCRIBED = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # Monday of week 2026-W48
ROOT = Path(__file__).resolve().parents[1]


# -- helpers (the other digest/prompt test modules import these) -------------------------------------------


def make_sub(db: Database, channel: str, *, kind: str = KIND_DIGEST, schedule: Schedule | None = None,
             tz: str = NY, since: datetime = SUBSCRIBED, team: str = TEAM) -> subs.SubscriptionView:
    with db.session(team) as s:
        ensure_workspace(s, team, None)
        return subs.subscribe(s, team_id=team, enterprise_id=None, kind=kind, channel_id=channel,
                              schedule=schedule or Schedule(*subs.DEFAULTS[kind]), tz=tz, user_id=DAVE,
                              now=since)


def deliveries(db: Database, team: str = TEAM) -> list[Delivery]:
    with db.read(team) as s:
        return list(s.scalars(select(Delivery).order_by(Delivery.id)).all())


def delivery_jobs(db: Database) -> list[Job]:
    with db.read() as s:
        return list(s.scalars(select(Job).where(Job.kind == POST_DELIVERY).order_by(Job.id)).all())


def start_worker(db: Database, fake_slack, threads: int = 4) -> Worker:
    clients = SlackClients(fake_slack.api_url, token=fake_slack.token)
    return Worker(JobContext(db=db, clients=clients), threads=threads, poll_interval=0.1,
                  handlers=JOB_HANDLERS).start()


def settled(db: Database, team: str = TEAM) -> list[Delivery]:
    """Wait until no delivery is still being posted."""
    return wait_until(lambda: (lambda ds: ds if ds and all(d.status != "claimed" for d in ds) else None)(
        deliveries(db, team)), timeout=60, message="every delivery posted or failed")


def ok_posts(fake_slack, **match) -> list:
    return [c for c in fake_slack.calls("chat.postMessage", **match) if c.ok]


# -- parsing -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("", (4, 16, 0)),
    ("friday 16:00", (4, 16, 0)),
    ("Fri 4pm", (4, 16, 0)),
    ("THURSDAY 4:30pm", (3, 16, 30)),
    ("16:45", (4, 16, 45)),
    ("sun", (6, 16, 0)),
    ("9:05 tue", (1, 9, 5)),
    ("wed 4 pm", (2, 16, 0)),
    ("mon 12am", (0, 0, 0)),
    ("mon 12pm", (0, 12, 0)),
    ("sat 7:00", (5, 7, 0)),
])
def test_day_and_time_words(text, expected):
    assert parse_schedule(text, KIND_DIGEST) == Schedule(*expected)


def test_prompts_default_is_monday_nine():
    assert parse_schedule("", KIND_PROMPTS) == Schedule(0, 9, 0)


@pytest.mark.parametrize(("text", "problem", "word"), [
    ("funday", "unknown word", "funday"),
    ("fri 25:00", "unknown word", "25:00"),
    ("fri 4:61pm", "unknown word", "4:61pm"),
    ("13pm", "unknown word", "13pm"),
    ("fri sat", "two days", "sat"),
    ("fri 4pm 5pm", "two times", "5pm"),
    ("<!channel>", "unknown word", "<!channel>"),
])
def test_bad_day_and_time_words(text, problem, word):
    with pytest.raises(ScheduleError) as e:
        parse_schedule(text, KIND_DIGEST)
    assert (e.value.problem, e.value.word) == (problem, word)


def test_week_parsing():
    assert subs.parse_week("2026-w48") == "2026-W48"
    assert subs.parse_week("2026-W1") == "2026-W01"
    for bad in ("2026-W54", "2025-W53", "2026-48", "W48", "2026-W00", ""):
        with pytest.raises(ValueError):
            subs.parse_week(bad)
    assert subs.parse_week("2026-W53") == "2026-W53"  # 2026 has 53 ISO weeks


def test_a_deliverys_week_is_the_utc_week_of_its_due_instant():
    """The week every figure uses, whatever the zone the instant is written in."""
    from zoneinfo import ZoneInfo

    assert subs.iso_week(datetime(2026, 11, 29, 23, 59, 59, tzinfo=UTC)) == "2026-W48"
    assert subs.iso_week(datetime(2026, 11, 30, 0, 0, tzinfo=UTC)) == "2026-W49"
    # Monday 00:30 in Berlin is still Sunday in UTC; Sunday 20:00 in New York is already Monday.
    assert subs.iso_week(datetime(2026, 11, 30, 0, 30, tzinfo=ZoneInfo("Europe/Berlin"))) == "2026-W48"
    assert subs.iso_week(datetime(2026, 11, 29, 20, 0, tzinfo=ZoneInfo(NY))) == "2026-W49"
    assert subs.week_monday("2026-W49").isoformat() == "2026-11-30"


# -- due instants across daylight saving (pure) ------------------------------------------------------------


@pytest.mark.parametrize(("start", "schedule", "expected"), [
    # Spring forward, Sunday 2026-03-08 02:00 EST → 03:00 EDT: 02:30 does not exist that day and
    # falls at 03:30 EDT (07:30 UTC), like APScheduler's CronTrigger; other weeks stay 02:30 local.
    (datetime(2026, 2, 28, 12, tzinfo=UTC), Schedule(6, 2, 30),
     ["2026-03-01 07:30", "2026-03-08 07:30", "2026-03-15 06:30"]),
    (datetime(2026, 2, 28, 12, tzinfo=UTC), Schedule(6, 16, 0),
     ["2026-03-01 21:00", "2026-03-08 20:00", "2026-03-15 20:00"]),
    # Fall back, Sunday 2026-11-01 02:00 EDT → 01:00 EST: 01:30 happens twice and counts once (the first).
    (datetime(2026, 10, 31, 12, tzinfo=UTC), Schedule(6, 1, 30),
     ["2026-11-01 05:30", "2026-11-08 06:30", "2026-11-15 06:30"]),
    (datetime(2026, 10, 31, 12, tzinfo=UTC), Schedule(6, 2, 30),
     ["2026-11-01 07:30", "2026-11-08 07:30", "2026-11-15 07:30"]),
    (datetime(2026, 10, 31, 12, tzinfo=UTC), Schedule(6, 16, 0),
     ["2026-11-01 21:00", "2026-11-08 21:00", "2026-11-15 21:00"]),
])
def test_one_due_instant_per_week_across_dst(start, schedule, expected):
    seen: dict[str, datetime] = {}
    t = start
    while t < start + timedelta(days=21):  # every 5 minutes for three weeks
        due = subs.last_due(schedule, NY, t)
        assert due <= t < due + timedelta(days=7, hours=1)
        period = subs.iso_week(due)
        assert seen.setdefault(period, due) == due, f"{period} has two due instants"
        t += timedelta(minutes=5)
    got = sorted(f"{d:%Y-%m-%d %H:%M}" for d in seen.values() if d >= start)
    assert got == expected
    assert subs.next_due(schedule, NY, start).strftime("%Y-%m-%d %H:%M") == expected[0]


# -- the tick ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("first_sunday", "label"), [
    (datetime(2026, 3, 1, tzinfo=UTC), "spring forward"),
    (datetime(2026, 10, 25, tzinfo=UTC), "fall back"),
])
def test_ticks_across_dst_claim_each_week_once(db, first_sunday, label):
    for channel, (hour, minute) in {"C0DST0230": (2, 30), "C0DST1600": (16, 0), "C0DST0130": (1, 30)}.items():
        make_sub(db, channel, kind=KIND_PROMPTS, schedule=Schedule(6, hour, minute),
                 since=first_sunday - timedelta(days=1))
    t = first_sunday - timedelta(days=1)
    while t < first_sunday + timedelta(days=16):  # a tick every 20 minutes, Saturday to three Sundays later
        run_tick(db, now=t)
        t += timedelta(minutes=20)
    by_channel: dict[str, list[str]] = {}
    for d in deliveries(db):
        by_channel.setdefault(d.channel_id, []).append(d.period)
    weeks = [subs.iso_week(first_sunday + timedelta(days=7 * i)) for i in range(3)]
    for channel, periods in by_channel.items():
        assert periods == weeks, (label, channel, periods)
    assert len(by_channel) == 3
    assert len(delivery_jobs(db)) == 9  # one post job per claim, never two


def test_tick_claims_once_and_the_worker_posts_once(db, fake_slack):
    make_sub(db, CHANNEL)
    assert run_tick(db, now=FRIDAY_DUE - timedelta(minutes=1)).claimed == []  # not due yet
    first = run_tick(db, now=FRIDAY_DUE + timedelta(seconds=30))
    again = run_tick(db, now=FRIDAY_DUE + timedelta(minutes=1, seconds=30))
    assert len(first.claimed) == 1 and again.claimed == []
    [d] = deliveries(db)
    assert (d.kind, d.channel_id, d.period) == (KIND_DIGEST, CHANNEL, "2026-W48")
    [job] = delivery_jobs(db)
    assert job.payload == {"delivery_id": d.id, "pace_channel": CHANNEL, "tz": NY}
    worker = start_worker(db, fake_slack)
    try:
        [d] = settled(db)
    finally:
        worker.stop()
    [call] = ok_posts(fake_slack, channel=CHANNEL)
    assert d.status == DELIVERY_POSTED and d.message_ts == call.response["ts"]
    assert "AI wins this week" in all_text(call.params["blocks"])


def test_digest_links_use_the_workspace_domain(db, fake_slack):
    from tests.test_digest import add_win

    make_sub(db, CHANNEL)
    add_win(db, FRIDAY_DUE - timedelta(days=2), (BOB,), "wrote the launch FAQ with ChatGPT", minutes=120,
            posted=(CHANNEL, "1764000000.000100"))
    assert len(run_tick(db, now=FRIDAY_DUE + timedelta(seconds=30)).claimed) == 1
    worker = start_worker(db, fake_slack)
    try:
        settled(db)
    finally:
        worker.stop()
    [call] = ok_posts(fake_slack, channel=CHANNEL)
    text = all_text(call.params["blocks"])
    # The same address chat.getPermalink gives (the sandbox's workspace domain), never slack.com's redirector.
    link = f"https://acme-corp.slack.com/archives/{CHANNEL}/p1764000000000100"
    assert f"<{link}|see the win>" in text and "https://slack.com/archives" not in text
    assert len(fake_slack.calls("auth.test")) == 1  # asked once, then remembered


def test_a_posted_digest_counts_the_members_from_users_list(db, fake_slack):
    """The digest's people are the members active in its week: before posting it copies users.list (at most
    daily, as `/aiwin stats` and App Home do), so a first digest counts everyone active, not only the few
    members the app happened to meet one by one."""
    from bot.services.home import HOME_REFRESH
    from tests.test_digest import add_win

    make_sub(db, CHANNEL)
    add_win(db, FRIDAY_DUE - timedelta(days=2), (ALICE,), f"<@{ALICE}> drafted the FAQ", author=BOB, minutes=120)
    add_win(db, FRIDAY_DUE - timedelta(days=1), (CAROL,), "summarised the interviews", minutes=30)
    with db.session(TEAM) as s:  # nobody has App Home open: its refresh would copy users.list before the digest
        s.execute(Job.__table__.delete().where(Job.__table__.c.kind == HOME_REFRESH))
    assert len(run_tick(db, now=FRIDAY_DUE + timedelta(seconds=30)).claimed) == 1
    worker = start_worker(db, fake_slack)
    try:
        settled(db)
    finally:
        worker.stop()
    [call] = ok_posts(fake_slack, channel=CHANNEL)
    # bob recorded a shout-out, alice received it, carol recorded her own: three members active.
    assert "*2 AI wins* · *3 people* active · *2 h 30 min saved*" in all_text(call.params["blocks"])
    assert len(fake_slack.calls("users.list")) == 1


def test_catch_up_after_downtime_posts_once(db, fake_slack):
    make_sub(db, CHANNEL)
    back = FRIDAY_DUE + timedelta(hours=10)  # everything was down at 16:00; back at 02:00
    assert len(run_tick(db, now=back).claimed) == 1
    assert run_tick(db, now=back + timedelta(minutes=1)).claimed == []
    worker = start_worker(db, fake_slack)
    try:
        [d] = settled(db)
    finally:
        worker.stop()
    assert d.status == DELIVERY_POSTED and d.period == "2026-W48"
    assert len(ok_posts(fake_slack)) == 1


def test_a_miss_past_the_grace_window_is_skipped_and_logged_once(db, caplog):
    make_sub(db, CHANNEL)
    back = FRIDAY_DUE + timedelta(days=3)  # Monday evening: last Friday's digest is stale
    with caplog.at_level(logging.WARNING, logger="bot.jobs.deliveries"):
        result = run_tick(db, now=back)
        run_tick(db, now=back + timedelta(minutes=1))
    assert result.claimed == [] and len(result.skipped) == 1
    [d] = deliveries(db)
    assert d.status == subs.DELIVERY_SKIPPED and d.period == "2026-W48" and "grace" in d.error
    assert delivery_jobs(db) == []
    skipped = [r for r in caplog.records if "skipped the digest" in r.getMessage()]
    assert len(skipped) == 1 and CHANNEL in skipped[0].getMessage()


def test_turning_on_after_the_due_time_does_not_post_for_the_past(db):
    make_sub(db, CHANNEL, since=FRIDAY_DUE + timedelta(hours=1))  # subscribed at 17:00, after today's 16:00
    assert run_tick(db, now=FRIDAY_DUE + timedelta(hours=2)).claimed == []
    next_friday = FRIDAY_DUE + timedelta(days=7)
    assert len(run_tick(db, now=next_friday).claimed) == 1
    assert [d.period for d in deliveries(db)] == ["2026-W49"]


def test_inactive_and_changed_subscriptions_are_read_each_tick(db):
    make_sub(db, CHANNEL)
    with db.session(TEAM) as s:
        subs.unsubscribe(s, team_id=TEAM, kind=KIND_DIGEST, channel_id=CHANNEL, now=SUBSCRIBED)
    assert run_tick(db, now=FRIDAY_DUE).claimed == []
    make_sub(db, CHANNEL, schedule=Schedule(3, 10, 0))  # back on, Thursdays 10:00 (no restart)
    assert len(run_tick(db, now=datetime(2026, 11, 26, 15, 1, tzinfo=UTC)).claimed) == 1
    assert run_tick(db, now=FRIDAY_DUE).claimed == []  # same week: already delivered
    with db.read(TEAM) as s:
        assert s.scalar(select(func.count()).select_from(Subscription)) == 1


def test_one_broken_subscription_does_not_stop_the_others(db):
    make_sub(db, CHANNEL)
    with db.session(TEAM) as s:  # written by something other than subscribe(), which checks zones
        s.add(Subscription(team_id=TEAM, kind=KIND_DIGEST, channel_id="C0MARS0001", weekday=4, hour=16,
                           minute=0, tz="Mars/Olympus_Mons", created_by=DAVE, created_at=SUBSCRIBED,
                           updated_at=SUBSCRIBED))
    result = run_tick(db, now=FRIDAY_DUE)
    assert len(result.claimed) == 1 and result.errors == 1
    assert [d.channel_id for d in deliveries(db)] == [CHANNEL]


def test_two_ticks_in_threads_claim_each_subscription_once(db, fake_slack):
    channels = [f"C0THREAD{i:03d}" for i in range(40)]
    for c in channels:
        make_sub(db, c)
    barrier = threading.Barrier(2)
    results = []

    def tick() -> None:
        barrier.wait()
        results.append(run_tick(db, now=FRIDAY_DUE + timedelta(seconds=5)))

    threads = [threading.Thread(target=tick) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sum(len(r.claimed) for r in results) == 40 and all(r.errors == 0 for r in results)
    assert sorted(d.channel_id for d in deliveries(db)) == channels
    assert len(delivery_jobs(db)) == 40
    worker = start_worker(db, fake_slack, threads=8)
    try:
        settled(db)
    finally:
        worker.stop()
    posts = ok_posts(fake_slack)
    assert sorted(c.params["channel"] for c in posts) == channels


TICK_SCRIPT = """
import os, sys, time
from datetime import datetime
from bot.db import Database
from bot.jobs.deliveries import run_tick
url, now, go = sys.argv[1:4]
db = Database(url)
deadline = time.monotonic() + 60
while not os.path.exists(go) and time.monotonic() < deadline:
    time.sleep(0.005)
print(len(run_tick(db, now=datetime.fromisoformat(now)).claimed))
"""


def test_two_scheduler_processes_claim_each_subscription_once(db, db_url, tmp_path):
    channels = [f"C0PROC{i:04d}" for i in range(150)]
    for c in channels:
        make_sub(db, c)
    go = tmp_path / "go"
    now = (FRIDAY_DUE + timedelta(seconds=5)).isoformat()
    procs = [subprocess.Popen([sys.executable, "-c", TICK_SCRIPT, db_url, now, str(go)], cwd=ROOT,  # noqa: S603
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    go.touch()  # both processes start their tick together
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert sum(int(out.strip().splitlines()[-1]) for out, _ in outputs) == 150
    assert sorted(d.channel_id for d in deliveries(db)) == channels
    assert len(delivery_jobs(db)) == 150


def test_fan_out_to_1000_channels_with_rate_limits_and_errors(db, fake_slack, caplog):
    channels = [f"C0FAN{i:04d}" for i in range(1000)]
    with db.session(TEAM) as s:
        ensure_workspace(s, TEAM, None)
        for c in channels:
            subs.subscribe(s, team_id=TEAM, enterprise_id=None, kind=KIND_DIGEST, channel_id=c,
                           schedule=Schedule(4, 16, 0), tz=NY, user_id=DAVE, now=SUBSCRIBED)
    with db.session(TEAM) as s:
        record_public_win(s, "triaged 200 tickets with Gemini, saved 2h")
    broken = set(channels[-10:])  # archived or gone: these can never be posted
    limited = set(channels[:100])
    flaky = set(channels[100:150])
    post = "chat.postMessage"
    fake_slack.fail(post, error="channel_not_found", times=None, match=lambda p: p["channel"] in broken)
    fake_slack.fail(post, status=429, retry_after=1, times=100, match=lambda p: p["channel"] in limited)
    fake_slack.fail(post, status=500, times=100, match=lambda p: p["channel"] in flaky)

    # Fridays at 16:00 New York; this week's were claimed while the worker was still starting.
    result = run_tick(db, now=FRIDAY_DUE + timedelta(seconds=2))
    assert len(result.claimed) == 1000
    worker = start_worker(db, fake_slack, threads=16)
    try:
        with caplog.at_level(logging.WARNING, logger="bot.jobs.deliveries"):
            done = wait_until(lambda: (lambda ds: ds if all(d.status != "claimed" for d in ds) else None)(
                deliveries(db)), timeout=240, message="1,000 deliveries settled")
    finally:
        worker.stop()

    posts: dict[str, list] = {}
    for call in ok_posts(fake_slack):
        posts.setdefault(call.params["channel"], []).append(call)
    assert set(posts) == set(channels) - broken
    assert all(len(calls) == 1 for calls in posts.values()), "a channel got more than one post"
    statuses = {d.channel_id: d for d in done}
    for c in set(channels) - broken:
        assert statuses[c].status == DELIVERY_POSTED and statuses[c].message_ts == posts[c][0].response["ts"]
    for c in broken:
        assert statuses[c].status == DELIVERY_FAILED and statuses[c].error == "channel_not_found"
    # The 429s were waited out, not counted as failures; the failures were reported one by one.
    assert len([c for c in fake_slack.calls("chat.postMessage") if c.status == 429]) == 100
    reported = [r.getMessage() for r in caplog.records if "could not post the digest" in r.getMessage()]
    assert sorted(m.split(" to channel ")[1].split()[0] for m in reported) == sorted(broken)


def test_the_tick_runs_in_the_scheduler_every_minute():
    from bot.scheduler import build_scheduler

    scheduler = build_scheduler(None, PERIODIC)
    job = scheduler.get_job("deliveries_tick")
    assert job is not None
    fire = job.trigger.get_next_fire_time(None, datetime(2026, 11, 27, 15, 59, 30, tzinfo=UTC))
    assert fire == datetime(2026, 11, 27, 16, 0, tzinfo=UTC)


# -- /aiwin digest|prompts on|off|preview ------------------------------------------------------------------


@pytest.fixture
def admin(fake_slack):
    fake_slack.add_user(DAVE, "dave", is_admin=True, tz=NY)
    return DAVE


def response(fake_slack, name: str):
    """The message the app sent to the response_url named `name`."""
    return wait_until(lambda: [c for c in fake_slack.calls("response_url") if c.path.endswith(f"/{name}")],
                      message=f"a response to {name}")[-1]


def subscription(db, kind=KIND_DIGEST, channel=CHANNEL):
    with db.read(TEAM) as s:
        return s.scalars(select(Subscription).where(Subscription.kind == kind,
                                                    Subscription.channel_id == channel)).first()


def test_admin_turns_the_digest_on_in_their_time_zone(slack, fake_slack, db, admin):
    r = slack.command("/aiwin", "digest on", user_id=admin, channel_id=CHANNEL,
                      response_url=fake_slack.webhook_url("on"))
    assert r.status == 200 and not r.body.strip()  # nothing until the lazy part answers
    text = all_text(response(fake_slack, "on").params)
    assert "Every Friday at 16:00 America/New_York" in text and "<#C05RPT12345>" in text
    sub = subscription(db)
    assert (sub.weekday, sub.hour, sub.minute, sub.tz, sub.active) == (4, 16, 0, NY, True)

    slack.command("/aiwin", "digest on THU 9:30am", user_id=admin, channel_id=CHANNEL,
                  response_url=fake_slack.webhook_url("change"))
    assert "Every Thursday at 09:30 America/New_York" in all_text(response(fake_slack, "change").params)
    sub = subscription(db)
    assert (sub.weekday, sub.hour, sub.minute) == (3, 9, 30)

    slack.command("/aiwin", "digest off", user_id=admin, channel_id=CHANNEL,
                  response_url=fake_slack.webhook_url("off"))
    assert "Stopped" in all_text(response(fake_slack, "off").params)
    assert subscription(db).active is False
    slack.command("/aiwin", "digest off", user_id=admin, channel_id=CHANNEL,
                  response_url=fake_slack.webhook_url("off-again"))
    assert "was not on in this channel" in all_text(response(fake_slack, "off-again").params)
    with db.read(TEAM) as s:
        assert s.scalar(select(func.count()).select_from(Subscription)) == 1


def test_prompts_on_defaults_to_monday_nine(slack, fake_slack, db, admin):
    fake_slack.add_user(admin, "dave", is_admin=True, tz="Europe/Berlin")
    slack.command("/aiwin", "prompts on", user_id=admin, channel_id="C0LEADERS1",
                  response_url=fake_slack.webhook_url("p"))
    assert "Every Monday at 09:00 Europe/Berlin" in all_text(response(fake_slack, "p").params)
    sub = subscription(db, KIND_PROMPTS, "C0LEADERS1")
    assert (sub.weekday, sub.hour, sub.tz) == (0, 9, "Europe/Berlin")


@pytest.mark.parametrize("text", ["digest on", "digest off", "prompts on mon 9am", "prompts off"])
def test_non_admins_are_refused_politely(slack, fake_slack, db, text):
    if text == "digest off":
        make_sub(db, CHANNEL)
    r = slack.command("/aiwin", text, user_id=BOB, channel_id=CHANNEL,
                      response_url=fake_slack.webhook_url("no"))
    assert r.status == 200
    said = all_text(response(fake_slack, "no").params)
    assert "Only workspace admins" in said and "preview" in said
    sub = subscription(db, KIND_DIGEST if text.startswith("digest") else KIND_PROMPTS)
    assert sub is None or sub.active is True  # nothing changed


@pytest.mark.parametrize(("text", "shown"), [
    ("digest on funday", "“funday”"),
    ("digest on fri 25:00", "“25:00”"),
    ("prompts on mon tue", "“tue”"),
    ("digest on <!channel> 4pm", "“&lt;!channel&gt;”"),
])
def test_bad_day_or_time_gets_an_example(slack, fake_slack, db, admin, text, shown):
    r = slack.command("/aiwin", text, user_id=admin, channel_id=CHANNEL)
    assert r.status == 200
    said = all_text(r.json())
    assert shown in said and "For example: `/aiwin" in said and "<!channel>" not in said
    assert subscription(db) is None and subscription(db, KIND_PROMPTS) is None


def test_on_in_a_direct_message_is_refused(slack, db, admin):
    r = slack.command("/aiwin", "digest on", user_id=admin, channel_id="D0DIRECT01")
    assert "in the channel that should get" in all_text(r.json())
    assert subscription(db, channel="D0DIRECT01") is None


def test_digest_help(slack):
    r = slack.command("/aiwin", "digest", user_id=BOB)
    assert "/aiwin digest on [day] [time]" in all_text(r.json())


def test_anyone_can_preview_the_digest(slack, fake_slack, db):
    with db.session(TEAM) as s:
        record_public_win(s, "wrote the launch FAQ with ChatGPT, saved 2h")
    r = slack.command("/aiwin", "digest preview", user_id=BOB, channel_id=CHANNEL,
                      response_url=fake_slack.webhook_url("preview"))
    assert r.status == 200 and not r.body.strip()
    body = response(fake_slack, "preview").params
    assert body["response_type"] == "ephemeral"
    text = all_text(body["blocks"])
    assert "Preview, only visible to you" in text and "wrote the launch FAQ" in text and "2 h saved" in text
    # People are members active in the week: not counted before the member list's first copy, which the
    # preview starts in the background; once it is whole, the next preview counts them.
    assert "*1 AI win* · *2 h saved*" in text and "active" not in text.split("2 h saved")[0]
    wait_until(lambda: members_synced_at(db, TEAM), timeout=30, message="the member list copied")
    slack.command("/aiwin", "digest preview", user_id=BOB, channel_id=CHANNEL,
                  response_url=fake_slack.webhook_url("preview2"))
    assert "*1 AI win* · *1 person* active" in all_text(response(fake_slack, "preview2").params["blocks"])
    assert ok_posts(fake_slack) == []  # nothing was posted in the channel


def test_prompts_preview_shows_the_button(slack, fake_slack, db):
    slack.command("/aiwin", "prompts preview", user_id=BOB, channel_id=CHANNEL,
                  response_url=fake_slack.webhook_url("pp"))
    blocks = response(fake_slack, "pp").params["blocks"]
    [button] = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert button["action_id"] == "open_narrative_modal"
    assert json.loads(button["value"])["channel_id"] == CHANNEL


def test_subscribed_then_the_scheduler_posts(server, slack, fake_slack, db, admin):
    slack.command("/aiwin", "digest on fri 16:00", user_id=admin, channel_id=CHANNEL,
                  response_url=fake_slack.webhook_url("on"))
    response(fake_slack, "on")
    with db.session(TEAM) as s:  # the subscription began well before this Friday
        s.execute(Subscription.__table__.update().values(updated_at=SUBSCRIBED))
    runtime = server.runtime
    assert len(run_tick(runtime.db, now=FRIDAY_DUE, wake_worker=runtime.worker.wake_worker).claimed) == 1
    [call] = fake_slack.wait_for("chat.postMessage", channel=CHANNEL)
    assert call.params["unfurl_links"] in (False, "false", "0", 0)
    [d] = settled(db)
    assert d.message_ts == call.response["ts"]


# -- the CLI -----------------------------------------------------------------------------------------------


@pytest.fixture
def cli_env(monkeypatch, tmp_path, db_url, fake_slack):
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", fake_slack.token)
    monkeypatch.setenv("SLACK_API_URL", fake_slack.api_url)
    monkeypatch.setattr("bot.logs.setup_logging", lambda settings: None)  # keep pytest's log capture


def test_cli_digest_post_twice_posts_once(cli_env, db, fake_slack, capsys):
    from bot.cli import main

    make_sub(db, CHANNEL)
    with db.session(TEAM) as s:
        record_public_win(s, "summarised 40 interviews with Claude, saved 5h")
    week = subs.iso_week(datetime.now(UTC))
    assert main(["digest", "--channel", CHANNEL, "--week", week, "--post"]) == 0
    first = capsys.readouterr().out
    assert "summarised 40 interviews" in first and "posted (ts " in first
    assert main(["digest", "--post"]) == 0  # every subscribed channel: just this one
    second = capsys.readouterr().out
    assert "already posted" in second and "not posting again" in second
    assert main(["digest", "--week", week]) == 0  # printing shows the status
    assert "# status: posted" in capsys.readouterr().out
    [call] = ok_posts(fake_slack, channel=CHANNEL)
    [d] = deliveries(db)
    assert (d.status, d.message_ts, d.period) == (DELIVERY_POSTED, call.response["ts"], week)


def test_cli_concurrent_posts_post_once(cli_env, db, fake_slack):
    from bot.cli import main

    make_sub(db, CHANNEL)
    barrier = threading.Barrier(3)
    codes = []

    def run() -> None:
        barrier.wait()
        codes.append(main(["digest", "--channel", CHANNEL, "--week", "2026-W48", "--post"]))

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert codes == [0, 0, 0]
    assert len(ok_posts(fake_slack, channel=CHANNEL)) == 1
    assert len(deliveries(db)) == 1


def test_cli_reports_a_failed_post_and_can_try_again(cli_env, db, fake_slack, capsys):
    from bot.cli import main

    make_sub(db, "C0ARCHIVED")
    fake_slack.fail("chat.postMessage", error="is_archived", times=1)
    assert main(["digest", "--post", "--week", "2026-W48"]) == 1
    assert "could not post: is_archived" in capsys.readouterr().out
    assert main(["digest", "--week", "2026-W48"]) == 0
    assert "# status: FAILED: is_archived" in capsys.readouterr().out
    # Unarchived: an explicit retry posts.
    assert main(["digest", "--post", "--week", "2026-W48"]) == 0
    assert len(ok_posts(fake_slack, channel="C0ARCHIVED")) == 1


def test_cli_prompts_print_and_post(cli_env, db, fake_slack, capsys):
    from bot.cli import main

    make_sub(db, "C0LEADERS1", kind=KIND_PROMPTS)
    assert main(["prompts"]) == 0
    out = capsys.readouterr().out
    assert "Share one way you used AI this week" in out and "[Share how I used AI]" in out
    assert main(["prompts", "--post"]) == 0 and main(["prompts", "--post"]) == 0
    [call] = ok_posts(fake_slack, channel="C0LEADERS1")
    assert "Share one way you used AI" in all_text(call.params["blocks"])


@pytest.mark.parametrize("week", ["2026-W60", "last week", "2026W48"])
def test_cli_bad_week_is_one_line_and_exit_2(cli_env, db, capsys, week):
    from bot.cli import main

    make_sub(db, CHANNEL)
    assert main(["digest", "--week", week]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "2026-W48" in err and "Traceback" not in err


def test_cli_needs_team_when_there_are_several(cli_env, db, capsys):
    from bot.cli import main

    for team in ("T0AAAAAAA", "T0BBBBBBB"):
        with db.session(team) as s:
            ensure_workspace(s, team, None)
    assert main(["digest"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "T0AAAAAAA" in err and "T0BBBBBBB" in err
    assert main(["digest", "--team", "T0NOPE"]) == 2
    assert "T0NOPE" in capsys.readouterr().err
    assert main(["digest", "--team", "T0AAAAAAA"]) == 0
    assert "workspace T0AAAAAAA (no channel)" in capsys.readouterr().out


def test_cli_post_without_a_channel_is_a_clear_error(cli_env, db, capsys):
    from bot.cli import main

    with db.session(TEAM) as s:
        ensure_workspace(s, TEAM, None)
    assert main(["digest", "--post"]) == 2
    assert "pass --channel" in capsys.readouterr().err
