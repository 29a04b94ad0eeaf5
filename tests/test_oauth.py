"""Multi-workspace mode: SLACK_CLIENT_ID/SECRET switch on OAuth; each workspace's bot token comes
from the installation store on our own (migrated) tables, and jobs use that workspace's token."""

from __future__ import annotations

import http.client
import re
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode, urlsplit

import pytest
import time_machine
from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import inspect, text

from bot.oauth_state import SignedOAuthStateStore
from bot.sandbox.requests import SlackSender
from bot.server import Server
from bot.settings import Settings
from bot.slack.client import installation_store
from tests.conftest import BOB, CHANNEL
from tests.helpers import wait_until, wins
from tests.test_uninstall import tokens_of

OTHER_TEAM = "T0OTHER0001"


def test_install_page_and_per_workspace_tokens(db_url, fake_slack, signing_secret, db):
    settings = Settings(database_url=db_url, slack_signing_secret=signing_secret, slack_api_url=fake_slack.api_url,
                        slack_client_id="111.222", slack_client_secret="oauth-secret", port=0)
    fake_slack.add_token("xoxb-other-workspace", OTHER_TEAM, bot_user_id="U07AIWINBOT")
    installation_store(settings, db).save(Installation(
        app_id="A07AIWIN9QZ", team_id=OTHER_TEAM, user_id=BOB, bot_token="xoxb-other-workspace",
        bot_id="B07AIWINBOT", bot_user_id="U07AIWINBOT", bot_scopes=["commands", "chat:write"],
    ))
    server = Server(settings, host="127.0.0.1", port=0, scheduler=False, poll_interval=0.2).serve_in_thread()
    try:
        with urllib.request.urlopen(server.url + "/slack/install") as page:
            html = page.read().decode()
        assert "slack.com/oauth/v2/authorize" in html and "client_id=111.222" in html

        sender = SlackSender(base_url=server.url, signing_secret=signing_secret, team_id=OTHER_TEAM)
        r = sender.command("/aiwin", "planned the offsite with Claude, saved 2h", user_id=BOB, channel_id=CHANNEL)
        assert r.status == 200 and "Got your AI win" in r.text
        [call] = fake_slack.wait_for("chat.postMessage", channel=CHANNEL)
        assert call.token == "xoxb-other-workspace"  # the installed workspace's own token
        wait_until(lambda: [w for w in wins(db, OTHER_TEAM) if w.message_ts], message="posted")

        # A workspace that never installed the app gets nothing done in its name.
        stranger = SlackSender(base_url=server.url, signing_secret=signing_secret, team_id="T0NOTINSTALL")
        r = stranger.command("/aiwin", "saved 1h with Claude", user_id=BOB)
        assert r.status in (200, 401) and wins(db, "T0NOTINSTALL") == []
    except urllib.error.HTTPError as e:  # pragma: no cover - shows the page on failure
        raise AssertionError(e.read().decode()) from e
    finally:
        server.stop()


# -- the install's OAuth state: signed and kept by the browser, never a row ---------------------------------

NEW_TEAM = "T0NEWTEAM01"
NEW_TOKEN = "xoxb-new-team-token"


@pytest.fixture
def oauth_server(db_url, fake_slack, signing_secret):
    settings = Settings(database_url=db_url, slack_signing_secret=signing_secret, slack_api_url=fake_slack.api_url,
                        slack_client_id="111.222", slack_client_secret="oauth-secret", port=0)
    server = Server(settings, host="127.0.0.1", port=0, scheduler=False, poll_interval=0.2).serve_in_thread()
    yield server
    server.stop()


def _rows_per_table(db) -> dict[str, int]:
    """Every table in the database, the search index's own tables and Alembic's included."""
    with db.engine.connect() as conn:
        names = inspect(conn).get_table_names()
        return {name: conn.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one() for name in names}


def _get(conn: http.client.HTTPConnection, path: str, cookie: str | None = None) -> tuple[int, dict, str]:
    conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
    r = conn.getresponse()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read().decode()


def _connect(server) -> http.client.HTTPConnection:
    parts = urlsplit(server.url)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)


def _start_install(conn) -> tuple[str, str]:
    """The install page: the state in Slack's authorize link, and the cookie that goes with it."""
    status, headers, page = _get(conn, "/slack/install")
    assert status == 200 and "slack.com/oauth/v2/authorize" in page
    state = re.search(r"state=([^&\"']+)", page).group(1)
    cookie = headers["set-cookie"].split(";", 1)[0]
    assert cookie == f"slack-app-oauth-state={state}"
    return state, cookie


def test_a_thousand_visits_to_the_install_page_write_nothing(oauth_server, db):
    before = _rows_per_table(db)
    conn = _connect(oauth_server)
    try:
        states = {_start_install(conn)[0] for _ in range(1000)}
    finally:
        conn.close()
    assert len(states) == 1000  # each visit its own state (a random nonce)
    assert _rows_per_table(db) == before


@pytest.mark.dates
def test_a_forged_tampered_or_expired_state_is_refused_and_a_fresh_one_installs(oauth_server, fake_slack, db):
    fake_slack.add_token(NEW_TOKEN, NEW_TEAM, team_domain="newco")
    conn = _connect(oauth_server)
    try:
        state, _ = _start_install(conn)
        expires, nonce, mac = state.split(".")
        other = SignedOAuthStateStore("another-apps-secret").issue()
        bad = {
            "forged": other,
            "old style": str(uuid.uuid4()),
            "later expiry": f"{int(expires) + 3600}.{nonce}.{mac}",
            "other nonce": f"{expires}.{nonce[::-1]}.{mac}",
            "other signature": f"{expires}.{nonce}.{mac[::-1]}",
            "not three parts": f"{expires}.{mac}",
            "non-ascii": f"{expires}.{nonce}.{'é' * 64}",
        }
        for why, forged in bad.items():
            code = fake_slack.issue_install_code(NEW_TOKEN)
            status, _, page = _get(conn, "/slack/oauth_redirect?" + urlencode({"code": code, "state": forged}),
                                   f"slack-app-oauth-state={forged}")
            assert status == 401 and "invalid_state" in page, why  # Bolt's own failure page
        with time_machine.travel(datetime.now(UTC) + timedelta(minutes=10, seconds=5)):
            late = _connect(oauth_server)  # the server would take the kept-alive one for long idle now
            code = fake_slack.issue_install_code(NEW_TOKEN)
            try:
                status, _, page = _get(late, "/slack/oauth_redirect?" + urlencode({"code": code, "state": state}),
                                       f"slack-app-oauth-state={state}")
            finally:
                late.close()
            assert status == 401 and "invalid_state" in page, "expired"
        assert fake_slack.calls("oauth.v2.access") == []  # no code was ever exchanged
        assert tokens_of(db, NEW_TEAM) == []

        conn.close()
        state, cookie = _start_install(conn)
        code = fake_slack.issue_install_code(NEW_TOKEN)
        status, _, page = _get(conn, "/slack/oauth_redirect?" + urlencode({"code": code, "state": state}), cookie)
        assert status == 200, page
    finally:
        conn.close()
    assert [c.params["code"] for c in fake_slack.calls("oauth.v2.access")] == [code]
    assert tokens_of(db, NEW_TEAM) == [NEW_TOKEN, NEW_TOKEN]
