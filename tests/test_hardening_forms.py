"""Issue 9: when a form cannot open, the person is told (item 5); no silent loss in forms (item 4).
Signed HTTP into the real server, the sandbox playing Slack; SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from bot.blocks.home import EDIT_POLICY
from bot.blocks.narratives import OPEN_NARRATIVE_MODAL
from tests.conftest import BOB, CHANNEL
from tests.helpers import all_text, wait_until

# -- item 5: when the form cannot open, say so ---------------------------------------------------------


def _reply(fake_slack, name):
    [reply] = wait_until(lambda: [c for c in fake_slack.calls("response_url") if c.path.endswith("/" + name)],
                         message=f"an answer on response_url {name}")
    return reply.params


def _break_views_open(fake_slack, how, trigger):
    if how == "expired":
        fake_slack.expired_triggers.add(trigger)
    else:
        fake_slack.fail("views.open", status=503, times=None)


@pytest.mark.parametrize("how", ["expired", "slack_5xx"])
def test_bare_aiwin_tells_the_person_when_the_form_cannot_open(slack, fake_slack, how):
    trigger = slack.new_trigger_id()
    _break_views_open(fake_slack, how, trigger)
    r = slack.command("/aiwin", "", user_id=BOB, trigger_id=trigger, response_url=fake_slack.webhook_url("bare"))
    assert r.status == 200
    reply = _reply(fake_slack, "bare")
    text = all_text(reply)
    assert reply["response_type"] == "ephemeral"
    assert "couldn't open the win form" in text
    assert "/aiwin @alice drafted the Q3 board memo with ChatGPT, saved 3h" in text
    assert fake_slack.calls("views.open")  # it did try


def test_bare_narrate_tells_the_person_when_the_form_cannot_open(slack, fake_slack):
    trigger = slack.new_trigger_id()
    fake_slack.expired_triggers.add(trigger)
    slack.command("/aiwin", "narrate", user_id=BOB, trigger_id=trigger, response_url=fake_slack.webhook_url("n"))
    text = all_text(_reply(fake_slack, "n"))
    assert "couldn't open the story form" in text and "/aiwin narrate I paste call notes" in text


def test_narrative_button_tells_the_person_when_the_form_cannot_open(slack, fake_slack):
    fake_slack.fail("views.open", status=500, times=None)
    action = {"action_id": OPEN_NARRATIVE_MODAL, "block_id": "b", "type": "button", "value": "{}"}
    r = slack.block_action(BOB, action, channel_id=CHANNEL, response_url=fake_slack.webhook_url("btn"))
    assert r.status == 200
    text = all_text(_reply(fake_slack, "btn"))
    assert "couldn't open the story form" in text and "/aiwin narrate" in text


def test_home_settings_button_tells_the_person_by_dm_when_the_form_cannot_open(slack, fake_slack):
    trigger = slack.new_trigger_id()
    fake_slack.expired_triggers.add(trigger)
    action = {"action_id": EDIT_POLICY, "block_id": "b", "type": "button", "value": ""}
    r = slack.block_action(BOB, action, view={"id": "VHOME", "type": "home"}, trigger_id=trigger)
    assert r.status == 200
    [dm] = fake_slack.wait_for("chat.postMessage", channel=BOB)
    text = all_text(dm.params.get("blocks") or []) + dm.params["text"]
    assert "couldn't open the AI policy form" in text and "/aiwin policy set https://" in text
