"""The bot's own copy is valid mrkdwn, and the sandbox refuses mrkdwn Slack cannot render.

A "<" in mrkdwn opens a Slack token (`<@U…>`, `<#C…>`, `<!…>`, `<https://…|…>`, `<mailto:…>`); anything
else (`<how you used AI>`, `<id>`) is markup Slack reads wrongly. The sandbox answers `invalid_blocks` for
it everywhere a message or view goes, so any test that posts such text fails."""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, date, datetime
from urllib.error import HTTPError

import pytest
from slack_sdk.errors import SlackApiError

from bot.blocks.common import context, ephemeral, section
from bot.blocks.digest import call_to_action, quiet_blocks
from bot.blocks.prompts import prompt_blocks
from bot.blocks.teachbacks import teachback_list
from bot.blocks.win import help_message, receipt
from bot.sandbox.fake_slack import block_errors
from bot.sandbox.fake_slack.blockkit import mrkdwn_errors
from bot.sandbox.requests import InvalidReply
from bot.services.digest import DigestData
from bot.services.figures import Split, Totals, Weeks
from bot.services.prompts import PROMPTS
from bot.services.wins import WinView
from bot.slack.client import SlackClients
from tests.conftest import BOB, CHANNEL, DAVE, TEAM
from tests.helpers import all_text

pytestmark = pytest.mark.dates  # .ci/run runs these again with the clock moved ahead

BAD = "Share yours: `/aiwin narrate <how you used AI>`"


def _client(fake_slack):
    return SlackClients(fake_slack.api_url, token=fake_slack.token).for_team(TEAM)


def _raw_section(text: str) -> list[dict]:
    return [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]


# -- the sandbox refuses what Slack cannot render --------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "<how you used AI>", "done <id>", "on <day> <time>", "a <b", "<@alice>", "<#reporting>", "<javascript:x|y>",
    "<https://x.y|a <b> c>", "<ftp://x.y>", "<@U1|alice", "<>",
])
def test_mrkdwn_errors_flag_a_lt_that_opens_no_token(text):
    [error] = mrkdwn_errors(text, "/blocks/0/text/text")
    assert "json-pointer:/blocks/0/text/text" in error


@pytest.mark.parametrize("text", [
    "<@U02ABCDEF> <@W123|grid> <#C05RPT12345> <#C05RPT12345|reporting> <!here> <!channel|channel> <!everyone>",
    "<!subteam^S0123ABC|@leads> <!date^1392734382^{date_short}|Feb 18, 2014>",
    "<https://example.com/a?b=1&amp;c=2|the memo> <http://x.y> <mailto:a@b.c|a@b.c>",
    "a &lt;b&gt; &amp; c > d", "no markup at all",
])
def test_mrkdwn_errors_accept_slack_tokens(text):
    assert mrkdwn_errors(text, "/t") == []


def test_sandbox_refuses_a_placeholder_in_a_section(fake_slack):
    with pytest.raises(SlackApiError) as e:
        _client(fake_slack).chat_postMessage(channel=CHANNEL, text="hi", blocks=_raw_section(BAD))
    assert e.value.response["error"] == "invalid_blocks"
    assert "json-pointer:/blocks/0/text/text" in e.value.response["errors"][0]
    assert e.value.response["response_metadata"]["messages"][0].startswith("[ERROR] invalid mrkdwn")
    assert fake_slack.messages(CHANNEL) == []


def test_sandbox_refuses_a_placeholder_in_context_fields_and_the_fallback_text(fake_slack):
    client = _client(fake_slack)
    ctx = [{"type": "context", "elements": [{"type": "mrkdwn", "text": BAD}]}]
    fields = [{"type": "section", "fields": [{"type": "mrkdwn", "text": BAD}]}]
    for kwargs in ({"text": "ok", "blocks": ctx}, {"text": "ok", "blocks": fields}, {"text": BAD}):
        with pytest.raises(SlackApiError) as e:
            client.chat_postMessage(channel=CHANNEL, **kwargs)
        assert e.value.response["error"] == "invalid_blocks", kwargs
    with pytest.raises(SlackApiError):
        client.chat_postEphemeral(channel=CHANNEL, user=BOB, text="ok", blocks=_raw_section(BAD))
    # plain_text shows "<" literally: fine there; and a message can turn mrkdwn off for its text.
    header = [{"type": "header", "text": {"type": "plain_text", "text": "<how you used AI>"}}]
    assert client.chat_postMessage(channel=CHANNEL, text="ok", blocks=header)["ok"]
    assert client.chat_postMessage(channel=CHANNEL, text=BAD, mrkdwn=False)["ok"]


def test_sandbox_refuses_a_placeholder_in_views_and_response_urls(fake_slack):
    view = {"type": "home", "blocks": _raw_section(BAD)}
    with pytest.raises(SlackApiError) as e:
        _client(fake_slack).views_publish(user_id=BOB, view=view)
    assert "invalid mrkdwn" in json.dumps(e.value.response.data)
    body = json.dumps({"text": "ok", "blocks": _raw_section(BAD)}).encode()
    request = urllib.request.Request(fake_slack.webhook_url("r"), data=body,
                                     headers={"Content-Type": "application/json"})
    with pytest.raises(HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 400 and b"invalid_blocks" in refused.value.read()


def test_a_command_reply_slack_would_refuse_fails_the_test(slack, fake_slack, db):
    # The sender checks a command's immediate reply as Slack does; the help reply passes (below), so a reply
    # carrying a raw placeholder would raise here.
    from bot.sandbox.requests import Response, command_reply_errors

    bad = Response(200, {}, json.dumps(ephemeral("x") | {"blocks": _raw_section(BAD)}).encode())
    assert command_reply_errors(bad)
    assert issubclass(InvalidReply, AssertionError)


# -- and the app's own copy passes ---------------------------------------------------------------------------


def test_help_shows_its_placeholders_as_typed(slack, fake_slack, db):
    r = slack.command("/aiwin", "help", user_id=BOB)  # raises InvalidReply if Slack would refuse it
    text = all_text(r.json())
    assert "`/aiwin narrate &lt;how you used AI, step by step&gt;`" in text
    assert "`with &lt;Tool&gt;`" in text


def test_help_names_the_workspace_teachback_emoji(slack, fake_slack, db):
    slack.command("/aiwin", "teachbacks emoji :trophy:", user_id=BOB)  # refused: bob is no admin
    assert ":mortar_board:" in all_text(slack.command("/aiwin", "help", user_id=BOB).json())
    from bot.services.teachbacks import set_teachback_emoji

    with db.session(TEAM) as s:
        set_teachback_emoji(s, team_id=TEAM, enterprise_id=None, emoji="trophy")
    text = all_text(slack.command("/aiwin", "help", user_id=BOB).json())
    assert "react :trophy: on a win" in text and "mortar_board" not in text


def test_schedule_confirmation_footer_passes(slack, fake_slack, db):
    from tests.test_schedule import response

    fake_slack.add_user(DAVE, "dave", is_admin=True)
    slack.command("/aiwin", "digest on friday 16:00", user_id=DAVE, channel_id=CHANNEL,
                  response_url=fake_slack.webhook_url("on"))
    call = response(fake_slack, "on")
    assert call.status == 200  # the sandbox answers 400 invalid_blocks to a raw "<day>"
    assert "`/aiwin digest on &lt;day&gt; &lt;time&gt;`" in all_text(call.params["blocks"])


def _win() -> WinView:
    return WinView(id=7, team_id=TEAM, author_id=BOB, owner_ids=(BOB,), text="did x <y>", text_format="wire",
                   tool="Claude", minutes_saved=90, tags=(), how=None, reinvested_in=None, channel_id=CHANNEL,
                   message_channel=None, message_ts=None, post_status="pending",
                   created_at=datetime(2026, 11, 27, tzinfo=UTC))


def _every_message() -> list[tuple[str, list[dict]]]:
    week = Weeks(date(2026, 11, 23), date(2026, 11, 23))
    digest = DigestData(team_id=TEAM, week="2026-W48", period=week,
                        totals=Totals(week, wins=0, people=0, minutes=0, split=Split(), tools={}), best_wins=(),
                        more_wins=0, narratives=(), more_narratives=0, leaders_modeling=0, nominated=(), accepted=(),
                        done=(), first_timers=(), has_policy=True, policy_url="https://intranet.example/ai")
    out = [
        (help_message()["text"], help_message()["blocks"]),
        quiet_blocks(digest, "Quiet"),
        ("cta", [call_to_action(True, "https://intranet.example/ai")]),
        *[prompt_blocks(p, period="2026-W48", channel_id=CHANNEL, has_policy=True) for p in PROMPTS],
        (receipt(_win(), created=True, dropped_minutes=-180)["text"],
         receipt(_win(), created=True, dropped_minutes=-180)["blocks"]),
        (teachback_list([], 0, {})["text"], [section(teachback_list([], 0, {})["text"])]),
        ("ctx", [context("Mark one done with `/aiwin teachbacks done <id>`.")]),
    ]
    return out


def test_every_builder_output_is_valid_mrkdwn_and_slack_takes_it(fake_slack):
    client = _client(fake_slack)
    for text, blocks in _every_message():
        assert block_errors(blocks, max_blocks=50) == [], text
        assert mrkdwn_errors(text, "/text") == [], text
        assert client.chat_postMessage(channel=CHANNEL, text=text, blocks=blocks)["ok"]


def test_the_negative_time_receipt_reads_right():
    text = all_text(receipt(_win(), created=True, dropped_minutes=-180)["blocks"])
    assert "I didn't count “-3 h” saved: time saved can't be negative" in text
