"""The `aiwins` command as operators run it: configuration errors, migrate, and `serve` as a real
process (web process + background worker process) answering signed requests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from sqlalchemy import text

from bot.db import Database
from bot.sandbox.requests import SlackSender
from tests.conftest import BOB, CHANNEL, TEAM
from tests.helpers import wait_until


def run_cli(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_") and k != "DATABASE_URL"}
    return subprocess.run([sys.executable, "-m", "bot", *args], env={**clean, **env}, capture_output=True,
                          text=True, timeout=timeout, cwd="/tmp")


@pytest.mark.parametrize(
    ("env", "key"),
    [
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET"),
        ({"SLACK_SIGNING_SECRET": "s"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_SIGNING_SECRET": "s", "SLACK_BOT_TOKEN": "not-a-token"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_SIGNING_SECRET": "s", "SLACK_BOT_TOKEN": "xoxb-1", "PORT": "eighty"}, "PORT"),
        ({"SLACK_SIGNING_SECRET": "s", "SLACK_BOT_TOKEN": "xoxb-1", "DATABASE_URL": "::nonsense::"}, "DATABASE_URL"),
        ({"SLACK_SIGNING_SECRET": "s", "SLACK_BOT_TOKEN": "xoxb-1", "LOG_FORMAT": "xml"}, "LOG_FORMAT"),
    ],
)
def test_bad_configuration_is_one_clear_line(env, key):
    result = run_cli("serve", env=env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and key in lines[0] and "Traceback" not in result.stderr
    assert "xoxb-1" not in result.stderr  # secrets never printed


def test_unreachable_database_is_one_clear_line():
    env = {"DATABASE_URL": "postgresql+psycopg://postgres:hunter2@127.0.0.1:1/x?connect_timeout=2"}
    result = run_cli("migrate", env=env)
    assert result.returncode == 1
    assert "cannot use the database" in result.stderr and "hunter2" not in result.stderr
    assert "Traceback" not in result.stderr


def test_migrate_command(db_url):
    result = run_cli("migrate", env={"DATABASE_URL": db_url})
    assert result.returncode == 0, result.stderr
    db = Database(db_url, pool_size=1)
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    db.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_process_records_and_celebrates(db_url, fake_slack, signing_secret):
    port = _free_port()
    env = {"DATABASE_URL": db_url, "SLACK_BOT_TOKEN": fake_slack.token, "SLACK_SIGNING_SECRET": signing_secret,
           "SLACK_API_URL": fake_slack.api_url, "PORT": str(port), "LOG_FORMAT": "json"}
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    proc = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--no-scheduler"],
                            env={**clean, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        def healthy() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                    return r.status == 200
            except OSError:
                return proc.poll() is not None  # stop waiting if it died

        wait_until(healthy, timeout=30, message="aiwins serve to answer /healthz")
        assert proc.poll() is None
        sender = SlackSender(base_url=f"http://127.0.0.1:{port}", signing_secret=signing_secret, team_id=TEAM)
        r = sender.command("/aiwin", "wrote the board memo with ChatGPT, saved 2h", user_id=BOB)
        assert r.status == 200 and "Got your AI win" in r.text
        # Posted by the background worker process.
        [call] = fake_slack.wait_for("chat.postMessage", channel=CHANNEL, timeout=30)
        assert "wrote the board memo" in str(call.params["blocks"])
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=20)
    assert proc.returncode in (0, -15), out
    assert signing_secret not in out and fake_slack.token not in out


def test_serve_refuses_to_start_without_slack_config_quickly():
    started = time.monotonic()
    result = run_cli("serve", env={})
    assert result.returncode == 2 and "SLACK_SIGNING_SECRET" in result.stderr
    assert time.monotonic() - started < 30


def _one_line(result: subprocess.CompletedProcess, *words: str) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert all(w in lines[0] for w in words), lines[0]
    return lines[0]


@pytest.mark.parametrize("url", ["mysql://u:hunter2@db/aiwins", "postgresql+asyncpg://u:hunter2@db/aiwins",
                                 "foo://db/aiwins"])
@pytest.mark.parametrize("command", [["migrate"], ["digest"], ["export", "--team", TEAM], ["serve"]])
def test_unsupported_database_url_is_one_line_for_every_command(url, command):
    env = {"DATABASE_URL": url, "SLACK_SIGNING_SECRET": "s", "SLACK_BOT_TOKEN": "xoxb-1"}
    result = run_cli(*command, env=env)
    assert result.returncode == 2
    _one_line(result, "DATABASE_URL")
    assert "hunter2" not in result.stderr


def test_a_bot_token_slack_refuses_stops_serve_with_one_line(fake_slack, tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}", "SLACK_SIGNING_SECRET": "s",
           "SLACK_BOT_TOKEN": "xoxb-not-a-token-slack-knows", "SLACK_API_URL": fake_slack.api_url,
           "PORT": str(_free_port())}
    result = run_cli("serve", env=env)
    assert result.returncode == 2
    _one_line(result, "SLACK_BOT_TOKEN", "invalid_auth")
    assert "xoxb-not-a-token-slack-knows" not in result.stderr
    assert fake_slack.calls("auth.test")


@pytest.mark.parametrize("command", [["digest"], ["prompts"], ["export", "--team", TEAM]])
def test_unmigrated_database_says_to_migrate(command, tmp_path):
    result = run_cli(*command, env={"DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"})
    assert result.returncode == 1 and result.stdout == ""
    _one_line(result, "aiwins migrate")


def test_failed_export_writes_no_csv_header(tmp_path):
    url = f"sqlite:///{tmp_path / 'broken.db'}"
    assert run_cli("migrate", env={"DATABASE_URL": url}).returncode == 0
    db = Database(url, pool_size=1)
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE win_owners"))
        conn.execute(text("DROP TABLE wins"))
    db.dispose()
    result = run_cli("export", "--team", TEAM, env={"DATABASE_URL": url})
    assert result.returncode == 1
    assert result.stdout == ""  # not a header-only CSV that looks like "no wins"
    _one_line(result, "cannot use the database")
