"""Bounds on what one request may ask for: how many people a win names (the command, the Workflow
step) and how many Slack look-ups naming them costs; how many filters a search carries, what that
costs the database, and how many searches a person may run. End to end over signed HTTP, on SQLite and
PostgreSQL (see conftest.py)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import event

from bot.models import Member
from bot.services.search import MAX_PEOPLE, parse_query, search, too_many_filters
from bot.services.wintext import MAX_RECIPIENTS
from tests.conftest import ALICE, BOB, CAROL, CHANNEL, DAVE, TEAM
from tests.helpers import all_text, commands, copy_members, settled, wait_until, wins
from tests.test_search import answer, home_search, record, results_view
from tests.test_steps import run_step

SEARCH_BURST = 3


@pytest.fixture
def settings(settings):
    """Searches: a burst of SEARCH_BURST, then one a minute (so the limit is reached in a test)."""
    return dataclasses.replace(settings, search_burst=SEARCH_BURST, search_per_minute=1.0)


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


def test_a_form_naming_too_many_people_gets_a_field_error(slack, fake_slack, db):
    """Slack's people picker stops at MAX_RECIPIENTS (max_selected_items); the answer is checked anyway."""
    view = {"callback_id": "win_modal", "private_metadata": "{}", "state": {"values": {
        "who": {"who": {"type": "multi_users_select", "selected_users": people_ids(MAX_RECIPIENTS + 1)}},
        "what": {"what": {"type": "plain_text_input", "value": "Built the churn model"}}}}}
    r = slack.view_submission(BOB, view)
    assert r.status == 200 and r.json()["response_action"] == "errors"
    assert f"at most {MAX_RECIPIENTS} people" in r.json()["errors"]["who"]
    assert wins(db, TEAM) == [] and fake_slack.calls("users.info") == []


def test_a_workflow_step_naming_too_many_people_fails_with_a_sentence(slack, fake_slack, db):
    _, run = run_step(slack, fake_slack, {"author": BOB, "text": "Wrote tests with Copilot",
                                          "recipients": people_ids(MAX_RECIPIENTS + 5)})
    assert run["status"] == "failed" and f"names {MAX_RECIPIENTS + 5} people" in run["error"]
    assert f"at most {MAX_RECIPIENTS}" in run["error"]
    _, run = run_step(slack, fake_slack, {"author": BOB, "text": naming(people_ids(40))})  # named in the text
    assert run["status"] == "failed" and "names 40 people" in run["error"]
    assert wins(db, TEAM) == [] and fake_slack.calls("users.info", user=people_ids(1)[0]) == []
    wait_until(lambda: len(fake_slack.calls("functions.completeError")) == 2, message="both runs ended")


# -- search ----------------------------------------------------------------------------------------------


def mentions_of(ids) -> str:
    return " ".join(f"<@{u}>" for u in ids)


def test_a_search_with_too_many_filters_is_refused_politely(slack, fake_slack, db):
    r = slack.command("/aiwin", f"search deck {mentions_of(people_ids(MAX_PEOPLE + 1))}", user_id=BOB,
                      response_url=fake_slack.webhook_url("s"))
    said = all_text(r.json())
    assert f"{MAX_PEOPLE + 1} @people" in said and f"at most {MAX_PEOPLE} @people" in said
    assert "deck interviews tool:Claude" in said  # an example
    r = slack.command("/aiwin", "search deck tool:Claude tool:Cursor " + " ".join(f"#t{i}" for i in range(11)),
                      user_id=BOB)
    said = all_text(r.json())
    assert "11 #tags or #channels and 2 tools" in said and "10 #tags" in said and "1 tool:" in said
    assert fake_slack.calls("response_url") == []  # answered in the ack; nothing searched after it


def test_the_app_home_box_refuses_too_many_people_in_its_form(slack, fake_slack, db):
    record(db, "turned 40 interview notes into a deck with Claude", author=ALICE)
    home_search(slack, "deck " + " ".join(f"@person{i}" for i in range(MAX_PEOPLE + 5)))
    [opened] = fake_slack.wait_for("views.open")
    text = all_text(opened.params["view"])
    assert f"{MAX_PEOPLE + 5} @people" in text and f"at most {MAX_PEOPLE}" in text
    assert fake_slack.calls("views.update") == []  # no search ran behind it


def test_searches_per_person_are_limited_and_the_next_one_is_told_politely(slack, fake_slack, db):
    record(db, "turned 40 interview notes into a deck with Claude", author=ALICE)
    for i in range(SEARCH_BURST):
        slack.command("/aiwin", "search interview", user_id=BOB, response_url=fake_slack.webhook_url(f"ok{i}"))
        assert "interview notes" in all_text(answer(fake_slack, f"ok{i}"))
    slack.command("/aiwin", "search interview", user_id=BOB, response_url=fake_slack.webhook_url("slow"))
    said = all_text(answer(fake_slack, "slow"))
    assert "Slow down" in said and "not* run" in said and "interview notes" not in said
    assert f"up to {SEARCH_BURST} at once, then 1 a minute" in said

    home_search(slack, "interview")  # the App Home box takes from the same bucket
    assert "Slow down" in all_text(results_view(fake_slack))

    slack.command("/aiwin", "search interview", user_id=CAROL, response_url=fake_slack.webhook_url("carol"))
    assert "interview notes" in all_text(answer(fake_slack, "carol"))  # everyone has their own
    slack.command("/aiwin", "deck for the board with Claude", user_id=BOB, channel_id=CHANNEL)
    assert len(settled(db, TEAM)) == 2  # recording is another bucket


def test_people_filters_find_wins_about_all_of_them_with_one_statement(db):
    both = record(db, f"<@{ALICE}> <@{CAROL}> built the churn model with Claude")
    alice = record(db, f"<@{ALICE}> built the churn memo with Claude", author=CAROL)
    with db.session(TEAM) as s:
        s.add_all([Member(team_id=TEAM, user_id=u, name=n, tz="UTC", fetched_at=datetime.now(UTC))
                   for u, n in ((ALICE, "alice"), (CAROL, "carol"))])

    def found(query, user=BOB):
        with db.read(TEAM) as s:
            return {h.id for h in search(s, TEAM, user, parse_query(query))}

    assert found(f"churn <@{ALICE}>") == {both, alice}
    assert found(f"churn <@{ALICE}> <@{CAROL}>") == {both, alice}  # carol wrote the memo for alice
    assert found(f"<@{BOB}> <@{CAROL}>") == {both}  # the author and an owner
    assert found("churn @alice @CAROL") == {both, alice}  # typed names (App Home)
    assert found(f"churn <@{ALICE}> <@{DAVE}>") == set()
    assert found("churn @alice @nobody") == set()

    statements = []
    catch = lambda *args: statements.append(args[2])  # noqa: E731 - (conn, cursor, statement, …)
    event.listen(db.engine, "before_cursor_execute", catch)
    try:
        for n in (1, MAX_PEOPLE):
            found(mentions_of(people_ids(n)))
            found(" ".join(f"@name{i}" for i in range(n)))
    finally:
        event.remove(db.engine, "before_cursor_execute", catch)
    one, most = statements[: len(statements) // 2], statements[len(statements) // 2:]
    assert len(one) == len(most)  # no statement per person (typed names are looked up in one)
    if db.dialect == "postgresql":  # one array parameter: the very same statements for 1 person as for 10
        assert one == most


def test_too_many_filters_counts_each_kind():
    assert too_many_filters(parse_query("deck " + mentions_of(people_ids(MAX_PEOPLE)))) is None
    assert too_many_filters(parse_query("deck tool:Claude #a #b @carol")) is None
    assert "2 tools" in too_many_filters(parse_query("tool:Claude tool:ChatGPT deck"))
