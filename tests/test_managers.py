"""`/aiwin managers` end to end: who is a manager (admins, the list, the user group), and that
only admins change it. Each test runs on SQLite and on PostgreSQL (see conftest.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.models import Manager, Workspace
from tests.conftest import ALICE, BOB, CAROL, DAVE, TEAM
from tests.helpers import all_text
from tests.test_teachbacks import ask, celebrate, invitations, nominations, react, settle

ADMIN = "U0ADMIN0001"


@pytest.fixture
def admin(fake_slack):
    fake_slack.add_user(ADMIN, "ada", is_admin=True)
    return ADMIN


def manager_rows(db):
    with db.read(TEAM) as s:
        return sorted(s.scalars(select(Manager.user_id)))


def test_the_list_names_everyone_and_mentions_admins(slack, fake_slack, db, admin):
    r = slack.command("/aiwin", "managers", user_id=BOB)
    text = all_text(r.json())
    assert "nobody yet" in text and "admins and owners are always managers" in text

    ask(slack, fake_slack, ADMIN, "managers add <@U02ABCDEF|alice> <@W0GRID00001>", "add")
    ask(slack, fake_slack, ADMIN, "managers group <!subteam^S0LEADS001|@team-leads>", "group")
    text = all_text(slack.command("/aiwin", "managers", user_id=BOB).json())
    assert f"<@{ALICE}>" in text and "<@W0GRID00001>" in text and "<!subteam^S0LEADS001>" in text


def test_admin_adds_and_removes_managers(slack, fake_slack, db, admin):
    text = ask(slack, fake_slack, ADMIN, "managers add <@U02ABCDEF|alice> <@U03GHIJKL>", "add")
    assert f"<@{ALICE}>" in text and f"<@{CAROL}>" in text and "can now nominate" in text
    assert manager_rows(db) == sorted([ALICE, CAROL])

    text = ask(slack, fake_slack, ADMIN, "managers add <@U02ABCDEF>", "again")
    assert "already on the list" in text
    text = ask(slack, fake_slack, ADMIN, "managers remove <@U02ABCDEF> <@U04MNOPQR>", "remove")
    assert f"<@{ALICE}> is off the list" in text and f"<@{DAVE}> was not on the list" in text
    assert manager_rows(db) == [CAROL]


def test_non_admins_are_refused_politely(slack, fake_slack, db, admin):
    for i, text in enumerate(("managers add <@U03GHIJKL>", "managers remove <@U03GHIJKL>",
                              "managers group <!subteam^S0LEADS001|@leads>", "managers group off")):
        reply = ask(slack, fake_slack, BOB, text, f"no-{i}")
        assert "only workspace admins can" in reply
    assert manager_rows(db) == []
    with db.read(TEAM) as s:
        ws = s.get(Workspace, TEAM)
        assert ws is None or ws.managers_usergroup_id is None


@pytest.mark.parametrize(("text", "expected"), [
    ("managers add", "/aiwin managers add @alice @bob"),
    ("managers add @alice", "/aiwin managers add @alice @bob"),  # typed, not a real mention
    ("managers remove", "/aiwin managers remove @alice @bob"),
    ("managers group", "/aiwin managers group @team-leads"),
    ("managers group <!here>", "/aiwin managers group @team-leads"),
    ("managers frobnicate", "/aiwin managers add @alice @bob"),
])
def test_missing_mentions_get_an_example(slack, db, admin, text, expected):
    r = slack.command("/aiwin", text, user_id=ADMIN)
    assert r.status == 200 and expected in all_text(r.json())
    assert manager_rows(db) == []


def test_admin_added_manager_nominates_and_removed_one_does_not(slack, fake_slack, db, admin):
    win = celebrate(slack, db)
    react(fake_slack, DAVE, win.message_ts)  # not a manager yet
    settle(db)
    assert nominations(db) == []

    ask(slack, fake_slack, ADMIN, "managers add <@U04MNOPQR|dave>", "add-dave")
    react(fake_slack, DAVE, win.message_ts, kind="reaction_removed")  # and again, now as a manager
    react(fake_slack, DAVE, win.message_ts)
    fake_slack.wait_for("chat.postMessage", channel=ALICE)
    settle(db)
    assert [(n.manager_id, n.status) for n in nominations(db)] == [(DAVE, "active")]

    ask(slack, fake_slack, ADMIN, "managers remove <@U04MNOPQR>", "remove-dave")
    other = celebrate(slack, db, text="<@U03GHIJKL> summarised 40 interviews with Claude")
    react(fake_slack, DAVE, other.message_ts)
    settle(db)
    assert len(nominations(db)) == 1 and invitations(fake_slack, CAROL) == []


def test_user_group_members_are_managers(slack, fake_slack, db, admin):
    fake_slack.add_usergroup("S0LEADS001", [CAROL])
    text = ask(slack, fake_slack, ADMIN, "managers group <!subteam^S0LEADS001|@team-leads>", "group")
    assert "<!subteam^S0LEADS001>" in text
    with db.read(TEAM) as s:
        assert s.get(Workspace, TEAM).managers_usergroup_id == "S0LEADS001"

    win = celebrate(slack, db)
    react(fake_slack, CAROL, win.message_ts)
    fake_slack.wait_for("chat.postMessage", channel=ALICE)
    assert [n.manager_id for n in nominations(db)] == [CAROL]

    text = ask(slack, fake_slack, ADMIN, "managers group off", "off")
    assert "no managers user group" in text
    with db.read(TEAM) as s:
        assert s.get(Workspace, TEAM).managers_usergroup_id is None


def test_enterprise_grid_admin_and_w_ids(slack, fake_slack, db):
    fake_slack.add_user("W0ADMIN0001", "wilma", is_owner=True)
    text = ask(slack, fake_slack, "W0ADMIN0001", "managers add <@W0GRID00001|gus>", "grid")
    assert "<@W0GRID00001>" in text
    assert manager_rows(db) == ["W0GRID00001"]


def test_removal_from_the_managers_group_takes_effect_at_once(slack, fake_slack, db, admin):
    """The group's members are cached per process for figures, but a nomination and `/aiwin adoption`
    ask Slack afresh: the first try after the removal is refused, not the one five minutes later."""
    fake_slack.add_usergroup("S0LEADS001", [CAROL])
    ask(slack, fake_slack, ADMIN, "managers group <!subteam^S0LEADS001|@team-leads>", "group")
    win = celebrate(slack, db)
    react(fake_slack, CAROL, win.message_ts)
    fake_slack.wait_for("chat.postMessage", channel=ALICE)
    settle(db)
    assert [n.manager_id for n in nominations(db)] == [CAROL]
    assert "for managers and workspace admins" not in ask(slack, fake_slack, CAROL, "adoption", "before")

    fake_slack.add_usergroup("S0LEADS001", [])  # an admin takes carol out of @team-leads in Slack
    lists = len(fake_slack.calls("usergroups.users.list"))
    other = celebrate(slack, db, text="<@U02ABCDEF> summarised 40 interviews with Claude")
    react(fake_slack, CAROL, other.message_ts)
    settle(db)
    assert [(n.win_id, n.manager_id) for n in nominations(db)] == [(win.id, CAROL)]
    assert len(fake_slack.calls("usergroups.users.list")) == lists + 1  # asked afresh, not the copy
    assert "for managers and workspace admins" in ask(slack, fake_slack, CAROL, "adoption", "after")
