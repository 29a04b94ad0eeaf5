"""Uninstall means gone: a full OAuth install in the sandbox, a win in the new workspace, then Slack's
`app_uninstalled` / `tokens_revoked` (either order, retried): no token left, schedules and queued jobs
stopped, the next request refused politely. And `aiwins purge` removes a workspace completely.
Each test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import http.client
import re
import subprocess
import sys
from datetime import timedelta
from urllib.parse import urlencode, urlsplit

import pytest
from sqlalchemy import func, select

from bot.models import JOB_FAILED, JOB_PENDING, Job, Subscription, Win, Workspace, utcnow
from bot.models.queue import enqueue
from bot.models.slack_oauth import bots, installations
from bot.sandbox.requests import SlackSender
from bot.server import Server
from bot.services.uninstall import CANCELLED
from bot.settings import Settings
from tests.conftest import BOB, CHANNEL, TEAM
from tests.helpers import all_text, wait_until, wins

pytestmark = pytest.mark.dates  # .ci/run runs these again with the clock moved ahead

NEW_TEAM = "T0NEWTEAM01"
NEW_TOKEN = "xoxb-new-team-token"
ADMIN = "U0ADMIN0001"


def get(url: str, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request("GET", path, headers=headers or {})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read().decode()
    finally:
        conn.close()


def tokens_of(db, team_id: str) -> list[str]:
    with db.engine.connect() as conn:
        rows = conn.execute(select(bots.c.bot_token).where(bots.c.team_id == team_id)).all()
        rows += conn.execute(select(installations.c.bot_token).where(installations.c.team_id == team_id)).all()
    return [r[0] for r in rows]


@pytest.fixture
def oauth_server(db_url, fake_slack, signing_secret):
    settings = Settings(database_url=db_url, slack_signing_secret=signing_secret, slack_api_url=fake_slack.api_url,
                        slack_client_id="111.222", slack_client_secret="oauth-secret", port=0)
    server = Server(settings, host="127.0.0.1", port=0, scheduler=False, poll_interval=0.2).serve_in_thread()
    yield server
    server.stop()


def install(server, fake_slack) -> None:
    """/slack/install → Slack's authorize page (the person approves) → /slack/oauth_redirect with a code."""
    status, headers, page = get(server.url, "/slack/install")
    assert status == 200 and "slack.com/oauth/v2/authorize" in page
    state = re.search(r"state=([^&\"']+)", page).group(1)
    cookie = headers["set-cookie"].split(";", 1)[0]
    assert cookie == f"slack-app-oauth-state={state}"
    code = fake_slack.issue_install_code(NEW_TOKEN, installer=ADMIN)
    status, _, page = get(server.url, "/slack/oauth_redirect?" + urlencode({"code": code, "state": state}),
                          {"Cookie": cookie})
    assert status == 200, page
    [exchange] = fake_slack.calls("oauth.v2.access")
    assert exchange.ok and exchange.params["code"] == code


@pytest.mark.parametrize("order", [("app_uninstalled", "tokens_revoked"), ("tokens_revoked", "app_uninstalled")])
def test_oauth_install_then_uninstall_leaves_no_token_and_stops_everything(
        oauth_server, fake_slack, signing_secret, db, order):
    fake_slack.add_token(NEW_TOKEN, NEW_TEAM, team_domain="newco")
    fake_slack.add_user(ADMIN, "ada", is_admin=True, team_id=NEW_TEAM)
    install(oauth_server, fake_slack)
    assert tokens_of(db, NEW_TEAM) == [NEW_TOKEN, NEW_TOKEN]  # bot row and installation row

    sender = SlackSender(base_url=oauth_server.url, signing_secret=signing_secret, team_id=NEW_TEAM,
                         response_url_base=fake_slack.webhook_url("newco"))
    r = sender.command("/aiwin", "planned the offsite with Claude, saved 2h", user_id=BOB, channel_id=CHANNEL)
    assert r.status == 200 and "Got your AI win" in r.text
    [post] = fake_slack.wait_for("chat.postMessage", channel=CHANNEL)
    assert post.token == NEW_TOKEN
    wait_until(lambda: [w for w in wins(db, NEW_TEAM) if w.message_ts], message="posted")
    r = sender.command("/aiwin", "digest on", user_id=ADMIN, channel_id=CHANNEL,
                       response_url=fake_slack.webhook_url("on"))
    assert r.status == 200
    wait_until(lambda: _active_schedules(db) == 1, message="the digest schedule")
    with db.session(NEW_TEAM) as s:  # something still queued for later
        later = enqueue(s, team_id=NEW_TEAM, kind="home_refresh", payload={"user_id": BOB},
                        run_at=utcnow() + timedelta(hours=1))

    # Slack: the token stops working, and both events arrive (the first one twice: a retry).
    fake_slack.revoke_token(NEW_TOKEN)
    first = sender.event({"type": order[0], **_payload(order[0])}, event_id="Ev0UNINST001")
    again = sender.event({"type": order[0], **_payload(order[0])}, event_id="Ev0UNINST001", retry_num=1)
    second = sender.event({"type": order[1], **_payload(order[1])}, event_id="Ev0UNINST002")
    assert [first.status, again.status, second.status] == [200, 200, 200]

    assert tokens_of(db, NEW_TEAM) == []
    assert _active_schedules(db) == 0
    with db.read() as s:
        job = s.get(Job, later)
        assert (job.status, job.last_error) == (JOB_FAILED, CANCELLED)
        pending = s.scalar(select(func.count()).select_from(Job)
                           .where(Job.team_id == NEW_TEAM, Job.status == JOB_PENDING))
        assert pending == 0
        markers = s.scalar(select(func.count()).select_from(Job)
                           .where(Job.team_id == NEW_TEAM, Job.kind == "workspace_uninstalled"))
        assert markers == 2  # one per event_id; the retry changed nothing
    with db.read(NEW_TEAM) as s:
        assert s.get(Workspace, NEW_TEAM).uninstalled_at is not None
        assert s.scalar(select(func.count()).select_from(Win)) == 1  # data kept until purged

    # The next request from that workspace is refused politely, and nothing is recorded.
    hook = fake_slack.webhook_url("after")
    r = sender.command("/aiwin", "one more with ChatGPT, saved 1h", user_id=BOB, channel_id=CHANNEL,
                       response_url=hook)
    assert r.status == 200
    reply = wait_until(lambda: [c for c in fake_slack.calls("response_url") if c.path.endswith("/after")],
                       message="the refusal")[0]
    assert "reinstall" in all_text(reply.params).lower()
    assert len(wins(db, NEW_TEAM)) == 1


def _payload(kind: str) -> dict:
    return {"tokens": {"oauth": [], "bot": ["U07AIWINBOT"]}} if kind == "tokens_revoked" else {}


def _active_schedules(db, team_id: str = NEW_TEAM) -> int:
    with db.read(team_id) as s:
        return s.scalar(select(func.count()).select_from(Subscription).where(Subscription.active.is_(True)))


def test_single_workspace_uninstall_stops_schedules_and_jobs(slack, fake_slack, db):
    fake_slack.add_user(ADMIN, "ada", is_admin=True)
    assert slack.command("/aiwin", "digest on", user_id=ADMIN, channel_id=CHANNEL,
                         response_url=fake_slack.webhook_url("on")).status == 200
    wait_until(lambda: _active_schedules(db, TEAM) == 1, message="the digest schedule")
    with db.session(TEAM) as s:
        later = enqueue(s, team_id=TEAM, kind="home_refresh", payload={"user_id": BOB},
                        run_at=utcnow() + timedelta(hours=1))
    assert slack.event({"type": "app_uninstalled"}).status == 200
    with db.read(TEAM) as s:
        assert s.get(Workspace, TEAM).uninstalled_at is not None
        assert s.scalar(select(func.count()).select_from(Subscription).where(Subscription.active.is_(True))) == 0
    with db.read() as s:
        assert s.get(Job, later).status == JOB_FAILED


def test_user_tokens_revoked_alone_changes_nothing(slack, fake_slack, db):
    fake_slack.add_user(ADMIN, "ada", is_admin=True)
    assert slack.command("/aiwin", "digest on", user_id=ADMIN, channel_id=CHANNEL,
                         response_url=fake_slack.webhook_url("on")).status == 200
    wait_until(lambda: _active_schedules(db, TEAM) == 1, message="the digest schedule")
    r = slack.event({"type": "tokens_revoked", "tokens": {"oauth": [BOB], "bot": []}})
    assert r.status == 200
    with db.read(TEAM) as s:
        assert getattr(s.get(Workspace, TEAM), "uninstalled_at", None) is None
    assert _active_schedules(db, TEAM) == 1


def test_purge_removes_every_row_of_one_workspace_only(slack, fake_slack, db, db_url, tmp_path):
    assert slack.command("/aiwin", "drafted the memo with ChatGPT, saved 1h", user_id=BOB).status == 200
    wait_until(lambda: [w for w in wins(db, TEAM) if w.message_ts], message="posted")
    with db.session("T0KEEPME001") as s:
        kept = enqueue(s, team_id="T0KEEPME001", kind="home_refresh", payload={"user_id": BOB})
    env = {"DATABASE_URL": db_url, "PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(sys.path)}

    dry = subprocess.run([sys.executable, "-m", "bot", "purge", "--team", TEAM], env=env, capture_output=True,
                         text=True, timeout=120, check=False)
    assert dry.returncode == 0 and "would purge" in dry.stdout and "wins" in dry.stdout, dry.stderr
    assert len(wins(db, TEAM)) == 1

    done = subprocess.run([sys.executable, "-m", "bot", "purge", "--team", TEAM, "--yes"], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0 and f"purged workspace {TEAM}" in done.stdout, done.stderr
    with db.engine.connect() as conn:
        from bot.services.uninstall import _tenant_tables

        for table in _tenant_tables():
            assert conn.scalar(select(func.count()).select_from(table).where(table.c.team_id == TEAM)) == 0
    with db.read() as s:
        # (Running it may have queued more work for that workspace, such as copying its member list.)
        assert s.get(Job, kept) is not None
