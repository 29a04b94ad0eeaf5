"""Token rotation: installs whose access tokens expire. Tokens are refreshed before they expire on the
request path and the background path alike, by one process at a time (a refresh token is good once), a
refresh Slack refuses is logged once and retried, and `aiwins digest --post` never hangs on a dead token."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from bot.installations import TokenRefreshFailed
from bot.services.workspaces import ensure_workspace
from bot.slack_client import installation_store, make_clients
from tests.conftest import BOB, CHANNEL, ENTERPRISE, TEAM
from tests.test_grid import ORG_TOKEN, TEAM2, install, oauth_settings, sender
from tests.test_schedule import make_sub, ok_posts, record_public_win

pytestmark = pytest.mark.dates

LIFETIME = 43_200  # Slack's: 12 hours


def refreshes(fake) -> list:
    return fake.calls("oauth.v2.access", grant_type="refresh_token")


def later(hours: float):
    """The clock moved on, for the app and the sandbox alike (both read time.time())."""
    return time_machine.travel(datetime.now(UTC) + timedelta(hours=hours), tick=True)


@pytest.fixture
def rotating(fake_slack):
    fake_slack.add_org_token(ORG_TOKEN, teams=(TEAM, TEAM2))
    fake_slack.rotate_tokens(LIFETIME)
    return fake_slack


@pytest.fixture
def grid_server(db_url, rotating, signing_secret):
    from bot.server import Server

    server = Server(oauth_settings(db_url, rotating, signing_secret), host="127.0.0.1", port=0,
                    scheduler=False, poll_interval=0.2).serve_in_thread()
    yield server
    server.stop()


def test_requests_and_jobs_get_a_refreshed_token_once_it_is_due(rotating, grid_server, signing_secret, db):
    install(grid_server, rotating, ORG_TOKEN)
    [exchange] = rotating.calls("oauth.v2.access")
    first = exchange.response["access_token"]
    with later(11):  # 1 hour left: inside the refresh margin
        r = sender(grid_server, signing_secret, rotating, TEAM2).command(
            "/aiwin", "planned the offsite with Claude, saved 2h", user_id=BOB, channel_id=CHANNEL)
        assert r.status == 200 and "Got your AI win" in r.text
        [post] = rotating.wait_for("chat.postMessage", channel=CHANNEL)
    assert post.token != first and post.token.startswith("xoxe.xoxb-")
    assert len(refreshes(rotating)) == 1  # the request refreshed it; the job found it fresh
    assert not [c for c in rotating.calls() if c.error in ("token_expired", "invalid_refresh_token")]


def test_two_threads_refreshing_at_once_use_the_refresh_token_once(rotating, db_url, db, signing_secret):
    settings = oauth_settings(db_url, rotating, signing_secret)
    store = installation_store(settings, db)
    _save_rotating_install(rotating, store)
    clients = [make_clients(settings, db) for _ in range(2)]  # two replicas
    tokens: list[str] = []
    barrier = threading.Barrier(2)

    def lookup(replica) -> None:
        barrier.wait()
        tokens.append(replica.token_for(TEAM2, ENTERPRISE))

    with later(12.5):  # expired
        threads = [threading.Thread(target=lookup, args=(c,)) for c in clients]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert len(tokens) == 2 and tokens[0] == tokens[1]
        assert [c.ok for c in refreshes(rotating)] == [True]
        assert clients[0].for_team(TEAM2, ENTERPRISE).chat_postMessage(channel=CHANNEL, text="fresh")["ok"]


def test_a_refused_refresh_is_logged_once_and_tried_again(rotating, db_url, db, signing_secret, caplog):
    settings = oauth_settings(db_url, rotating, signing_secret)
    _save_rotating_install(rotating, installation_store(settings, db))
    clients = make_clients(settings, db)
    first = clients.token_for(TEAM2, ENTERPRISE)
    rotating.fail("oauth.v2.access", error="internal_error", status=500, times=None)
    with caplog.at_level(logging.INFO, logger="bot.installations"):
        with later(11):  # due, but an hour left: the old token serves meanwhile
            for _ in range(2):
                assert clients.token_for(TEAM2, ENTERPRISE) == first
        with later(12.5):  # expired: no token to hand out
            for _ in range(3):
                with pytest.raises(TokenRefreshFailed):
                    clients.for_team(TEAM2, ENTERPRISE)
            errors = [r for r in caplog.records if r.levelno == logging.ERROR]
            assert len(errors) == 1 and "could not refresh" in errors[0].getMessage()
            rotating.clear_failures()
            assert clients.for_team(TEAM2, ENTERPRISE).chat_postMessage(channel=CHANNEL, text="back")["ok"]
            assert "refreshed again" in caplog.text
    assert len(refreshes(rotating)) == 6  # tried on each use (5 refused), never lost


def test_a_refresh_that_waits_too_long_for_another_uses_the_still_good_token(rotating, db_url, db, signing_secret):
    from sqlalchemy import update

    from bot.db import Database
    from bot.models.slack_oauth import bots

    settings = oauth_settings(db_url, rotating, signing_secret)
    _save_rotating_install(rotating, installation_store(settings, db))
    impatient = Database(db_url, query_timeout=0.5)  # as `aiwins serve` waits, shorter
    clients = make_clients(settings, impatient)
    first = clients.token_for(TEAM2, ENTERPRISE)
    try:
        with db.engine.connect() as other:  # another replica holds the installation, refreshing it
            other.begin()
            other.execute(update(bots).values(bot_refresh_token=bots.c.bot_refresh_token))
            with later(11):
                assert clients.token_for(TEAM2, ENTERPRISE) == first  # an hour left: used meanwhile
            with later(12.5), pytest.raises(TokenRefreshFailed):
                clients.token_for(TEAM2, ENTERPRISE)
            other.rollback()
        assert refreshes(rotating) == []  # the waiter never used the refresh token
    finally:
        impatient.dispose()


def test_requests_while_slack_refuses_the_refresh_log_it_once(rotating, grid_server, signing_secret, caplog):
    install(grid_server, rotating, ORG_TOKEN)
    rotating.fail("oauth.v2.access", error="invalid_refresh_token", times=None)
    s2 = sender(grid_server, signing_secret, rotating, TEAM2)
    with later(12.5), caplog.at_level(logging.INFO):
        for _ in range(3):
            assert s2.command("/aiwin", "saved 1h with Claude", user_id=BOB).status == 200
        rotating.wait_for_calls("oauth.v2.access", 4)  # the install, and a try per request
    assert len([r for r in caplog.records if "could not refresh" in r.getMessage()]) == 1
    assert "Failed to rotate tokens" not in caplog.text
    assert not rotating.calls("chat.postMessage")


def test_digest_post_refreshes_an_expired_token_or_fails_fast(rotating, grid_server, db_url, db, signing_secret,
                                                              monkeypatch, tmp_path, capsys):
    from bot.cli import main

    install(grid_server, rotating, ORG_TOKEN)
    grid_server.stop()  # nobody else uses the token: it expires unused
    monkeypatch.chdir(tmp_path)
    for key, value in {"DATABASE_URL": db_url, "SLACK_API_URL": rotating.api_url, "SLACK_CLIENT_ID": "111.222",
                       "SLACK_CLIENT_SECRET": "oauth-secret", "SLACK_SIGNING_SECRET": signing_secret}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr("bot.logs.setup_logging", lambda settings: None)
    with db.session(TEAM) as s:
        ensure_workspace(s, TEAM, ENTERPRISE)  # as its first request said
    make_sub(db, CHANNEL)
    with db.session(TEAM) as s:
        record_public_win(s, "summarised 40 interviews with Claude, saved 5h")
    with later(13):  # expired an hour ago
        assert main(["digest", "--team", TEAM, "--channel", CHANNEL, "--post"]) == 0
        assert "posted (ts " in capsys.readouterr().out
        [post] = ok_posts(rotating, channel=CHANNEL)
        assert post.token.startswith("xoxe.xoxb-") and len(refreshes(rotating)) == 1
    with later(40):  # expired again, and Slack will not refresh it now
        rotating.fail("oauth.v2.access", error="invalid_refresh_token", times=None)
        assert main(["digest", "--team", TEAM, "--channel", CHANNEL, "--post", "--week", "2026-W01"]) == 1
        out = capsys.readouterr().out
        assert "could not post" in out and "token refresh failed" in out
    assert len(ok_posts(rotating, channel=CHANNEL)) == 1


def _save_rotating_install(fake, store) -> None:
    from slack_sdk import WebClient
    from slack_sdk.oauth.installation_store import Installation

    answer = WebClient(base_url=fake.api_url).oauth_v2_access(
        client_id="111.222", client_secret="oauth-secret", code=fake.issue_install_code(ORG_TOKEN, BOB))
    store.save(Installation(app_id="A07AIWIN9QZ", enterprise_id=ENTERPRISE, team_id=None, is_enterprise_install=True,
                            user_id=BOB, bot_token=answer["access_token"], bot_refresh_token=answer["refresh_token"],
                            bot_token_expires_in=answer["expires_in"], bot_id="B07AIWINBOT",
                            bot_user_id="U07AIWINBOT"))
