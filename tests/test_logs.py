"""Logs an operator can use: a quiet start, one INFO line per win recorded, posted or not posted
(ids only, never what people wrote). Database outages: tests/test_db_outage.py."""

from __future__ import annotations

import logging

from bot.server import Server
from tests.conftest import BOB, CHANNEL, TEAM
from tests.helpers import recorded, wait_until


def test_start_logs_no_warning(settings, monkeypatch, caplog):
    # As deployed: the token is in the environment, where Bolt also looks for it.
    monkeypatch.setenv("SLACK_BOT_TOKEN", settings.slack_bot_token)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", settings.slack_signing_secret)
    caplog.set_level(logging.INFO)
    srv = Server(settings, host="127.0.0.1", port=0, scheduler=True).serve_in_thread()
    srv.stop()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_a_win_recorded_and_posted_is_two_info_lines_with_ids_only(slack, fake_slack, db, caplog):
    caplog.set_level(logging.INFO)
    secret_words = "the confidential merger memo"
    slack.command("/aiwin", f"drafted {secret_words} with Claude", user_id=BOB, channel_id=CHANNEL)
    [win] = recorded(db, TEAM)
    wait_until(lambda: any(f"win {win.id} posted" in m for m in caplog.messages), message="the posted line")
    assert sum(f"win {win.id} recorded" in m for m in caplog.messages) == 1
    assert sum(f"win {win.id} posted" in m for m in caplog.messages) == 1
    assert secret_words not in caplog.text


def test_a_win_that_cannot_be_posted_is_one_info_line(slack, fake_slack, db, caplog):
    caplog.set_level(logging.INFO)
    fake_slack.add_channel("G0SECRET01", "secret", is_private=True)  # the bot is not a member
    slack.command("/aiwin", "wrote the plan with ChatGPT", user_id=BOB, channel_id="G0SECRET01")
    [win] = recorded(db, TEAM)
    line = f"win {win.id} could not be posted"
    wait_until(lambda: any(line in m for m in caplog.messages), message="the could-not-post line")
    [record] = [r for r in caplog.records if line in r.getMessage()]
    assert record.levelno == logging.INFO and "not_in_channel" in record.getMessage()
    assert "wrote the plan" not in caplog.text


def test_periodic_jobs_log_a_database_outage_without_a_traceback(caplog):
    from bot.registry import PERIODIC
    from bot.scheduler import build_scheduler
    from bot.server import build_runtime
    from bot.settings import Settings

    # Nothing listens on port 1: every periodic job finds the database unavailable.
    settings = Settings(database_url="postgresql+psycopg://postgres@127.0.0.1:1/gone", slack_bot_token="xoxb-1")
    runtime = build_runtime(settings, migrate=False)
    scheduler = build_scheduler(runtime, PERIODIC)
    caplog.set_level(logging.INFO)
    try:
        for job in scheduler.get_jobs():
            job.func(*job.args)
    finally:
        runtime.db.dispose()
    assert not [r for r in caplog.records if r.exc_info]
    assert any("purge_jobs skipped, the database is unavailable" in m for m in caplog.messages)
