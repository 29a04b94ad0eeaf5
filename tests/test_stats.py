"""Stats (`/aiwin stats`, the figures App Home shows) against hand-computed numbers, and the
"where did the saved time go?" question. Each test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.models import Job, Manager, Member, Narrative, OptOut, Win, WinOwner, Workspace
from bot.services import figures, rollups
from bot.services.figures import NOT_SAID, Weeks
from bot.services.home import build_home
from bot.services.stats import stats_report
from tests.conftest import ALICE, BOB, CAROL, CHANNEL, DAVE, TEAM
from tests.helpers import all_text, settled, wait_until, wins

pytestmark = pytest.mark.dates  # .ci/run runs these again with the clock moved ahead

OTHER_TEAM = "T0OTHER0001"
NOW = datetime(2026, 3, 11, 12, 0, tzinfo=UTC)  # a Wednesday


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def seed_win(session, *, owners, created_at, minutes=None, tool=None, reinvested=None, author=None,
             team=TEAM, text="did a thing with AI"):
    win = Win(team_id=team, author_id=author or owners[0], channel_id=CHANNEL, text=text, text_format="wire",
              tool=tool, minutes_saved=minutes, reinvested_in=reinvested, tags="", source="command",
              post_status="none", created_at=created_at, updated_at=created_at,
              owners=[WinOwner(team_id=team, user_id=u, position=i, created_at=created_at)
                      for i, u in enumerate(owners)])
    session.add(win)
    session.flush()
    # Rows written behind the services' back: keep the roll-ups as the services would.
    rollups.win_added(session, team, rollups.facts(win.author_id, owners, minutes, reinvested, created_at, tool))
    return win.id


def seed_member(session, user_id, *, tz="Europe/Paris", is_bot=False, deleted=False, team=TEAM):
    session.add(Member(team_id=team, user_id=user_id, name=user_id.lower(), tz=tz, is_bot=is_bot,
                       deleted=deleted, fetched_at=NOW))


@pytest.fixture
def world(db):
    """The hand-computed scenario. Weeks are UTC weeks whatever the viewer's zone (bob's is Paris)."""
    with db.session(TEAM) as s:
        s.add(Workspace(team_id=TEAM, members_synced_at=NOW, created_at=at("2025-01-01 00:00")))
        for user in (BOB, ALICE, CAROL, DAVE):
            seed_member(s, user)
        s.add(Manager(team_id=TEAM, user_id=ALICE, added_by=BOB))
        s.add(Manager(team_id=TEAM, user_id=CAROL, added_by=BOB))
        seed_member(s, "U0BOT000001", is_bot=True)
        seed_member(s, "U0GONE00001", deleted=True)
        s.add(OptOut(team_id=TEAM, user_id=CAROL))
        ids = {
            "w1": seed_win(s, owners=[BOB], created_at=at("2026-03-10 09:00"), minutes=60, tool="ChatGPT",
                           reinvested="customers"),
            # Monday 00:30 in Paris, still Sunday in UTC: last week, for bob as for everyone.
            "w2": seed_win(s, owners=[BOB, ALICE], author=CAROL, created_at=at("2026-03-08 23:30"),
                           minutes=120, tool="Claude"),
            "w3": seed_win(s, owners=[BOB], created_at=at("2026-03-05 10:00"), minutes=30, tool="ChatGPT",
                           reinvested="learning"),
            # March 1st in Paris, a Saturday in UTC: the week of Thursday 26 February, so February's.
            "w4": seed_win(s, owners=[BOB], created_at=at("2026-02-28 23:30"), minutes=45),
            "w5": seed_win(s, owners=[BOB], created_at=at("2026-02-20 10:00"), minutes=90, tool="Copilot",
                           reinvested="rest"),
            "w6": seed_win(s, owners=[ALICE], created_at=at("2026-03-11 08:00"), tool="ChatGPT"),
            "w7": seed_win(s, owners=[DAVE], created_at=at("2026-01-01 10:00"), minutes=600),
            "w8": seed_win(s, owners=[CAROL], created_at=at("2026-03-10 10:00"), minutes=50, tool="Gemini"),
        }
        for author, leader, when in ((ALICE, True, "2026-03-03 10:00"), (CAROL, True, "2026-03-04 10:00"),
                                     (DAVE, False, "2026-03-04 10:00"), (DAVE, True, "2026-02-20 10:00")):
            s.add(Narrative(team_id=TEAM, author_id=author, text="how I used AI", is_leader=leader,
                            created_at=at(when)))
            rollups.narrative_added(s, TEAM, author, at(when))
    with db.session(OTHER_TEAM) as s:  # another workspace, same people ids: must never count
        s.add(Workspace(team_id=OTHER_TEAM))
        seed_member(s, "U0STRANGER1", team=OTHER_TEAM)
        seed_win(s, owners=[BOB], team=OTHER_TEAM, created_at=at("2026-03-10 10:00"), minutes=999,
                 tool="ChatGPT", reinvested="customers")
        s.add(Narrative(team_id=OTHER_TEAM, author_id="U0STRANGER1", text="x", is_leader=True,
                        created_at=at("2026-03-05 10:00")))
    return ids


def test_weeks_and_months_are_utc_weeks():
    assert figures.week_of(NOW) == at("2026-03-09 00:00").date()
    assert figures.week_of(at("2026-03-08 23:59")) == at("2026-03-02 00:00").date()  # Sunday in UTC
    # A month is the weeks whose Thursday falls in it: March 2026 starts on Monday 2 March (Thursday the 5th)
    # and ends with the week of Monday 30 March (Thursday 2 April is April's).
    assert figures.month_weeks("2026-03") == Weeks(at("2026-03-02 00:00").date(), at("2026-03-23 00:00").date())
    assert figures.month_of(at("2026-03-30 00:00").date()) == "2026-04"
    assert figures.this_month(NOW) == Weeks(at("2026-03-02 00:00").date(), at("2026-03-09 00:00").date())
    assert figures.last_weeks(NOW, 4) == Weeks(at("2026-02-16 00:00").date(), at("2026-03-09 00:00").date())
    # 2026 has an ISO week 53; the year's last week is December's (its Thursday is 31 December).
    assert figures.month_weeks("2026-12").last == at("2026-12-28 00:00").date()
    assert figures.month_weeks("2027-01").first == at("2027-01-04 00:00").date()


def test_stats_match_hand_computed_figures(db, world):
    with db.read(TEAM) as s:
        report = stats_report(s, TEAM, BOB, now=NOW)
    me = report.personal
    # bob owns w1 (this week), w2 and w3 (March's first week), w4 (February's last) and w5.
    assert (me.wins, me.wins_week, me.wins_month) == (5, 1, 3)
    assert (me.minutes, me.minutes_week, me.minutes_month) == (345, 60, 210)
    assert me.split.minutes == {"customers": 60, NOT_SAID: 165, "learning": 30, "rest": 90}

    week, month = report.week, report.month
    assert week.period == Weeks(at("2026-03-09 00:00").date(), at("2026-03-09 00:00").date())
    # w1, w6 and w8 (carol opted out: counted, never named); not the other workspace's.
    assert (week.wins, week.people, week.minutes) == (3, 3, 110)
    assert week.top_tools == (("ChatGPT", 2), ("Gemini", 1))
    assert week.split.minutes == {"customers": 60, NOT_SAID: 50}
    # March so far: w1, w2, w3, w6, w8; active: bob, alice, carol and dave (a narrative on 4 March).
    assert (month.wins, month.people, month.minutes) == (5, 4, 260)
    assert month.top_tools == (("ChatGPT", 3), ("Claude", 1), ("Gemini", 1))
    # Members: bob, alice, carol, dave (never the bot or the deleted account), all active in the last 4 weeks,
    # none in the 4 before.
    assert (report.coverage.now.count, report.coverage.now.of, report.coverage.before.count) == (4, 4, 0)
    assert not report.opted_out

    with db.read(TEAM) as s:
        carol = stats_report(s, TEAM, CAROL, now=NOW)
    assert carol.opted_out and (carol.personal.wins, carol.personal.minutes) == (1, 50)


def test_home_data_matches_the_same_figures(db, world):
    with db.read(TEAM) as s:
        data = build_home(s, TEAM, BOB, False, now=NOW)
        report = stats_report(s, TEAM, BOB, now=NOW)
    assert [w.period.first.isoformat() for w in data.weeks] == [
        "2026-02-09", "2026-02-16", "2026-02-23", "2026-03-02", "2026-03-09"]
    assert [w.wins for w in data.weeks] == [0, 1, 1, 2, 3]
    assert [w.minutes for w in data.weeks] == [0, 90, 45, 150, 110]
    assert data.weeks[-1] == report.week and data.coverage == report.coverage and data.personal == report.personal
    assert data.trend.split.minutes == {"rest": 90, NOT_SAID: 215, "learning": 30, "customers": 60}
    assert data.trend.top_tools[0] == ("ChatGPT", 3)
    assert data.leaders == (ALICE,)  # carol opted out, dave is no manager, February is last month
    assert [w.id for w in data.recent_wins] == [world[k] for k in ("w1", "w2", "w3", "w4", "w5")]
    assert data.settings is None
    assert data.personal.minutes == 345


def members(db):
    with db.read(TEAM) as s:
        return s.scalars(select(Member.user_id).order_by(Member.user_id)).all()


def test_stats_command_end_to_end(slack, fake_slack, db):
    for text in ("drafted the memo with ChatGPT, saved 2h", "triaged bugs with Claude, saved 30m"):
        assert slack.command("/aiwin", text, user_id=BOB).status == 200
    slack.command("/aiwin", "<@U02ABCDEF|alice> wrote tests with Copilot, saved 1h", user_id=CAROL)
    settled(db, TEAM)  # recorded by the job worker a moment after each ack
    with db.session(OTHER_TEAM) as s:
        seed_win(s, owners=[BOB], team=OTHER_TEAM, created_at=datetime.now(UTC), minutes=999, tool="Gemini")

    r = slack.command("/aiwin", "stats", user_id=BOB)  # answered in the ack, from the database
    assert r.status == 200 and r.json()["response_type"] == "ephemeral"
    text = all_text(r.json())
    assert "*2 wins* in all" in text and "*2 h 30 min* all time" in text
    assert "3 wins ·" in text and "· 3 h 30 min saved" in text
    assert "ChatGPT (1)" in text and "Gemini" not in text  # nothing from the other workspace

    # After the ack, the member list is copied from users.list (at most daily) for coverage: bob, alice,
    # carol and dave are members (the bot is not); bob and carol recorded wins and alice received one.
    wait_until(lambda: len(members(db)) == 5, message="users.list stored")
    text = all_text(slack.command("/aiwin", "stats", user_id=BOB).json())
    assert "3 wins · 3 people active · 3 h 30 min saved" in text  # this week, and this month (same wins)
    assert "*75%* of members (3 of 4) were active in the last 4 weeks" in text
    assert len(fake_slack.calls("users.list")) == 1


def test_stats_answer_even_when_slack_is_down(slack, fake_slack, db):
    fake_slack.fail("users.list", status=500, times=None)
    fake_slack.fail("users.info", status=500, times=None)
    slack.command("/aiwin", "saved 1h with Claude", user_id=BOB)
    settled(db, TEAM)
    r = slack.command("/aiwin", "stats", user_id=BOB, response_url=fake_slack.webhook_url("stats"))
    text = all_text(r.json())
    assert "*1 win* in all" in text and "not known yet" in text
    fake_slack.wait_for_calls("users.info")
    assert fake_slack.calls("response_url") == []  # nothing more to say, and no error shown


# -- reinvesting time gains ---------------------------------------------------------------------------------


def asks(db):
    with db.read() as s:
        return s.scalars(select(Job).where(Job.kind == "reinvest_ask").order_by(Job.id)).all()


def test_reinvest_question_is_sent_once_and_the_answer_recorded(server, slack, fake_slack, db):
    created = datetime.now(UTC) - timedelta(days=4)
    with db.session(TEAM) as s:
        s.add(Workspace(team_id=TEAM))
        s.add(OptOut(team_id=TEAM, user_id=CAROL))
        due = seed_win(s, owners=[BOB, ALICE], author=DAVE, created_at=created, minutes=90,
                       text="wrote the FAQ")
        carols = seed_win(s, owners=[CAROL], created_at=created, minutes=30)
        told = seed_win(s, owners=[BOB], created_at=created, minutes=30, reinvested="rest")
        no_time = seed_win(s, owners=[BOB], created_at=created)
        too_old = seed_win(s, owners=[BOB], created_at=created - timedelta(days=5), minutes=30)
        too_new = seed_win(s, owners=[BOB], created_at=datetime.now(UTC) - timedelta(days=1), minutes=30)
    with db.session(OTHER_TEAM) as s:
        s.add(Workspace(team_id=OTHER_TEAM))
        other = seed_win(s, owners=[BOB], team=OTHER_TEAM, created_at=created, minutes=30)

    from bot.jobs.reinvest import reinvest_asks

    assert reinvest_asks(server.runtime) == 3  # bob and alice for the FAQ; bob in the other workspace
    assert reinvest_asks(server.runtime) == 0  # asked once
    assert reinvest_asks(server.runtime, now=datetime.now(UTC) + timedelta(days=2, minutes=1)) == 1  # too_new
    by_win = {(j.team_id, j.payload["win_id"], j.payload["user_id"]) for j in asks(db)}
    assert by_win == {(TEAM, due, BOB), (TEAM, due, ALICE), (OTHER_TEAM, other, BOB), (TEAM, too_new, BOB)}
    with db.read(TEAM) as s:
        asked = dict(s.execute(select(Win.id, Win.reinvest_asked_at)).all())
    assert asked[due] and asked[carols]  # carol opted out: marked, never asked
    assert not asked[told] and not asked[no_time] and not asked[too_old]

    [dm] = fake_slack.wait_for("chat.postMessage", channel=ALICE)
    assert "wrote the FAQ" in all_text(dm.params["blocks"]) and "1 h 30 min" in all_text(dm.params["blocks"])
    buttons = [e for b in dm.params["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [b["value"] for b in buttons][:2] == [f"{due}:customers", f"{due}:strategy"]
    assert len(buttons) == 7

    # Someone who does not own the win cannot answer for it.
    action = {"action_id": "reinvest_pick_rest", "block_id": f"reinvest:{due}", "type": "button",
              "value": f"{due}:rest"}
    slack.block_action(CAROL, action, channel_id="D0CAROL", response_url=fake_slack.webhook_url("carol"))
    [refusal] = wait_until(lambda: [c for c in fake_slack.calls("response_url") if c.path.endswith("/carol")])
    assert "Only the people this win belongs to" in all_text(refusal.params)

    action = dict(action, action_id="reinvest_pick_customers", value=f"{due}:customers")
    r = slack.block_action(ALICE, action, channel_id=dm.response["channel"], message=dm.response["message"],
                           response_url=fake_slack.webhook_url("alice"))
    assert r.status == 200
    with db.read(TEAM) as s:
        assert s.get(Win, due).reinvested_in == "customers"  # recorded before the ack
    [thanks] = wait_until(lambda: [c for c in fake_slack.calls("response_url") if c.path.endswith("/alice")])
    assert thanks.params["replace_original"] is True and "went to *Customers*" in all_text(thanks.params)

    with db.read(TEAM) as s:
        report = stats_report(s, TEAM, ALICE)
    assert report.personal.split.minutes.get("customers") == 90


def test_answer_for_a_deleted_win_changes_nothing(slack, fake_slack, db):
    action = {"action_id": "reinvest_pick_rest", "block_id": "reinvest:999", "type": "button",
              "value": "999:rest"}
    r = slack.block_action(BOB, action, channel_id="D0BOB", response_url=fake_slack.webhook_url("gone"))
    assert r.status == 200
    [reply] = wait_until(lambda: [c for c in fake_slack.calls("response_url") if c.path.endswith("/gone")])
    assert "deleted" in all_text(reply.params)
    forged = dict(action, value="oops")
    r = slack.block_action(BOB, forged, channel_id="D0BOB", response_url=fake_slack.webhook_url("x"))
    assert r.status == 200
    assert wins(db, TEAM) == []


COVERAGE_NOWS = (datetime(2026, 3, 11, 12, 0, tzinfo=UTC), datetime(2026, 3, 16, 0, 0, tzinfo=UTC),
                 datetime(2026, 3, 15, 23, 59, 59, 999999, tzinfo=UTC), datetime(2026, 3, 22, 23, 59, tzinfo=UTC))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_coverage_equals_the_direct_count_at_any_instant(db, data):
    """Coverage over the last 4 weeks reads one mask per person: whatever the instant (a Monday's first
    microsecond, a Sunday's last) and wherever the activity falls around the weeks' edges, it equals counting
    the members active (a win recorded or received, a narrative) in those UTC weeks, and the same before."""
    import uuid

    now = data.draw(st.sampled_from(COVERAGE_NOWS))
    team = "T" + uuid.uuid4().hex[:10].upper()
    people = [f"U0COV{i:05d}" for i in range(6)]
    offsets = st.one_of(st.integers(-60 * 86400, 0), st.sampled_from((-28 * 86400, -28 * 86400 - 1, 0, -1)))
    acts = data.draw(st.lists(st.tuples(st.sampled_from(people), offsets, st.booleans()), max_size=10))
    with db.session(team) as s:
        s.add(Workspace(team_id=team, members_synced_at=now))
        for u in people[:5]:  # the sixth is no member (a guest): active, never counted
            s.add(Member(team_id=team, user_id=u, name=u.lower(), fetched_at=now, is_guest=False))
        s.add(Member(team_id=team, user_id=people[5], name="guest", fetched_at=now, is_guest=True))
        for u, seconds, narrative in acts:
            when = now + timedelta(seconds=seconds)
            if narrative:
                s.add(Narrative(team_id=team, author_id=u, text="how", created_at=when))
                rollups.narrative_added(s, team, u, when)
            else:
                seed_win(s, owners=[u], created_at=when, team=team)
    period = figures.last_weeks(now, 4)
    with db.read(team) as s:
        got = figures.coverage(s, team, period)

    def direct(weeks: Weeks) -> int:
        return len({u for u, sec, _ in acts if u in people[:5]
                    and weeks.start <= now + timedelta(seconds=sec) < weeks.end})

    assert (got.now.of, got.now.count, got.before.count) == (5, direct(period), direct(period.before()))
