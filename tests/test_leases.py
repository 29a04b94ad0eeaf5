"""Job leases: short, named, renewed for all of a worker's jobs by one heartbeat UPDATE; a lapsed
lease is taken over; only the holder settles a job; a takeover does not celebrate a win twice.
Time is explicit (queue functions take `now`). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.jobs.wins import post_win
from bot.jobs.worker import LEASE, JobContext, Worker
from bot.models import JOB_DONE, JOB_PENDING, Job, queue, utcnow
from bot.registry import JOB_HANDLERS
from bot.services.wins import POST_WIN, NewWin, record_win
from bot.slack.client import SlackClients
from tests.conftest import BOB, CHANNEL, TEAM
from tests.helpers import UNLIMITED, commands, wins

pytestmark = pytest.mark.dates  # .ci/run runs these again with the clock moved ahead

T = timedelta(seconds=1)


def _job(db, job_id: int) -> Job:
    with db.read() as s:
        return s.get(Job, job_id)


def _enqueue(db, kind: str = "noop") -> int:
    with db.session() as s:
        return queue.enqueue(s, team_id=TEAM, kind=kind, payload={})


def test_renewal_keeps_a_job_and_a_lapsed_lease_is_taken_over(db):
    job_id = _enqueue(db)
    other = _enqueue(db)
    t0 = utcnow()
    with db.session() as s:
        [a] = queue.claim(s, limit=1, lease=LEASE, holder="A", now=t0)
    assert a.id == job_id and a.locked_by == "A" and not a.taken_over
    with db.session() as s:  # B gets only the other job while A's lease runs
        assert [j.id for j in queue.claim(s, limit=5, lease=LEASE, holder="B", now=t0 + 10 * T)] == [other]
    with db.session() as s:  # A's heartbeat: one statement renews what A holds, nothing of B's
        assert queue.renew(s, holder="A", lease=LEASE, now=t0 + 10 * T) == 1
    assert _job(db, other).locked_by == "B"
    with db.session() as s:  # past the first lease, but renewed: still A's
        assert queue.claim(s, limit=5, lease=LEASE, holder="C", now=t0 + 20 * T) == []
        assert queue.renew(s, holder="B", lease=LEASE, now=t0 + 20 * T) == 1
    with db.session() as s:  # A stops renewing (dead): its lease lapses and C takes over
        [c] = queue.claim(s, limit=5, lease=LEASE, holder="C", now=t0 + 26 * T)
    assert c.id == job_id and c.taken_over and c.attempts == 2
    with db.session() as s:  # the old holder cannot settle it any more; the new one can
        assert queue.finish(s, job_id, holder="A") is False
        assert queue.reschedule(s, job_id, run_at=t0, error="x", holder="A") is False
    assert _job(db, job_id).status == JOB_PENDING and _job(db, job_id).locked_by == "C"
    with db.session() as s:
        assert queue.finish(s, job_id, holder="C") is True
    assert _job(db, job_id).status == JOB_DONE and _job(db, job_id).locked_by is None


def test_a_job_whose_lease_was_lost_is_not_finished_twice(db, fake_slack):
    job_id = _enqueue(db, "count")
    applied = []
    clients = SlackClients(fake_slack.api_url, token=fake_slack.token)

    def count(ctx, job):
        # While A runs it, A's lease lapses and B takes the job over.
        with db.session() as s:
            [taken] = queue.claim(s, limit=1, lease=LEASE, holder=b.worker_id, now=utcnow() + 2 * LEASE)
        assert taken.taken_over
        return lambda session: applied.append(job.id)

    a = Worker(JobContext(db=db, clients=clients), handlers={"count": count})
    b = Worker(JobContext(db=db, clients=clients), handlers={"count": count})
    with db.session() as s:
        [job] = queue.claim(s, limit=1, lease=LEASE, holder=a.worker_id)
    assert a.run_job(job) == "lost"
    assert applied == []  # A's completion rolled back with its failed compare-and-set
    row = _job(db, job_id)
    assert row.status == JOB_PENDING and row.locked_by == b.worker_id


def test_stop_hands_back_held_jobs(db, fake_slack):
    clients = SlackClients(fake_slack.api_url, token=fake_slack.token)
    worker = Worker(JobContext(db=db, clients=clients), handlers={})
    ids = [_enqueue(db) for _ in range(3)]
    with db.session() as s:
        assert len(queue.claim(s, limit=3, lease=LEASE, holder=worker.worker_id)) == 3
    worker.stop()  # never started: nothing runs, everything it holds goes back
    with db.read() as s:
        rows = s.scalars(select(Job).where(Job.id.in_(ids))).all()
    assert [(r.status, r.locked_by, r.locked_until) for r in rows] == [(JOB_PENDING, None, None)] * 3


def _win_and_job(db) -> tuple[int, int]:
    with db.session(TEAM) as s:
        result = record_win(s, NewWin(team_id=TEAM, enterprise_id=None, author_id=BOB, channel_id=CHANNEL,
                            text="drafted the memo with Claude, saved 2h"), limits=UNLIMITED)
    with db.read() as s:
        job = s.scalars(select(Job).where(Job.kind == POST_WIN)).one()
    return result.win.id, job.id


def test_a_takeover_after_the_post_does_not_celebrate_twice(db, fake_slack):
    fake_slack.add_channel(CHANNEL, "reporting", bot_member=True)
    _, job_id = _win_and_job(db)
    clients = SlackClients(fake_slack.api_url, token=fake_slack.token)
    dead = Worker(JobContext(db=db, clients=clients), handlers=JOB_HANDLERS)
    with db.session() as s:
        [job] = queue.claim(s, limit=1, lease=LEASE, holder=dead.worker_id)
    post_win(dead.ctx, job)  # posted to Slack, then killed before recording it
    assert len(fake_slack.calls("chat.postMessage")) == 1
    heir = Worker(JobContext(db=db, clients=clients), handlers=JOB_HANDLERS)
    with db.session() as s:
        [job] = queue.claim(s, limit=1, lease=LEASE, holder=heir.worker_id, now=utcnow() + 2 * LEASE)
    assert job.taken_over
    assert heir.run_job(job) == "done"
    [call] = fake_slack.calls("chat.postMessage")
    [win] = wins(db, TEAM)
    assert win.message_ts == call.response["ts"]
    assert call.params["metadata"]["event_payload"]["win_id"] == win.id


def test_a_takeover_that_cannot_read_history_posts_rather_than_lose_the_win(db, fake_slack):
    # A workspace that installed before the history scopes were asked for (it has not re-authorised).
    fake_slack.scopes = ",".join(s for s in fake_slack.scopes.split(",") if not s.endswith(":history"))
    _, job_id = _win_and_job(db)
    clients = SlackClients(fake_slack.api_url, token=fake_slack.token)
    heir = Worker(JobContext(db=db, clients=clients), handlers=JOB_HANDLERS)
    with db.session() as s:
        queue.claim(s, limit=1, lease=LEASE, holder="dead-worker")
    with db.session() as s:
        [job] = queue.claim(s, limit=1, lease=LEASE, holder=heir.worker_id, now=utcnow() + 2 * LEASE)
    assert heir.run_job(job) == "done"
    assert [c.response.get("error") for c in fake_slack.calls("conversations.history")] == ["missing_scope"]
    [call] = fake_slack.calls("chat.postMessage")
    assert wins(db, TEAM)[0].message_ts == call.response["ts"]


def test_sigterm_drains_serve(db, db_url, fake_slack, signing_secret, tmp_path):
    """SIGTERM: a request already begun is answered, celebrations paced in memory are handed back
    (no lease left to wait out), and the process exits 0."""
    import os
    import signal
    import socket
    import subprocess
    import sys
    import urllib.parse

    from bot.sandbox.requests import SlackSender, sign
    from tests.conftest import ENTERPRISE
    from tests.helpers import wait_until

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    fake_slack.add_channel(CHANNEL, "reporting", bot_member=True)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_") and k != "DATABASE_URL"}
    env = {**clean, "DATABASE_URL": db_url, "SLACK_BOT_TOKEN": fake_slack.token, "SLACK_SIGNING_SECRET": signing_secret,
           "SLACK_API_URL": fake_slack.api_url, "PORT": str(port), "AIWINS_RATE_BURST": "1000"}  # one sender, many wins
    log = open(tmp_path / "serve.log", "w")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--no-scheduler"],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        sender = SlackSender(f"http://127.0.0.1:{port}", signing_secret, team_id=TEAM, enterprise_id=ENTERPRISE)

        def up() -> bool:
            try:
                return sender.command("/aiwin", "help").status == 200
            except OSError:
                assert proc.poll() is None, (tmp_path / "serve.log").read_text()
                return False

        wait_until(up, timeout=60, message="serve answering")
        for i in range(8):  # one channel, ~1 post/s: all but the first wait in memory for their slot
            assert sender.command("/aiwin", f"win {i} with Claude, saved 1h", channel_id=CHANNEL).status == 200
        wait_until(lambda: fake_slack.calls("chat.postMessage"), message="the first celebration")

        # A request in flight when the signal comes: headers and half the body sent.
        fields = {"token": "x", "team_id": TEAM, "enterprise_id": ENTERPRISE, "channel_id": CHANNEL,
                  "user_id": BOB, "user_name": "bob", "command": "/aiwin", "text": "late win with Copilot, saved 2h",
                  "api_app_id": "A07AIWIN9QZ", "trigger_id": "late.1.x", "response_url": fake_slack.webhook_url("r")}
        body = urllib.parse.urlencode(fields).encode()
        ts = str(int(__import__("time").time()))
        head = (f"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(body)}\r\nX-Slack-Request-Timestamp: {ts}\r\n"
                f"X-Slack-Signature: {sign(signing_secret, ts, body)}\r\n\r\n").encode()
        conn = socket.create_connection(("127.0.0.1", port), timeout=30)
        conn.sendall(head + body[:20])
        proc.send_signal(signal.SIGTERM)
        wait_until(lambda: "shutting down" in (tmp_path / "serve.log").read_text(), message="the signal handled")
        conn.sendall(body[20:])
        reply = conn.recv(65536).decode()
        conn.close()
        assert reply.startswith("HTTP/1.1 200"), reply
        assert proc.wait(60) == 0, (tmp_path / "serve.log").read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()
    jobs = commands(db, TEAM)  # each /aiwin is acknowledged once its command is in the queue
    assert any(j.payload["trigger_id"] == "late.1.x" for j in jobs)  # the request begun before the signal too
    assert len(jobs) == 9
    held = [(j.status, j.locked_by, j.locked_until) for j in jobs if j.status != JOB_DONE]
    assert held and all(h == (JOB_PENDING, None, None) for h in held), held  # handed back, not left leased
    assert len(fake_slack.calls("chat.postMessage")) == 9 - len(held)


def test_the_heartbeat_renews_only_the_jobs_the_worker_knows_it_holds(db, fake_slack):
    """A claim can reach the database while the worker saw an error (a connection lost mid-COMMIT): the job
    then names the worker as holder though nothing runs it. The heartbeat does not keep such a job; its
    lease lapses and another worker takes it over."""
    worker = Worker(JobContext(db=db, clients=SlackClients(fake_slack.api_url, token=fake_slack.token)),
                    handlers=JOB_HANDLERS)
    orphan = _enqueue(db)
    t0 = utcnow()
    with db.session() as s:  # claimed in its name, behind its back
        [job] = queue.claim(s, limit=1, lease=LEASE, holder=worker.worker_id, now=t0)
    assert job.id == orphan
    assert worker.renew_leases() == 0
    with db.session() as s:
        [taken] = queue.claim(s, limit=5, lease=LEASE, holder="B", now=t0 + LEASE + T)
    assert taken.id == orphan and taken.taken_over
