"""The HTTP entry point: requests are verified on their raw bytes, then parsed by exact field names,
so no text a person types can make Bolt misread a request; junk is a 4xx, never a 500."""

from __future__ import annotations

import http.client
import json
import logging
import time
import urllib.error
import urllib.request
from dataclasses import replace
from urllib.parse import urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from slack_sdk.socket_mode.request import SocketModeRequest

from bot.sandbox.requests import FORM, JSON, sign
from tests.conftest import BOB, CHANNEL, TEAM
from tests.helpers import all_text, commands, recorded, wait_until, wins

# Every field name Slack uses in its request bodies, and the characters forms and JSON are made of.
SLACK_WORDS = [
    "token", "team_id", "team_domain", "enterprise_id", "enterprise_name", "channel_id", "channel_name",
    "user_id", "user_name", "command", "text", "api_app_id", "is_enterprise_install", "response_url",
    "trigger_id", "payload", "type", "ssl_check", "challenge", "url_verification", "event", "event_id",
    "event_callback", "actions", "view", "view_submission", "block_actions", "callback_id", "state",
    "private_metadata", "authorizations", "ssl_check=1", "payload=", "payload={}", "type=url_verification",
    '{"type":"url_verification","challenge":"x"}', "&", "=", "%", "+", "{", "}", "%7B", "%26", "&payload=",
]
STARTS = ["&", "=", "%", "+", "{", "{}", "payload", "payload=", "ssl_check=1&", "%7B", "token="]
free_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=20)


def _no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    assert not [r for r in caplog.records if r.exc_info], [r.getMessage() for r in caplog.records]
    assert "Traceback" not in caplog.text


@hsettings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=st.sampled_from(STARTS),
       words=st.lists(st.sampled_from(SLACK_WORDS) | free_text, min_size=0, max_size=8))
def test_any_command_text_is_recorded_as_a_win(slack, db, start, words):
    text = " ".join([start, *words]).strip()
    r = slack.command("/aiwin", text, user_id=BOB, channel_id=CHANNEL)
    assert r.status == 200, r.text
    assert "Got your AI win" in all_text(r.json()["blocks"])
    assert commands(db, TEAM)[-1].payload["text"] == text  # stored exactly as typed, for the worker to record


def test_a_command_mentioning_payload_is_a_win(slack, db):
    text = "I generated the payload schema with Claude, saved 1h"
    r = slack.command("/aiwin", text, user_id=BOB)
    assert r.status == 200 and "Got your AI win" in all_text(r.json()["blocks"])
    [win] = recorded(db, TEAM)
    assert win.text == text and win.tool == "Claude"


def test_socket_mode_requests_are_dicts_and_not_misread(settings, db):
    """Socket Mode hands Bolt the payload as a dict, so Bolt's text heuristics never run on it."""
    from slack_bolt.adapter.socket_mode.internals import run_bolt_app

    from bot.app import create_app

    app = create_app(replace(settings, slack_app_token="xapp-1-test", slack_signing_secret=None), db=db)
    text = "payload=[] & {the payload schema} with Claude"
    body = {"token": "x", "team_id": TEAM, "channel_id": CHANNEL, "user_id": BOB, "command": "/aiwin",
            "text": text, "api_app_id": "A1", "response_url": "https://hooks.slack.com/commands/1",
            "trigger_id": "1.2.3"}
    req = SocketModeRequest(type="slash_commands", envelope_id="e1", payload=body)
    response = run_bolt_app(app, req)
    assert response.status == 200 and "Got your AI win" in response.body
    assert commands(db, TEAM)[-1].payload["text"] == text


def test_ssl_check_is_answered_whatever_its_token_says(slack):
    # Bolt read this as an interactivity payload (the body contains the text "payload") and gave 404.
    r = slack.post(urlencode({"ssl_check": "1", "token": "payload"}).encode(), FORM)
    assert r.status == 200


@pytest.mark.parametrize(("body", "content_type"), [
    (b"{not json", JSON), (b"{not json", FORM), (b"\x00\x01 garbage", JSON), (b"[1,2]", JSON),
    (b"payload=%7Bbroken", FORM), (b"payload=%7Bbroken", JSON),
])
def test_junk_with_a_wrong_signature_is_401(slack, caplog, body, content_type):
    ts = str(int(time.time()))
    r = slack.post(body, content_type, timestamp=ts, signature=sign("not-the-secret", ts, body))
    assert r.status == 401 and r.json() == {"error": "invalid request"}
    _no_traceback(caplog)


def test_a_non_ascii_signature_is_401(slack, caplog):
    r = slack.post(b"token=x&command=%2Faiwin&text=hi", FORM, extra_headers={"X-Slack-Signature": "v0=" + "é" * 64})
    assert r.status == 401
    _no_traceback(caplog)


# Slack's headers as an attacker might send them: digits of other scripts (str.isdigit() and int()
# accept "²", "١٢٣", "１２３"), whitespace and signs around or inside, nothing, far too many digits.
OTHER_DIGITS = [chr(zero) for zero in (0x660, 0x6F0, 0x966, 0x9E6, 0xFF10, 0x1D7CE)]
NOW_DIGITS = str(int(time.time()))


def _in_script(zero: str) -> str:
    return "".join(chr(ord(zero) + int(d)) for d in NOW_DIGITS)


header_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=16)
bad_timestamps = st.one_of(
    header_text.filter(lambda v: not (v.isascii() and v.isdigit() and 0 < len(v) < 12)),
    st.sampled_from(OTHER_DIGITS).map(_in_script),
    st.sampled_from(["²", "¹²³", "³" * 10, "", " ", "+" + NOW_DIGITS, "-" + NOW_DIGITS, NOW_DIGITS[:5] + " " +
                     NOW_DIGITS[5:], NOW_DIGITS + ".5", "0x" + NOW_DIGITS, NOW_DIGITS + "0" * 30]),
)
bad_signatures = st.one_of(
    header_text,
    header_text.map(lambda v: "v0=" + v),
    st.sampled_from(["v0=", "v0=" + "é" * 64, "v0=" + "A" * 64, "v1=" + "a" * 64, "v0=" + "a" * 65]),
)


def _post_raw(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    """POST with header values sent as bytes: Latin-1 where they fit (so the server reads "²" as "²"),
    else UTF-8, as a client that does not care would."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.putrequest("POST", "/slack/events")
        conn.putheader("Content-Type", FORM)
        conn.putheader("Content-Length", str(len(body)))
        for name, value in headers.items():
            try:
                raw = value.encode("latin-1")
            except UnicodeEncodeError:
                raw = value.encode("utf-8")
            conn.putheader(name, raw)
        conn.endheaders(body)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bad=st.one_of(bad_timestamps.map(lambda v: ("ts", v)), bad_signatures.map(lambda v: ("sig", v))))
@example(bad=("ts", "²"))  # passed str.isdigit(), then int() raised: a 500 and a traceback
@example(bad=("ts", "١٢٣"))
@example(bad=("ts", ""))
@example(bad=("sig", "v0=" + "é" * 64))
def test_malformed_signature_headers_are_401_with_no_traceback(server, signing_secret, db, caplog, bad):
    """Whatever the timestamp or signature header holds, if it is not what Slack sends the answer is
    401, with at most one log line and no traceback, and nothing is recorded. The other header is
    right, and the signature is computed over the exact timestamp sent."""
    caplog.clear()
    caplog.set_level(logging.INFO)
    body = urlencode({"token": "x", "team_id": TEAM, "user_id": BOB, "channel_id": CHANNEL, "command": "/aiwin",
                      "text": "saved 1h with Claude", "trigger_id": "1.2.3"}).encode()
    which, value = bad
    ts = value if which == "ts" else str(int(time.time()))
    headers = {"X-Slack-Request-Timestamp": ts,
               "X-Slack-Signature": value if which == "sig" else sign(signing_secret, ts, body)}
    status, answer = _post_raw(server.url, body, headers)
    assert status == 401, (status, answer)
    assert json.loads(answer) == {"error": "invalid request"}
    _no_traceback(caplog)
    assert len(caplog.records) <= 1, [r.getMessage() for r in caplog.records]
    assert wins(db, TEAM) == []


def _payload(data: object) -> bytes:
    return urlencode({"payload": json.dumps(data)}).encode()


BLOCK_ACTION = {"type": "block_actions", "team": {"id": TEAM}, "user": {"id": BOB}, "api_app_id": "A1",
                "trigger_id": "1.2.3", "container": {"type": "message"}, "actions": None}


@pytest.mark.parametrize(("body", "content_type"), [
    (b'{"type": "event_callback", "event": ', JSON),
    (b"[1, 2, 3]", JSON),
    (b'"just a string"', JSON),
    (b"payload=%7Bbroken", FORM),
    (b"payload=%5B%5D", FORM),
    (b"payload=null", FORM),
    (b"hello", "text/plain"),
])
def test_signed_malformed_bodies_are_400_with_one_log_line(slack, caplog, body, content_type):
    caplog.set_level(logging.INFO)
    r = slack.post(body, content_type)
    assert r.status == 400
    _no_traceback(caplog)
    assert len([rec for rec in caplog.records if rec.levelno >= logging.WARNING]) == 1


@pytest.mark.parametrize("payload", [
    BLOCK_ACTION,
    {**BLOCK_ACTION, "actions": [None]},
    {"type": "view_submission", "team": {"id": TEAM}, "user": {"id": BOB}, "api_app_id": "A1",
     "view": {"id": "V1", "type": "modal", "callback_id": "win_modal", "private_metadata": "[1]",
              "state": {"values": {"what": {"what": {"type": "plain_text_input", "value": "x"}}}}}},
    {"type": "view_submission", "team": {"id": TEAM}, "user": {"id": BOB}, "api_app_id": "A1",
     "view": {"id": "V1", "type": "modal", "callback_id": "win_modal",
              "private_metadata": '{"win_id": 99999999999999999999999}',
              "state": {"values": {"what": {"what": {"type": "plain_text_input", "value": "x"}}}}}},
    {"type": "view_submission", "team": {"id": TEAM}, "user": {"id": BOB}, "api_app_id": "A1",
     "view": {"id": "V1", "type": "modal", "callback_id": "win_modal", "private_metadata": "}{junk",
              "state": {"values": None}}},
    {"type": "event_callback", "team_id": TEAM, "event_id": "Ev1", "event": None},
])
def test_signed_junk_payloads_never_500(slack, caplog, payload):
    body = json.dumps(payload).encode() if payload.get("type") == "event_callback" else _payload(payload)
    r = slack.post(body, JSON if payload.get("type") == "event_callback" else FORM)
    assert 200 <= r.status < 500, r.text
    _no_traceback(caplog)


@pytest.mark.parametrize(("action_id", "value", "answer"), [
    ("win_edit", "99999999999999999999999", "no longer exists"),
    ("win_retry_post", str(2**63), "nothing to post again"),
])
def test_buttons_with_junk_ids_get_a_polite_answer(slack, fake_slack, caplog, action_id, value, answer):
    url = fake_slack.webhook_url(f"junk-{action_id}")
    r = slack.block_action(BOB, {"action_id": action_id, "value": value}, channel_id=CHANNEL, response_url=url)
    assert r.status == 200
    [call] = wait_until(lambda: fake_slack.calls("response_url"), message="the polite answer")
    assert answer in json.dumps(call.params)
    _no_traceback(caplog)


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_metrics_are_404_with_a_hint_without_a_token(server):
    status, body = _get(server.url + "/metrics")
    assert status == 404 and "METRICS_TOKEN" in body and len(body.strip().splitlines()) == 1
    assert "aiwins_http_requests_total" not in body


def test_metrics_need_the_bearer_token(settings):
    from bot.server import Server

    srv = Server(replace(settings, metrics_token="s3cret-metrics"), host="127.0.0.1", port=0,  # noqa: S106
                 scheduler=False).serve_in_thread()
    try:
        assert _get(srv.url + "/metrics")[0] == 401
        assert _get(srv.url + "/metrics", {"Authorization": "Bearer wrong"})[0] == 401
        status, body = _get(srv.url + "/metrics", {"Authorization": "Bearer s3cret-metrics"})
        assert status == 200 and "aiwins_http_requests_total" in body
    finally:
        srv.stop()


def test_healthz_reports_a_refused_bot_token_until_slack_accepts_it_again(server, slack, fake_slack, db):
    assert slack.command("/aiwin", "drafted it with Claude", user_id=BOB, channel_id=CHANNEL).status == 200
    fake_slack.wait_for("chat.postMessage", channel=CHANNEL)
    assert _get(server.url + "/healthz")[0] == 200

    fake_slack.tokens.discard(fake_slack.token)  # revoked in Slack: every call now answers invalid_auth
    assert slack.command("/aiwin", "summarised it with ChatGPT", user_id=BOB, channel_id=CHANNEL).status == 200
    wait_until(lambda: _get(server.url + "/healthz")[0] == 503, message="/healthz to report the token")
    status, body = _get(server.url + "/healthz")
    assert "SLACK_BOT_TOKEN" in body and "invalid_auth" in body

    fake_slack.tokens.add(fake_slack.token)  # the job worker's retry of the celebration now succeeds
    wait_until(lambda: _get(server.url + "/healthz")[0] == 200, timeout=30, message="/healthz to recover")
    assert len(fake_slack.wait_for("chat.postMessage", count=2, channel=CHANNEL, timeout=30)) == 2
