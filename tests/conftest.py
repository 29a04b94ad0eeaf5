"""Shared fixtures: real databases (a SQLite file and a PostgreSQL database made for this run),
the local Slack sandbox over HTTP, and the real app served on a loopback port.

Every test that takes `db_url` (directly or through `server`) runs once on SQLite and once on
PostgreSQL. PostgreSQL comes from AIWINS_TEST_POSTGRES_URL (default: the local server). When it
is unreachable the PostgreSQL half is skipped with the reason, except under CI=true, where that
is a failure. Under pytest-xdist (`-n auto`) each worker makes its own SQLite file and PostgreSQL
database (session fixtures are per worker), and servers listen on ports the system picks.

AIWINS_TEST_CLOCK_SHIFT_DAYS=N runs the whole session with the clock moved N days ahead (time-machine,
ticking): a test that is only true near the day it was written fails then. `.ci/run` picks N at random
and prints it, so a failure can be reproduced with the same N."""

from __future__ import annotations

import logging
import os
import secrets
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.db import Database
from bot.migrate import upgrade
from bot.models import Base
from bot.sandbox.fake_slack import FakeSlack
from bot.sandbox.requests import SlackSender
from bot.settings import Settings

PG_ADMIN_URL = os.environ.get("AIWINS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

TEAM = "T0AB12CD3EF"
ENTERPRISE = "E0AB12CD3EF"
BOB, ALICE, CAROL, DAVE = "U05BOB12345", "U02ABCDEF", "U03GHIJKL", "U04MNOPQR"
CHANNEL = "C05RPT12345"

CLOCK_SHIFT_DAYS = int(os.environ.get("AIWINS_TEST_CLOCK_SHIFT_DAYS") or 0)


def pytest_report_header() -> str | None:
    if CLOCK_SHIFT_DAYS:
        return f"clock moved {CLOCK_SHIFT_DAYS} days ahead (AIWINS_TEST_CLOCK_SHIFT_DAYS={CLOCK_SHIFT_DAYS})"
    return None


@pytest.fixture(scope="session", autouse=True)
def shifted_clock() -> Iterator[None]:
    """The session's clock, moved AIWINS_TEST_CLOCK_SHIFT_DAYS ahead when that is set (see the docstring)."""
    if not CLOCK_SHIFT_DAYS:
        yield
        return
    # Python subprocesses the tests start move their clock the same way (tests/clock/sitecustomize.py).
    path = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(Path(__file__).parent / "clock"), path) if p)
    try:
        with time_machine.travel(datetime.now(UTC) + timedelta(days=CLOCK_SHIFT_DAYS), tick=True):
            yield
    finally:
        if path is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = path


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """A test that runs the CLI gets its logging set up (a handler on pytest's captured stderr); put the
    root logger back afterwards, so threads still running later never write to a closed stream."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def _postgres_database() -> Iterator[str]:
    admin_url = make_url(PG_ADMIN_URL)
    if admin_url.drivername == "postgresql":
        admin_url = admin_url.set(drivername="postgresql+psycopg")
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as e:  # noqa: BLE001 - any failure to connect means "no PostgreSQL here"
        where = admin_url.render_as_string(hide_password=True)
        reason = f"PostgreSQL at {where} is unreachable: {e.__class__.__name__}"
        if IN_CI:
            pytest.fail(f"{reason} (CI requires PostgreSQL)")
        pytest.skip(reason)
    name = f"aiwins_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def migrated_db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One database per backend per test run, migrated to head with the real migrations."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'aiwins.db'}"
        upgrade(url)
        yield url
    else:
        gen = _postgres_database()
        url = next(gen)
        upgrade(url)
        yield url
        gen.close()


def _truncate(url: str) -> None:
    db = Database(url, pool_size=1)
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for t in tables:
                conn.execute(text(f'DELETE FROM "{t}"'))
    db.dispose()


@pytest.fixture
def db_url(migrated_db_url: str) -> str:
    """A clean, migrated database (rows from earlier tests removed)."""
    _truncate(migrated_db_url)
    return migrated_db_url


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    yield database
    database.dispose()


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack(team_id=TEAM, enterprise_id=ENTERPRISE).start()
    for user, name in ((BOB, "bob"), (ALICE, "alice"), (CAROL, "carol"), (DAVE, "dave")):
        fake.add_user(user, name)
    fake.add_channel(CHANNEL, "reporting")
    yield fake
    fake.stop()


@pytest.fixture
def signing_secret() -> str:
    return secrets.token_hex(16)


@pytest.fixture
def settings(db_url: str, fake_slack: FakeSlack, signing_secret: str) -> Settings:
    return Settings(
        database_url=db_url,
        slack_bot_token=fake_slack.token,
        slack_signing_secret=signing_secret,
        slack_api_url=fake_slack.api_url,
        port=0,
        rate_burst=10_000,  # tests log many wins quickly; tests/test_hardening_rate.py tests the limit
    )


@pytest.fixture
def server(settings: Settings) -> Iterator:
    from bot.server import Server

    srv = Server(settings, host="127.0.0.1", port=0, scheduler=False, poll_interval=0.2).serve_in_thread()
    yield srv
    srv.stop()


@pytest.fixture
def slack(server, signing_secret: str, fake_slack: FakeSlack) -> SlackSender:
    """Sends signed requests to the running app, exactly as Slack would. The sandbox delivers its own
    events (a person's reaction: fake_slack.react) to the same app, and its response_urls point at the
    sandbox, which checks what is sent to them as Slack does (never at a real Slack address)."""
    fake_slack.deliver_events(f"{server.url}/slack/events", signing_secret)
    return SlackSender(base_url=server.url, signing_secret=signing_secret, team_id=TEAM, enterprise_id=ENTERPRISE,
                       on_trigger=fake_slack.issue_trigger, response_url_base=fake_slack.webhook_url("r"))
