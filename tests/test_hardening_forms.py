"""When a form cannot open, the person is told; no silent loss in forms.
Signed HTTP into the real server, the sandbox playing Slack; SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.blocks.home import EDIT_POLICY, EMOJI_MODAL, POLICY_MODAL
from bot.blocks.narratives import NARRATIVE_MODAL, OPEN_NARRATIVE_MODAL
from bot.blocks.win import WIN_MODAL
from bot.models import Narrative, Win, Workspace
from bot.services.home import clean_emoji
from bot.services.storable import storable
from tests.conftest import BOB, CHANNEL, TEAM
from tests.helpers import all_text, recorded, wait_until
from tests.helpers import wins as helper_wins

# -- when the form cannot open, say so ----------------------------------------------------------------


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


def test_edit_button_tells_the_author_when_the_form_cannot_open(slack, fake_slack, db):
    slack.command("/aiwin", "drafted the memo with ChatGPT, saved 1h", user_id=BOB, channel_id=CHANNEL)
    win = wait_until(lambda: next(iter(helper_wins(db, TEAM)), None), message="the win stored")
    trigger = slack.new_trigger_id()
    fake_slack.expired_triggers.add(trigger)
    edit = {"action_id": "win_edit", "block_id": "b", "type": "button", "value": str(win.id)}
    r = slack.block_action(BOB, edit, channel_id=CHANNEL, trigger_id=trigger, response_url=fake_slack.webhook_url("e"))
    assert r.status == 200
    assert "couldn't open the edit form" in all_text(_reply(fake_slack, "e"))


# -- no silent loss in forms -------------------------------------------------------------------------
# Every modal, arbitrary Unicode (NUL and lone surrogates included) over signed HTTP view_submission:
# either a field error naming the block comes back, or the modal closes AND the text is stored.

# st.text() never yields lone surrogates, whatever the alphabet: join characters ourselves.
ANY_TEXT = st.lists(st.one_of(st.characters(), st.characters(categories=["Cs"]), st.just("\x00")),
                    max_size=120).map("".join)
PROPERTY = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _closed_or_errors(r, blocks):
    """None when the modal closed; the errors dict when Slack was told to show field errors."""
    assert r.status == 200, r.text
    if not r.body.strip():
        return None
    body = r.json()
    assert body.get("response_action") == "errors", body
    assert set(body["errors"]) <= set(blocks) and body["errors"], body
    return body["errors"]


def _as_sent(text):
    """What the app receives: JSON joins an escaped high+low surrogate pair into one character."""
    return json.loads(json.dumps(text))


def _expected(text):
    return storable(_as_sent(text)).strip()


def _saved_some(saved, known_good):
    """A property whose every example ended in field errors would have checked nothing: the known-good
    example must be among those saved."""
    assert known_good in saved, f"the known-good example was not saved ({len(saved)} saved)"


def test_storable_keeps_clean_text_exactly_and_cleans_the_rest():
    assert storable("Claude 👩🏽‍💻 e\u0301 \u202e") == "Claude 👩🏽‍💻 e\u0301 \u202e"
    assert storable("a\x00b\ud83dc\udfff") == "ab\ufffdc\ufffd"


def test_win_modal_never_closes_without_saving(slack, db):
    saved: list[str] = []

    @given(what=ANY_TEXT, how=ANY_TEXT)
    @example(what="drafted the Q3 board memo with ChatGPT", how="outline first, then edited by hand")
    @PROPERTY
    def submit(what, how):
        trigger = slack.new_trigger_id()
        view = {"callback_id": WIN_MODAL, "private_metadata": "{}", "state": {"values": {
            "what": {"what": {"type": "plain_text_input", "value": what}},
            "how": {"how": {"type": "plain_text_input", "value": how}},
        }}}
        errors = _closed_or_errors(slack.view_submission(BOB, view, trigger_id=trigger), ("what", "how"))
        with db.read(TEAM) as s:
            win = s.scalars(select(Win).where(Win.trigger_id == trigger)).first()
            if errors is not None:
                assert win is None
                return
            assert win is not None, "the modal closed but nothing was stored"
            assert win.text == _expected(what) and win.text
            assert (win.how or "") == _expected(how)
            if storable(_as_sent(what)) == _as_sent(what):
                assert win.text == _as_sent(what).strip()  # clean text is stored exactly as typed
            saved.append(win.text)

    submit()
    _saved_some(saved, "drafted the Q3 board memo with ChatGPT")


def test_narrative_modal_never_closes_without_saving(slack, db):
    saved: list[str] = []

    @given(how=ANY_TEXT, tools=ANY_TEXT, checked=ANY_TEXT)
    @example(how="I paste call notes into Claude and ask for a summary", tools="Claude", checked="read it twice")
    @PROPERTY
    def submit(how, tools, checked):
        trigger = slack.new_trigger_id()
        view = {"callback_id": NARRATIVE_MODAL, "private_metadata": "{}", "state": {"values": {
            "how": {"how": {"type": "plain_text_input", "value": how}},
            "tools": {"tools": {"type": "plain_text_input", "value": tools}},
            "checked": {"checked": {"type": "plain_text_input", "value": checked}},
        }}}
        errors = _closed_or_errors(slack.view_submission(BOB, view, trigger_id=trigger), ("how", "tools", "checked"))
        with db.read(TEAM) as s:
            n = s.scalars(select(Narrative).where(Narrative.trigger_id == trigger)).first()
            if errors is not None:
                assert n is None
                return
            assert n is not None, "the modal closed but nothing was stored"
            assert (n.text, n.tools or "", n.checked or "") == (_expected(how), _expected(tools), _expected(checked))
            saved.append(n.text)

    submit()
    _saved_some(saved, "I paste call notes into Claude and ask for a summary")


@pytest.fixture
def owner(fake_slack):
    fake_slack.add_user("U0OWNER0001", "olga", is_owner=True)
    return "U0OWNER0001"


def test_policy_modal_never_closes_without_saving(slack, fake_slack, db, owner):
    saved: list[str] = []

    @given(text=ANY_TEXT)
    @example(text="Use approved tools only; no customer data in prompts.")
    @PROPERTY
    def submit(text):
        marker = f"https://wiki.example.com/{slack.new_event_id()}"  # tells this example's save apart
        view = {"callback_id": POLICY_MODAL, "private_metadata": "", "state": {"values": {
            "policy_text": {"policy_text": {"type": "plain_text_input", "value": text}},
            "policy_url": {"policy_url": {"type": "plain_text_input", "value": marker}},
        }}}
        errors = _closed_or_errors(slack.view_submission(owner, view), ("policy_text", "policy_url"))
        if errors is not None:
            return

        # Saved after the ack (the admin check asks Slack): wait for this example's row.
        def stored():
            with db.read(TEAM) as s:
                ws = s.get(Workspace, TEAM)
                return ws if ws is not None and ws.policy_url == marker else None
        ws = wait_until(stored, message="the policy the modal said it saved")
        assert (ws.policy_text or "") == _expected(text)
        assert not [c for c in fake_slack.calls("chat.postMessage", channel=owner) if "Sorry" in c.params["text"]]
        saved.append(ws.policy_text or "")

    submit()
    _saved_some(saved, "Use approved tools only; no customer data in prompts.")


def test_emoji_modal_never_closes_without_saving(slack, db, owner):
    saved: list[str] = []

    @given(text=ANY_TEXT)
    @example(text=":rocket:")
    @PROPERTY
    def submit(text):
        view = {"callback_id": EMOJI_MODAL, "private_metadata": "", "state": {"values": {
            "emoji": {"emoji": {"type": "plain_text_input", "value": text}},
        }}}
        errors = _closed_or_errors(slack.view_submission(owner, view), ("emoji",))
        if errors is not None:
            return
        expected = clean_emoji(storable(_as_sent(text)))

        def stored():
            with db.read(TEAM) as s:
                ws = s.get(Workspace, TEAM)
                return ws is not None and ws.teachback_emoji == expected
        wait_until(stored, message="the emoji the modal said it saved")
        saved.append(expected)

    submit()
    _saved_some(saved, clean_emoji(":rocket:"))


def test_nul_in_command_text_is_cleaned_and_the_win_stored(slack, db):
    r = slack.command("/aiwin", "wrote the memo\x00 with Claude, saved 1h", user_id=BOB)
    assert "Got your AI win" in all_text(r.json())
    [win] = recorded(db, TEAM)
    assert win.text == "wrote the memo with Claude, saved 1h"
