"""`/aiwin policy` and `policy set` end to end, and the summary digests and prompts link to.
Each test that takes `db` or `slack` runs on SQLite and on PostgreSQL (see conftest.py)."""

from __future__ import annotations

import pytest

from bot.models import Workspace
from bot.services.policy import PolicyError, parse_command_policy, policy_summary
from tests.conftest import BOB, TEAM
from tests.helpers import answer

ADMIN = "U0ADMIN0001"


@pytest.fixture
def admin(fake_slack):
    fake_slack.add_user(ADMIN, "ada", is_owner=True)
    return ADMIN


def stored(db):
    with db.read(TEAM) as s:
        ws = s.get(Workspace, TEAM)
        return (ws.policy_text, ws.policy_url) if ws else (None, None)


def test_no_policy_yet_says_how_to_set_one(slack, fake_slack, db):
    text = answer(slack, fake_slack, BOB, "policy", "show")
    assert "hasn't set an AI policy" in text and "/aiwin policy set https://" in text
    with db.read(TEAM) as s:
        assert policy_summary(s, TEAM) is None


def test_admin_sets_link_and_text_and_anyone_reads_it(slack, fake_slack, db, admin):
    reply = answer(slack, fake_slack, ADMIN,
                   "policy set Use approved tools only &amp; never paste customer data "
                   "<https://wiki.example.com/ai-policy|wiki.example.com/ai-policy>", "set")
    assert "Saved" in reply
    assert stored(db) == ("Use approved tools only & never paste customer data",
                          "https://wiki.example.com/ai-policy")

    text = answer(slack, fake_slack, BOB, "policy", "show")
    assert "Use approved tools only &amp; never paste customer data" in text
    assert "<https://wiki.example.com/ai-policy|Read the AI policy>" in text and f"<@{ADMIN}>" in text

    answer(slack, fake_slack, ADMIN, "policy set <https://intranet.example.com/ai>", "link-only")
    assert stored(db) == (None, "https://intranet.example.com/ai")
    with db.read(TEAM) as s:
        view = policy_summary(s, TEAM)
    assert (view.text, view.url, view.updated_by) == (None, "https://intranet.example.com/ai", ADMIN)


def test_non_admin_is_refused_and_nothing_changes(slack, fake_slack, db, admin):
    answer(slack, fake_slack, ADMIN, "policy set <https://wiki.example.com/ai>", "first")
    reply = answer(slack, fake_slack, BOB, "policy set anything goes", "bob")
    assert "Only workspace admins and owners can change the AI policy" in reply
    assert stored(db) == (None, "https://wiki.example.com/ai")


def test_too_long_policy_is_refused_and_the_old_one_stays(slack, fake_slack, db, admin):
    answer(slack, fake_slack, ADMIN, "policy set Be careful with data", "first")
    reply = answer(slack, fake_slack, ADMIN, "policy set " + "word " * 2000, "long")
    assert "the limit is 3,000" in reply and "Nothing was changed" in reply
    assert stored(db) == ("Be careful with data", None)


@pytest.mark.parametrize(("text", "expected"), [
    ("policy set", "Give the policy text or a link"),
    ("policy set    ", "Give the policy text or a link"),
    ("policy frobnicate", "See the AI policy with `/aiwin policy`"),
])
def test_bad_policy_commands_get_an_example(slack, fake_slack, db, admin, text, expected):
    assert expected in answer(slack, fake_slack, ADMIN, text, "bad")
    assert stored(db) == (None, None)


def test_policy_text_cannot_ping_or_forge_links(slack, fake_slack, db, admin):
    answer(slack, fake_slack, ADMIN, "policy set <!channel> read &lt;https://evil.example|bank&gt; @here",
           "set")
    text = answer(slack, fake_slack, BOB, "policy", "show")
    assert "<!channel>" not in text and "<https://evil" not in text and "@here" not in text


@pytest.mark.parametrize(("wire", "expected"), [
    ("<https://x.example/p|x.example/p>", (None, "https://x.example/p")),
    ("<https://x.example/p>", (None, "https://x.example/p")),
    ("https://x.example/p", (None, "https://x.example/p")),
    ("Read this <https://x.example/p> first", ("Read this  first", "https://x.example/p")),
    ("Ask <@U02ABCDEF|alice> or <#C05RPT12345|reporting>", ("Ask @alice or #reporting", None)),
    ("a &lt;b&gt; &amp;amp; c", ("a <b> &amp; c", None)),
])
def test_command_text_becomes_text_and_link(wire, expected):
    assert parse_command_policy(wire) == expected


@pytest.mark.parametrize("wire", ["", "   ", "x" * 3001, "<https://x.example/" + "p" * 2100 + ">"])
def test_unstorable_policies_raise(wire):
    with pytest.raises(PolicyError):
        parse_command_policy(wire)
