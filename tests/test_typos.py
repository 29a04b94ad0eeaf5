"""A typo is not a public win: `/aiwin hlep` gets a private "did you mean
`/aiwin help`?" and a button that records the original text as a win; a real win never gets it.

The HTTP tests run on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.listeners.commands import router
from bot.listeners.commands.router import ENGLISH_NEAR_MISSES
from bot.registry import SUBCOMMANDS
from tests.conftest import BOB, CHANNEL, TEAM
from tests.helpers import all_text, settled, wait_until, wins

# First words of real wins (and English words one letter away from a subcommand name).
WIN_WORDS = (
    "drafted", "stated", "helped", "summarised", "summarized", "cut", "wrote", "built", "shipped", "automated",
    "fixed", "translated", "analysed", "reviewed", "created", "generated", "debugged", "refactored", "planned",
    "prepared", "researched", "designed", "tested", "deleted", "exported", "digested", "narrated", "prompted",
    "managed", "stored", "started", "storyboarded", "policies", "exports", "helps", "stats", "status", "state",
    "story", "held", "expert", "police", "prompt", "option", "delegated", "helping", "used", "saved", "turned",
    "Claude", "ChatGPT", "Copilot", "Cursor", "gpt", "our", "the", "my", "team", "q3", "new", "first", "weekly",
    *sorted(ENGLISH_NEAR_MISSES),
)
tail = st.lists(st.sampled_from(["the", "memo", "with", "Claude", "saved", "2h", "#ops", "<@U02ABCDEF|alice>",
                                 "deck", "&amp;", "notes"]), max_size=6)


def near_miss(text: str) -> str | None:
    return router.near_miss(text, SUBCOMMANDS)


@settings(max_examples=400, deadline=None)
@given(word=st.sampled_from(WIN_WORDS), rest=tail, upper=st.booleans())
def test_a_real_win_is_never_taken_for_a_typo(word, rest, upper):
    if word.lower() in SUBCOMMANDS:
        return  # a subcommand is a subcommand, not a win and not a typo
    first = word.capitalize() if upper else word
    assert near_miss(" ".join([first, *rest])) is None


@pytest.mark.parametrize(("typed", "meant"), [
    ("hlep", "help"), ("stat", "stats"), ("halp", "help"), ("exprot mine", "export"), ("polcy", "policy"),
    ("teachbakcs", "teachbacks"), ("deleet 42", "delete"), ("Stast", "stats"), ("narate", "narrate"),
])
def test_near_misses(typed, meant):
    assert near_miss(typed) == meant


def test_long_text_is_a_win_even_with_a_typo_like_first_word():
    assert near_miss("stat reports for the board") is None  # more than three words


def _button(body):
    [actions] = [b for b in body["blocks"] if b["type"] == "actions"]
    [button] = actions["elements"]
    return button


@pytest.mark.parametrize(("typed", "meant"), [("hlep", "help"), ("stat", "stats")])
def test_typo_gets_a_private_did_you_mean_and_nothing_is_recorded(slack, fake_slack, db, typed, meant):
    r = slack.command("/aiwin", typed, user_id=BOB, channel_id=CHANNEL)
    assert r.status == 200
    body = r.json()
    assert body["response_type"] == "ephemeral"
    assert f"Did you mean `/aiwin {meant}`?" in all_text(body)
    assert _button(body)["text"]["text"] == "Record it as a win anyway"
    assert wins(db, TEAM) == []
    assert fake_slack.calls("chat.postMessage") == []


def test_record_it_anyway_records_the_original_text_once(slack, fake_slack, db):
    trigger = "7712345678901.4123456789012.0123456789abcdef0123456789abcdef"
    hook = fake_slack.webhook_url("cmd", channel=CHANNEL, user=BOB)
    r = slack.command("/aiwin", "stat &amp; <@U02ABCDEF|alice>", user_id=BOB, channel_id=CHANNEL,
                      trigger_id=trigger, response_url=hook)
    button = _button(r.json())
    assert wins(db, TEAM) == []

    # The prompt is the command's ephemeral answer; its button's response_url belongs to it.
    prompt = fake_slack.show_answer(r.json(), channel=CHANNEL, user=BOB)
    click = {"action_id": button["action_id"], "block_id": "b", "type": "button", "value": button["value"]}
    container = {"type": "message", "message_ts": prompt["ts"], "channel_id": CHANNEL, "is_ephemeral": True}
    for _ in range(2):  # a double click is one win
        r = slack.block_action(BOB, click, channel_id=CHANNEL, container=container,
                               response_url=fake_slack.webhook_url("btn", original=prompt))
        assert r.status == 200
    [win] = wins(db, TEAM)
    assert (win.text, win.author_id, win.channel_id, win.trigger_id) == (
        "stat &amp; <@U02ABCDEF|alice>", BOB, CHANNEL, trigger)
    assert win.owner_ids == ["U02ABCDEF"]
    fake_slack.wait_for("chat.postMessage", channel=CHANNEL)
    # The prompt was replaced by the receipt.
    fake_slack.wait_for("response_url", count=2)
    [shown] = wait_until(lambda: [m for m in fake_slack.response_messages() if "Saved your AI win" in m["text"]])
    assert shown["ts"] == prompt["ts"] and len(fake_slack.response_messages()) == 1


@pytest.mark.parametrize("text", ["stated the plan with Claude", "helped legal with ChatGPT, saved 2h",
                                  "held a workshop", "deleted 500 duplicates", "status report with Claude"])
def test_real_wins_are_recorded(slack, fake_slack, db, text):
    r = slack.command("/aiwin", text, user_id=BOB, channel_id=CHANNEL)
    assert "Got your AI win" in all_text(r.json())
    assert [w.text for w in settled(db, TEAM)] == [text]
