"""People's control over their data: `/aiwin delete`, `/aiwin optout` / `optin`.
Each test runs on SQLite and on PostgreSQL (see conftest.py)."""

from __future__ import annotations

import secrets
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select
from sqlalchemy.engine import make_url

from bot.blocks.home import home_view
from bot.models import TB_NOMINATED, Manager, Narrative, Nomination, OptOut, TeachBack, Win, WinOwner
from bot.services import rollups
from bot.services.home import build_home
from bot.services.search import parse_query, search
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


# -- deleted means deleted: no table keeps the words, the search index's own tables included ------------------


def tables_holding(db, needle: str) -> list[str]:
    """Every table whose rows hold `needle` anywhere, read column by column, SQLite's FTS5 shadow
    tables (`wins_fts_data` …) and internal tables included."""
    needle_bytes = needle.encode()
    found = []
    with db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            names = conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'table'").scalars().all()
        else:
            names = inspect(conn).get_table_names()
        for name in names:
            for row in conn.exec_driver_sql(f'SELECT * FROM "{name}"'):
                if any(needle_bytes in (bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode())
                       for v in row):
                    found.append(name)
                    break
    return found


def file_holds(db_url: str, needle: str) -> bool:
    """SQLite: whether the database file holds `needle` anywhere once SQLite has moved its write-ahead
    log into it (a checkpoint); free pages included."""
    path = make_url(db_url).database
    conn = sqlite3.connect(path, isolation_level=None)  # a checkpoint runs outside any transaction
    try:
        wait_until(lambda: conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0,
                   message="a checkpoint no reader holds up")
    finally:
        conn.close()
    return needle.encode() in Path(path).read_bytes()


def _secret_word() -> str:
    # FTS5 stores a term after the letters it shares with the term before it: the tail is what is
    # looked for, and the head is one no other test's text starts a word with.
    return "qzj" + secrets.token_hex(8)


@pytest.mark.parametrize("how", ["delete command", "workspace purge"])
def test_deleted_words_are_in_no_table_search_index_included(slack, fake_slack, db, db_url, how):
    """`/aiwin delete` (a win) and `aiwins purge` (wins and stories): afterwards no table holds the
    words, SQLite's full-text index included, and on SQLite not even the database file. (Opting out
    deletes nothing: it hides a person's wins, which stay theirs.)"""
    word = _secret_word()
    tail = word[-12:]
    win = posted(slack, db, BOB, f"drafted the {word} acquisition memo with Claude, saved 2h")
    kept = posted(slack, db, BOB, "triaged the support queue with Gemini, saved 1h")
    tables = {"wins"}
    if how == "workspace purge":
        story = slack.command("/aiwin", f"narrate I check every {word} clause with ChatGPT", user_id=BOB,
                              channel_id=CHANNEL)
        assert "Saved your AI story" in all_text(story.json())
        tables.add("narratives")
    with db.read(TEAM) as s:
        assert len(search(s, TEAM, BOB, parse_query(word))) == len(tables)
    holding = set(tables_holding(db, tail))
    assert tables <= holding
    if db.dialect == "sqlite":
        assert {f"{t}_fts_data" for t in tables} <= holding  # the scan sees into the index

    if how == "delete command":
        r = slack.command("/aiwin", f"delete {win.id}", user_id=BOB)
        assert f"Deleted win #{win.id}" in all_text(r.json())
        assert [w.id for w in wins(db, TEAM)] == [kept.id]
    else:
        env = {"DATABASE_URL": db_url, "PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(sys.path)}
        done = subprocess.run([sys.executable, "-m", "bot", "purge", "--team", TEAM, "--yes"], env=env,
                              capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0 and f"purged workspace {TEAM}" in done.stdout, done.stderr
        assert wins(db, TEAM) == []

    assert tables_holding(db, tail) == []
    if db.dialect == "sqlite":
        assert not file_holds(db_url, tail)
    with db.read(TEAM) as s:
        assert search(s, TEAM, BOB, parse_query(word)) == []
