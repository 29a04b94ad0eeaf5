"""Usage narratives end to end: `/aiwin narrate`, the modal, and the `open_narrative_modal`
button. Each test runs on SQLite and on PostgreSQL (see conftest.py)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from bot.models import TEXT_PLAIN, TEXT_WIRE, Narrative
from bot.models.win import POST_FAILED, POST_NONE, POST_POSTED
from tests.conftest import BOB, CHANNEL, TEAM
from tests.helpers import all_text, wait_until
from tests.test_teachbacks import settle

LEAD = "U0LEAD00001"


def narratives(db):
    with db.read(TEAM) as s:
        return list(s.scalars(select(Narrative).order_by(Narrative.id)))


def posted(db):
    return wait_until(lambda: [n for n in narratives(db) if n.message_ts], message="narrative posted")


def field(action_id, value, kind="plain_text_input"):
    key = {"plain_text_input": "value", "conversations_select": "selected_conversation"}[kind]
    return {action_id: {"type": kind, key: value}}


def submission(view, **values):
    """The modal as Slack submits it, with the given input values."""
    kinds = {"channel": "conversations_select"}
    state = {k: field(k, v, kinds.get(k, "plain_text_input")) for k, v in values.items()}
    return dict(view, id=view.get("id", "V0NARR0001"), state={"values": state})


def test_narrate_records_before_the_ack_and_shares_the_story(slack, fake_slack, db):
    text = "I paste the customer thread into <@U02ABCDEF|alice>'s template &amp; Claude, then check every " \
           "number against the CRM. Saves me 30m a day"
    r = slack.command("/aiwin", "narrate " + text, user_id=BOB, channel_id=CHANNEL)
    assert r.status == 200
    assert "Saved your AI story" in all_text(r.json())
    [n] = narratives(db)  # committed before the ack
    assert (n.text, n.text_format, n.author_id) == (text, TEXT_WIRE, BOB)
    assert (n.tools, n.minutes_saved, n.channel_id, n.prompt_period) == ("Claude", 30, CHANNEL, None)

    [call] = fake_slack.wait_for("chat.postMessage", channel=CHANNEL)
    message = all_text(call.params["blocks"])
    assert "How I use AI" in message and f"<@{BOB}>" in message and "&amp;" in message
    assert "Leading by example" not in message
    [n] = posted(db)
    assert (n.message_ts, n.post_status, n.is_leader) == (call.response["ts"], POST_POSTED, False)


def test_story_alias_and_leaders_are_marked(slack, fake_slack, db):
    fake_slack.add_user(LEAD, "lena", is_admin=True)
    slack.command("/aiwin", "story I draft every 1:1 agenda with ChatGPT and edit it myself", user_id=LEAD)
    [call] = fake_slack.wait_for("chat.postMessage", channel=CHANNEL)
    assert "Leading by example" in all_text(call.params["blocks"])
    [n] = posted(db)
    assert n.is_leader is True and n.tools == "ChatGPT"


def test_the_same_trigger_twice_is_one_story(slack, fake_slack, db):
    trigger = "7712345678901.4123456789012.feedfacefeedfacefeedfacefeedface"
    text = "narrate I summarise standups with Claude"
    first = slack.command("/aiwin", text, user_id=BOB, trigger_id=trigger)
    second = slack.command("/aiwin", text, user_id=BOB, trigger_id=trigger)
    assert "Saved your AI story" in all_text(first.json())
    assert "Already saved" in all_text(second.json())
    posted(db)
    settle(db)
    assert len(narratives(db)) == 1 and len(fake_slack.calls("chat.postMessage", channel=CHANNEL)) == 1


def test_no_mention_can_be_injected(slack, fake_slack, db):
    text = "<!channel> <!here|here> @everyone &lt;!channel&gt; <https://evil.example|bank> how I use AI"
    slack.command("/aiwin", "narrate " + text, user_id=BOB)
    [call] = fake_slack.wait_for("chat.postMessage", channel=CHANNEL)
    out = all_text(call.params["blocks"]) + call.params["text"]
    assert "<!" not in out and "@everyone" not in out and "@here" not in out
    assert narratives(db)[0].text == text


def test_a_very_long_story_is_kept_whole_and_posted_within_limits(slack, fake_slack, db):
    text = ("step by step, with Gemini 👩🏽‍💻 & checks; " * 400)[:12_000]
    slack.command("/aiwin", "narrate " + text, user_id=BOB)
    [call] = fake_slack.wait_for("chat.postMessage", channel=CHANNEL)
    assert call.ok
    assert narratives(db)[0].text == text


def test_private_channel_tells_the_author_and_post_again_works(slack, fake_slack, db):
    fake_slack.add_channel("G0SECRET01", "secret", is_private=True)
    slack.command("/aiwin", "narrate I triage bugs with Copilot", user_id=BOB, channel_id="G0SECRET01",
                  response_url=fake_slack.webhook_url("cmd"))
    [notice] = wait_until(lambda: [c for c in fake_slack.calls("response_url") if c.path.endswith("/cmd")
                                   and "Post again" in all_text(c.params)])
    assert "/invite @aiwins" in all_text(notice.params)
    assert [n.post_status for n in narratives(db)] == [POST_FAILED]

    fake_slack.invite_bot("G0SECRET01")
    n_id = narratives(db)[0].id
    action = {"action_id": "narrative_retry_post", "block_id": "b", "type": "button", "value": str(n_id)}
    r = slack.block_action(BOB, action, channel_id="G0SECRET01", response_url=fake_slack.webhook_url("again"))
    assert r.status == 200
    fake_slack.wait_for("chat.postMessage", channel="G0SECRET01")
    assert posted(db)[0].post_status == POST_POSTED

    # Once it is posted (or with a bogus value), Post again changes nothing and says so.
    for value in (str(n_id), "nope"):
        action = {"action_id": "narrative_retry_post", "block_id": "b", "type": "button", "value": value}
        slack.block_action(BOB, action, channel_id="G0SECRET01", response_url=fake_slack.webhook_url("x"))
    wait_until(lambda: len([c for c in fake_slack.calls("response_url") if c.path.endswith("/x")]) == 2)
    assert all("nothing to post again" in all_text(c.params)
               for c in fake_slack.calls("response_url") if c.path.endswith("/x"))


def test_bare_narrate_opens_the_modal_and_submitting_records_the_story(slack, fake_slack, db):
    trigger = "7712345678901.4123456789012.0badc0de0badc0de0badc0de0badc0de"
    r = slack.command("/aiwin", "narrate", user_id=BOB, trigger_id=trigger)
    assert r.status == 200 and not r.body.strip(), r.text
    [opened] = fake_slack.wait_for("views.open")
    assert opened.params["trigger_id"] == trigger
    view = opened.params["view"]
    assert view["callback_id"] == "narrative_modal"
    channel_el = next(b for b in view["blocks"] if b.get("block_id") == "channel")["element"]
    assert channel_el["initial_conversation"] == CHANNEL

    r = slack.view_submission(BOB, submission(
        view, tools="Claude & <b>Cursor</b>", how="1. Pasted the spec\n2. Asked for tests @channel",
        checked="Ran them myself", saved="1h30m", channel=CHANNEL))
    assert r.status == 200 and not r.json()
    [n] = narratives(db)
    assert (n.text, n.text_format) == ("1. Pasted the spec\n2. Asked for tests @channel", TEXT_PLAIN)
    assert (n.tools, n.checked) == ("Claude & <b>Cursor</b>", "Ran them myself")
    assert n.minutes_saved == 90 and n.prompt_period is None
    [call] = fake_slack.wait_for("chat.postMessage", channel=CHANNEL)
    out = all_text(call.params["blocks"])
    assert "&lt;b&gt;Cursor&lt;/b&gt;" in out and "@channel" not in out and "1 h 30 min" in out


def test_modal_without_a_channel_saves_without_posting(slack, fake_slack, db):
    view = {"callback_id": "narrative_modal", "private_metadata": "not json"}
    r = slack.view_submission(BOB, submission(view, how="I plan sprints with ChatGPT"))
    assert r.status == 200
    settle(db)
    [n] = narratives(db)
    assert (n.post_status, n.message_ts) == (POST_NONE, None)
    assert fake_slack.calls("chat.postMessage") == []


@pytest.mark.parametrize(("values", "bad_field"), [
    ({"how": "   "}, "how"),
    ({}, "how"),
    ({"how": "x" * 3001}, "how"),
    ({"how": "fine", "tools": "t" * 201}, "tools"),
    ({"how": "fine", "checked": "c" * 1501}, "checked"),
    ({"how": "fine", "saved": "soon"}, "saved"),
    ({"how": "fine", "saved": "-2h"}, "saved"),
    ({"how": "fine", "saved": "9000h"}, "saved"),
])
def test_modal_field_errors(slack, db, values, bad_field):
    view = {"callback_id": "narrative_modal", "private_metadata": "{}"}
    r = slack.view_submission(BOB, submission(view, **values))
    assert r.status == 200
    body = r.json()
    assert body["response_action"] == "errors" and bad_field in body["errors"]
    assert narratives(db) == []


def test_open_narrative_modal_button_carries_the_prompt_period(slack, fake_slack, db):
    value = json.dumps({"prompt_period": "2026-W48", "channel_id": "C0LEADERS1"})
    action = {"action_id": "open_narrative_modal", "block_id": "prompt", "type": "button", "value": value}
    trigger = "7712345678901.4123456789012.a11ce0000a11ce0000a11ce0000a11ce"
    r = slack.block_action(BOB, action, channel_id="C0LEADERS1", trigger_id=trigger)
    assert r.status == 200
    [opened] = fake_slack.wait_for("views.open", trigger_id=trigger)
    view = opened.params["view"]
    assert json.loads(view["private_metadata"])["prompt_period"] == "2026-W48"
    channel_el = next(b for b in view["blocks"] if b.get("block_id") == "channel")["element"]
    assert channel_el["initial_conversation"] == "C0LEADERS1"

    r = slack.view_submission(BOB, submission(view, how="I prep 1:1s with Claude", channel="C0LEADERS1"))
    assert r.status == 200
    [n] = narratives(db)
    assert n.prompt_period == "2026-W48" and n.channel_id == "C0LEADERS1"
    fake_slack.wait_for("chat.postMessage", channel="C0LEADERS1")


@pytest.mark.parametrize("value", ["not json", json.dumps(["a"]), json.dumps({"prompt_period": "<!here>"})])
def test_open_narrative_modal_with_a_bad_value_still_opens(slack, fake_slack, value):
    action = {"action_id": "open_narrative_modal", "block_id": "p", "type": "button", "value": value}
    trigger = "7712345678901.4123456789012.b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0"
    assert slack.block_action(BOB, action, channel_id=CHANNEL, trigger_id=trigger).status == 200
    [opened] = fake_slack.wait_for("views.open", trigger_id=trigger)
    assert json.loads(opened.params["view"]["private_metadata"])["prompt_period"] is None
