"""People's control over their data: `/aiwin delete`, `/aiwin optout` / `optin`.
Each test runs on SQLite and on PostgreSQL (see conftest.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bot.blocks.home import home_view
from bot.models import TB_NOMINATED, Manager, Narrative, Nomination, OptOut, TeachBack, Win, WinOwner
from bot.services import rollups
from bot.services.home import build_home
from bot.services.stats import stats_report
from tests.conftest import ALICE, BOB, CAROL, CHANNEL, TEAM
from tests.helpers import all_text, recorded, wait_until, wins
from tests.test_stats import OTHER_TEAM, members, seed_win

pytestmark = pytest.mark.dates  # .ci/run runs these again with the clock moved ahead

ADMIN = "U0ADMIN0001"


@pytest.fixture
def admin(fake_slack):
    fake_slack.add_user(ADMIN, "ada", is_admin=True)
    return ADMIN


def posted(slack, db, user, text):
    """Log a win in #reporting and wait until its celebration is posted; returns the Win row."""
    before = {w.id for w in wins(db, TEAM)}
    slack.command("/aiwin", text, user_id=user, channel_id=CHANNEL)
    return wait_until(lambda: next((w for w in wins(db, TEAM) if w.id not in before and w.message_ts), None),
                      message="the celebration is posted")


def later(fake_slack, name):
    [reply] = wait_until(lambda: [c for c in fake_slack.calls("response_url") if c.path.endswith("/" + name)])
    return all_text(reply.params)


def count(db, model, team=TEAM):
    with db.read(team) as s:
        return s.scalar(select(func.count()).select_from(model))


def test_author_deletes_their_win_everywhere(slack, fake_slack, db):
    win = posted(slack, db, BOB, "<@U02ABCDEF|alice> built the churn model with Claude, saved 3h")
    keep = posted(slack, db, BOB, "cut test triage with Copilot, saved 1h")
    with db.session(TEAM) as s:
        s.add(Nomination(team_id=TEAM, win_id=win.id, manager_id=CAROL))
        s.add(TeachBack(team_id=TEAM, win_id=win.id, owner_id=ALICE, status=TB_NOMINATED,
                        first_manager_id=CAROL))

    r = slack.command("/aiwin", f"delete #{win.id}", user_id=BOB)
    assert f"Deleted win #{win.id}" in all_text(r.json())  # authors need no admin check: done in the ack
    assert [w.id for w in wins(db, TEAM)] == [keep.id]
    assert (count(db, WinOwner), count(db, Nomination), count(db, TeachBack)) == (1, 0, 0)

    [update] = fake_slack.wait_for("chat.update", ts=win.message_ts)
    assert update.params["channel"] == CHANNEL and "removed by its author" in update.params["text"]
    [message] = [m for m in fake_slack.messages(CHANNEL) if m["ts"] == win.message_ts]
    assert "churn model" not in all_text(message.get("blocks", [])) + message["text"]

    with db.read(TEAM) as s:
        report = stats_report(s, TEAM, ALICE)
    assert (report.personal.wins, report.week.wins, report.week.minutes) == (0, 1, 60)

    r = slack.command("/aiwin", f"delete {win.id}", user_id=BOB)  # twice: it is gone
    assert f"There's no win #{win.id}" in all_text(r.json())


def test_admin_deletes_anyones_win(slack, fake_slack, db, admin):
    win = posted(slack, db, ALICE, "summarised 40 interviews with Claude, saved 5h")
    r = slack.command("/aiwin", f"delete {win.id}", user_id=ADMIN, response_url=fake_slack.webhook_url("del"))
    assert r.status == 200 and not r.body.strip()  # the admin check happens after the ack
    assert f"Deleted win #{win.id}" in later(fake_slack, "del")
    assert wins(db, TEAM) == []
    [update] = fake_slack.wait_for("chat.update", ts=win.message_ts)
    assert "removed by an admin" in update.params["text"]


def test_others_cannot_delete(slack, fake_slack, db):
    win = posted(slack, db, BOB, "drafted the memo with ChatGPT, saved 2h")
    slack.command("/aiwin", f"delete {win.id}", user_id=CAROL, response_url=fake_slack.webhook_url("del"))
    reply = later(fake_slack, "del")
    assert f"Only the person who logged win #{win.id} (<@{BOB}>) or workspace admins and owners" in reply
    assert [w.id for w in wins(db, TEAM)] == [win.id]
    assert fake_slack.calls("chat.update") == []


@pytest.mark.parametrize(("text", "expected"), [
    ("delete", "Give its number, like `/aiwin delete 42`"),
    ("delete abc", "Give its number, like `/aiwin delete 42`"),
    ("delete 42 43", "Give its number, like `/aiwin delete 42`"),
    ("delete -1", "Give its number, like `/aiwin delete 42`"),
    ("delete 99999999999999999999999", "Give its number, like `/aiwin delete 42`"),
    ("delete 999999", "There's no win #999999"),
])
def test_bad_or_unknown_ids_get_a_clear_answer(slack, db, text, expected):
    slack.command("/aiwin", "saved 1h with Claude", user_id=BOB)
    recorded(db, TEAM)
    r = slack.command("/aiwin", text, user_id=BOB)
    assert r.status == 200 and expected in all_text(r.json())
    assert len(wins(db, TEAM)) == 1


def test_another_workspaces_win_cannot_be_deleted(slack, fake_slack, db, admin):
    with db.session(OTHER_TEAM) as s:
        other = seed_win(s, owners=[BOB], team=OTHER_TEAM, created_at=datetime.now(UTC))
    for user in (BOB, ADMIN):
        r = slack.command("/aiwin", f"delete {other}", user_id=user)
        assert f"There's no win #{other}" in all_text(r.json())
    assert count(db, Win, OTHER_TEAM) == 1


def test_opted_out_people_are_counted_never_named_and_opt_in_names_them_again(slack, fake_slack, db):
    slack.command("/aiwin", "built the forecast with Claude, saved 2h", user_id=CAROL)
    slack.command("/aiwin", "wrote the FAQ with ChatGPT, saved 1h", user_id=BOB)
    slack.command("/aiwin", "<@U03GHIJKL|carol> and <@U02ABCDEF|alice> paired with Cursor, saved 30m", user_id=BOB)
    recorded(db, TEAM, 3)
    with db.session(TEAM) as s:  # carol is a manager and shares how she uses AI
        s.add(Manager(team_id=TEAM, user_id=CAROL, added_by=BOB))
        s.add(Narrative(team_id=TEAM, author_id=CAROL, text="how I lead with AI", is_leader=True))
        rollups.narrative_added(s, TEAM, CAROL, datetime.now(UTC))
    slack.command("/aiwin", "stats", user_id=BOB)  # after its ack, users.list is copied: people are members
    wait_until(lambda: len(members(db)) == 5, message="users.list stored")

    r = slack.command("/aiwin", "optout", user_id=CAROL)
    assert "You're opted out" in all_text(r.json())
    assert "Your wins still count in the team's figures, without your name" in all_text(r.json())
    assert "already opted out" in all_text(slack.command("/aiwin", "opt-out", user_id=CAROL).json())
    assert count(db, OptOut) == 1

    text = all_text(slack.command("/aiwin", "stats", user_id=BOB).json())
    # Opting out changes no figure (every win, carol among the people, her tools) and names her nowhere.
    assert "3 wins · 3 people active · 3 h 30 min saved" in text
    assert "ChatGPT (1) · Claude (1) · Cursor (1)" in text and CAROL not in text
    with db.read(TEAM) as s:
        bobs = build_home(s, TEAM, BOB, False)
        carols = build_home(s, TEAM, CAROL, False)
    # Her narrative still makes her active, but the leaders list, which names people, leaves her out.
    assert (bobs.weeks[-1].wins, bobs.weeks[-1].people, bobs.leaders) == (3, 3, ())
    assert bobs.trend.top_tools == (("ChatGPT", 1), ("Claude", 1), ("Cursor", 1))
    # Her own view stays: her wins, with a note; the team figures are everyone's, hers too.
    assert carols.opted_out and carols.personal.wins == 2 and carols.weeks[-1].wins == 3
    assert "you're counted in the team figures but never named" in all_text(home_view(carols)["blocks"])
    text = all_text(slack.command("/aiwin", "stats", user_id=CAROL).json())
    assert "*2 wins* in all" in text and "*2 h 30 min* all time" in text and "You've opted out" in text

    welcome = all_text(slack.command("/aiwin", "optin", user_id=CAROL).json())
    assert "Welcome back" in welcome and "Digests and lists name you again" in welcome
    assert count(db, OptOut) == 0
    text = all_text(slack.command("/aiwin", "stats", user_id=BOB).json())
    assert "3 wins · 3 people active · 3 h 30 min saved" in text
    with db.read(TEAM) as s:
        assert build_home(s, TEAM, BOB, False).leaders == (CAROL,)
