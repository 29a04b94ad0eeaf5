"""Capture where the work happens: the "Record as AI win" message shortcut and the "Log an AI win"
global shortcut, end to end over signed HTTP against the sandbox, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

from bot.models import TEXT_PLAIN
from bot.sandbox.requests import submitted_state
from tests.conftest import ALICE, BOB, CAROL, CHANNEL, TEAM
from tests.helpers import all_text, wait_until, wins

STORY = "I used Claude to turn 40 interview notes from <@U02ABCDEF> into a deck in 20 minutes &amp; shared it"
PRIVATE = "G0SECRET001"


def opened_view(fake_slack, count=1):
    calls = fake_slack.wait_for("views.open", count=count)
    return calls[count - 1].params["view"]


def filled_form(fake_slack, count=1):
    """The message's form as the person ends up with it: a loading view opens at once (the trigger
    lasts 3 s), the form replaces it (views.update, with the opened view's hash) once looked up."""
    opened = fake_slack.wait_for("views.open", count=count)[count - 1]
    [update] = fake_slack.wait_for("views.update", view_id=opened.response["view"]["id"])
    assert update.params["hash"] == opened.response["view"]["hash"]
    assert opened.params["view"]["title"] == update.params["view"]["title"]
    assert opened.params["view"]["callback_id"] == update.params["view"]["callback_id"]
    return update.params["view"]


def submit(slack, user, view, changes=None, current=None):
    state = submitted_state(view, changes, current_conversation=current)
    return slack.view_submission(user, {**view, "id": "V0SUBMIT01", "state": {"values": state}})


def record_message(slack, fake_slack, user, message, channel=CHANNEL, count=1, response_url=None):
    r = slack.message_shortcut(user, message, channel_id=channel, response_url=response_url)
    assert r.status == 200 and not r.body.strip()
    return filled_form(fake_slack, count)


def test_someone_elses_message_becomes_a_shout_out_celebrated_in_its_thread(slack, fake_slack, db):
    message = fake_slack.add_message(CHANNEL, BOB, STORY)
    view = record_message(slack, fake_slack, CAROL, message)

    assert view["title"]["text"] == "Record as AI win"
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks["who"]["element"]["initial_users"] == [BOB]  # the message's author
    assert blocks["what"]["element"]["initial_value"] == (
        "I used Claude to turn 40 interview notes from @alice into a deck in 20 minutes & shared it")
    assert blocks["tool"]["element"]["initial_option"]["value"] == "Claude"
    assert blocks["saved"]["element"]["initial_value"] == "20m"
    assert "channel" not in blocks  # celebrated in the thread, not wherever
    [link] = [c.response["permalink"] for c in fake_slack.calls("chat.getPermalink")]
    assert link.endswith(f"/archives/{CHANNEL}/p{message['ts'].replace('.', '')}")
    assert f"<{link}|the message>" in all_text(view["blocks"])

    assert submit(slack, CAROL, view).status == 200
    [win] = wins(db, TEAM)
    assert (win.author_id, win.owner_ids, win.text_format) == (CAROL, [BOB], TEXT_PLAIN)
    assert (win.tool, win.minutes_saved, win.source) == ("Claude", 20, "message")
    assert (win.source_channel, win.source_ts, win.source_permalink) == (CHANNEL, message["ts"], link)
    [post] = fake_slack.wait_for("chat.postMessage", channel=CHANNEL)
    assert post.params["thread_ts"] == message["ts"] and not post.params.get("reply_broadcast")
    assert "@alice" in all_text(post.params["blocks"])
    wait_until(lambda: wins(db, TEAM)[0].message_ts, message="the celebration is recorded")


def test_a_message_naming_20_people_gets_its_form_on_a_slow_slack(slack, fake_slack, db):
    """20 users.info lookups and a chat.getPermalink take about 2 s here, twice the trigger's life:
    the form must open at once (a loading view) and be filled in when they are done."""
    people = [f"U0NAMED{i:04d}" for i in range(20)]
    for i, uid in enumerate(people):
        fake_slack.add_user(uid, f"person{i}")
    message = fake_slack.add_message(CHANNEL, BOB, "Thanks " + ", ".join(f"<@{u}>" for u in people)
                                     + " for the board deck we drafted with Claude")
    fake_slack.trigger_lifetime = 1.0
    fake_slack.latency(0.1)

    view = record_message(slack, fake_slack, CAROL, message)

    what = next(b for b in view["blocks"] if b.get("block_id") == "what")["element"]["initial_value"]
    assert all(f"@person{i}," in what or f"@person{i} " in what for i in range(20)), what
    assert {c.params["user"] for c in fake_slack.calls("users.info")} >= set(people)
    [link] = [c.response["permalink"] for c in fake_slack.calls("chat.getPermalink")]
    assert f"<{link}|the message>" in all_text(view["blocks"])
    assert [c.error for c in fake_slack.calls("views.open")] == [None]
    fake_slack.latency(0)
    submit(slack, CAROL, view)
    [win] = wins(db, TEAM)
    assert (win.owner_ids, win.source_permalink) == ([BOB], link)


def test_own_message_is_an_own_win(slack, fake_slack, db):
    message = fake_slack.add_message(CHANNEL, BOB, "drafted the release notes with ChatGPT, saved 1h")
    view = record_message(slack, fake_slack, BOB, message)
    who = next(b for b in view["blocks"] if b.get("block_id") == "who")
    assert "initial_users" not in who["element"]
    submit(slack, BOB, view)
    [win] = wins(db, TEAM)
    assert win.owner_ids == [BOB] and win.minutes_saved == 60 and win.tool == "ChatGPT"


def test_the_same_message_twice_by_the_same_person_is_one_win(slack, fake_slack, db):
    message = fake_slack.add_message(CHANNEL, BOB, STORY)
    first = record_message(slack, fake_slack, CAROL, message)
    second = record_message(slack, fake_slack, CAROL, message, count=2)
    submit(slack, CAROL, first)
    submit(slack, CAROL, second, {"what": "edited the text before saving again"})
    assert len(wins(db, TEAM)) == 1
    third = record_message(slack, fake_slack, ALICE, message, count=3)  # someone else: their own record
    submit(slack, ALICE, third)
    assert sorted(w.author_id for w in wins(db, TEAM)) == sorted([CAROL, ALICE])
    fake_slack.wait_for("chat.postMessage", count=2, channel=CHANNEL)


def test_a_reply_is_celebrated_in_its_parents_thread(slack, fake_slack, db):
    parent = fake_slack.add_message(CHANNEL, ALICE, "How are people using AI for interviews?")
    reply = fake_slack.add_message(CHANNEL, BOB, STORY, thread_ts=parent["ts"])
    submit(slack, CAROL, record_message(slack, fake_slack, CAROL, reply))
    [post] = fake_slack.wait_for("chat.postMessage", channel=CHANNEL)
    assert post.params["thread_ts"] == parent["ts"]
    [win] = wins(db, TEAM)
    assert win.source_ts == reply["ts"] and win.source_thread_ts == parent["ts"]


def test_private_channel_without_the_bot_keeps_the_win_and_says_so(slack, fake_slack, db):
    fake_slack.add_channel(PRIVATE, "secret-project", is_private=True, members=[BOB, CAROL])
    message = fake_slack.add_message(PRIVATE, BOB, STORY)
    url = fake_slack.webhook_url("shortcut")
    view = record_message(slack, fake_slack, CAROL, message, channel=PRIVATE, response_url=url)
    submit(slack, CAROL, view)
    [win] = wins(db, TEAM)
    [told] = wait_until(lambda: [c for c in fake_slack.calls("response_url") if c.path.endswith("/shortcut")],
                        message="the author is told")
    assert "/invite" in all_text(told.params) and told.params["response_type"] == "ephemeral"
    assert wait_until(lambda: wins(db, TEAM)[0].post_status == "failed", message="marked failed")
    assert win.source_channel == PRIVATE


def test_global_shortcut_opens_the_form_with_a_channel_picker(slack, fake_slack, db):
    r = slack.global_shortcut(ALICE)
    assert r.status == 200
    view = opened_view(fake_slack)
    channel = next(b for b in view["blocks"] if b.get("block_id") == "channel")["element"]
    assert channel["type"] == "conversations_select" and channel["default_to_current_conversation"] is True
    assert json.loads(view["private_metadata"])["win_id"] is None
    submit(slack, ALICE, view, {"what": "summarised the RFC thread with Gemini", "saved": "15m"}, current=CHANNEL)
    [win] = wins(db, TEAM)
    assert (win.author_id, win.channel_id, win.minutes_saved, win.source_ts) == (ALICE, CHANNEL, 15, None)
    [post] = fake_slack.wait_for("chat.postMessage", channel=CHANNEL)
    assert "thread_ts" not in post.params


def test_a_shortcut_whose_form_cannot_open_says_so(slack, fake_slack, db):
    """views.open refused: the message shortcut answers on its response_url, the global shortcut
    (which has none) by DM; both with the one-line form of the command."""
    message = fake_slack.add_message(CHANNEL, BOB, STORY)
    fake_slack.fail("views.open", error="expired_trigger_id", times=2)
    slack.message_shortcut(CAROL, message, channel_id=CHANNEL, response_url=fake_slack.webhook_url("too-late"))
    [told] = wait_until(lambda: [c for c in fake_slack.calls("response_url") if c.path.endswith("/too-late")],
                        message="the person is told on the response_url")
    assert "couldn't open the win form" in all_text(told.params) and "/aiwin" in all_text(told.params)
    assert told.params["response_type"] == "ephemeral"
    slack.global_shortcut(ALICE)
    [dm] = fake_slack.wait_for("chat.postMessage", channel=ALICE)
    assert "couldn't open the win form" in all_text(dm.params)
    assert fake_slack.calls("views.update") == []


def test_a_form_that_cannot_be_filled_in_says_so_in_the_open_view(slack, fake_slack, db, caplog):
    message = fake_slack.add_message(CHANNEL, BOB, STORY)
    fake_slack.fail("views.update", error="internal_error")
    slack.message_shortcut(CAROL, message, channel_id=CHANNEL)
    opened = fake_slack.wait_for("views.open")[0]
    failed, told = fake_slack.wait_for_calls("views.update", count=2)
    assert failed.error == "internal_error" and told.ok
    assert told.params["view_id"] == opened.response["view"]["id"]
    assert told.params["hash"] == opened.response["view"]["hash"]  # still the opened version
    assert "something went wrong while preparing the win form" in all_text(told.params["view"])
    assert any("could not fill in the win modal" in r.getMessage() for r in caplog.records)
