"""The weekly digest: figures against a hand-computed week (a UTC week, whatever the channel's zone),
privacy, first-timers, quiet weeks, Block Kit limits with 500 wins, and the index-driven queries. Runs on
SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import event, update

from bot.blocks.digest import digest_blocks
from bot.blocks.render import blocks_to_text
from bot.db import Database
from bot.models import TB_ACCEPTED, TB_DECLINED, TB_DONE, Manager, Member, Narrative, TeachBack, Win, Workspace
from bot.sandbox.fake_slack import block_errors
from bot.services import rollups
from bot.services.digest import build_digest, permalink
from bot.services.figures import NOT_SAID, Weeks
from bot.services.people import set_opt_out
from bot.services.wins import NewWin, record_win
from bot.services.workspaces import ensure_workspace
from bot.slack.client import SlackClients
from tests.conftest import ALICE, BOB, CAROL, CHANNEL, DAVE, TEAM
from tests.helpers import UNLIMITED, all_text

pytestmark = pytest.mark.dates  # .ci/run runs these again with the clock moved ahead

NY = "America/New_York"
WEEK = "2026-W48"  # Monday 23 Nov 00:00 to Monday 30 Nov 00:00 UTC (people here live in New York, UTC-5)
ERIN, FRANK = "U0ERIN0001", "U0FRANK001"


def ny(day: int, hour: int, minute: int = 0) -> datetime:
    """A New York wall time in November 2026, as UTC."""
    return datetime(2026, 11, day, hour, minute, tzinfo=ZoneInfo(NY)).astimezone(UTC)


def add_win(db: Database, at: datetime, owners: tuple[str, ...], text_: str, *, author: str | None = None,
            tool: str | None = None, minutes: int | None = None, reinvest: str | None = None,
            posted: tuple[str, str] | None = None, team: str = TEAM, private: bool | None = False) -> int:
    """Record a win through the real service, as if at `at` (said in a public channel unless `private`)."""
    with time_machine.travel(at, tick=False), db.session(team) as s:
        result = record_win(s, NewWin(team_id=team, enterprise_id=None, author_id=author or owners[0],
                            channel_id=None, text=text_, recipients=owners, tool=tool, minutes_saved=minutes,
                            reinvested_in=reinvest, post=False), limits=UNLIMITED)
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
        # Written behind the service's back: keep the roll-ups as the service would.
        rollups.narrative_added(s, TEAM, author, at)


def add_teachback(db: Database, win_id: int, owner: str, status: str, created: datetime, *,
                  accepted: datetime | None = None, done: datetime | None = None) -> None:
    with db.session(TEAM) as s:
        updated = max(t for t in (created, accepted, done) if t is not None)
        s.add(TeachBack(team_id=TEAM, win_id=win_id, owner_id=owner, status=status, first_manager_id=DAVE,
                        invited_at=created, accepted_at=accepted, done_at=done, created_at=created,
                        updated_at=updated))


def digest(db: Database, week: str = WEEK, team: str = TEAM):
    with db.read(team) as s:  # dave is a manager through the managers user group
        return build_digest(s, team, week, group_members=(DAVE,))


def add_members(db: Database, *users: str, admins: tuple[str, ...] = (), guests: tuple[str, ...] = ()) -> None:
    """People are members active in the week: the members, as users.list would have copied them."""
    with db.session(TEAM) as s:
        ensure_workspace(s, TEAM, None)
        s.get(Workspace, TEAM).members_synced_at = datetime.now(UTC)  # a whole copy
        for u in users:
            s.add(Member(team_id=TEAM, user_id=u, name=u.lower(), tz=NY, is_admin=u in admins,
                         is_guest=u in guests, fetched_at=datetime.now(UTC)))


@pytest.fixture
def week_of_wins(db):
    """Week 2026-W48 (UTC) of people in New York, with figures worked out by hand in the test below.
    Managers: alice (an admin), carol (the managers list) and dave (the managers user group)."""
    add_members(db, ALICE, BOB, CAROL, DAVE, ERIN, FRANK, admins=(ALICE,))
    with db.session(TEAM) as s:
        s.add(Manager(team_id=TEAM, user_id=CAROL, added_by=ALICE))
        s.execute(update(Workspace).where(Workspace.team_id == TEAM)
                  .values(policy_text="Use approved tools.", policy_url="https://intranet.example/ai?x=1&y=2"))
    # Before the week: alice and bob have won before (so they are not first-timers).
    add_win(db, ny(20, 12), (ALICE,), "older win", tool="ChatGPT", minutes=60)
    # Sunday 23:59 in New York is Monday 04:59 UTC: this week.
    add_win(db, ny(22, 23, 59), (BOB,), "Sunday night in New York", tool="Claude", minutes=600)
    # The week.
    a = add_win(db, ny(24, 10), (ALICE,), "drafted the Q3 board memo", tool="ChatGPT", minutes=180,
                reinvest="customers", posted=(CHANNEL, "1764000000.000100"))
    add_win(db, ny(25, 9), (BOB, CAROL), "<@U05BOB12345> and <@U03GHIJKL> automated triage", author=DAVE,
            tool="Claude", minutes=90, reinvest="learning")
    c = add_win(db, ny(26, 15), (CAROL,), "summarised interviews", tool="chatgpt", minutes=30)
    add_win(db, ny(27, 11), (BOB,), "tried a new tool for the first time")
    # dave opts out below
    add_win(db, ny(25, 14), (DAVE,), "dave's secret win", tool="Copilot", minutes=600, reinvest="rest")
    add_win(db, ny(29, 23, 30), (ERIN,), "late Sunday win", tool="Gemini", minutes=45)  # Monday in UTC: next week
    add_win(db, ny(30, 0, 30), (FRANK,), "Monday: next week", tool="Gemini", minutes=45)
    with db.session(TEAM) as s:
        set_opt_out(s, TEAM, DAVE, True)
    # Narratives: three managers (alice, carol, dave: opted out) and bob.
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
    # The UTC week: bob's New York Sunday night (600 min, Monday in UTC), alice 180, bob+carol 90, carol 30,
    # bob 0 and dave's 600 (opted out: counted, never named); not erin's (Monday in UTC) nor older ones.
    assert data.period == Weeks(date(2026, 11, 23), date(2026, 11, 23))
    assert data.wins == 6
    assert data.totals.people == 4  # alice, bob, carol, dave (he wrote bob and carol's shout-out)
    assert data.minutes_saved == 600 + 180 + 90 + 30 + 600
    assert data.totals.split.minutes == {"rest": 600, "customers": 180, "learning": 90, NOT_SAID: 600 + 30}
    # "ChatGPT" and "chatgpt" are one tool; three tools are shown.
    assert data.totals.top_tools == (("ChatGPT", 2), ("Claude", 2), ("Copilot", 1))
    assert [w.text for w in data.best_wins] == [
        "Sunday night in New York", "drafted the Q3 board memo", "<@U05BOB12345> and <@U03GHIJKL> automated triage",
        "summarised interviews", "tried a new tool for the first time"]
    # dave's win is counted in the 6 but never shown: it is the "1 more".
    assert data.best_wins[2].owner_ids == (BOB, CAROL) and data.more_wins == 1
    assert data.best_wins[1].permalink == "https://slack.com/archives/C05RPT12345/p1764000000000100"
    assert [n.author_id for n in data.narratives] == [CAROL, ALICE, BOB]  # leaders first, newest first
    # Managers with a narrative this week: alice (admin), carol (listed), dave (user group; opted out, counted).
    assert data.leaders_modeling == 3
    assert (data.nominated, data.accepted, data.done) == ((ALICE,), (ALICE,), (BOB,))
    # First activity ever this week: only dave (opted out, never named); carol posted a narrative on 16 November.
    assert data.first_timers == ()
    assert data.has_policy and not data.quiet

    text, blocks = digest_blocks(data)
    assert block_errors(blocks, max_blocks=50) == []
    shown = blocks_to_text(blocks)
    assert "*6 AI wins* · *4 people* active · *25 h saved*" in all_text(blocks)
    assert ("Rest 10 h (40%) · Customers 3 h (12%) · Learning 1 h 30 min (6%) · "
            "10 h 30 min with no destination given (42%)") in shown
    assert "ChatGPT (2) · Claude (2) · Copilot (1)" in shown
    assert "3 managers shared how they use AI" in shown
    assert "and 1 more win this week" in shown
    assert "<https://slack.com/archives/C05RPT12345/p1764000000000100|see the win>" in all_text(blocks)
    assert "nominated: <@U02ABCDEF> · accepted: <@U02ABCDEF> · taught: <@U05BOB12345>" in all_text(blocks)
    assert "New this week" not in shown
    assert "See our AI policy: `/aiwin policy`" in shown
    assert "<https://intranet.example/ai?x=1&amp;y=2|read it>" in all_text(blocks)
    assert "23–29 Nov 2026" in blocks[0]["text"]["text"]
    assert text.startswith("AI wins this week (23–29 Nov 2026): 6 wins, 25 h saved")


def test_opted_out_people_are_counted_and_never_named(week_of_wins):
    data = digest(week_of_wins)
    _, blocks = digest_blocks(data)
    everything = all_text(blocks)
    assert DAVE not in everything and "secret" not in everything
    assert "Copilot (1)" in everything  # dave's win counts among the tools: a tool names nobody
    # Rejoining changes no figure, and names him again: his win, his narrative, his first week.
    with week_of_wins.session(TEAM) as s:
        set_opt_out(s, TEAM, DAVE, False)
    again = digest(week_of_wins)
    assert (again.wins, again.totals.people, again.minutes_saved, again.leaders_modeling) == (6, 4, 1500, 3)
    assert again.best_wins[0].text == "dave's secret win"  # 600 min, later than bob's
    assert DAVE in [n.author_id for n in again.narratives] and again.first_timers == (DAVE,)


def test_the_week_is_a_utc_week_whatever_the_zone(week_of_wins):
    # Sunday 23:59:59 UTC closes week 48's week before; Monday 00:00 UTC opens week 49.
    add_win(week_of_wins, datetime(2026, 11, 22, 23, 59, 59, tzinfo=UTC), (BOB,), "UTC Sunday", minutes=5)
    add_win(week_of_wins, datetime(2026, 11, 30, 0, 0, tzinfo=UTC), (BOB,), "UTC Monday", minutes=7)
    data = digest(week_of_wins)
    texts = {w.text for w in data.best_wins}
    assert data.wins == 6 and data.minutes_saved == 1500  # as in the hand-computed week: neither edge
    assert "Sunday night in New York" in texts and "late Sunday win" not in texts
    before, after = digest(week_of_wins, "2026-W47"), digest(week_of_wins, "2026-W49")
    # Week 47: alice's older win (60) and the UTC Sunday one (5). Week 49: erin's and frank's New York
    # Sunday night and Monday (45 each), and the UTC Monday one (7).
    assert (before.wins, before.minutes_saved) == (2, 65)
    assert (after.wins, after.minutes_saved) == (3, 97)
    assert "late Sunday win" in {w.text for w in after.best_wins}


def test_first_timers_are_people_whose_first_activity_ever_is_in_the_week(db):
    """Active is a win recorded or received, or a narrative; only members are people; opted-out people are
    never named."""
    new_win, new_shoutout, old_narrator, hidden, guest = "U0NEW00001", "U0NEW00002", "U0OLD00001", "U0OUT00001", \
        "U0GUEST001"
    add_members(db, new_win, new_shoutout, old_narrator, hidden, guest, guests=(guest,))
    add_narrative(db, ny(17, 9), old_narrator, "how I used AI last week", leader=False)  # week 47
    add_win(db, ny(24, 9), (new_win,), "my first win", minutes=10)
    add_win(db, ny(24, 10), (new_shoutout,), "a shout-out", author=old_narrator, minutes=20)
    add_win(db, ny(24, 11), (hidden,), "a first win, then opted out")
    add_win(db, ny(24, 12), (guest,), "a guest's first win")
    with db.session(TEAM) as s:
        set_opt_out(s, TEAM, hidden, True)
    data = digest(db)
    assert data.first_timers == (new_win, new_shoutout)
    # The guest's win counts as a win; people are the members: the two new ones, the narrator and the hidden one.
    assert (data.wins, data.totals.people) == (4, 4)
    assert f"welcome <@{new_win}> and <@{new_shoutout}>!" in all_text(digest_blocks(data)[1])


def test_quiet_week_gets_a_short_nudge(db):
    add_members(db, BOB)
    add_win(db, ny(10, 10), (BOB,), "a win two weeks earlier", minutes=30)
    data = digest(db)
    assert data.quiet and data.wins == 0 and data.totals.people == 0
    text, blocks = digest_blocks(data)
    assert len(blocks) <= 3 and block_errors(blocks, max_blocks=50) == []
    said = all_text(blocks)
    assert "A quiet week for AI wins" in said and "/aiwin" in said and "policy" not in said
    assert "quiet week" in text


def test_no_manager_narrative_is_called_out(db):
    add_members(db, BOB)  # a member, not a manager
    add_win(db, ny(24, 10), (BOB,), "a win", minutes=30)
    add_narrative(db, ny(24, 11), BOB, "how I used it", leader=False)
    data = digest(db)
    assert data.leaders_modeling == 0 and len(data.narratives) == 1
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
