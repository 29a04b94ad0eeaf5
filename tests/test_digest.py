"""The weekly digest: figures against a hand-computed week, privacy, quiet weeks, Block Kit limits
with 500 wins, and the index-driven queries. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import event, update

from bot.blocks.digest import digest_blocks
from bot.blocks.render import blocks_to_text
from bot.db import Database
from bot.models import TB_ACCEPTED, TB_DECLINED, TB_DONE, Narrative, TeachBack, Win, Workspace
from bot.sandbox.fake_slack import block_errors
from bot.services.digest import NOT_SAID, build_digest, permalink
from bot.services.people import set_opt_out
from bot.services.wins import record_win
from bot.services.workspaces import ensure_workspace
from bot.slack_client import SlackClients
from tests.conftest import ALICE, BOB, CAROL, CHANNEL, DAVE, TEAM
from tests.helpers import all_text

pytestmark = pytest.mark.dates  # .ci/run runs these again with the clock moved ahead

NY = "America/New_York"
WEEK = "2026-W48"  # Monday 23 Nov 00:00 to Monday 30 Nov 00:00, New York time (EST, UTC-5)
ERIN, FRANK = "U0ERIN0001", "U0FRANK001"


def ny(day: int, hour: int, minute: int = 0) -> datetime:
    """A New York wall time in November 2026, as UTC."""
    return datetime(2026, 11, day, hour, minute, tzinfo=ZoneInfo(NY)).astimezone(UTC)


def add_win(db: Database, at: datetime, owners: tuple[str, ...], text_: str, *, author: str | None = None,
            tool: str | None = None, minutes: int | None = None, reinvest: str | None = None,
            posted: tuple[str, str] | None = None, team: str = TEAM, private: bool | None = False) -> int:
    """Record a win through the real service, as if at `at` (said in a public channel unless `private`)."""
    with time_machine.travel(at, tick=False), db.session(team) as s:
        result = record_win(s, team_id=team, enterprise_id=None, author_id=author or owners[0],
                            channel_id=None, text=text_, recipients=owners, tool=tool, minutes_saved=minutes,
                            reinvested_in=reinvest, post=False)
        s.execute(update(Win).where(Win.id == result.win.id).values(private=private))
        if posted:
            s.execute(update(Win).where(Win.id == result.win.id)
                      .values(message_channel=posted[0], message_ts=posted[1]))
        return result.win.id


def add_narrative(db: Database, at: datetime, author: str, text_: str, *, leader: bool,
                  tools: str | None = None, minutes: int | None = None) -> None:
    with db.session(TEAM) as s:
        s.add(Narrative(team_id=TEAM, author_id=author, text=text_, text_format="plain", tools=tools,
                        minutes_saved=minutes, is_leader=leader, created_at=at, private=False))


def add_teachback(db: Database, win_id: int, owner: str, status: str, created: datetime, *,
                  accepted: datetime | None = None, done: datetime | None = None) -> None:
    with db.session(TEAM) as s:
        updated = max(t for t in (created, accepted, done) if t is not None)
        s.add(TeachBack(team_id=TEAM, win_id=win_id, owner_id=owner, status=status, first_manager_id=DAVE,
                        invited_at=created, accepted_at=accepted, done_at=done, created_at=created,
                        updated_at=updated))


def digest(db: Database, week: str = WEEK, tz: str = NY, team: str = TEAM, now: datetime | None = None):
    with db.read(team) as s:
        return build_digest(s, team, week, tz, now=now)


@pytest.fixture
def week_of_wins(db):
    """Week 2026-W48 in New York, with figures worked out by hand in the test below."""
    with db.session(TEAM) as s:
        ensure_workspace(s, TEAM, None)
        s.execute(update(Workspace).where(Workspace.team_id == TEAM)
                  .values(policy_text="Use approved tools.", policy_url="https://intranet.example/ai?x=1&y=2"))
    # Before the week: alice and bob have won before (so they are not first-timers).
    add_win(db, ny(20, 12), (ALICE,), "older win", tool="ChatGPT", minutes=60)
    add_win(db, ny(22, 23, 59), (BOB,), "Sunday night, still last week", tool="Claude", minutes=600)
    # The week.
    a = add_win(db, ny(24, 10), (ALICE,), "drafted the Q3 board memo", tool="ChatGPT", minutes=180,
                reinvest="customers", posted=(CHANNEL, "1764000000.000100"))
    add_win(db, ny(25, 9), (BOB, CAROL), "<@U05BOB12345> and <@U03GHIJKL> automated triage", author=DAVE,
            tool="Claude", minutes=90, reinvest="learning")
    c = add_win(db, ny(26, 15), (CAROL,), "summarised interviews", tool="chatgpt", minutes=30)
    add_win(db, ny(27, 11), (BOB,), "tried a new tool for the first time")
    # dave opts out below
    add_win(db, ny(25, 14), (DAVE,), "dave's secret win", tool="Copilot", minutes=600, reinvest="rest")
    add_win(db, ny(29, 23, 30), (ERIN,), "late Sunday win", tool="Gemini", minutes=45)  # still this week
    add_win(db, ny(30, 0, 30), (FRANK,), "Monday: next week", tool="Gemini", minutes=45)
    with db.session(TEAM) as s:
        set_opt_out(s, TEAM, DAVE, True)
    # Narratives: two leaders (alice, carol) and bob; dave opted out.
    add_narrative(db, ny(24, 8), ALICE, "I ask Claude to critique my plan before I share it", leader=True,
                  tools="Claude", minutes=30)
    add_narrative(db, ny(26, 8), CAROL, "Weekly report: ChatGPT drafts, I check the numbers", leader=True)
    add_narrative(db, ny(25, 8), BOB, "Copilot writes my test scaffolding", leader=False)
    add_narrative(db, ny(25, 9), DAVE, "dave's secret narrative", leader=True)
    add_narrative(db, ny(16, 8), CAROL, "an older narrative", leader=True)
    # Teach-backs: alice nominated and accepted this week; bob's (older) done this week; carol declined.
    add_teachback(db, a, ALICE, TB_ACCEPTED, ny(24, 12), accepted=ny(25, 10))
    old = add_win(db, ny(10, 10), (BOB,), "an old win", tool="Claude", minutes=20)
    add_teachback(db, old, BOB, TB_DONE, ny(11, 10), accepted=ny(12, 10), done=ny(26, 16))
    add_teachback(db, c, CAROL, TB_DECLINED, ny(26, 17))
    return db


def test_digest_figures_match_a_hand_computed_week(week_of_wins):
    data = digest(week_of_wins)
    # Wins: alice 180, bob+carol 90, carol 30, bob 0, erin 45; not dave's (opted out) nor the weeks around.
    assert data.wins == 5
    assert data.people == 4  # alice, bob, carol, erin
    assert data.minutes_saved == 345
    assert data.reinvested == (("customers", 180), ("learning", 90), (NOT_SAID, 75))
    assert data.top_tools == (("ChatGPT", 2), ("Claude", 1), ("Gemini", 1))
    assert [w.text for w in data.best_wins] == [
        "drafted the Q3 board memo", "<@U05BOB12345> and <@U03GHIJKL> automated triage", "late Sunday win",
        "summarised interviews", "tried a new tool for the first time"]
    assert data.best_wins[1].owner_ids == (BOB, CAROL) and data.more_wins == 0
    assert data.best_wins[0].permalink == "https://slack.com/archives/C05RPT12345/p1764000000000100"
    assert [n.author_id for n in data.narratives] == [CAROL, ALICE, BOB]  # leaders first, newest first
    assert data.leaders_sharing == 2
    assert (data.nominated, data.accepted, data.done) == ((ALICE,), (ALICE,), (BOB,))
    assert data.first_timers == (CAROL, ERIN)
    assert data.has_policy and not data.quiet

    text, blocks = digest_blocks(data)
    assert block_errors(blocks, max_blocks=50) == []
    shown = blocks_to_text(blocks)
    assert "5 AI wins* from *4 people* · *5 h 45 min saved*" in all_text(blocks)
    assert "Customers 3 h (52%) · Learning 1 h 30 min (26%) · 1 h 15 min with no destination given (22%)" in shown
    assert "ChatGPT (2) · Claude (1) · Gemini (1)" in shown
    assert "2 managers shared how they use AI" in shown
    assert "<https://slack.com/archives/C05RPT12345/p1764000000000100|see the win>" in all_text(blocks)
    assert "nominated: <@U02ABCDEF> · accepted: <@U02ABCDEF> · taught: <@U05BOB12345>" in all_text(blocks)
    assert "welcome <@U03GHIJKL> and <@U0ERIN0001>!" in all_text(blocks)
    assert "See our AI policy: `/aiwin policy`" in shown
    assert "<https://intranet.example/ai?x=1&amp;y=2|read it>" in all_text(blocks)
    assert "23–29 Nov 2026" in blocks[0]["text"]["text"]
    assert text.startswith("AI wins this week (23–29 Nov 2026): 5 wins, 5 h 45 min saved")


def test_opted_out_people_are_left_out_entirely(week_of_wins):
    data = digest(week_of_wins)
    _, blocks = digest_blocks(data)
    everything = all_text(blocks)
    assert DAVE not in everything and "secret" not in everything
    assert "Copilot (" not in everything  # dave's win was the only Copilot win
    # Rejoining brings them back.
    with week_of_wins.session(TEAM) as s:
        set_opt_out(s, TEAM, DAVE, False)
    again = digest(week_of_wins)
    assert (again.wins, again.minutes_saved, again.leaders_sharing) == (6, 945, 3)


def test_time_zone_decides_the_week(week_of_wins):
    # In UTC, erin's Sunday 23:30 New York win is Monday 04:30 (next week); bob's Sunday 23:59 is this week.
    data = digest(week_of_wins, tz="UTC")
    texts = {w.text for w in data.best_wins}
    assert "late Sunday win" not in texts
    assert data.wins == 5 and "Sunday night, still last week" in texts


def test_now_leaves_out_what_came_later(week_of_wins):
    data = digest(week_of_wins, now=ny(25, 12))  # Wednesday noon
    assert data.wins == 2 and data.minutes_saved == 270 and data.first_timers == (CAROL,)


def test_quiet_week_gets_a_short_nudge(db):
    with db.session(TEAM) as s:
        ensure_workspace(s, TEAM, None)
    add_win(db, ny(10, 10), (BOB,), "a win two weeks earlier", minutes=30)
    data = digest(db)
    assert data.quiet and data.wins == 0 and data.people == 0
    text, blocks = digest_blocks(data)
    assert len(blocks) <= 3 and block_errors(blocks, max_blocks=50) == []
    said = all_text(blocks)
    assert "A quiet week for AI wins" in said and "/aiwin" in said and "policy" not in said
    assert "quiet week" in text


def test_no_manager_narrative_is_called_out(db):
    add_win(db, ny(24, 10), (BOB,), "a win", minutes=30)
    add_narrative(db, ny(24, 11), BOB, "how I used it", leader=False)
    data = digest(db)
    assert data.leaders_sharing == 0 and len(data.narratives) == 1
    assert "no manager shared a narrative this week" in all_text(digest_blocks(data)[1])


def test_500_wins_stay_inside_block_kit_limits(db, fake_slack):
    exotic = "مرحبا 👩🏽‍💻 日本語 e\u0301 <!channel> @here &amp; &lt;https://evil.example|bank&gt; "
    with db.session(TEAM) as s:
        ensure_workspace(s, TEAM, None)
    for i in range(500):
        owners = tuple(f"U0P{(i * 7 + k) % 600:07d}" for k in range(20))  # 20 owners each, ~600 people
        add_win(db, ny(23 + i % 7, 9, i % 60), owners, (exotic * 80)[:3000], tool=f"Tool{i % 9} " + "x" * 60,
                minutes=(i % 50 + 1) * 10, reinvest=("customers", "learning", None)[i % 3])
    for i in range(40):
        add_narrative(db, ny(24, 9, i), f"U0P{i:07d}", (exotic * 80)[:5000], leader=i % 2 == 0,
                      tools=exotic * 10, minutes=60)
    data = digest(db)
    assert data.wins == 500 and data.more_wins == 495 and data.more_narratives == 35
    text, blocks = digest_blocks(data)
    assert block_errors(blocks, max_blocks=50) == []
    assert len(blocks) <= 50 and len(json.dumps(blocks, ensure_ascii=False)) < 12_000
    said = all_text(blocks)
    assert "and 495 more wins this week" in said and "and 35 more narratives" in said
    assert "<!channel>" not in said and "@here" not in said and "<https://evil.example" not in said
    # And Slack (the sandbox, which enforces the same limits) takes it.
    client = SlackClients(fake_slack.api_url, token=fake_slack.token).for_team(TEAM)
    assert client.chat_postMessage(channel=CHANNEL, text=text, blocks=blocks)["ok"]


def test_permalink_only_for_real_ids():
    assert permalink("C05RPT12345", "1764000000.000100") == "https://slack.com/archives/C05RPT12345/p1764000000000100"
    assert permalink(None, "1.2") is None and permalink("C1", None) is None
    assert permalink("javascript:x", "1.2") is None and permalink("C1", "1.2|x") is None


def test_digest_queries_use_the_indexes(db):
    """EXPLAIN QUERY PLAN (SQLite) for every statement build_digest runs: no full scan of wins,
    win owners, narratives or teach-backs: the cost does not grow with history."""
    if db.dialect != "sqlite":
        pytest.skip("query plans are checked on SQLite; PostgreSQL's planner picks scans for tiny tables")
    add_win(db, ny(10, 10), (BOB,), "old", minutes=30)
    add_win(db, ny(24, 10), (BOB, CAROL), "new", minutes=30)
    statements: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        digest(db)
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    history_tables = ("wins", "win_owners", "narratives", "teachbacks")
    checked = 0
    with db.engine.connect() as conn:
        for statement, parameters in statements:
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
            plan = " | ".join(row[-1] for row in rows)
            for table in history_tables:
                assert f"SCAN {table}" not in plan, (statement, plan)  # also catches aliases (win_owners_1)
            checked += any(t in statement for t in history_tables)
    assert checked >= 5
