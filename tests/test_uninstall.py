"""Uninstall means gone: a full OAuth install in the sandbox, a win in the new workspace, then Slack's
`app_uninstalled` / `tokens_revoked` (either order, retried): no token left, schedules and queued jobs
stopped, the next request refused politely. And `aiwins purge` removes a workspace completely.
Each test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import http.client
import re
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode, urlsplit

import pytest
from sqlalchemy import func, inspect, select, text, update

from bot.jobs import deliveries, reinvest, report
from bot.models import JOB_FAILED, JOB_PENDING, Job, Member, Subscription, Win, Workspace, utcnow
from bot.models.queue import enqueue
from bot.models.slack_oauth import bots, installations
from bot.models.win import POST_FAILED
from bot.sandbox.requests import SlackSender, submitted_state
from bot.server import Server
from bot.services.report import SEND_AT, first_working_day
from bot.services.uninstall import CANCELLED
from bot.settings import Settings
from tests.conftest import BOB, CHANNEL, TEAM
from tests.helpers import all_text, recorded, wait_until, wins

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


def install(server, fake_slack, token: str = NEW_TOKEN) -> None:
    """/slack/install → Slack's authorize page (the person approves) → /slack/oauth_redirect with a code."""
    status, headers, page = get(server.url, "/slack/install")
    assert status == 200 and "slack.com/oauth/v2/authorize" in page
    state = re.search(r"state=([^&\"']+)", page).group(1)
    cookie = headers["set-cookie"].split(";", 1)[0]
    assert cookie == f"slack-app-oauth-state={state}"
    code = fake_slack.issue_install_code(token, installer=ADMIN)
    status, _, page = get(server.url, "/slack/oauth_redirect?" + urlencode({"code": code, "state": state}),
                          {"Cookie": cookie})
    assert status == 200, page
    exchange = fake_slack.calls("oauth.v2.access")[-1]
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


# -- uninstalled means stopped: nothing recorded, queued or sent until a reinstall ---------------------------

REINSTALLED_TOKEN = "xoxb-reinstalled-token"


def _rows_per_table(db) -> dict[str, int]:
    with db.engine.connect() as conn:
        return {name: conn.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one()
                for name in inspect(conn).get_table_names()}


def _uninstalled_at(db, team_id: str):
    with db.read(team_id) as s:
        ws = s.get(Workspace, team_id)
        return ws.uninstalled_at if ws else None


def _report_due(db, team_id: str, user_id: str) -> datetime:
    """An instant a minute after next month's report to `user_id` (an admin, in UTC) falls due."""
    with db.session(team_id) as s:
        s.merge(Member(team_id=team_id, user_id=user_id, name="ada", tz="UTC", is_admin=True, fetched_at=utcnow()))
    today = utcnow()
    year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
    return datetime.combine(first_working_day(year, month), SEND_AT, tzinfo=UTC) + timedelta(minutes=1)


def posted(slack, db, text: str) -> Win:
    before = {w.id for w in wins(db, TEAM)}
    assert slack.command("/aiwin", text, user_id=BOB, channel_id=CHANNEL).status == 200
    return wait_until(lambda: next((w for w in wins(db, TEAM) if w.id not in before and w.message_ts), None),
                      message="the celebration posted")


def posting(slack, db, text: str) -> int:
    """Record a win (its post is queued, not necessarily made); returns its id."""
    before = {w.id for w in wins(db, TEAM)}
    r = slack.command("/aiwin", text, user_id=BOB, channel_id=CHANNEL)
    assert r.status == 200 and "Got your AI win" in r.text
    [new] = wait_until(lambda: [w.id for w in wins(db, TEAM) if w.id not in before], message="the win recorded")
    return new


def _win(db, win_id: int) -> Win:
    with db.read(TEAM) as s:
        return s.get(Win, win_id)


def _win_of(call) -> int | None:
    return ((call.params.get("metadata") or {}).get("event_payload") or {}).get("win_id")


def _job(db, job_id: int) -> Job:
    with db.read() as s:
        return s.get(Job, job_id)


def _make_due_for_the_reinvest_question(db, team_id: str, win_id: int) -> None:
    with db.session(team_id) as s:
        s.get(Win, win_id).created_at = utcnow() - timedelta(days=4)


def _replays(sender: SlackSender, fake_slack, form: dict, win_id: int, tag: str) -> list[str]:
    """What Slack could still deliver after the uninstall (signed before it): a command, a button, a
    message shortcut, a form, an event and a workflow step. Returns what each person was told (the
    events have no one to tell)."""
    told = []
    r = sender.command("/aiwin", "one more with ChatGPT, saved 1h", user_id=BOB, channel_id=CHANNEL)
    assert r.status == 200
    told.append(all_text(r.json()))
    edit = {"action_id": "win_edit", "block_id": "b", "type": "button", "value": str(win_id)}
    hook = fake_slack.webhook_url(f"button-{tag}", channel=CHANNEL, user=BOB)
    assert sender.block_action(BOB, edit, channel_id=CHANNEL, response_url=hook).status == 200
    [answer] = wait_until(lambda: [c for c in fake_slack.calls("response_url") if c.path.endswith(f"button-{tag}")],
                          message="the button's answer")
    told.append(all_text(answer.params))
    hook = fake_slack.webhook_url(f"shortcut-{tag}", channel=CHANNEL, user=BOB)
    message = {"ts": "1784812755.000100", "user": BOB, "text": "I summarised the RFP with Claude"}
    assert sender.message_shortcut(BOB, message, channel_id=CHANNEL, response_url=hook).status == 200
    [answer] = wait_until(lambda: [c for c in fake_slack.calls("response_url") if c.path.endswith(f"shortcut-{tag}")],
                          message="the shortcut's answer")
    told.append(all_text(answer.params))
    r = sender.view_submission(BOB, form)
    assert r.status == 200 and r.json()["response_action"] == "update"
    told.append(all_text(r.json()["view"]["blocks"]))
    assert sender.event({"type": "app_home_opened", "user": BOB, "channel": "D0BOBDM0001", "tab": "home"}).status == 200
    step = fake_slack.start_function("record_ai_win", {"author": BOB, "text": "Wrote the tests with Copilot"})
    assert sender.event(step).status == 200
    return told


def _win_form(slack, fake_slack) -> dict:
    """The new-win form, opened (before the uninstall) and filled in."""
    assert slack.command("/aiwin", "", user_id=BOB, channel_id=CHANNEL).status == 200
    [opened] = fake_slack.wait_for("views.open")
    view = opened.params["view"]
    values = submitted_state(view, {"what": "planned the offsite with Claude", "saved": "1h"})
    return dict(view, id="V0FORM00001", state={"values": values})


def test_single_workspace_uninstall_stops_everything_until_slack_accepts_a_token_again(
        server, slack, fake_slack, db, settings, signing_secret):
    fake_slack.add_user(ADMIN, "ada", is_admin=True)
    assert slack.command("/aiwin", "digest on", user_id=ADMIN, channel_id=CHANNEL,
                         response_url=fake_slack.webhook_url("on")).status == 200
    wait_until(lambda: _active_schedules(db, TEAM) == 1, message="the digest schedule")
    win = posted(slack, db, "drafted the launch plan with Claude, saved 2h")
    form = _win_form(slack, fake_slack)
    _make_due_for_the_reinvest_question(db, TEAM, win.id)
    report_at = _report_due(db, TEAM, ADMIN)

    # Slack revokes the token (a win recorded just then cannot be posted) and tells us; then requests
    # signed before that arrive (replays).
    fake_slack.revoke_token(fake_slack.token)
    stuck = posting(slack, db, "wrote the onboarding FAQ with Claude, saved 1h")
    assert slack.event({"type": "app_uninstalled"}).status == 200
    assert _uninstalled_at(db, TEAM) is not None
    assert _win(db, stuck).post_status == POST_FAILED  # its post job was cancelled: "Post again" may retry it
    with db.session(TEAM) as s:  # a schedule left on (say, by an older version) is passed by all the same
        s.execute(update(Subscription).values(active=True))
    before = _rows_per_table(db)
    calls = len(fake_slack.calls())
    told = _replays(slack, fake_slack, form, win.id, "a")
    assert all("no longer installed" in t and "reinstall" in t for t in told), told
    # … and the periodic work passes the workspace by.
    assert reinvest.reinvest_asks(server.runtime) == 0
    assert report.run_tick(db, now=report_at) == []
    assert deliveries.run_tick(db, now=report_at).claimed == []
    assert _rows_per_table(db) == before  # nothing recorded, nothing queued
    # Slack was asked only whether it accepts the token again (once: a refusal is remembered a while).
    assert [c.method for c in fake_slack.calls()[calls:] if c.method != "response_url"] == ["auth.test"]

    # A job that slipped into the queue anyway is cancelled, not run (no Slack call), nor retried.
    calls = len(fake_slack.calls())
    with db.session(TEAM) as s:
        stray = enqueue(s, team_id=TEAM, kind="home_refresh", payload={"user_id": BOB})
    server.runtime.worker.wake_worker()
    wait_until(lambda: _job(db, stray).status == JOB_FAILED, message="the stray job cancelled")
    assert (_job(db, stray).last_error, _job(db, stray).attempts) == (CANCELLED, 1)
    assert fake_slack.calls()[calls:] == []

    # Reinstalled: Slack gives a new token for the workspace, and the app restarts with it.
    fake_slack.add_token(REINSTALLED_TOKEN, TEAM)
    server.stop()
    again = Server(replace(settings, slack_bot_token=REINSTALLED_TOKEN), host="127.0.0.1", port=0, scheduler=False,
                   poll_interval=0.2).serve_in_thread()
    try:
        sender = SlackSender(base_url=again.url, signing_secret=signing_secret, team_id=TEAM,
                             enterprise_id="E0AB12CD3EF", response_url_base=fake_slack.webhook_url("again"))
        before = len(wins(db, TEAM))
        r = sender.command("/aiwin", "one more with ChatGPT, saved 1h", user_id=BOB, channel_id=CHANNEL)
        assert r.status == 200 and "Got your AI win" in r.text
        assert _uninstalled_at(db, TEAM) is None
        recorded(db, TEAM, before + 1)
        retry = {"action_id": "win_retry_post", "block_id": "b", "type": "button", "value": str(stuck)}
        assert sender.block_action(BOB, retry, channel_id=CHANNEL).status == 200
        newest = wins(db, TEAM)[-1].id
        wait_until(lambda: {_win_of(c) for c in fake_slack.calls("chat.postMessage")
                            if c.ok and c.token == REINSTALLED_TOKEN} == {newest, stuck},
                   message="the new win and the stuck one celebrated with the new token")
        assert reinvest.reinvest_asks(again.runtime) >= 1  # the periodic work resumes
        assert len(report.run_tick(db, now=report_at)) == 1
    finally:
        again.stop()


def test_oauth_uninstall_stops_the_workspace_and_a_completed_install_brings_it_back(
        oauth_server, fake_slack, signing_secret, db):
    fake_slack.add_token(NEW_TOKEN, NEW_TEAM, team_domain="newco")
    fake_slack.add_user(ADMIN, "ada", is_admin=True, team_id=NEW_TEAM)
    install(oauth_server, fake_slack)
    sender = SlackSender(base_url=oauth_server.url, signing_secret=signing_secret, team_id=NEW_TEAM,
                         response_url_base=fake_slack.webhook_url("newco"))
    r = sender.command("/aiwin", "planned the offsite with Claude, saved 2h", user_id=BOB, channel_id=CHANNEL)
    assert r.status == 200 and "Got your AI win" in r.text
    [win] = wait_until(lambda: [w for w in wins(db, NEW_TEAM) if w.message_ts], message="posted")
    _make_due_for_the_reinvest_question(db, NEW_TEAM, win.id)
    report_at = _report_due(db, NEW_TEAM, ADMIN)

    fake_slack.revoke_token(NEW_TOKEN)
    assert sender.event({"type": "app_uninstalled"}).status == 200
    before = _rows_per_table(db)
    hook = fake_slack.webhook_url("after")
    r = sender.command("/aiwin", "one more with ChatGPT, saved 1h", user_id=BOB, channel_id=CHANNEL,
                       response_url=hook)
    assert r.status == 200
    [reply] = wait_until(lambda: [c for c in fake_slack.calls("response_url") if c.path.endswith("/after")],
                         message="the refusal")
    told = all_text(reply.params)
    assert "no longer installed" in told and "/slack/install" in told
    assert reinvest.reinvest_asks(oauth_server.runtime) == 0
    assert report.run_tick(db, now=report_at) == []
    assert _rows_per_table(db) == before

    # A workspace admin installs it again: a new token, and the workspace is served again.
    fake_slack.add_token(REINSTALLED_TOKEN, NEW_TEAM, team_domain="newco")
    install(oauth_server, fake_slack, REINSTALLED_TOKEN)
    assert _uninstalled_at(db, NEW_TEAM) is None
    r = sender.command("/aiwin", "one more with ChatGPT, saved 1h", user_id=BOB, channel_id=CHANNEL)
    assert r.status == 200 and "Got your AI win" in r.text
    wait_until(lambda: [c for c in fake_slack.calls("chat.postMessage") if c.ok and c.token == REINSTALLED_TOKEN],
               message="the new win celebrated with the new token")
    assert reinvest.reinvest_asks(oauth_server.runtime) == 1
    assert len(report.run_tick(db, now=report_at)) == 1
