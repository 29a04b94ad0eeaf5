"""Admin powers follow Slack at once; first contact is not a race; bots are not people.
End to end over signed HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from bot.models import Manager, Member, TeachBack, WinOwner, Workspace
from bot.sandbox.requests import SlackSender
from tests.conftest import ALICE, BOB, CAROL, CHANNEL, TEAM
from tests.helpers import all_text, answer, recorded, settled, wait_until, wins

ADMIN = "U0ADMIN0001"


def policy(db):
    with db.read(TEAM) as s:
        ws = s.get(Workspace, TEAM)
        return ws.policy_url if ws else None


# -- admin powers follow Slack --------------------------------------------------------------------------


def test_demoted_admin_loses_workspace_wide_powers_at_once(slack, fake_slack, db):
    fake_slack.add_user(ADMIN, "ada", is_admin=True)
    assert "Saved" in answer(slack, fake_slack, ADMIN, "policy set <https://one.example.com/ai>", "set1")
    assert policy(db) == "https://one.example.com/ai"
    # Bob's win, to be deleted by someone else.
    slack.command("/aiwin", "wrote the FAQ with Claude, saved 1h", user_id=BOB)
    [win] = recorded(db, TEAM)

    fake_slack.add_user(ADMIN, "ada", is_admin=False)  # demoted in Slack a moment later

    reply = answer(slack, fake_slack, ADMIN, "policy set <https://two.example.com/ai>", "set2")
    assert "Only" in reply and "nothing was changed" in reply
    assert policy(db) == "https://one.example.com/ai"

    reply = answer(slack, fake_slack, ADMIN, "export", "export")
    assert "Only" in reply and "export mine" in reply

    reply = answer(slack, fake_slack, ADMIN, f"delete {win.id}", "delete")
    assert "it stays" in reply
    assert [w.id for w in wins(db, TEAM)] == [win.id]

    reply = answer(slack, fake_slack, ADMIN, "digest on friday 16:00", "digest")
    assert "Only workspace admins" in reply

    reply = answer(slack, fake_slack, ADMIN, f"managers add <@{CAROL}|carol>", "managers")
    assert "only workspace admins can change who the managers are" in reply
    with db.read(TEAM) as s:
        assert s.scalars(select(Manager)).all() == []


def test_promoted_admin_gets_powers_at_once(slack, fake_slack, db):
    fake_slack.add_user(ADMIN, "ada", is_admin=False)
    assert "Only" in answer(slack, fake_slack, ADMIN, "policy set <https://one.example.com/ai>", "set1")
    fake_slack.add_user(ADMIN, "ada", is_admin=True)
    assert "Saved" in answer(slack, fake_slack, ADMIN, "policy set <https://one.example.com/ai>", "set2")
    assert policy(db) == "https://one.example.com/ai"


# -- first contact is not a race ------------------------------------------------------------------------


def test_concurrent_first_commands_from_a_new_person_all_succeed(slack, fake_slack, db, server, signing_secret):
    new_user = "U0NEWBIE001"
    fake_slack.add_user(new_user, "newbie")
    fake_slack.latency(0.3)  # every request sees "unknown person", then all remember them at once
    n = 10
    errors: list[BaseException] = []
    answers: dict[str, str] = {}

    def run(i: int) -> None:
        try:
            if i % 2:
                r = slack.command("/aiwin", f"summarised call {i} with Claude, saved 20m", user_id=new_user,
                                  channel_id=CHANNEL)
                answers[f"win{i}"] = all_text(r.json())
            else:
                answers[f"preview{i}"] = answer(slack, fake_slack, new_user, "digest preview", f"preview{i}")
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert len(answers) == n
    for name, text in answers.items():
        assert "Sorry" not in text, (name, text)
        if name.startswith("win"):
            assert "Got your AI win" in text
    assert len(settled(db, TEAM)) == n // 2
    with db.read(TEAM) as s:
        assert s.get(Member, (TEAM, new_user)) is not None


def test_concurrent_first_wins_from_a_new_workspace(db, server, signing_secret, fake_slack):
    other = SlackSender(base_url=server.url, signing_secret=signing_secret, team_id="T0NEWTEAM01")
    n = 6
    results: list[str] = []

    def run(i: int) -> None:
        r = other.command("/aiwin", f"drafted memo {i} with ChatGPT, saved 30m", user_id=f"U0FRESH000{i}")
        results.append(all_text(r.json()) if r.status == 200 else f"HTTP {r.status}")

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == n and all("Got your AI win" in r for r in results), results
    assert len(settled(db, "T0NEWTEAM01")) == n


# -- bots are not people --------------------------------------------------------------------------------

BOT_USER, GONE = "U0SOMEBOT01", "U0GONE00001"


@pytest.fixture
def not_people(fake_slack):
    fake_slack.add_user(BOT_USER, "deploybot", is_bot=True)
    fake_slack.add_user("USLACKBOT", "slackbot")  # Slack does not flag Slackbot as a bot
    fake_slack.add_user(GONE, "gone", deleted=True)


def _owners(db, win_id):
    with db.read(TEAM) as s:
        return [o.user_id for o in s.scalars(select(WinOwner).where(WinOwner.win_id == win_id)
                                              .order_by(WinOwner.position))]


def test_bots_slackbot_and_deactivated_accounts_are_left_out_and_the_author_told(slack, fake_slack, db,
                                                                                   not_people):
    text = (f"<@{BOT_USER}|deploybot> <@USLACKBOT|slackbot> <@{ALICE}|alice> <@{GONE}|gone> "
            "shipped the release notes with Claude, saved 2h")
    r = slack.command("/aiwin", text, user_id=BOB, channel_id=CHANNEL, response_url=fake_slack.webhook_url("w"))
    assert r.status == 200
    [post] = fake_slack.wait_for("chat.postMessage", channel=CHANNEL)
    [win] = wait_until(lambda: [w for w in wins(db, TEAM) if w.message_ts], message="posted")
    assert _owners(db, win.id) == [ALICE]
    headline = post.params["blocks"][0]["text"]["text"]
    assert f"<@{ALICE}>" in headline and BOT_USER not in headline and "USLACKBOT" not in headline
    [note] = wait_until(lambda: [c for c in fake_slack.calls("response_url") if c.path.endswith("/w")],
                        message="the note to the author")
    note_text = all_text(note.params)
    assert "Left out" in note_text and all(f"<@{u}>" in note_text for u in (BOT_USER, "USLACKBOT", GONE))
    assert note.params["response_type"] == "ephemeral"
    assert win.text == text  # the text itself is kept as typed


def test_a_win_for_bots_only_becomes_the_authors_own(slack, fake_slack, db, not_people):
    slack.command("/aiwin", f"<@{BOT_USER}|deploybot> automated the changelog, saved 1h", user_id=BOB)
    [post] = fake_slack.wait_for("chat.postMessage", channel=CHANNEL)
    [win] = wait_until(lambda: [w for w in wins(db, TEAM) if w.message_ts], message="posted")
    assert _owners(db, win.id) == [BOB]
    assert "AI win* by <@U05BOB12345>" in post.params["blocks"][0]["text"]["text"]


def test_modal_win_without_a_channel_is_checked_too(slack, fake_slack, db, not_people):
    view = {"callback_id": "win_modal", "private_metadata": "{}", "state": {"values": {
        "who": {"who": {"type": "multi_users_select", "selected_users": [BOT_USER, CAROL]}},
        "what": {"what": {"type": "plain_text_input", "value": "Built the churn model"}}}}}
    assert slack.view_submission(BOB, view).status == 200
    [win] = wins(db, TEAM)
    wait_until(lambda: _owners(db, win.id) == [CAROL], message="the bot dropped from the owners")
    [dm] = fake_slack.wait_for("chat.postMessage", channel=BOB)  # no response_url: a DM
    assert "Left out" in dm.params["text"]


def test_deactivated_owner_is_not_nominated_for_a_teach_back(slack, fake_slack, db):
    mgr = "U0MGR000001"
    fake_slack.add_user(mgr, "maria", is_admin=True)
    slack.command("/aiwin", f"<@{ALICE}|alice> <@{CAROL}|carol> drafted the memo with ChatGPT, saved 3h", user_id=BOB)
    [win] = wait_until(lambda: [w for w in wins(db, TEAM) if w.message_ts], message="posted")
    fake_slack.add_user(CAROL, "carol", deleted=True)  # Carol left the company after the post
    slack.event({"type": "reaction_added", "user": mgr, "reaction": "mortar_board", "item_user": ALICE,
                 "item": {"type": "message", "channel": CHANNEL, "ts": win.message_ts}})
    wait_until(lambda: _teachbacks(db), message="a teach-back")
    fake_slack.wait_for("chat.postMessage", channel=ALICE)  # Alice's invitation went out
    assert [t.owner_id for t in _teachbacks(db)] == [ALICE]


def _teachbacks(db):
    with db.read(TEAM) as s:
        return list(s.scalars(select(TeachBack)))
