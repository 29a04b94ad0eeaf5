"""Adoption figures on a hand-built history (bots, Slackbot, deactivated accounts, a guest, an opted-out
person, a win on a Berlin Monday that is still Sunday in UTC, overlapping teams) and `/aiwin adoption`
end to end. Each test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.models import Manager, Member, Narrative, OptOut, TeachBack, Workspace
from bot.services import adoption, rollups
from bot.services.figures import Weeks, month_weeks
from tests.conftest import ALICE, BOB, CAROL, DAVE, ENTERPRISE, TEAM
from tests.helpers import all_text, copy_members, recorded
from tests.test_stats import seed_win
from tests.test_teachbacks import ask

pytestmark = pytest.mark.dates  # .ci/run runs these again with the clock moved ahead

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # Wednesday of the week starting Mon 2026-11-23
A, B, C, D, E, F, H = "U0000000A", "U0000000B", "U0000000C", "U0000000D", "U0000000E", "U0000000F", "U0000000H"
GUEST, BOT, GONE = "U0GUEST001", "U0BOT00001", "U0GONE0001"
DESIGN, OPS = "S0DESIGN01", "S0OPS00001"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def history(db):
    with db.session(TEAM) as s:
        s.add(Workspace(team_id=TEAM, members_synced_at=NOW))
        for u in (A, B, C, D, E, F, H):
            s.add(Member(team_id=TEAM, user_id=u, name=u.lower(), tz="Europe/Berlin", is_admin=(u == A),
                         fetched_at=NOW))
        s.add(Member(team_id=TEAM, user_id=GUEST, name="guest", is_guest=True, fetched_at=NOW))
        s.add(Member(team_id=TEAM, user_id=BOT, name="bot", is_bot=True, fetched_at=NOW))
        s.add(Member(team_id=TEAM, user_id="USLACKBOT", name="slackbot", is_bot=True, fetched_at=NOW))
        s.add(Member(team_id=TEAM, user_id=GONE, name="gone", deleted=True, fetched_at=NOW))
        s.add(Manager(team_id=TEAM, user_id=F, added_by=A))
        s.add(OptOut(team_id=TEAM, user_id=B))
        # A: active since June; three of the last four weeks (a habit), and a narrative as a leader.
        seed_win(s, owners=[A], created_at=at("2026-06-01 09:00"))
        seed_win(s, owners=[A], created_at=at("2026-11-10 09:00"), minutes=60, reinvested="learning")
        seed_win(s, owners=[A], created_at=at("2026-11-17 09:00"), minutes=60)
        seed_win(s, owners=[C], author=A, created_at=at("2026-11-24 09:00"), minutes=30, reinvested="customers")
        s.add(Narrative(team_id=TEAM, author_id=A, text="how I use it", created_at=at("2026-11-18 10:00")))
        # B (opted out) and C: first activity ever this week: new.
        b_win = seed_win(s, owners=[B], created_at=at("2026-11-23 08:00"))
        # D: active long ago only: dormant. E: active six weeks ago: neither active now nor dormant.
        seed_win(s, owners=[D], created_at=at("2026-08-04 09:00"))
        seed_win(s, owners=[E], created_at=at("2026-10-13 09:00"))
        # H: 00:30 on Monday 2 November in Berlin is Sunday 1 November 23:30 UTC: the UTC week of 26 October,
        # the previous period, not this one.
        seed_win(s, owners=[H], created_at=at("2026-11-01 23:30"))
        # Not members: the guest (counted apart), a bot, a deactivated account.
        seed_win(s, owners=[GUEST], created_at=at("2026-11-24 09:00"))
        seed_win(s, owners=[BOT], created_at=at("2026-11-24 09:00"))
        seed_win(s, owners=[GONE], created_at=at("2026-11-24 09:00"), minutes=15)
        # Teach-backs: C's delivered (named), B's delivered (opted out: counted, not named), one nominated.
        c_win = seed_win(s, owners=[C], created_at=at("2026-11-24 10:00"))
        s.add(TeachBack(team_id=TEAM, win_id=c_win, owner_id=C, status="done", first_manager_id=A,
                        created_at=at("2026-11-20 09:00"), accepted_at=at("2026-11-21 09:00"),
                        done_at=at("2026-11-24 11:00")))
        s.add(TeachBack(team_id=TEAM, win_id=b_win, owner_id=B, status="done", first_manager_id=A,
                        created_at=at("2026-11-23 09:00"), accepted_at=at("2026-11-23 10:00"),
                        done_at=at("2026-11-23 12:00")))
        s.add(TeachBack(team_id=TEAM, win_id=c_win, owner_id=A, status="nominated", first_manager_id=F,
                        created_at=at("2026-11-25 09:00")))
        s.flush()
        rollups.rebuild(s, TEAM)
        adoption.add_team(s, TEAM, None, DESIGN, "design", [A, C, GUEST], added_by=A, now=NOW)
        adoption.add_team(s, TEAM, None, OPS, "ops", [A, D], added_by=A, now=NOW)  # overlaps design (A)


def figures(db, group=None, **kw):
    with db.read(TEAM) as s:
        return adoption.adoption_figures(s, TEAM, manager_ids=(), group_id=group, now=NOW, **kw)


def test_workspace_figures_match_the_hand_computed_history(db, history):
    f = figures(db)
    assert f.period == Weeks(date(2026, 11, 2), date(2026, 11, 23))
    assert (f.members, f.guests, f.guests_active, f.opted_out) == (7, 1, 1, 1)  # not the bot, Slackbot, gone
    assert (f.coverage.now.count, f.coverage.before.count) == (3, 2)  # A B C now; E H before
    assert f.coverage.points == pytest.approx(14.3)
    assert f.habit.count == 1  # A
    assert f.new == 2 and f.new_named == (C,)  # B is new too, but opted out: counted, never named
    assert (f.dormant.count, f.dormant.of) == (1, 6)  # D, of the six members ever active
    assert (f.leaders.count, f.leaders.of, f.leaders_named) == (1, 2, (A,))  # A (admin), F (listed)
    p = f.pipeline
    assert (p.nominated, p.accepted, p.delivered, p.delivered_by) == (3, 2, 2, (C,))
    # Each win once, credited to its writer; the deactivated account's time is still time saved.
    r = f.reinvestment
    assert (r.minutes, r.split.minutes_told, r.split.told) == (60 + 60 + 30 + 15, 90, {"learning": 60, "customers": 30})
    assert [w.active for w in f.trend][-4:] == [0, 1, 1, 3]  # weeks of 2, 9, 16 and 23 November


def test_managers_from_slack_count_and_teams_cut_every_figure(db, history):
    assert figures(db).leaders.of == 2
    with db.read(TEAM) as s:
        f = adoption.adoption_figures(s, TEAM, manager_ids=[D, GUEST, BOT], now=NOW)
    assert f.leaders.of == 3  # D through the managers group; the guest and the bot are not members

    design = figures(db, DESIGN)
    assert (design.members, design.guests, design.coverage.now.count) == (2, 1, 2)  # A and C (+ the guest)
    assert (design.new, design.new_named, design.habit.count, design.leaders.of) == (1, (C,), 1, 1)
    assert design.pipeline.delivered_by == (C,) and design.pipeline.delivered == 1
    assert design.reinvestment.minutes == 150  # wins A and C recorded (A wrote C's shout-out)
    ops = figures(db, OPS)  # shares A with design
    assert (ops.members, ops.coverage.now.count, ops.dormant.count) == (2, 1, 1)


def test_a_month_is_its_iso_weeks():
    assert month_weeks("2026-11") == Weeks(date(2026, 11, 2), date(2026, 11, 23))
    assert month_weeks("2026-10") == Weeks(date(2026, 9, 28), date(2026, 10, 26))
    assert month_weeks("2027-01") == Weeks(date(2027, 1, 4), date(2027, 1, 25))  # 1 Jan 2027 is in 2026-W53


def test_guests_and_deactivated_accounts_are_not_members_until_members_are_known(db):
    with db.session(TEAM) as s:
        s.add(Workspace(team_id=TEAM))
    f = figures(db)
    assert not f.members_known and f.members == 0 and f.coverage.now.share is None


PEOPLE6 = ("U0PROP0001", "U0PROP0002", "U0PROP0003", "U0PROP0004", "U0PROP0005", "U0PROP0006")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(history=st.dictionaries(st.sampled_from(PEOPLE6), st.sets(st.integers(0, 110), min_size=1, max_size=14)),
       ends=st.lists(st.sampled_from((0, 1, 9, 40, 70, 95)), min_size=1, max_size=3, unique=True))
def test_figures_equal_a_direct_count_from_the_weeks(db, history, ends):
    """Whoever was active in whichever weeks (up to two years back), the figures read from each person's
    stored mask equal the figures counted from the weeks themselves, for the current period and for
    periods far enough back that some masks do not reach them (those are read from the weekly rows)."""
    team = "T" + uuid.uuid4().hex[:10].upper()
    this_week = rollups.week_of(NOW)
    with db.session(team) as s:
        s.add(Workspace(team_id=team, members_synced_at=NOW))
        for u in PEOPLE6:
            s.add(Member(team_id=team, user_id=u, name=u.lower(), fetched_at=NOW))
        for u, offsets in history.items():
            for o in offsets:
                seed_win(s, owners=[u], created_at=_at(this_week - timedelta(weeks=o)) + timedelta(hours=30),
                         team=team)
    for end in ends:
        last = this_week - timedelta(weeks=end)
        with db.read(team) as s:
            f = adoption.adoption_figures(s, team, manager_ids=(), now=NOW,
                                          period=Weeks(last - timedelta(weeks=3), last))

        def active(lo: int, hi: int, end: int = end) -> set[str]:  # weeks end+lo … end+hi back from now
            return {u for u, offs in history.items() if any(end + lo <= o <= end + hi for o in offs)}

        as_of = min(NOW, _at(last) + timedelta(weeks=1))
        quiet_from = (last - rollups.week_of(as_of - timedelta(days=60))).days // 7
        ever = {u for u, offs in history.items() if max(offs) >= end}
        assert (f.coverage.now.count, f.coverage.before.count) == (len(active(0, 3)), len(active(4, 7)))
        assert (f.coverage_long.now.count, f.coverage_long.before.count) == (len(active(0, 12)), len(active(13, 25)))
        assert f.habit.count == sum(1 for offs in history.values() if sum(end <= o <= end + 3 for o in offs) >= 3)
        assert f.new == sum(1 for offs in history.values() if end <= max(offs) <= end + 3)
        assert (f.dormant.count, f.dormant.of) == (len(ever - active(0, quiet_from)), len(ever))
        assert [w.active for w in f.trend] == [len(active(i, i)) for i in range(11, -1, -1)]


def _at(week: date) -> datetime:
    return datetime(week.year, week.month, week.day, tzinfo=UTC)


# -- the command -------------------------------------------------------------------------------------------


@pytest.fixture
def people_in_slack(server, fake_slack, db):
    """Slack's people, with the member list already copied (as it is after the first day: the copy
    runs in the background, and figures say "not known yet" until it has)."""
    fake_slack.add_user("U0ADMIN0001", "ada", is_admin=True)
    fake_slack.add_user(GUEST, "guest", is_restricted=True)
    fake_slack.add_user(GONE, "gone", deleted=True)
    fake_slack.add_usergroup(DESIGN, [ALICE, CAROL])
    copy_members(server, db, TEAM, ENTERPRISE)
    return "U0ADMIN0001"


def test_manager_sees_adoption_and_others_are_refused_politely(slack, fake_slack, db, people_in_slack):
    admin = people_in_slack
    slack.command("/aiwin", "<@U02ABCDEF|alice> wrote the tests with Copilot, saved 1h", user_id=BOB)
    text = ask(slack, fake_slack, DAVE, "adoption", "dave")
    assert "for managers and workspace admins" in text and f"<@{admin}>" in text
    assert "Coverage" not in text

    text = ask(slack, fake_slack, admin, "adoption", "ada")
    # bob, alice, carol, dave and the admin are members; the guest, the deactivated account and the bot not.
    assert "5 members" in text and "1 guest" in text
    assert "*40%* (2 of 5)" in text  # bob wrote a win, alice received it
    assert f"Welcome to the new adopters: <@{BOB}> and <@{ALICE}>" in text or \
           f"Welcome to the new adopters: <@{ALICE}> and <@{BOB}>" in text
    assert "Active members, last 12 weeks" in text


def test_admins_mark_teams_and_figures_are_cut_by_them(slack, fake_slack, db, people_in_slack):
    admin = people_in_slack
    group = f"<!subteam^{DESIGN}|@design>"
    text = ask(slack, fake_slack, BOB, f"adoption teams add {group}", "bob-add")
    assert "only workspace admins" in text
    text = ask(slack, fake_slack, admin, f"adoption teams add {group}", "add")
    assert f"<!subteam^{DESIGN}> is now a team (2 members)" in text
    r = slack.command("/aiwin", "adoption teams", user_id=BOB)  # anyone may list, answered at once
    assert f"<!subteam^{DESIGN}> — 2 members" in all_text(r.json())

    slack.command("/aiwin", "<@U03GHIJKL|carol> summarised interviews with Claude, saved 2h", user_id=BOB)
    recorded(db, TEAM)
    text = ask(slack, fake_slack, admin, f"adoption {group}", "cut")
    assert "AI adoption · @design" in text and "2 members" in text and "*50%* (1 of 2)" in text

    text = ask(slack, fake_slack, admin, "adoption <!subteam^S0NOTEAM01|@x>", "unknown")
    assert "is not a team for adoption figures yet" in text
    text = ask(slack, fake_slack, admin, f"adoption teams remove {group}", "rm")
    assert "no longer a team" in text


@pytest.mark.parametrize(("text", "expected"), [
    ("adoption frobnicate", "/aiwin adoption @team"),
    ("adoption teams add design", "/aiwin adoption teams add @design"),
    ("adoption teams wat", "/aiwin adoption teams add @design"),
])
def test_bad_input_gets_an_example(slack, db, text, expected):
    r = slack.command("/aiwin", text, user_id=BOB)
    assert r.status == 200 and expected in all_text(r.json())


# -- App Home ----------------------------------------------------------------------------------------------


def test_managers_and_admins_see_adoption_in_their_home_and_others_do_not(slack, fake_slack, db,
                                                                           people_in_slack):
    from bot.sandbox.fake_slack import block_errors
    from bot.sandbox.fake_slack.common import MAX_VIEW_BLOCKS
    from tests.test_home import open_home

    admin = people_in_slack
    slack.command("/aiwin", "<@U02ABCDEF|alice> wrote the tests with Copilot, saved 1h", user_id=BOB)
    view = open_home(slack, fake_slack, admin)
    text = all_text(view["blocks"])
    assert "AI adoption (managers and admins)" in text and "*40%* (2 of 5)" in text
    assert block_errors(view["blocks"], max_blocks=MAX_VIEW_BLOCKS) == []
    assert "AI policy" in text  # the sections after it are still there
    assert "AI adoption" not in all_text(open_home(slack, fake_slack, DAVE)["blocks"])
