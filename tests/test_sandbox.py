"""The local Slack sandbox (bot/sandbox) over real loopback HTTP: the fake Web API and the request sender.

Other tests trust these two pieces to behave like Slack, so their behaviour is pinned here.
"""

from __future__ import annotations

import http.client
import json
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from bot.sandbox.fake_slack import FakeSlack
from bot.sandbox.requests import USER_AGENT, SlackSender, sign

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
TOKEN = "xoxb-sandbox"


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as f:
        yield f


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(token=TOKEN, base_url=fake.api_url)


def section(text: str, block_id: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    if block_id is not None:
        block["block_id"] = block_id
    return block


def raw(url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """POST (or GET without a body) with urllib; returns (status, decoded JSON)."""
    req = urllib.request.Request(
        url, data=body, headers=headers or {}, method="POST" if body is not None else "GET"
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def api_error(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as info:
        call()
    return info.value


# --------------------------------------------------------------------------- FakeSlack: messages


def test_post_message_returns_slack_shape_with_increasing_ts(fake: FakeSlack, client: WebClient) -> None:
    stamps = []
    for i in range(5):
        resp = client.chat_postMessage(channel="C05RPT12345", text=f"win {i}", blocks=[section(f"*win* {i}")])
        assert resp["ok"] is True
        assert resp["channel"] == "C05RPT12345"
        assert resp["message"]["user"] == "U07AIWINBOT"
        assert resp["message"]["bot_id"] == "B07AIWINBOT"
        assert resp["message"]["ts"] == resp["ts"]
        stamps.append(resp["ts"])
    assert all(len(ts.split(".")[1]) == 6 for ts in stamps)
    assert [float(ts) for ts in stamps] == sorted({float(ts) for ts in stamps})
    messages = fake.messages("C05RPT12345")
    assert [m["text"] for m in messages] == [f"win {i}" for i in range(5)]
    assert messages[0]["blocks"] == [section("*win* 0")]
    [call] = fake.calls("chat.postMessage", text="win 3")
    assert call.token == TOKEN and call.ok and call.status == 200


def test_thread_ts_is_stored_and_dm_goes_to_a_stable_d_channel(fake: FakeSlack, client: WebClient) -> None:
    parent = client.chat_postMessage(channel="C05RPT12345", text="parent")
    reply = client.chat_postMessage(channel="C05RPT12345", text="reply", thread_ts=parent["ts"])
    assert fake.messages("C05RPT12345")[1]["thread_ts"] == parent["ts"]
    link = client.chat_getPermalink(channel="C05RPT12345", message_ts=reply["ts"])["permalink"]
    assert link == (
        f"https://acme-corp.slack.com/archives/C05RPT12345/p{reply['ts'].replace('.', '')}"
        f"?thread_ts={parent['ts']}&cid=C05RPT12345"
    )

    fake.add_user("U05BOB12345", "bob.smith")
    first = client.chat_postMessage(channel="U05BOB12345", text="hi bob")
    second = client.chat_postMessage(channel="U05BOB12345", text="again")
    opened = client.conversations_open(users="U05BOB12345")
    assert first["channel"].startswith("D")
    assert (
        first["channel"] == second["channel"] == opened["channel"]["id"] == fake.dm_channel_id("U05BOB12345")
    )
    assert [m["text"] for m in fake.messages("U05BOB12345")] == ["hi bob", "again"]
    assert api_error(lambda: client.chat_postMessage(channel="U0NOBODY", text="x")).response["error"] == (
        "channel_not_found"
    )
    assert api_error(lambda: client.chat_postMessage(channel="Dunknown", text="x")).response["error"] == (
        "channel_not_found"
    )


def test_update_delete_and_permalink(fake: FakeSlack, client: WebClient) -> None:
    posted = client.chat_postMessage(channel="C05RPT12345", text="v1", blocks=[section("v1")])
    updated = client.chat_update(channel="C05RPT12345", ts=posted["ts"], text="v2")
    assert updated["ts"] == posted["ts"] and updated["text"] == "v2"
    [message] = fake.messages("C05RPT12345")
    assert message["text"] == "v2" and message["blocks"] == [section("v1")]  # blocks kept unless sent
    assert "edited" in message
    link = client.chat_getPermalink(channel="C05RPT12345", message_ts=posted["ts"])
    assert (
        link["permalink"]
        == f"https://acme-corp.slack.com/archives/C05RPT12345/p{posted['ts'].replace('.', '')}"
    )

    assert api_error(lambda: client.chat_update(channel="C05RPT12345", ts="1.000001", text="x")).response[
        "error"
    ] == ("message_not_found")
    assert api_error(
        lambda: client.chat_update(
            channel="C05RPT12345", ts=posted["ts"], text="x", blocks=[section("x" * 3001)]
        )
    ).response["error"] == ("invalid_blocks")
    client.chat_delete(channel="C05RPT12345", ts=posted["ts"])
    assert fake.messages("C05RPT12345") == []
    assert api_error(
        lambda: client.chat_getPermalink(channel="C05RPT12345", message_ts=posted["ts"])
    ).response["error"] == ("message_not_found")


def test_post_ephemeral(fake: FakeSlack, client: WebClient) -> None:
    resp = client.chat_postEphemeral(channel="C05RPT12345", user="U05BOB12345", text="only you")
    assert resp["ok"] and resp["message_ts"]
    assert fake.ephemerals("C05RPT12345")[0]["user"] == "U05BOB12345"
    assert fake.messages("C05RPT12345") == []


# --------------------------------------------------------------------------- auth and channels


def test_auth_test_shape_and_scopes_header(client: WebClient) -> None:
    resp = client.auth_test()
    assert resp.data == {
        "ok": True,
        "url": "https://acme-corp.slack.com/",
        "team": "Acme Corp",
        "user": "aiwins",
        "team_id": "T0AB12CD3EF",
        "user_id": "U07AIWINBOT",
        "bot_id": "B07AIWINBOT",
        "is_enterprise_install": False,
    }
    # Bolt looks this header up case-sensitively in lower case.
    assert "chat:write" in resp.headers["x-oauth-scopes"].split(",")


def test_enterprise_id_is_reported_when_set() -> None:
    with FakeSlack(enterprise_id="E0AB12CD3EF") as fake:
        resp = WebClient(token=TOKEN, base_url=fake.api_url).auth_test()
        assert resp["enterprise_id"] == "E0AB12CD3EF"


def test_missing_and_invalid_tokens(fake: FakeSlack, client: WebClient) -> None:
    bad = WebClient(token="xoxb-wrong", base_url=fake.api_url)
    assert api_error(lambda: bad.chat_postMessage(channel="C1", text="x")).response["error"] == "invalid_auth"
    status, body = raw(fake.api_url + "auth.test", b"", {"Content-Type": "application/x-www-form-urlencoded"})
    assert (status, body) == (200, {"ok": False, "error": "not_authed"})
    status, body = raw(fake.api_url + "auth.test", f"token={TOKEN}".encode())
    assert body["ok"] is True  # a token form field is accepted too

    fake.add_token("xoxb-other", "T0OTHER0001")
    other = WebClient(token="xoxb-other", base_url=fake.api_url).auth_test()
    assert other["team_id"] == "T0OTHER0001"
    assert [c.error for c in fake.calls("chat.postMessage")] == ["invalid_auth"]


def test_private_channel_needs_the_bot_and_archived_channels_refuse(
    fake: FakeSlack, client: WebClient
) -> None:
    fake.add_channel("G0SECRET01", "secret", is_private=True)
    assert api_error(lambda: client.chat_postMessage(channel="G0SECRET01", text="x")).response["error"] == (
        "not_in_channel"
    )
    assert api_error(lambda: client.chat_postMessage(channel="G0AUTOPRIV", text="x")).response["error"] == (
        "not_in_channel"
    )
    fake.invite_bot("G0SECRET01")
    assert client.chat_postMessage(channel="G0SECRET01", text="x")["ok"]

    fake.add_channel("C0ARCHIVE1", "old", is_archived=True)
    assert api_error(lambda: client.chat_postMessage(channel="C0ARCHIVE1", text="x")).response["error"] == (
        "is_archived"
    )
    # A public channel the bot never joined is fine (chat:write.public), also by #name.
    fake.add_channel("C0PUBLIC01", "general")
    assert client.chat_postMessage(channel="#general", text="x")["channel"] == "C0PUBLIC01"


def test_conversations_info_join_and_usergroups(fake: FakeSlack, client: WebClient) -> None:
    info = client.conversations_info(channel="C05RPT12345")["channel"]
    assert info["id"] == "C05RPT12345" and info["is_member"] is False and info["is_private"] is False
    joined = client.conversations_join(channel="C05RPT12345")
    assert joined["channel"]["is_member"] is True
    assert client.conversations_join(channel="C05RPT12345")["warning"] == "already_in_channel"
    fake.add_channel("G0SECRET01", "secret", is_private=True)
    assert api_error(lambda: client.conversations_join(channel="G0SECRET01")).response["error"] == (
        "method_not_supported_for_channel_type"
    )
    assert api_error(lambda: client.conversations_info(channel="G0SECRET01")).response["error"] == (
        "channel_not_found"
    )

    fake.add_usergroup("S0MANAGERS", ["U02ABCDEF", "U03GHIJKL"])
    assert client.usergroups_users_list(usergroup="S0MANAGERS")["users"] == ["U02ABCDEF", "U03GHIJKL"]
    assert api_error(lambda: client.usergroups_users_list(usergroup="S0NOPE")).response["error"] == (
        "no_such_subteam"
    )


def _thread(fake: FakeSlack, client: WebClient) -> tuple[str, list[str]]:
    """#reporting with a top-level message, a thread (parent + two replies, one carrying metadata) and
    another top-level message after it; returns (parent ts, reply ts in order)."""
    fake.add_channel("C05RPT12345", "reporting", bot_member=True)
    fake.add_user("U02ABCDEF", "alice")
    fake.add_message("C05RPT12345", "U02ABCDEF", "before")
    parent = fake.add_message("C05RPT12345", "U02ABCDEF", "parent")["ts"]
    first = fake.add_message("C05RPT12345", "U02ABCDEF", "first reply", thread_ts=parent)["ts"]
    meta = {"event_type": "aiwins_win", "event_payload": {"win_id": 7}}
    second = client.chat_postMessage(channel="C05RPT12345", text="second reply", thread_ts=parent, metadata=meta)["ts"]
    fake.add_message("C05RPT12345", "U02ABCDEF", "after")
    return parent, [first, second]


def test_history_lists_parent_messages_only(fake: FakeSlack, client: WebClient) -> None:
    parent, replies = _thread(fake, client)
    history = client.conversations_history(channel="C05RPT12345", include_all_metadata=True)
    assert [m["text"] for m in history["messages"]] == ["after", "parent", "before"]  # newest first, no reply
    listed_parent = history["messages"][1]
    assert (listed_parent["thread_ts"], listed_parent["reply_count"], listed_parent["latest_reply"]) == (
        parent, 2, replies[-1])
    assert "thread_ts" not in history["messages"][0]


def test_replies_lists_the_parent_then_its_replies(fake: FakeSlack, client: WebClient) -> None:
    parent, replies = _thread(fake, client)
    thread = client.conversations_replies(channel="C05RPT12345", ts=parent)
    assert [m["ts"] for m in thread["messages"]] == [parent, *replies]
    assert [m["text"] for m in thread["messages"]] == ["parent", "first reply", "second reply"]
    assert "metadata" not in thread["messages"][2]  # only with include_all_metadata, as history
    # The ts of a reply names the same thread.
    thread = client.conversations_replies(channel="C05RPT12345", ts=replies[0], include_all_metadata=True)
    assert [m["ts"] for m in thread["messages"]] == [parent, *replies]
    assert thread["messages"][2]["metadata"]["event_payload"] == {"win_id": 7}
    # A page of one: the parent leads the first page only; the cursor walks the replies in order.
    seen, cursor = [], None
    while True:
        page = client.conversations_replies(channel="C05RPT12345", ts=parent, limit=1, cursor=cursor)
        seen += [m["text"] for m in page["messages"]]
        cursor = page["response_metadata"]["next_cursor"]
        if not page["has_more"]:
            break
    assert seen == ["parent", "first reply", "second reply"]
    # A time range narrows the replies; the parent still comes first.
    narrowed = client.conversations_replies(channel="C05RPT12345", ts=parent, oldest=replies[0])
    assert [m["text"] for m in narrowed["messages"]] == ["parent", "second reply"]
    # A message without replies is a thread of one.
    [alone] = client.conversations_replies(channel="C05RPT12345", ts=client.conversations_history(
        channel="C05RPT12345", limit=1)["messages"][0]["ts"])["messages"]
    assert alone["text"] == "after" and "reply_count" not in alone


def test_replies_refuses_like_slack(fake: FakeSlack, client: WebClient) -> None:
    parent, _ = _thread(fake, client)
    assert api_error(lambda: client.conversations_replies(channel="C05RPT12345", ts="1.000001")).response[
        "error"] == "thread_not_found"
    assert api_error(lambda: client.conversations_replies(channel="C05RPT12345", ts=parent, cursor="%%")).response[
        "error"] == "invalid_cursor"
    # The read scope of the conversation's type, as history: groups:history for a private channel.
    fake.add_channel("G0SECRET01", "secret", is_private=True, bot_member=True)
    secret = client.chat_postMessage(channel="G0SECRET01", text="x")["ts"]
    fake.add_token("xoxb-public-history", fake.team_id, scopes="chat:write,channels:history")
    narrow = WebClient(token="xoxb-public-history", base_url=fake.api_url)
    assert narrow.conversations_replies(channel="C05RPT12345", ts=parent)["ok"]
    for method in (narrow.conversations_replies, narrow.conversations_history):
        e = api_error(lambda m=method: m(channel="G0SECRET01", ts=secret))
        assert (e.response["error"], e.response["needed"]) == ("missing_scope", "groups:history")
    # A public channel the bot is not in: not_in_channel (it could post there, not read).
    fake.add_channel("C0PUBLIC01", "general")
    posted = client.chat_postMessage(channel="C0PUBLIC01", text="x")["ts"]
    assert api_error(lambda: client.conversations_replies(channel="C0PUBLIC01", ts=posted)).response[
        "error"] == "not_in_channel"


def test_users_info_and_list_pagination_across_three_pages(fake: FakeSlack, client: WebClient) -> None:
    fake.add_user("U02ABCDEF", "alice", is_admin=True, title="VP Ops", tz="Europe/Paris")
    fake.add_user("U03GHIJKL", "carol", is_owner=True)
    fake.add_user("U04MNOPQR", "dave", deleted=True)
    fake.add_user("U05BOB12345", "bob.smith", is_restricted=True)

    alice = client.users_info(user="U02ABCDEF")["user"]
    assert alice["is_admin"] is True and alice["profile"]["title"] == "VP Ops"
    assert alice["tz"] == "Europe/Paris" and alice["tz_offset"] in (3600, 7200)
    assert client.users_info(user="U05BOB12345")["user"]["is_restricted"] is True
    assert api_error(lambda: client.users_info(user="U0NOBODY")).response["error"] == "user_not_found"

    ids, cursors, cursor = [], [], ""
    for _ in range(10):
        page = client.users_list(limit=2, cursor=cursor)
        ids += [m["id"] for m in page["members"]]
        cursor = page["response_metadata"]["next_cursor"]
        cursors.append(cursor)
        if not cursor:
            break
    # The bot user is a member too, as in Slack: 5 members, pages of 2, 2, 1.
    assert ids == ["U07AIWINBOT", "U02ABCDEF", "U03GHIJKL", "U04MNOPQR", "U05BOB12345"]
    assert len(cursors) == 3 and cursors[-1] == "" and all(cursors[:2])
    assert api_error(lambda: client.users_list(cursor="not-a-cursor")).response["error"] == "invalid_cursor"


def test_users_list_pages_as_slack_does_and_can_be_rate_limited_midway(fake: FakeSlack, client: WebClient) -> None:
    import base64

    for i in range(1500):
        fake.add_user(f"U9{i:08d}", f"member{i}")
    # No limit asks for everything: refused for a big workspace, as Slack may. Above 1,000 is cut to 1,000.
    assert api_error(lambda: client.users_list()).response["error"] == "limit_required"
    first = client.users_list(limit=5000)
    assert len(first["members"]) == 1000
    cursor = first["response_metadata"]["next_cursor"]
    assert base64.b64decode(cursor).decode() == "user:U900000999"  # like Slack's: the next member's id
    second = client.users_list(limit=1000, cursor=cursor)
    assert len(second["members"]) == 501 and second["response_metadata"]["next_cursor"] == ""
    assert not {m["id"] for m in first["members"]} & {m["id"] for m in second["members"]}
    gone = base64.b64encode(b"user:U0NOBODY01").decode()
    assert api_error(lambda: client.users_list(limit=10, cursor=gone)).response["error"] == "invalid_cursor"

    # A rate limit on one page of the walk: that page answers 429 once, then as before.
    fake.fail("users.list", status=429, retry_after=2, match={"cursor": cursor})
    refused = api_error(lambda: client.users_list(limit=1000, cursor=cursor)).response
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "2"
    assert client.users_list(limit=1000, cursor=cursor)["members"] == second["members"]


# --------------------------------------------------------------------------- failure injection


def test_injected_429_surfaces_as_slack_api_error_with_retry_after(
    fake: FakeSlack, client: WebClient
) -> None:
    fake.fail("chat.postMessage", status=429, retry_after=7)
    err = api_error(lambda: client.chat_postMessage(channel="C1", text="x"))
    assert err.response.status_code == 429
    assert err.response.headers["Retry-After"] == "7"
    assert err.response["error"] == "ratelimited"
    assert client.chat_postMessage(channel="C1", text="x")["ok"]  # times=1: only the first failed


def test_rate_limit_retry_handler_retries_one_injected_429(fake: FakeSlack) -> None:
    client = WebClient(token=TOKEN, base_url=fake.api_url, retry_handlers=[RateLimitErrorRetryHandler()])
    fake.fail("chat.postMessage", status=429, retry_after=1)
    assert client.chat_postMessage(channel="C1", text="x")["ok"]
    first, second = fake.calls("chat.postMessage")
    assert (first.status, first.ok, second.status, second.ok) == (429, False, 200, True)
    assert second.at - first.at >= 1.0  # slack-sdk honoured Retry-After


def test_failures_by_status_error_times_and_match(fake: FakeSlack, client: WebClient) -> None:
    fake.fail("chat.postMessage", status=500)
    err = api_error(lambda: client.chat_postMessage(channel="C1", text="x"))
    assert (err.response.status_code, err.response["error"]) == (500, "internal_error")

    fake.fail("chat.postMessage", error="channel_not_found", times=2, match={"channel": "C2"})
    assert client.chat_postMessage(channel="C1", text="x")["ok"]  # not matched
    for _ in range(2):
        err = api_error(lambda: client.chat_postMessage(channel="C2", text="x"))
        assert (err.response.status_code, err.response["error"]) == (200, "channel_not_found")
    assert client.chat_postMessage(channel="C2", text="x")["ok"]

    fake.fail("users.info", error="fatal_error", times=None, match=lambda p: p.get("user") == "U1")
    for _ in range(3):
        assert api_error(lambda: client.users_info(user="U1")).response["error"] == "fatal_error"
    fake.clear_failures()
    assert api_error(lambda: client.users_info(user="U1")).response["error"] == "user_not_found"


def test_rate_limit_per_channel(fake: FakeSlack, client: WebClient) -> None:
    fake.rate_limit_per_channel(30)
    assert client.chat_postMessage(channel="C1", text="a")["ok"]
    err = api_error(lambda: client.chat_postMessage(channel="C1", text="b"))
    assert err.response.status_code == 429 and 29 <= int(err.response.headers["Retry-After"]) <= 30
    assert client.chat_postMessage(channel="C2", text="other channel")["ok"]
    fake.rate_limit_per_channel(None)
    assert client.chat_postMessage(channel="C1", text="c")["ok"]


def test_latency_delays_each_call(fake: FakeSlack, client: WebClient) -> None:
    fake.latency(0.15)
    started = time.monotonic()
    client.auth_test()
    assert time.monotonic() - started >= 0.15


# --------------------------------------------------------------------------- Block Kit validation


_BUTTON = {"type": "button", "action_id": "a", "text": {"type": "plain_text", "text": "ok"}}


def _actions(*elements: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"type": "actions", "elements": list(elements)}]


BLOCK_LIMIT_CASES: dict[str, list[dict[str, Any]]] = {
    "51 blocks": [section(f"b{i}") for i in range(51)],
    "section 3001": [section("x" * 3001)],
    "section empty": [section("")],
    "11 fields": [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}],
    "field 2001": [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}]}],
    "header 151": [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}],
    "header mrkdwn": [{"type": "header", "text": {"type": "mrkdwn", "text": "h"}}],
    "context 11": [{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}],
    "actions 26": _actions(*(dict(_BUTTON, action_id=f"a{i}") for i in range(26))),
    "button text 76": _actions(dict(_BUTTON, text={"type": "plain_text", "text": "t" * 76})),
    "button value 2001": _actions(dict(_BUTTON, value="v" * 2001)),
    "action_id 256": _actions(dict(_BUTTON, action_id="a" * 256)),
    "block_id 256": [section("x", block_id="b" * 256)],
    "duplicate block_id": [section("x", block_id="same"), section("y", block_id="same")],
    "unknown type": [{"type": "secton", "text": {"type": "mrkdwn", "text": "x"}}],
}


@pytest.mark.parametrize("case", list(BLOCK_LIMIT_CASES))
def test_block_limits_answer_invalid_blocks(fake: FakeSlack, client: WebClient, case: str) -> None:
    err = api_error(
        lambda: client.chat_postMessage(channel="C1", text="fallback", blocks=BLOCK_LIMIT_CASES[case])
    )
    assert err.response["error"] == "invalid_blocks"
    assert err.response["errors"] and all("[json-pointer:/blocks" in e for e in err.response["errors"])
    assert fake.messages("C1") == []


def test_blocks_at_the_limits_are_accepted(client: WebClient) -> None:
    assert client.chat_postMessage(channel="C1", text="x", blocks=[section(f"b{i}") for i in range(50)])["ok"]
    assert client.chat_postMessage(channel="C1", text="x", blocks=[section("x" * 3000)])["ok"]
    header = {"type": "header", "text": {"type": "plain_text", "text": "h" * 150}}
    assert client.chat_postMessage(channel="C1", text="x", blocks=[header])["ok"]


def test_malformed_blocks_missing_text_and_long_text(fake: FakeSlack, client: WebClient) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded", "Authorization": f"Bearer {TOKEN}"}
    url = fake.api_url + "chat.postMessage"
    assert raw(url, b"channel=C1&text=x&blocks=%5B%7B%22text%22%3A1%7D%5D", form)[1]["error"] == (
        "invalid_blocks_format"
    )  # [{"text":1}]: no type
    assert raw(url, b"channel=C1&text=x&blocks=not-json", form)[1]["error"] == "invalid_blocks_format"
    # Form-encoded JSON blocks are decoded, as Slack does.
    status, body = raw(url, b"channel=C1&blocks=%5B%7B%22type%22%3A%22divider%22%7D%5D", form)
    assert body["ok"] and body["message"]["blocks"] == [{"type": "divider"}]
    assert raw(url, b"channel=C1", form)[1]["error"] == "no_text"
    assert api_error(lambda: client.chat_postMessage(channel="C1", text="x" * 40001)).response["error"] == (
        "msg_too_long"
    )


# --------------------------------------------------------------------------- views and files


def modal(title: str = "Log an AI win", **extra: Any) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": title},
        "blocks": [section("hi")],
        **extra,
    }


def test_a_trigger_is_good_only_for_its_lifetime_after_slack_sent_it(fake: FakeSlack, client: WebClient) -> None:
    """Slack's answers: a trigger it never sent is invalid_trigger_id; one sent more than the
    lifetime (3 s) ago is expired_trigger_id, for views.open and views.push alike."""
    never = "7712345678901.4123456789012.0123456789abcdef0123456789abcdef"
    for method in (client.views_open, client.views_push):
        assert api_error(lambda m=method: m(trigger_id=never, view=modal())).response["error"] == "invalid_trigger_id"
    fresh = fake.issue_trigger()
    assert client.views_open(trigger_id=fresh, view=modal())["ok"]
    fake.expired_triggers.add(fresh)  # a click already too old, whatever the clock says
    assert api_error(lambda: client.views_push(trigger_id=fresh, view=modal())).response["error"] == (
        "expired_trigger_id")

    fake.trigger_lifetime = 0.0  # any time at all after it was sent is too late
    stale = fake.issue_trigger()
    for method in (client.views_open, client.views_push):
        assert api_error(lambda m=method: m(trigger_id=stale, view=modal())).response["error"] == "expired_trigger_id"
    assert fake.calls("views.open", trigger_id=stale)[0].error == "expired_trigger_id"

    # A sender in another process tells the fake over its control API; the lifetime is a knob there too.
    assert raw(fake.base_url + "/_sandbox/config", json.dumps({"trigger_lifetime": 60}).encode())[0] == 200
    assert raw(fake.base_url + "/_sandbox/triggers", json.dumps(["sent.elsewhere.1"]).encode())[0] == 200
    assert client.views_open(trigger_id="sent.elsewhere.1", view=modal())["ok"]


def test_sender_tells_the_fake_each_trigger_it_sends(fake: FakeSlack, client: WebClient, echo) -> None:
    sent: list[str] = []
    with SlackSender(sender_url(echo), "s3cret", on_trigger=lambda t: sent.append(fake.issue_trigger(t))) as s:
        s.command("/aiwin", "")
        s.message_shortcut("U05BOB12345", {"ts": "1.000001", "text": "hi"})
        s.global_shortcut("U05BOB12345")
        s.block_action("U05BOB12345", {"action_id": "a", "type": "button"}, view={"id": "VHOME", "type": "home"})
        s.view_submission("U05BOB12345", {"callback_id": "x", "state": {"values": {}}})
        s.command("/aiwin", "", trigger_id="given.by.test")
    assert len(set(sent)) == 6 and sent[-1] == "given.by.test"
    carried = [_carried_trigger(r["body"]) for r in echo.received]
    assert carried == sent
    assert all(client.views_open(trigger_id=t, view=modal())["ok"] for t in sent)


def _carried_trigger(body: bytes) -> str:
    form = parse_qs(body.decode())
    return form["trigger_id"][0] if "trigger_id" in form else json.loads(form["payload"][0])["trigger_id"]


def test_views_open_push_update_publish(fake: FakeSlack, client: WebClient) -> None:
    assert api_error(lambda: client.views_open(trigger_id="", view=modal())).response["error"] == (
        "invalid_trigger_id"
    )
    status, body = raw(
        fake.api_url + "views.open",
        json.dumps({"view": modal()}).encode(),
        {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"},
    )
    assert body["error"] == "invalid_trigger_id"
    fake.issue_trigger("t.1")
    fake.issue_trigger("t.2")
    err = api_error(lambda: client.views_open(trigger_id="t.1", view=modal("x" * 25)))
    assert err.response["error"] == "invalid_arguments"
    assert any("/view/title" in e for e in err.response["errors"])
    err = api_error(lambda: client.views_open(trigger_id="t.1", view=modal(private_metadata="m" * 3001)))
    assert err.response["error"] == "invalid_arguments"
    too_many = dict(modal(), blocks=[section(str(i)) for i in range(101)])
    assert api_error(lambda: client.views_open(trigger_id="t.1", view=too_many)).response["error"] == (
        "invalid_arguments"
    )

    opened = client.views_open(trigger_id="t.1", view=modal(callback_id="aiwin_submit", external_id="ext-1"))
    view = opened["view"]
    assert (
        view["id"].startswith("V")
        and view["callback_id"] == "aiwin_submit"
        and view["root_view_id"] == view["id"]
    )
    pushed = client.views_push(trigger_id="t.2", view=modal("Step 2"))["view"]
    assert pushed["previous_view_id"] == view["id"] and pushed["root_view_id"] == view["id"]
    updated = client.views_update(external_id="ext-1", view=modal("Saved", external_id="ext-1"))["view"]
    assert updated["id"] == view["id"] and updated["title"]["text"] == "Saved"
    assert (
        api_error(lambda: client.views_update(view_id="V0NOPE", view=modal())).response["error"]
        == "not_found"
    )
    assert api_error(
        lambda: client.views_update(view_id=view["id"], view=modal(), hash="stale.hash")
    ).response["error"] == ("hash_conflict")

    home = {
        "type": "home",
        "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "Your AI wins"}}],
    }
    first = client.views_publish(user_id="U05BOB12345", view=home)["view"]
    second = client.views_publish(user_id="U05BOB12345", view=dict(home, blocks=[section("2 wins")]))["view"]
    assert first["id"] == second["id"]
    assert fake.home_view("U05BOB12345")["blocks"] == [section("2 wins")]
    assert fake.home_view("U0NOBODY") is None


def test_file_upload_round_trip_with_files_upload_v2(fake: FakeSlack, client: WebClient) -> None:
    content = b"week,wins\n2026-W48,12\n"
    resp = client.files_upload_v2(
        content=content,
        filename="wins.csv",
        title="Weekly wins",
        channel="C05RPT12345",
        initial_comment="Here",
    )
    assert resp["file"]["name"] == "wins.csv"
    [upload] = fake.uploads()
    assert upload == {
        "file_id": resp["file"]["id"],
        "filename": "wins.csv",
        "title": "Weekly wins",
        "channel_id": "C05RPT12345",
        "initial_comment": "Here",
        "thread_ts": None,
        "content": content,
    }
    [get_url] = fake.calls("files.getUploadURLExternal")
    assert get_url.params["filename"] == "wins.csv" and str(get_url.params["length"]) == str(len(content))


def test_upload_url_accepts_multipart(fake: FakeSlack, client: WebClient) -> None:
    file_id = client.files_getUploadURLExternal(filename="a.txt", length=5)["file_id"]
    body = (
        b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\nhello\r\n--XyZ--\r\n"
    )
    req = urllib.request.Request(
        f"{fake.base_url}/upload/{file_id}",
        data=body,
        headers={"Content-Type": "multipart/form-data; boundary=XyZ"},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.read() == b"OK - 5"
    client.files_completeUploadExternal(files=[{"id": file_id, "title": "A"}])
    assert fake.uploads()[0]["content"] == b"hello"


# --------------------------------------------------------------------------- recording and waiting


def test_wait_for_times_out_with_a_helpful_message(fake: FakeSlack, client: WebClient) -> None:
    fake.add_channel("G0SECRET01", "secret", is_private=True)
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel="G0SECRET01", text="x")
    started = time.monotonic()
    with pytest.raises(TimeoutError) as info:
        fake.wait_for("chat.postMessage", timeout=0.2, channel="G0SECRET01")
    assert 0.2 <= time.monotonic() - started < 5
    message = str(info.value)
    assert "chat.postMessage" in message and "not_in_channel" in message and "channel=G0SECRET01" in message
    # A failed call counts for wait_for_calls but not for wait_for.
    assert [c.error for c in fake.wait_for_calls("chat.postMessage", timeout=0.2)] == ["not_in_channel"]


def test_wait_for_wakes_when_another_thread_makes_the_call(fake: FakeSlack, client: WebClient) -> None:
    release = threading.Event()

    def app_work() -> None:
        release.wait(10)
        for i in range(3):
            client.chat_postMessage(channel="C1", text=f"m{i}")

    worker = threading.Thread(target=app_work)
    worker.start()
    release.set()
    calls = fake.wait_for("chat.postMessage", count=3, timeout=10, channel="C1")
    worker.join()
    assert [c.params["text"] for c in calls] == ["m0", "m1", "m2"]
    fake.reset()
    assert fake.calls() == [] and len(fake.messages("C1")) == 3  # reset keeps the world


def test_concurrent_posts_get_unique_ts_and_all_are_recorded(fake: FakeSlack, client: WebClient) -> None:
    def post(n: int) -> None:
        for i in range(25):
            client.chat_postMessage(channel="C1", text=f"{n}-{i}")

    threads = [threading.Thread(target=post, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    calls = fake.wait_for("chat.postMessage", count=200, timeout=1)
    stamps = [c.response["ts"] for c in calls]
    assert len(calls) == 200 and len(set(stamps)) == 200
    assert stamps == sorted(stamps, key=float)  # recorded in ts order: assigned under the same lock


def test_response_url_webhook_is_recorded(fake: FakeSlack) -> None:
    hook = WebhookClient(fake.webhook_url("cmd-1"))
    assert hook.send(text="Logged!", response_type="ephemeral").status_code == 200
    [call] = fake.wait_for("response_url", response_type="ephemeral")
    assert call.params["text"] == "Logged!" and call.path == "/webhook/cmd-1"
    bad = hook.send(text="x", blocks=[section("x" * 3001)])
    assert bad.status_code == 400 and json.loads(bad.body)["error"] == "invalid_blocks"
    fake.fail("response_url", status=500)
    assert hook.send(text="x").status_code == 500


def test_response_url_replaces_and_deletes_like_slack(fake: FakeSlack) -> None:
    fake.add_channel("C1", "general")
    cmd = WebhookClient(fake.webhook_url("cmd-2", channel="C1", user="U1"))
    assert cmd.send_dict({"text": "first", "response_type": "ephemeral"}).status_code == 200
    [first] = fake.response_messages("cmd-2")
    assert (first["channel"], first["user"], first["response_type"]) == ("C1", "U1", "ephemeral")

    # A button on that message gets its own response_url; replace_original changes that message.
    button = WebhookClient(fake.webhook_url("btn-1", original=first))
    assert button.send_dict({"text": "second", "replace_original": True}).status_code == 200
    [now] = fake.response_messages()
    assert (now["ts"], now["text"]) == (first["ts"], "second")
    # Without replace_original it is a new message; in_channel goes into the conversation's record.
    assert button.send_dict({"text": "third", "replace_original": False}).status_code == 200
    assert button.send_dict({"text": "loud", "response_type": "in_channel"}).status_code == 200
    assert [m["text"] for m in fake.response_messages()] == ["second", "third", "loud"]
    # delete_original needs no text and removes the original.
    assert button.send_dict({"delete_original": True}).status_code == 200
    assert [m["text"] for m in fake.response_messages()] == ["third", "loud"]
    assert button.send_dict({"text": "again", "replace_original": True}).status_code == 404  # it is gone


def test_response_url_refuses_a_body_without_text(fake: FakeSlack) -> None:
    hook = WebhookClient(fake.webhook_url("cmd-3"))
    for body in ({"text": ""}, {"response_type": "ephemeral"}, {"replace_original": True, "text": ""}):
        r = hook.send_dict(body)
        assert r.status_code == 400 and json.loads(r.body)["error"] == "no_text"
    assert fake.response_messages() == []


def test_a_misspelt_method_is_refused_unknown_method_and_recorded(fake: FakeSlack, client: WebClient) -> None:
    # Slack: HTTP 200 {"ok": false, "error": "unknown_method", "req_method": "<the method>"}.
    e = api_error(lambda: client.api_call("chat.postMesage", json={"channel": "C1", "text": "hi"}))
    assert e.response.status_code == 200
    assert e.response.data == {"ok": False, "error": "unknown_method", "req_method": "chat.postMesage"}
    assert fake.messages("C1") == []
    [call] = fake.calls("chat.postMesage")
    assert (call.params["channel"], call.error) == ("C1", "unknown_method")
    # Before the token is looked at, as Slack does. A real method the app never calls (reactions.add)
    # is refused too: the sandbox models only what the app uses, so a new call needs a handler first.
    anonymous = WebClient(base_url=fake.api_url)
    assert api_error(lambda: anonymous.api_call("users.infoo")).response["error"] == "unknown_method"
    assert api_error(lambda: client.api_call("reactions.add", json={"channel": "C1", "name": "trophy",
                                                                    "timestamp": "1.2"})).response["error"] == (
        "unknown_method")


def test_bad_input_never_crashes_and_keep_alive_works(fake: FakeSlack) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=10)
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    answers = []
    for body in (b"{not json", b"[1, 2]", b'{"channel": "C1", "text": "ok"}', b"\xff\xfe"):
        conn.request("POST", "/api/chat.postMessage", body=body, headers=headers)
        resp = conn.getresponse()
        answers.append((resp.status, json.loads(resp.read())))
    first_socket = conn.sock
    conn.request("GET", "/api/auth.test", headers={"Authorization": f"Bearer {TOKEN}"})
    assert json.loads(conn.getresponse().read())["ok"] is True
    assert conn.sock is first_socket  # one connection served every request
    conn.close()
    assert [a[1].get("error") for a in answers] == ["invalid_json", "invalid_json", None, "invalid_json"]
    assert {a[0] for a in answers} == {200}
    assert raw(f"{fake.base_url}/nowhere")[0] == 404


# --------------------------------------------------------------------------- HTTP control + standalone


def test_http_control_endpoints(fake: FakeSlack, client: WebClient) -> None:
    base = f"{fake.base_url}/_sandbox"
    users = [{"user_id": "U02ABCDEF", "name": "alice", "is_admin": True}, {"user_id": "U03GHIJKL"}]
    assert raw(f"{base}/users", json.dumps(users).encode())[1] == {"ok": True}
    channels = [{"channel_id": "G0SECRET01", "name": "secret", "is_private": True}]
    assert raw(f"{base}/channels", json.dumps(channels).encode())[1] == {"ok": True}
    assert client.users_info(user="U02ABCDEF")["user"]["is_admin"] is True
    fail = {"method": "chat.postMessage", "status": 429, "retry_after": 2, "times": 1}
    assert raw(f"{base}/fail", json.dumps(fail).encode())[0] == 200

    assert api_error(lambda: client.chat_postMessage(channel="C1", text="a")).response.status_code == 429
    assert api_error(lambda: client.chat_postMessage(channel="G0SECRET01", text="b")).response["error"] == (
        "not_in_channel"
    )
    client.chat_postMessage(channel="C1", text="c")

    assert raw(f"{base}/count?method=chat.postMessage")[1] == {"count": 3}
    assert raw(f"{base}/count?method=chat.postMessage&ok=1")[1] == {"count": 1}
    assert raw(f"{base}/count?method=chat.postMessage&ok=0&channel=C1")[1] == {"count": 1}
    status, calls = raw(f"{base}/calls?method=chat.postMessage")
    assert [(c["params"]["text"], c["ok"]) for c in calls] == [("a", False), ("b", False), ("c", True)]
    assert raw(f"{base}/wait?method=chat.postMessage&count=1&timeout=1")[1]["count"] == 1
    assert raw(f"{base}/wait?method=chat.postMessage&count=2&timeout=0.1")[0] == 408
    assert raw(f"{base}/fail", b"{bad")[0] == 400
    assert raw(f"{base}/users", json.dumps([{"nope": 1}]).encode())[0] == 400

    assert raw(f"{base}/reset", b"")[1] == {"ok": True}
    assert raw(f"{base}/count?method=chat.postMessage")[1] == {"count": 0}
    assert fake.calls() == []


def test_standalone_process_serves_until_sigterm() -> None:
    proc = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
        [sys.executable, "-m", "bot.sandbox.fake_slack", "--port", "0"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        api_url = proc.stdout.readline().strip()  # type: ignore[union-attr]
        assert api_url.startswith("http://127.0.0.1:") and api_url.endswith("/api/")
        assert WebClient(token=TOKEN, base_url=api_url).auth_test()["user_id"] == "U07AIWINBOT"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()  # type: ignore[union-attr]


# --------------------------------------------------------------------------- SlackSender


def test_sign_matches_slack_worked_example() -> None:
    vector = json.loads((FIXTURES / "signature_vector.json").read_text())
    got = sign(vector["signing_secret"], vector["x_slack_request_timestamp"], vector["body"].encode())
    assert got == vector["x_slack_signature"]
    assert (
        sign(vector["signing_secret"], int(vector["x_slack_request_timestamp"]), vector["body"].encode())
        == got
    )


class _Echo(BaseHTTPRequestHandler):
    """Records exactly what arrived; answers ``Connection: close`` when the test asks it to."""

    protocol_version = "HTTP/1.1"
    server: _EchoServer

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append(
            {
                "path": self.path,
                "headers": list(self.headers.items()),
                "body": body,
                "port": self.client_address[1],
            }
        )
        out = json.dumps({"n": len(self.server.received)}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.send_header("X-Echo", "yes")
        if self.server.close_after:
            self.send_header("Connection", "close")
            self.close_connection = True
        if self.server.close_silently:  # like an idle timeout: the client is not told
            self.close_connection = True
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, format: str, *args: Any) -> None:
        return


class _EchoServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Echo)
        self.received: list[dict[str, Any]] = []
        self.close_after = False
        self.close_silently = False


@pytest.fixture
def echo() -> Iterator[_EchoServer]:
    server = _EchoServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def sender_url(echo: _EchoServer) -> str:
    return f"http://127.0.0.1:{echo.server_address[1]}"


@pytest.fixture
def sender(echo: _EchoServer) -> Iterator[SlackSender]:
    with SlackSender(sender_url(echo), "s3cret", enterprise_id="E0AB12CD3EF") as s:
        yield s


def test_sender_post_sends_exact_headers_and_body(echo: _EchoServer, sender: SlackSender) -> None:
    resp = sender.post(b"a=1&b=2", "application/x-www-form-urlencoded", timestamp=1784812345)
    assert resp.status == 200 and resp.json() == {"n": 1} and resp.headers["x-echo"] == "yes"
    [got] = echo.received
    assert got["path"] == "/slack/events" and got["body"] == b"a=1&b=2"
    headers = dict(got["headers"])
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert headers["X-Slack-Request-Timestamp"] == "1784812345"
    assert headers["X-Slack-Signature"] == sign("s3cret", "1784812345", b"a=1&b=2")
    assert headers["User-Agent"] == USER_AGENT
    assert headers["Content-Length"] == "7"
    assert "X-Slack-Retry-Num" not in headers

    sender.post(b"{}", "application/json", sign=False)
    sender.post(
        b"{}", "application/json", signature="v0=forged", extra_headers={"User-Agent": None, "X-A": "1"}
    )
    unsigned, forged = (dict(r["headers"]) for r in echo.received[1:])
    assert "X-Slack-Signature" not in unsigned and "X-Slack-Request-Timestamp" not in unsigned
    assert forged["X-Slack-Signature"] == "v0=forged" and "User-Agent" not in forged and forged["X-A"] == "1"
    assert abs(int(forged["X-Slack-Request-Timestamp"]) - time.time()) < 60


def test_sender_command_is_byte_identical_to_the_fixture(echo: _EchoServer, sender: SlackSender) -> None:
    fixture = (FIXTURES / "slash_command.form").read_bytes()
    fields = {k: v[0] for k, v in parse_qs(fixture.decode(), keep_blank_values=True).items()}
    sender.command(
        "/aiwin",
        fields["text"],
        user_id="U05BOB12345",
        channel_id="C05RPT12345",
        channel_name="reporting",
        trigger_id=fields["trigger_id"],
        response_url=fields["response_url"],
        user_name="bob.smith",
    )
    assert echo.received[0]["body"] == fixture

    plain = SlackSender(sender_url(echo), "s3cret")  # not Enterprise Grid: no enterprise fields
    plain.command("/aiwin", "hello")
    body = parse_qs(echo.received[1]["body"].decode())
    assert "enterprise_id" not in body and "enterprise_name" not in body
    assert list(body)[:3] == ["token", "team_id", "team_domain"]
    assert (
        body["trigger_id"][0].startswith("7712345678901.4123456789012.") and len(body["trigger_id"][0]) == 60
    )
    assert body["response_url"][0].startswith("https://hooks.slack.com/commands/T0AB12CD3EF/")
    plain.command("/aiwin", "again")
    assert parse_qs(echo.received[2]["body"].decode())["trigger_id"] != body["trigger_id"]
    plain.close()


def test_sender_interactivity_payloads_match_the_fixtures(echo: _EchoServer, sender: SlackSender) -> None:
    action_fixture = json.loads((FIXTURES / "block_actions.json").read_text())
    sender.block_action(
        "U05BOB12345",
        action_fixture["actions"][0],
        message=action_fixture["message"],
        channel_id="C05RPT12345",
        channel_name="reporting",
        trigger_id=action_fixture["trigger_id"],
        response_url=action_fixture["response_url"],
        user_name="bob.smith",
    )
    assert echo.received[0]["body"] == (FIXTURES / "block_actions.form").read_bytes()

    view_fixture = json.loads((FIXTURES / "view_submission.json").read_text())
    sender.view_submission(
        "U05BOB12345", view_fixture["view"], trigger_id=view_fixture["trigger_id"], user_name="bob.smith"
    )
    assert echo.received[1]["body"] == (FIXTURES / "view_submission.form").read_bytes()

    # Only what matters given: the rest is filled in the way Slack shapes it.
    view = {"callback_id": "aiwin_submit", "private_metadata": "{}", "state": {"values": {"b": {}}}}
    sender.view_submission("U05BOB12345", view)
    payload = json.loads(parse_qs(echo.received[2]["body"].decode())["payload"][0])
    assert payload["view"]["callback_id"] == "aiwin_submit" and payload["view"]["type"] == "modal"
    assert payload["view"]["root_view_id"] == payload["view"]["id"]
    assert payload["enterprise"] == {"id": "E0AB12CD3EF", "name": "Acme Corp"}
    assert dict(echo.received[2]["headers"])["Content-Type"] == "application/x-www-form-urlencoded"

    sender.block_action(
        "U05BOB12345", {"action_id": "home_btn", "type": "button"}, view={"id": "V1", "type": "home"}
    )
    payload = json.loads(parse_qs(echo.received[3]["body"].decode())["payload"][0])
    assert payload["container"] == {"type": "view", "view_id": "V1"} and "response_url" not in payload


def test_sender_events_match_the_fixture_and_carry_retry_headers(
    echo: _EchoServer, sender: SlackSender
) -> None:
    fixture = json.loads((FIXTURES / "reaction_added_event.json").read_text())
    sender.event(fixture["event"], event_id=fixture["event_id"], event_time=fixture["event_time"])
    sender.event(fixture["event"], event_id=fixture["event_id"], retry_num=2)
    first, retry = echo.received
    assert json.loads(first["body"]) == fixture
    assert dict(first["headers"])["Content-Type"] == "application/json"
    assert "X-Slack-Retry-Num" not in dict(first["headers"])
    retry_headers = dict(retry["headers"])
    assert (retry_headers["X-Slack-Retry-Num"], retry_headers["X-Slack-Retry-Reason"]) == (
        "2",
        "http_timeout",
    )
    assert json.loads(retry["body"])["event_id"] == fixture["event_id"]

    sender.url_verification("abc123")
    assert json.loads(echo.received[2]["body"]) == {
        "token": "Fk3v9QzL2mN8pR4tW6yB1cD5",
        "challenge": "abc123",
        "type": "url_verification",
    }


def test_sender_keeps_alive_and_reconnects_when_the_server_closes(
    echo: _EchoServer, sender: SlackSender
) -> None:
    for _ in range(3):
        sender.post(b"{}", "application/json")
    assert len({r["port"] for r in echo.received}) == 1  # one kept-alive connection

    echo.close_after = True
    sender.post(b"{}", "application/json")
    echo.close_after = False
    assert sender.post(b"{}", "application/json").json() == {"n": 5}
    assert len({r["port"] for r in echo.received}) == 2

    echo.close_silently = True
    sender.post(b"{}", "application/json")
    echo.close_silently = False
    assert sender.post(b"{}", "application/json").json() == {"n": 7}  # stale socket: reconnected, sent once
    assert len({r["port"] for r in echo.received}) == 3

    ports: list[int] = []

    def in_thread() -> None:
        sender.post(b"{}", "application/json")
        ports.append(echo.received[-1]["port"])

    worker = threading.Thread(target=in_thread)
    worker.start()
    worker.join()
    assert ports[0] not in {r["port"] for r in echo.received[:7]}  # each thread has its own connection


def test_sender_against_the_fake_gets_404_json_safely(fake: FakeSlack) -> None:
    # Response.json() is None-safe on a non-JSON body.
    with SlackSender(fake.base_url, "s3cret", path="/upload/F0NOPE") as s:
        resp = s.post(b"x", "application/octet-stream")
    assert resp.status == 404 and resp.json() is None and resp.text == "file_not_found"
