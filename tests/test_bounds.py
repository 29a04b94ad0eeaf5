"""Bounds on what one request may ask for: how many people a win names (the command, the Workflow
step), and how many Slack look-ups naming them costs. End to end over signed HTTP, on SQLite and
PostgreSQL (see conftest.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine

from bot.services.wintext import MAX_RECIPIENTS
from tests.conftest import BOB, CHANNEL, TEAM
from tests.helpers import all_text, commands, copy_members, settled, wait_until, wins
from tests.test_steps import run_step


def people_ids(count: int, prefix: str = "U0NOBODY") -> list[str]:
    return [f"{prefix}{i:04d}" for i in range(count)]


def naming(ids: list[str], text: str = "drafted the Q3 board memo with ChatGPT, saved 3h") -> str:
    return " ".join(f"<@{u}>" for u in ids) + " " + text


def users_info_about(fake_slack, ids) -> list:
    wanted = set(ids)
    return [c for c in fake_slack.calls("users.info") if c.params.get("user") in wanted]


def test_a_command_naming_too_many_people_is_refused_politely_and_asks_slack_nothing(slack, fake_slack, db):
    ids = people_ids(300)
    text = naming(ids)
    r = slack.command("/aiwin", text, user_id=BOB, channel_id=CHANNEL)
    assert r.status == 200
    body = r.json()
    said = all_text(body)
    assert body.get("response_type", "ephemeral") == "ephemeral"
    assert "300 people" in said and f"at most *{MAX_RECIPIENTS}*" in said and "not* saved" in said
    assert "/aiwin @alice drafted the Q3 board memo" in said  # an example to follow
    assert "Q3 board memo" in said.split("What you typed")[1]  # and what they typed, to send again
    assert commands(db, TEAM) == [] and wins(db, TEAM) == []  # nothing stored, nothing queued
    assert fake_slack.calls("users.info") == []

    over = slack.command("/aiwin", naming(people_ids(MAX_RECIPIENTS + 1)), user_id=BOB, channel_id=CHANNEL)
    assert f"{MAX_RECIPIENTS + 1} people" in all_text(over.json()) and commands(db, TEAM) == []


def test_naming_the_same_unknown_ids_again_asks_slack_only_the_first_time(slack, fake_slack, db):
    ids = people_ids(MAX_RECIPIENTS)
    for n in range(2):
        r = slack.command("/aiwin", naming(ids, f"attempt {n}: summarised 40 interviews with Claude"),
                          user_id=BOB, channel_id=CHANNEL)
        assert r.status == 200 and "Got your AI win" in all_text(r.json())
        fake_slack.wait_for("chat.postMessage", count=n + 1, channel=CHANNEL)
    settled(db, TEAM)
    assert [[o.user_id for o in w.owners] for w in wins(db, TEAM)] == [[BOB], [BOB]]  # nobody real was named
    assert len(users_info_about(fake_slack, ids)) == MAX_RECIPIENTS  # one round, for the first command


def test_people_in_the_member_list_copy_are_not_looked_up_one_by_one(slack, fake_slack, db, server):
    ids = people_ids(MAX_RECIPIENTS, prefix="U0PERSON")
    for i, u in enumerate(ids):
        fake_slack.add_user(u, f"person{i}")
    copy_members(server, db, TEAM)
    # An hour later: too old for the ten-minute cache of users.info answers, as the daily copy usually is.
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=1), tick=True):
        r = slack.command("/aiwin", naming(ids), user_id=BOB, channel_id=CHANNEL)
        assert r.status == 200
        fake_slack.wait_for("chat.postMessage", channel=CHANNEL)
        [win] = settled(db, TEAM)
    assert sorted(o.user_id for o in win.owners) == ids
    assert users_info_about(fake_slack, ids) == []


def test_a_workflow_step_naming_too_many_people_fails_with_a_sentence(slack, fake_slack, db):
    _, run = run_step(slack, fake_slack, {"author": BOB, "text": "Wrote tests with Copilot",
                                          "recipients": people_ids(MAX_RECIPIENTS + 5)})
    assert run["status"] == "failed" and f"names {MAX_RECIPIENTS + 5} people" in run["error"]
    assert f"at most {MAX_RECIPIENTS}" in run["error"]
    _, run = run_step(slack, fake_slack, {"author": BOB, "text": naming(people_ids(40))})  # named in the text
    assert run["status"] == "failed" and "names 40 people" in run["error"]
    assert wins(db, TEAM) == [] and fake_slack.calls("users.info", user=people_ids(1)[0]) == []
    wait_until(lambda: len(fake_slack.calls("functions.completeError")) == 2, message="both runs ended")
