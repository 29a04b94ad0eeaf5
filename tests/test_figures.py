"""One workspace, every surface: the same figure for the same period is the same number wherever a person
reads it. `/aiwin stats`, `/aiwin adoption`, App Home, the digest (`aiwins digest`), the monthly report
(`aiwins report`) and the export (`aiwins export`) are read as a person reads them (their text), and
checked against each other, against bot/services/figures.py and against numbers worked out by hand.

The workspace: a shout-out, an owner who opted out (counted, never named), a guest (their wins count, they
are no member), a bot named in a shout-out (dropped), a win said in a private channel (counted, never
shown outside it), narratives by managers, one tool spelled three ways, and wins in this week, in the
month's earlier weeks, in the previous month and before the last 4 weeks. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import func, select

from bot.models import Member, Narrative, WinOwner, Workspace
from bot.services import figures, rollups
from bot.services.figures import Weeks, month_weeks
from bot.services.report import build_report
from tests.conftest import ALICE, BOB, CAROL, CHANNEL, DAVE, TEAM
from tests.helpers import all_text, members_synced_at, wait_until, wins
from tests.test_home import open_home
from tests.test_schedule import cli_env  # noqa: F401  (a fixture)
from tests.test_stats import seed_win
from tests.test_teachbacks import ask

pytestmark = pytest.mark.dates  # true on any day: the test travels to NOW

NOW = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)  # Wednesday of the UTC week of Monday 16 November (2026-W47)
WEEK = "2026-W47"
ADMIN, OWNER, GUEST, BOT, ERIN = "U0ADMIN001", "U0OWNER001", "U0GUEST001", "U0BOT00001", "U0ERIN0001"
SECRET = "C0SECRET001"  # a private channel the bot was invited to
MEMBERS = 7  # bob, alice, carol, dave, ada (admin), olga (owner, opted out), erin (active 5 weeks ago only)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# -- reading what a person reads ---------------------------------------------------------------------------


def minutes(text: str) -> int:
    """"7 h 50 min", "45 min", "3 h", "1,204 h" → minutes."""
    m = re.fullmatch(r"(?:([\d,]+) h)? ?(?:(\d+) min)?", text.strip())
    assert m and (m.group(1) or m.group(2)), f"not a duration: {text!r}"
    return int((m.group(1) or "0").replace(",", "")) * 60 + int(m.group(2) or 0)


def number(text: str) -> int:
    return int(text.replace(",", ""))


def grab(pattern: str, text: str) -> tuple[str, ...]:
    m = re.search(pattern, text)
    assert m, f"{pattern!r} not found in:\n{text}"
    return m.groups()


def period_line(label: str, text: str) -> tuple[int, int, int]:
    """(wins, people, minutes) from "<label>7 wins · 5 people active<anything> · 7 h 50 min saved"."""
    wins_, people, saved = grab(re.escape(label) + r"([\d,]+) (?:AI )?wins? · ([\d,]+) (?:person|people) active"
                                r"[^·\n]* · ([^\n]+?) saved", text)
    return number(wins_), number(people), minutes(saved)


def coverage_line(text: str) -> tuple[int, int, int]:
    """(percent, active, members) from the coverage line `/aiwin stats` and App Home show."""
    pct, active, of = grab(r"\*(\d+)%\* of members \(([\d,]+) of ([\d,]+)\) were active in the last 4 weeks", text)
    return int(pct), number(active), number(of)


def adoption_coverage(label: str, text: str) -> tuple[int, int, int]:
    pct, active, of = grab(re.escape(label) + r": \*?(\d+)%\*? \(([\d,]+) of ([\d,]+)\)", text)
    return int(pct), number(active), number(of)


def reinvestment(text: str) -> int:
    return minutes(grab(r"\*?Reinvestment\*?: ([^;\n]+) saved;", text)[0])


def exported(rows: list[dict[str, str]], period: Weeks) -> tuple[int, int]:
    """(wins, minutes saved) of the export's rows created in the period's UTC weeks."""
    inside = [r for r in rows if period.start <= datetime.fromisoformat(r["created_at"]) < period.end]
    return len(inside), sum(int(r["minutes_saved"] or 0) for r in inside)


# -- the workspace ------------------------------------------------------------------------------------------


def add_people(fake_slack) -> None:
    fake_slack.add_user(ADMIN, "ada", is_admin=True)
    fake_slack.add_user(OWNER, "olga", is_owner=True)
    fake_slack.add_user(GUEST, "gus", is_restricted=True)
    fake_slack.add_user(BOT, "helperbot", is_bot=True)
    fake_slack.add_user(ERIN, "erin")
    fake_slack.add_channel(SECRET, "falcon", is_private=True, bot_member=True)


def said(slack, db, user: str, text: str, channel: str = CHANNEL) -> int:
    """`/aiwin <win>` as `user` in `channel`; the win's id once its celebration is posted."""
    before = {w.id for w in wins(db, TEAM)}
    assert slack.command("/aiwin", text, user_id=user, channel_id=channel).status == 200
    return wait_until(lambda: next((w.id for w in wins(db, TEAM) if w.id not in before and w.message_ts), None),
                      message=f"the celebration of {text!r}")


def narrated(slack, db, user: str, text: str) -> None:
    """`/aiwin narrate <text>` as `user` in #reporting, once it is saved."""
    def posted() -> int:  # posted: whether its author leads is decided by then
        with db.read(TEAM) as s:
            return s.scalar(select(func.count()).select_from(Narrative).where(Narrative.message_ts.is_not(None)))

    before = posted()
    assert slack.command("/aiwin", f"narrate {text}", user_id=user, channel_id=CHANNEL).status == 200
    wait_until(lambda: posted() == before + 1, message="the narrative posted")


def seed_past(db) -> None:
    """What commands cannot say (a tool in another case) and the earlier weeks, written as the services
    would (roll-ups kept)."""
    with db.session(TEAM) as s:
        s.add(Workspace(team_id=TEAM, created_at=at("2026-01-01 00:00")))
        s.flush()
        # This week, a tool typed in another case (the win form's "other tool" keeps it as typed; commands
        # spell known tools one way).
        seed_win(s, owners=[ALICE], created_at=at("2026-11-18 10:00"), minutes=15, tool="chatgpt")
        # Earlier weeks of November (its weeks: those of Monday 2, 9 and 16 November).
        seed_win(s, owners=[ALICE], created_at=at("2026-11-10 10:00"), minutes=90, tool="Claude")
        seed_win(s, owners=[CAROL], created_at=at("2026-11-03 10:00"), minutes=30, tool="CHATGPT",
                 reinvested="learning")
        s.add(Narrative(team_id=TEAM, author_id=ADMIN, text="how I use AI", created_at=at("2026-11-04 09:00")))
        rollups.narrative_added(s, TEAM, ADMIN, at("2026-11-04 09:00"))
        # October (its weeks: Monday 28 September to the week of Monday 26 October, whose Thursday is the
        # 29th): the week of 26 October is also in the last 4 weeks.
        seed_win(s, owners=[BOB], created_at=at("2026-10-27 10:00"), minutes=60, tool="ChatGPT",
                 reinvested="customers")
        seed_win(s, owners=[GUEST], created_at=at("2026-10-28 10:00"), minutes=20)
        seed_win(s, owners=[ERIN], created_at=at("2026-10-20 10:00"), minutes=15)  # her only activity
        seed_win(s, owners=[ALICE], created_at=at("2026-10-13 10:00"), minutes=40, tool="Gemini")


def build_workspace(slack, fake_slack, db) -> None:
    """The workspace as of NOW (the caller travels there first): earlier weeks seeded, this week through
    signed `/aiwin` commands."""
    add_people(fake_slack)
    seed_past(db)
    assert "can now nominate" in ask(slack, fake_slack, ADMIN, f"managers add <@{DAVE}|dave>", "managers")
    said(slack, db, BOB, f"<@{ALICE}|alice> drafted the Q3 board memo with ChatGPT, saved 2h")  # a shout-out
    said(slack, db, CAROL, "summarised 30 interviews with Claude, saved 45m")
    said(slack, db, OWNER, "built the revenue forecast with Claude, saved 1h")
    said(slack, db, GUEST, "wrote the release notes with Copilot, saved 30m")
    bot_win = said(slack, db, BOB, f"<@{BOT}> and <@{CAROL}|carol> triaged the bug backlog with Gemini, saved 20m")
    said(slack, db, BOB, f"<@{CAROL}|carol> modelled the Project Falcon layoffs with Claude, saved 3h", SECRET)
    narrated(slack, db, DAVE, "I prep every 1:1 with Claude: last week's notes in, three questions out. Saves 30m.")
    narrated(slack, db, OWNER, "I ask Claude to critique my plan before I share it.")
    assert "You're opted out" in all_text(slack.command("/aiwin", "optout", user_id=OWNER).json())

    def owners(win_id: int) -> list[str]:
        with db.read(TEAM) as s:
            return list(s.scalars(select(WinOwner.user_id).where(WinOwner.win_id == win_id)))

    wait_until(lambda: owners(bot_win) == [CAROL], message="the bot dropped from the shout-out")
    # The member list, copied from users.list after the ack (at most daily).
    slack.command("/aiwin", "stats", user_id=BOB)

    wait_until(lambda: members_synced_at(db, TEAM), message="users.list copied whole")
    with db.read(TEAM) as s:
        assert s.get(Member, (TEAM, ERIN)) is not None  # erin is only met through users.list
    with db.read(TEAM) as s:
        assert rollups.stored(s, TEAM) == rollups.compute(s, TEAM)  # nothing behind the roll-ups' back


# Worked out by hand.
# This week: bob's shout-out 120 (ChatGPT), carol 45 (Claude), olga 60 (Claude), the guest 30 (Copilot),
# bob's shout-out 20 (Gemini), the private one 180 (Claude), alice 15 (chatgpt).
THIS_WEEK = (7, 5, 470)  # people: bob, alice, carol, olga, dave (his narrative); not the guest, not ada
THIS_WEEK_TOOLS = "Claude (3) · ChatGPT (2) · Copilot (1)"  # ChatGPT = ChatGPT + chatgpt; Copilot before Gemini
# This month (weeks of 2, 9 and 16 November): + carol 30, alice 90; ada's narrative makes her active.
THIS_MONTH = (9, 6, 590)
# The last 4 weeks (26 October to now): + bob 60 and the guest's 20 in the week of 26 October.
LAST_4_WEEKS = (11, 6, 670)  # coverage 6 of 7 (86%: not erin); the 4 weeks before: alice and erin, 2 of 7
OCTOBER = (4, 3, 135)  # alice 40, erin 15, bob 60, the guest 20; 3 of 7 members active (43%)


@pytest.mark.usefixtures("cli_env")
def test_every_surface_gives_the_same_number_for_the_same_figure_and_period(slack, fake_slack, db, capsys):
    with time_machine.travel(NOW, tick=True):
        _every_surface(slack, fake_slack, db, capsys)


def _every_surface(slack, fake_slack, db, capsys) -> None:
    from bot.cli import main

    build_workspace(slack, fake_slack, db)
    this_week, this_month, last4 = (figures.last_weeks(NOW, 1), figures.this_month(NOW),
                                    figures.last_weeks(NOW, 4))
    october = month_weeks("2026-10")
    assert (this_month.first.isoformat(), last4.first.isoformat(), october.first.isoformat(),
            october.last.isoformat()) == ("2026-11-02", "2026-10-26", "2026-09-28", "2026-10-26")

    # The export: every win once, with its time saved.
    assert main(["export", "--team", TEAM]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 13
    export_week, export_month, export_4, export_october = (exported(rows, p)
                                                           for p in (this_week, this_month, last4, october))
    assert export_week == (THIS_WEEK[0], THIS_WEEK[2]) and export_month == (THIS_MONTH[0], THIS_MONTH[2])
    assert export_4 == (LAST_4_WEEKS[0], LAST_4_WEEKS[2]) and export_october == (OCTOBER[0], OCTOBER[2])

    # The services, for reference.
    with db.read(TEAM) as s:
        week_t, month_t, last4_t, october_t = figures.totals(s, TEAM, [this_week, this_month, last4, october])
        cov4 = figures.coverage(s, TEAM, last4)
        cov_october = figures.coverage(s, TEAM, october)
    assert [(t.wins, t.people, t.minutes) for t in (week_t, month_t, last4_t, october_t)] == [
        THIS_WEEK, THIS_MONTH, LAST_4_WEEKS, OCTOBER]
    assert (cov4.now.count, cov4.now.of, cov4.before.count) == (6, MEMBERS, 2)
    assert (cov_october.now.count, cov_october.now.of) == (3, MEMBERS)

    # /aiwin stats, as bob reads it.
    stats = all_text(slack.command("/aiwin", "stats", user_id=BOB).json())
    stats_week = period_line("*Team this week* (since Mon Nov 16, UTC)\n", stats)
    stats_month = period_line("*Team this month* (since Mon Nov 2, UTC)\n", stats)
    stats_cov = coverage_line(stats)
    stats_tools = grab(r"\(since Mon Nov 16, UTC\)\n[^\n]+\nTop tools: ([^\n]+)", stats)[0]

    # App Home, as bob (a member) and ada (an admin: she also sees the adoption figures) read it.
    bob_home = all_text(open_home(slack, fake_slack, BOB, count=_publishes(fake_slack, BOB) + 1)["blocks"])
    ada_home = all_text(open_home(slack, fake_slack, ADMIN, count=_publishes(fake_slack, ADMIN) + 1)["blocks"])
    home_fields = tuple(number(grab(rf"\*{name}\*\n([\d,]+)", bob_home)[0]) for name in ("Wins", "People active"))
    home_week = (*home_fields, minutes(grab(r"\*Time saved\*\n([^\n]+)", bob_home)[0]))
    home_row = period_line("• This week: ", bob_home)
    home_rows = {label: period_line(f"• Week of {label}: ", bob_home)
                 for label in ("Mon Nov 9", "Mon Nov 2", "Mon Oct 26", "Mon Oct 19")}
    home_tools = grab(r"\*Top tools\*\n([^\n]+)", bob_home)[0]
    home_cov = coverage_line(bob_home)

    # /aiwin adoption, as ada runs it (the last 4 weeks).
    adoption = ask(slack, fake_slack, ADMIN, "adoption", "adoption")
    adoption_cov = adoption_coverage("Last 4 weeks", adoption)
    home_adoption_cov = adoption_coverage("Last 4 weeks", ada_home)

    # The digest of this week, as `aiwins digest` prints it for #reporting.
    assert main(["digest", "--team", TEAM, "--channel", CHANNEL, "--week", WEEK]) == 0
    digest = capsys.readouterr().out
    assert f"· {WEEK} (a UTC week)" in digest and "16–22 Nov 2026" in digest
    digest_week = period_line("", digest)
    digest_tools = grab(r"Top tools: ([^\n]+)", digest)[0]

    # October's leadership report, as `aiwins report` prints it.
    assert main(["report", "--team", TEAM, "--month", "2026-10"]) == 0
    report = capsys.readouterr().out
    report_cov = adoption_coverage("Sep 28 – Nov 1, 2026", report)

    # This week: wins, people active, hours saved.
    assert stats_week == home_week == home_row == digest_week == as_read(week_t) == THIS_WEEK
    assert export_week == (stats_week[0], stats_week[2])
    assert stats_tools == home_tools == digest_tools == THIS_WEEK_TOOLS
    # This month: /aiwin stats against the export and the sum of App Home's weeks of the month.
    assert stats_month == as_read(month_t) == THIS_MONTH
    assert export_month == (stats_month[0], stats_month[2])
    month_rows = [home_row, home_rows["Mon Nov 9"], home_rows["Mon Nov 2"]]
    assert (sum(r[0] for r in month_rows), sum(r[2] for r in month_rows)) == (stats_month[0], stats_month[2])
    # Coverage over the last 4 weeks: stats, App Home, /aiwin adoption and App Home's adoption part.
    assert stats_cov == home_cov == adoption_cov == home_adoption_cov == (86, 6, MEMBERS)
    assert (cov4.now.count, cov4.now.of) == stats_cov[1:]
    # Hours saved over adoption's period (the last 4 weeks): the export, App Home's weeks, adoption itself.
    last4_rows = [*month_rows, home_rows["Mon Oct 26"]]
    assert (reinvestment(adoption) == reinvestment(ada_home) == sum(r[2] for r in last4_rows) == export_4[1]
            == last4_t.minutes == LAST_4_WEEKS[2])
    # October's report: coverage and hours saved are the figures' over October's weeks, and the export's.
    assert report_cov == (43, cov_october.now.count, cov_october.now.of) == (43, 3, MEMBERS)
    assert reinvestment(report) == october_t.minutes == export_october[1] == OCTOBER[2]
    with db.read(TEAM) as s:
        built = build_report(s, TEAM, "2026-10", now=NOW)
    assert built.figures.period == october and built.figures.coverage == cov_october
    assert (built.figures.reinvestment.wins, built.figures.reinvestment.minutes) == (OCTOBER[0], OCTOBER[2])

    # Counted, never named: olga (opted out, a manager with a narrative); the guest's win counts, the guest is
    # no member; the private win's time is in the figures above, its text only in its own channel.
    assert "1 guest (1 active, not in the figures)" in adoption and "1 opted out: counted, never named" in adoption
    assert f"Leaders modeling*: 3 of 3 managers shared a narrative: <@{DAVE}> and <@{ADMIN}>" in adoption
    assert "2 managers shared how they use AI this week" in digest and "@dave ⭐ leader" in digest
    for text in (stats, bob_home, ada_home, adoption, report):
        assert OWNER not in text
    assert "New this week — welcome @dave!" in digest  # his narrative is his first activity; olga's is hers
    assert "olga" not in digest and "revenue forecast" not in digest and "critique my plan" not in digest
    assert "and 2 more wins this week" in digest and "Falcon" not in digest


def as_read(t: figures.Totals) -> tuple[int, int, int]:
    """(wins, people active, minutes saved), as `period_line` reads them."""
    return t.wins, t.people, t.minutes


def _publishes(fake_slack, user: str) -> int:
    """Home views published for `user` so far (refreshes after their wins may have published some)."""
    return len([c for c in fake_slack.calls("views.publish", user_id=user) if c.ok])
