"""The scale-out topology, run for real on loopback against PostgreSQL: three `aiwins serve
--no-scheduler` replicas and two `aiwins scheduler` processes (separate OS processes) on one fresh
database, signed /aiwin load spread across the replicas, and `kill -9` of one replica mid-load.

Checks: every acknowledged win is stored and celebrated exactly once within 30 s of the kill
(the dead replica's leases lapse and are taken over); two schedulers at once post each digest
once; processes starting together, or while others serve, apply each migration once."""

from __future__ import annotations

import collections
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from bot.db import Database
from bot.models import DELIVERY_POSTED, JOB_DONE, JOB_PENDING, Delivery, Job, Win, utcnow
from bot.sandbox.requests import SlackSender
from bot.services import subscriptions as subs
from bot.services.inbox import RECORD_COMMAND
from bot.services.subscriptions import Schedule
from bot.services.workspaces import ensure_workspace
from tests.conftest import DAVE, ENTERPRISE, TEAM, _postgres_database
from tests.helpers import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.dates]

ROOT = Path(__file__).resolve().parents[1]
WINS = 300
KILL_AFTER = 100  # acknowledged wins before one replica is killed
WIN_CHANNELS = [f"C0LOAD{i:04d}" for i in range(40)]  # ~1 post/s/channel: celebrations queue for seconds
DIGEST_CHANNELS = [f"C0DIGS{i:04d}" for i in range(3)]
RUNNING_UPGRADE = re.compile(r"Running upgrade ([^\s,]*) -> ([^\s,]+)")


@pytest.fixture
def fresh_pg_url():
    """A new, empty PostgreSQL database: the processes under test migrate it themselves."""
    gen = _postgres_database()
    url = next(gen)
    yield url
    gen.close()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Fleet:
    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.procs: dict[str, subprocess.Popen] = {}
        self.ports: dict[str, int] = {}

    def start(self, name: str, *args: str, port: int | None = None) -> None:
        env = {**self.env, **({"PORT": str(port)} if port else {})}
        out = open(self.logs / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        self.procs[name] = subprocess.Popen([sys.executable, "-m", "bot", *args], env=env, cwd=ROOT,
                                            stdout=out, stderr=subprocess.STDOUT)
        if port:
            self.ports[name] = port

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text()

    def healthy(self, name: str) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.ports[name]}/healthz", timeout=1) as r:
                return r.status == 200
        except Exception:  # noqa: BLE001 - not up yet
            assert self.procs[name].poll() is None, f"{name} exited:\n{self.log(name)}"
            return False

    def stop_all(self) -> None:
        for p in self.procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs.values():
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()


def _upgrades(fleet: Fleet, names) -> list[tuple[str, str]]:
    return [m.groups() for name in names for m in RUNNING_UPGRADE.finditer(fleet.log(name))]


def test_three_replicas_two_schedulers_and_a_kill(fresh_pg_url, fake_slack, signing_secret, tmp_path):
    for c in WIN_CHANNELS + DIGEST_CHANNELS:
        fake_slack.add_channel(c, c.lower(), bot_member=True)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_") and k != "DATABASE_URL"}
    env = {**clean, "DATABASE_URL": fresh_pg_url, "SLACK_BOT_TOKEN": fake_slack.token,
           "SLACK_SIGNING_SECRET": signing_secret, "SLACK_API_URL": fake_slack.api_url, "LOG_LEVEL": "INFO",
           "PYTHONPATH": os.pathsep.join(filter(None, (str(ROOT), clean.get("PYTHONPATH")))),
           "AIWINS_RATE_BURST": "10000"}  # one sender, hundreds of wins
    fleet = Fleet(env, tmp_path)
    replicas = ["web0", "web1", "web2"]
    try:
        # Everyone starts at once on an empty database: they race to migrate it.
        for name in replicas:
            fleet.start(name, "serve", "--host", "127.0.0.1", "--no-scheduler", port=_free_port())
        for name in ("sched0", "sched1"):
            fleet.start(name, "scheduler")
        for name in replicas:
            wait_until(lambda n=name: fleet.healthy(n), timeout=90, message=f"{name} healthy")
        wait_until(lambda: all("scheduler running" in fleet.log(n) for n in ("sched0", "sched1")), timeout=90,
                   message="both schedulers running")
        db = Database(fresh_pg_url, pool_size=2)
        _digest_due(db)

        acked, not_acked = _load_and_kill(fleet, replicas, signing_secret, fake_slack, db)
        killed_at = time.monotonic()
        assert len(acked) >= KILL_AFTER and len(acked) + len(not_acked) == WINS

        # Every acknowledged command was stored by its ack (in the queue) …
        with db.read(TEAM) as s:
            queued = set(s.scalars(select(Job.dedupe_key).where(Job.kind == RECORD_COMMAND)).all())
        missing = [t for t in acked if f"cmd:{t}" not in queued]
        assert not missing, f"{len(missing)} acknowledged commands were not stored"

        # … and becomes a win celebrated exactly once, within 30 s of the kill (the dead replica's claimed
        # commands are taken over by the survivors when their leases lapse).
        def posts_per_win() -> collections.Counter:
            return collections.Counter(
                c.params["metadata"]["event_payload"]["win_id"]
                for c in fake_slack.calls("chat.postMessage") if c.ok and isinstance(c.params.get("metadata"), dict))

        def stored() -> dict[str, int]:
            with db.read(TEAM) as s:
                return {w.trigger_id: w.id for w in s.scalars(select(Win)).all()}

        def all_settled() -> bool:
            with db.read() as s:
                pending = s.scalar(select(func.count()).select_from(Job).where(
                    Job.kind.in_((RECORD_COMMAND, "post_win")), Job.status != JOB_DONE))
            wins_now = stored()
            return pending == 0 and set(acked) <= set(wins_now) and set(posts_per_win()) >= set(wins_now.values())

        wait_until(all_settled, timeout=max(0.1, 30 - (time.monotonic() - killed_at)),
                   message="every acknowledged win recorded and celebrated, within 30 s of the kill")
        stored = stored()
        counts = posts_per_win()
        assert {w: n for w, n in counts.items() if n != 1} == {}
        assert set(counts) == set(stored.values())
        # The kill lands mid-load, when the replica holds celebrations: the survivors took them over.
        assert any("taken over from a lapsed lease" in fleet.log(n) for n in replicas[1:] + ["sched0", "sched1"])

        # Two schedulers at once: each digest is claimed and posted once (ticks run every minute).
        def digests_posted() -> list[Delivery]:
            with db.read(TEAM) as s:
                ds = list(s.scalars(select(Delivery)).all())
            return ds if len(ds) == len(DIGEST_CHANNELS) and all(d.status == DELIVERY_POSTED for d in ds) else []

        wait_until(digests_posted, timeout=150, message="every digest posted")
        for c in DIGEST_CHANNELS:
            assert len([p for p in fake_slack.calls("chat.postMessage", channel=c) if p.ok]) == 1, c

        # A replica started while the others serve applies no migration; the racers applied each once.
        fleet.start("web3", "serve", "--host", "127.0.0.1", "--no-scheduler", port=_free_port())
        wait_until(lambda: fleet.healthy("web3"), timeout=90, message="web3 healthy")
        assert _upgrades(fleet, ["web3"]) == []
        applied = _upgrades(fleet, replicas + ["sched0", "sched1"])
        assert applied and len(applied) == len(set(applied)), applied
        with db.engine.connect() as conn:
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        assert versions == [applied[-1][1]]
        db.dispose()
    finally:
        fleet.stop_all()


def _digest_due(db: Database) -> None:
    """Digest subscriptions whose weekly time passed half an hour ago (within the catch-up window)."""
    now = utcnow()
    due = now - timedelta(minutes=30)
    with db.session(TEAM) as s:
        ensure_workspace(s, TEAM, ENTERPRISE)
        for c in DIGEST_CHANNELS:
            subs.subscribe(s, team_id=TEAM, enterprise_id=ENTERPRISE, kind=subs.KIND_DIGEST, channel_id=c,
                           schedule=Schedule(due.weekday(), due.hour, due.minute), tz="UTC", user_id=DAVE,
                           now=now - timedelta(days=3))


def _load_and_kill(fleet: Fleet, replicas: list[str], secret: str, fake_slack, db: Database
                   ) -> tuple[list[str], list[str]]:
    """WINS signed /aiwin commands, round-robin over the replicas on 2 connections each; the first
    replica gets SIGKILL once KILL_AFTER wins are acknowledged. Returns (acked, not acked) trigger ids."""
    acked: list[str] = []
    not_acked: list[str] = []
    lock = threading.Lock()
    enough = threading.Event()
    work = [(i, replicas[i % len(replicas)]) for i in range(WINS)]
    lanes = {(r, k): [(i, n) for i, n in work if n == r][k::2] for r in replicas for k in range(2)}

    def lane(items: list[tuple[int, str]]) -> None:
        name = items[0][1]
        sender = SlackSender(f"http://127.0.0.1:{fleet.ports[name]}", secret, team_id=TEAM,
                             enterprise_id=ENTERPRISE, response_url_base=fake_slack.webhook_url("r"), timeout=10)
        for i, _ in items:
            trigger = f"{i}.{name}.load"
            try:
                r = sender.command("/aiwin", f"drafted report {i} with ChatGPT, saved 30m",
                                   channel_id=WIN_CHANNELS[i % len(WIN_CHANNELS)], trigger_id=trigger)
                ok = r.status == 200
            except Exception:  # noqa: BLE001 - the killed replica refuses or drops the connection
                ok = False
                sender = SlackSender(f"http://127.0.0.1:{fleet.ports[name]}", secret, team_id=TEAM,
                                     enterprise_id=ENTERPRISE, timeout=2)
            with lock:
                (acked if ok else not_acked).append(trigger)
                if len(acked) >= KILL_AFTER:
                    enough.set()

    threads = [threading.Thread(target=lane, args=(items,)) for items in lanes.values() if items]
    for t in threads:
        t.start()
    assert enough.wait(120), "the load did not get going"
    # Kill it while it holds celebrations (running, or paced in memory under their lease).
    victim = fleet.procs[replicas[0]]

    def victim_holds_jobs() -> int:
        with db.read() as s:
            return s.scalar(select(func.count()).select_from(Job).where(
                Job.status == JOB_PENDING, Job.locked_by.like(f"%:{victim.pid}:%")))

    wait_until(victim_holds_jobs, timeout=60, message="the replica to be killed holds jobs")
    victim.send_signal(signal.SIGKILL)
    for t in threads:
        t.join(180)
    return acked, not_acked
