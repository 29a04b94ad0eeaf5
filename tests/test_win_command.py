"""/aiwin end to end: signed HTTP requests into the real server, the sandbox playing Slack.

Each test runs on SQLite and on PostgreSQL (see conftest.py)."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from bot.models import JOB_PENDING, Job
from bot.models.win import POST_FAILED, POST_POSTED
from bot.services.wins import POST_WIN
from tests.conftest import ALICE, BOB, CAROL, CHANNEL, TEAM
from tests.helpers import all_text, commands, recorded, restart_worker, wait_until, wins


def posted_win(db, team=TEAM):
    return wait_until(lambda: [w for w in wins(db, team) if w.message_ts], message="celebration ts stored")


def test_shout_out_is_stored_before_ack_and_celebrated(slack, fake_slack, db, server):
    server.runtime.worker.stop()  # the ack alone: what is durable when Slack hears back
    text = "<@U02ABCDEF|alice> drafted the Q3 board memo with ChatGPT, saved 3h #reporting"
    r = slack.command("/aiwin", text, user_id=BOB, channel_id=CHANNEL)
    assert r.status == 200
    body = r.json()
    assert body["response_type"] == "ephemeral"
    receipt = all_text(body["blocks"])
    assert "Got your AI win" in receipt
    assert "<@U02ABCDEF>" in receipt and "ChatGPT" in receipt and "3 h" in receipt and "#reporting" in receipt

    # In the database as soon as the ack arrived (the command, text exactly as sent); no win yet.
    [command] = commands(db, TEAM)
    assert command.payload["text"] == text and command.payload["user_id"] == BOB and wins(db, TEAM) == []

    # The job worker records it and celebrates it.
    restart_worker(server)
    [win] = recorded(db, TEAM)
    assert win.text == text
    assert win.owner_ids == [ALICE] and win.author_id == BOB
    assert (win.tool, win.minutes_saved, win.tag_list) == ("ChatGPT", 180, ["reporting"])
    assert win.enterprise_id == "E0AB12CD3EF"

    [call] = fake_slack.wait_for("chat.postMessage", channel=CHANNEL)
    message = all_text(call.params["blocks"])
    assert "<@U02ABCDEF>" in message and "drafted the Q3 board memo" in message
    [win] = posted_win(db)
    assert win.message_ts == call.response["ts"] and win.post_status == POST_POSTED


def test_own_win_and_time_forms(slack, fake_slack, db):
    r = slack.command("/aiwin", "cut test triage from 2h to 20m with Copilot", user_id=CAROL)
    assert r.status == 200
    [win] = recorded(db, TEAM)
    assert win.owner_ids == [CAROL] and win.minutes_saved == 100 and win.tool == "Copilot"
    assert "For:* you" in all_text(r.json()["blocks"])
    assert "1 h 40 min" in all_text(r.json()["blocks"])


@pytest.mark.parametrize(("said", "shown"), [
    ("saved -3h", "I didn't count “-3 h” saved: time saved can't be negative"),
    ("saved 250h", "I didn't count 250 h saved: one win can save at most 200 h"),
])
def test_an_unusable_time_is_not_counted_and_the_author_is_told(slack, fake_slack, db, said, shown):
    r = slack.command("/aiwin", f"triaged the backlog with Claude, {said}", user_id=BOB)
    assert r.status == 200
    receipt = all_text(r.json()["blocks"])
    assert shown in receipt and "Use *Edit* to put the right time" in receipt
    [win] = recorded(db, TEAM)  # the win is kept, without the time
    assert win.minutes_saved is None and win.tool == "Claude"
    [call] = fake_slack.wait_for("chat.postMessage", channel=CHANNEL)
    assert "saved" not in all_text(call.params["blocks"]).replace(said, "")


def test_same_trigger_id_twice_is_one_win(slack, fake_slack, db):
    trigger = "7712345678901.4123456789012.aaaabbbbccccddddeeeeffff00001111"
    first = slack.command("/aiwin", "wrote release notes with Claude, saved 1h", user_id=BOB, trigger_id=trigger)
    second = slack.command("/aiwin", "wrote release notes with Claude, saved 1h", user_id=BOB, trigger_id=trigger)
    assert first.status == second.status == 200
    assert all_text(second.json()["blocks"]) == all_text(first.json()["blocks"])  # the same answer
    assert len(commands(db, TEAM)) == 1
    fake_slack.wait_for("chat.postMessage")
    posted_win(db)
    assert len(fake_slack.calls("chat.postMessage")) == 1


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Slack-Signature": "v0=" + "0" * 64},  # wrong signature
        {"X-Slack-Request-Timestamp": str(int(time.time()) - 301)},  # stale (signed correctly for it)
        {"X-Slack-Request-Timestamp": "not-a-number"},
        {"X-Slack-Signature": "garbage"},
    ],
)
def test_bad_signatures_are_401_and_record_nothing(slack, db, headers):
    body = b"command=%2Faiwin&text=saved+3h&team_id=" + TEAM.encode() + b"&user_id=" + BOB.encode()
    ts = headers.get("X-Slack-Request-Timestamp")
    r = slack.post(body, "application/x-www-form-urlencoded",
                   timestamp=ts, signature=headers.get("X-Slack-Signature"))
    assert r.status == 401
    assert wins(db, TEAM) == []


def test_unsigned_request_is_401(slack, db):
    body = b"command=%2Faiwin&text=saved+3h&team_id=" + TEAM.encode()
    r = slack.post(body, "application/x-www-form-urlencoded", sign=False)
    assert r.status == 401
    assert wins(db, TEAM) == []


def test_url_verification_answers_the_challenge(slack):
    r = slack.url_verification("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P")
    assert r.status == 200
    assert r.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


def test_long_and_exotic_text_is_stored_exactly_and_posted_within_limits(slack, fake_slack, db):
    exotic = "مرحبا 👩🏽‍💻 日本語 e\u0301 \u202eevil\u202c &amp; &lt;b&gt; "
    text = (exotic * 900)[:39_000] + " saved 2h"
    r = slack.command("/aiwin", text, user_id=BOB)
    assert r.status == 200
    [win] = recorded(db, TEAM)
    assert win.text == text
    [call] = fake_slack.wait_for("chat.postMessage")  # the sandbox enforces Block Kit limits like Slack
    assert call.response["ok"] is True
    assert len(json.dumps(call.params["blocks"])) < 13_000  # below the observed msg_blocks_too_long threshold


def test_no_mention_or_link_can_be_injected(slack, fake_slack, db):
    text = "<!channel> <!here> hi @everyone @here &lt;!channel&gt; &lt;https://evil.example|bank&gt; saved 1h"
    slack.command("/aiwin", text, user_id=BOB)
    [call] = fake_slack.wait_for("chat.postMessage")
    posted = all_text(call.params["blocks"]) + call.params.get("text", "")
    assert "<!" not in posted
    assert "@here" not in posted and "@everyone" not in posted and "@channel" not in posted
    assert "<https://evil.example" not in posted
    assert wins(db, TEAM)[0].text == text


def test_private_channel_tells_author_to_invite_and_post_again_works(slack, fake_slack, db):
    fake_slack.add_channel("G0PRIVATE1", "secret-project", is_private=True)
    hook = fake_slack.webhook_url("cmd1", channel="G0PRIVATE1", user=BOB)
    r = slack.command("/aiwin", "summarised 40 interviews with Claude, saved 5h", user_id=BOB,
                      channel_id="G0PRIVATE1", response_url=hook)
    assert r.status == 200
    [notice] = fake_slack.wait_for("response_url")
    assert "/invite @aiwins" in all_text(notice.params)
    assert [w.post_status for w in wins(db, TEAM)] == [POST_FAILED]
    [shown] = fake_slack.response_messages()

    fake_slack.invite_bot("G0PRIVATE1")
    win_id = wins(db, TEAM)[0].id
    action = {"action_id": "win_retry_post", "block_id": "b", "type": "button", "value": str(win_id),
              "action_ts": "1784812755.918274"}
    retry_url = fake_slack.webhook_url("retry", original=shown)  # the notice's button: its response_url
    r = slack.block_action(BOB, action, channel_id="G0PRIVATE1", response_url=retry_url)
    assert r.status == 200
    fake_slack.wait_for("chat.postMessage", channel="G0PRIVATE1")
    assert posted_win(db)[0].post_status == POST_POSTED
    # "Post again" replaced the notice (it said replace_original) instead of adding a second message.
    [reply] = fake_slack.wait_for("response_url", count=2)[1:]
    assert reply.params["replace_original"] is True
    [now] = fake_slack.response_messages()
    assert now["ts"] == shown["ts"] and f"Trying to post win #{win_id} again" in now["text"]


def _post_jobs_pending(db, win_id: int) -> int:
    with db.read() as s:
        jobs = s.scalars(select(Job).where(Job.kind == POST_WIN, Job.status == JOB_PENDING)
                         .execution_options(all_tenants=True)).all()
    return len([j for j in jobs if j.payload.get("win_id") == win_id])


@pytest.mark.dates
def test_post_again_pressed_many_times_while_the_post_is_in_flight_posts_once(slack, fake_slack, db):
    """"Post again" claims the win (a compare-and-set on its post status) before queueing the post:
    presses at once, and presses while Slack is still answering the first post, post it once."""
    fake_slack.add_channel("G0PRIVATE1", "secret-project", is_private=True)
    r = slack.command("/aiwin", "summarised 40 interviews with Claude, saved 5h", user_id=BOB,
                      channel_id="G0PRIVATE1", response_url=fake_slack.webhook_url("cmd", channel="G0PRIVATE1",
                                                                                      user=BOB))
    assert r.status == 200
    wait_until(lambda: [w.post_status for w in wins(db, TEAM)] == [POST_FAILED], message="the post failed")
    [shown] = wait_until(fake_slack.response_messages, message="the notice with its button")
    fake_slack.invite_bot("G0PRIVATE1")
    win_id = wins(db, TEAM)[0].id
    in_flight = fake_slack.hold("chat.postMessage", channel="G0PRIVATE1")
    action = {"action_id": "win_retry_post", "block_id": "b", "type": "button", "value": str(win_id)}

    def press_all(batch: str, n: int = 8) -> list[str]:
        """n presses at once; the answer each one got (through its own response_url)."""
        urls = [fake_slack.webhook_url(f"{batch}-{i}", original=shown) for i in range(n)]
        with ThreadPoolExecutor(n) as pool:
            statuses = list(pool.map(lambda url: slack.block_action(BOB, action, channel_id="G0PRIVATE1",
                                                                    response_url=url).status, urls))
        assert statuses == [200] * n
        def answered() -> list | None:
            found = [c for c in fake_slack.calls("response_url") if f"/{batch}-" in c.path]
            return found if len(found) >= n else None

        answers = wait_until(answered, message=f"the answers to batch {batch}")
        return [all_text(c.params) for c in answers]

    with time_machine.travel(datetime.now(UTC), tick=True) as clock:
        first = press_all("a")
        in_flight.wait_until_held(1)  # the first post is waiting for Slack's answer
        clock.shift(timedelta(seconds=2))  # later presses are not the same instant as the first
        later = press_all("b")
        # Every post job that was queued reaches Slack while the first post is still in flight.
        wait_until(lambda: in_flight.held >= _post_jobs_pending(db, win_id), message="every queued post in flight")
        in_flight.release()
        wait_until(lambda: _post_jobs_pending(db, win_id) == 0, message="every post job settled")

    assert sum(f"Trying to post win #{win_id} again" in a for a in first) == 1
    assert sum("nothing to post again" in a for a in first) == len(first) - 1
    assert all("nothing to post again" in a for a in later)
    posts = [c for c in fake_slack.calls("chat.postMessage", channel="G0PRIVATE1") if c.ok]
    assert len(posts) == 1
    assert posted_win(db)[0].post_status == POST_POSTED


def test_rate_limit_is_retried_after_retry_after(slack, fake_slack, db):
    fake_slack.fail("chat.postMessage", status=429, retry_after=1, times=1)
    slack.command("/aiwin", "triaged 200 tickets with Gemini, saved 2h", user_id=BOB)
    fake_slack.wait_for("chat.postMessage", timeout=15)
    attempts = fake_slack.wait_for_calls("chat.postMessage", count=2)
    assert attempts[0].status == 429
    assert attempts[1].at - attempts[0].at >= 0.9  # it waited for Retry-After
    posted_win(db)


def test_server_error_is_retried(slack, fake_slack, db):
    fake_slack.fail("chat.postMessage", status=500, times=2)
    slack.command("/aiwin", "refactored the billing module with Cursor, saved 4h", user_id=BOB)
    fake_slack.wait_for("chat.postMessage", timeout=20)
    posted_win(db)


def test_pending_celebration_survives_a_restart(settings, fake_slack, signing_secret, db):
    from bot.sandbox.requests import SlackSender
    from bot.server import Server

    fake_slack.fail("chat.postMessage", status=503, times=None)  # Slack is down
    first = Server(settings, host="127.0.0.1", port=0, scheduler=False, poll_interval=0.2).serve_in_thread()
    sender = SlackSender(base_url=first.url, signing_secret=signing_secret, team_id=TEAM)
    assert sender.command("/aiwin", "wrote the launch FAQ with ChatGPT, saved 2h", user_id=BOB).status == 200
    fake_slack.wait_for_calls("chat.postMessage")
    first.stop()  # the process "dies" with the post still owed

    fake_slack.clear_failures()
    second = Server(settings, host="127.0.0.1", port=0, scheduler=False, poll_interval=0.2).serve_in_thread()
    try:
        # The first attempt's lease or backoff must expire; the job runs when due.
        fake_slack.wait_for("chat.postMessage", timeout=150)
        assert posted_win(db)[0].post_status == POST_POSTED
    finally:
        second.stop()


def test_help(slack):
    r = slack.command("/aiwin", "help", user_id=BOB)
    assert r.status == 200
    text = all_text(r.json())
    assert "/aiwin @alice" in text and "saved 3h" in text


def test_bare_command_opens_modal_and_submission_records_win(slack, fake_slack, db):
    trigger = "7712345678901.4123456789012.0123456789abcdef0123456789abcdef"
    r = slack.command("/aiwin", "", user_id=BOB, trigger_id=trigger)
    assert r.status == 200
    [opened] = fake_slack.wait_for("views.open")
    assert opened.params["trigger_id"] == trigger
    view = opened.params["view"]
    assert view["callback_id"] == "win_modal"

    values = {
        "who": {"who": {"type": "multi_users_select", "selected_users": [ALICE, CAROL]}},
        "what": {"what": {"type": "plain_text_input", "value": "Built the <b>churn</b> model & deck @here"}},
        "tool": {"tool": {"type": "static_select", "selected_option": {"value": "Claude"}}},
        "other_tool": {"other_tool": {"type": "plain_text_input", "value": None}},
        "saved": {"saved": {"type": "plain_text_input", "value": "1h30m"}},
        "reinvest": {"reinvest": {"type": "static_select", "selected_option": {"value": "customers"}}},
        "how": {"how": {"type": "plain_text_input", "value": "Prompted with last quarter's data"}},
        "channel": {"channel": {"type": "conversations_select", "selected_conversation": CHANNEL}},
    }
    submitted = dict(view, id="V1", state={"values": values})
    r = slack.view_submission(BOB, submitted)
    assert r.status == 200
    assert not r.body.strip() or r.json() in ({}, None)
    [win] = wins(db, TEAM)
    assert win.text == "Built the <b>churn</b> model & deck @here"
    assert win.owner_ids == [ALICE, CAROL] and win.minutes_saved == 90 and win.reinvested_in == "customers"
    [call] = fake_slack.wait_for("chat.postMessage", channel=CHANNEL)
    posted = all_text(call.params["blocks"])
    assert "&lt;b&gt;churn&lt;/b&gt;" in posted and "&amp;" in posted and "@here" not in posted


@pytest.mark.parametrize(
    ("saved", "field_error"),
    [("-2h", "saved"), ("9000h", "saved"), ("soon", "saved")],
)
def test_modal_field_errors(slack, db, saved, field_error):
    values = {
        "what": {"what": {"type": "plain_text_input", "value": "Did a thing with AI"}},
        "saved": {"saved": {"type": "plain_text_input", "value": saved}},
    }
    view = {"id": "V2", "type": "modal", "callback_id": "win_modal", "private_metadata": "{}",
            "state": {"values": values}}
    r = slack.view_submission(BOB, view)
    assert r.status == 200
    body = r.json()
    assert body["response_action"] == "errors" and field_error in body["errors"]
    assert wins(db, TEAM) == []


def test_empty_modal_text_is_a_field_error(slack, db):
    view = {"id": "V3", "type": "modal", "callback_id": "win_modal", "private_metadata": "not json",
            "state": {"values": {"what": {"what": {"type": "plain_text_input", "value": "   "}}}}}
    r = slack.view_submission(BOB, view)
    assert r.json()["errors"].keys() == {"what"}
    assert wins(db, TEAM) == []


def test_absurd_command_time_is_not_counted_but_win_is_kept(slack, db):
    r = slack.command("/aiwin", "automated the reports with ChatGPT, saved 5000h", user_id=BOB)
    assert "didn't count" in all_text(r.json()["blocks"])
    [win] = recorded(db, TEAM)
    assert win.minutes_saved is None and win.tool == "ChatGPT"


def test_healthz_and_metrics(server, slack, db):
    import urllib.request

    with urllib.request.urlopen(server.url + "/healthz") as resp:
        assert resp.status == 200 and json.loads(resp.read()) == {"status": "ok"}
    slack.command("/aiwin", "saved 1h summarising with Claude", user_id=BOB)
    server.web.metrics_token = "m-token"  # noqa: S105 - /metrics needs METRICS_TOKEN (tests/test_web.py)
    request = urllib.request.Request(server.url + "/metrics", headers={"Authorization": "Bearer m-token"})
    with urllib.request.urlopen(request) as resp:
        metrics = resp.read().decode()
    assert 'aiwins_wins_recorded_total{source="command"}' in metrics
    assert 'aiwins_http_requests_total{path="/slack/events",status="200"}' in metrics


def test_healthz_is_503_when_the_database_is_gone(server):
    import urllib.error
    import urllib.request

    from bot.db import Database

    # Nothing listens on port 1: the health check's database is unreachable.
    server.web.db = Database("postgresql+psycopg://postgres@127.0.0.1:1/gone?connect_timeout=2", pool_size=1)
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(server.url + "/healthz")
    assert e.value.code == 503
    assert json.loads(e.value.read()) == {"status": "unavailable", "reason": "database unavailable: OperationalError"}
