"""Roll-ups stay equal to a from-scratch computation after any sequence of writes (hypothesis state
machine through the real services), on SQLite and PostgreSQL; the operator's rebuild command."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import select

from bot.cli import main as cli_main
from bot.models import ActivityPerson, ActivityWeek, Workspace
from bot.services import narratives, privacy, reinvest, rollups, wins
from bot.services.workspaces import ensure_workspace
from tests.helpers import UNLIMITED

pytestmark = pytest.mark.dates  # .ci/run runs these again with the clock moved ahead

PEOPLE = ("U0000000A", "U0000000B", "U0000000C", "U0000000D")
DESTINATIONS = (None, "customers", "learning", "rest")
TOOLS = (None, "Claude", "ChatGPT")
# Instants around the edges that matter: the UTC week boundary, daylight-saving changes in the US
# and Europe (a local Monday that is still Sunday in UTC and the reverse), the ISO year boundary.
INSTANTS = (
    datetime(2026, 3, 8, 6, 59, 59, 999999, tzinfo=UTC),  # US DST starts (Sunday), still Sunday UTC
    datetime(2026, 3, 9, 0, 0, tzinfo=UTC),  # Monday 00:00 UTC
    datetime(2026, 3, 29, 23, 30, tzinfo=UTC),  # EU DST Sunday; already Monday in Berlin
    datetime(2026, 11, 1, 7, 0, tzinfo=UTC),  # US DST ends
    datetime(2026, 11, 29, 23, 59, 59, tzinfo=UTC),  # last second of a UTC ISO week
    datetime(2026, 12, 31, 12, 0, tzinfo=UTC),  # ISO week 2026-W53
    datetime(2027, 1, 4, 0, 0, 1, tzinfo=UTC),  # 2027-W01
    datetime(2025, 1, 6, 9, 0, tzinfo=UTC),  # 61 weeks before March 2026, 104 before 2027-W01: the mask's edge
)


def expected(wins_: dict[int, dict], narrative_times: list[tuple[str, datetime]]):
    """The roll-ups written out plainly from the model's own record of what exists."""
    weeks: dict = {}
    dests: dict = {}
    tools: dict = {}

    def add(table, key, col, n):
        if n:
            table.setdefault(key, {}).setdefault(col, 0)
            table[key][col] += n

    def monday(at: datetime) -> date:
        d = at.astimezone(UTC).date()
        return d - timedelta(days=d.weekday())

    for w in wins_.values():
        wk, mins = monday(w["at"]), w["minutes"] or 0
        told = mins if w["dest"] else 0
        if w["tool"]:
            add(tools, (wk, w["tool"]), "wins", 1)
        add(weeks, (w["author"], wk), "wins_recorded", 1)
        add(weeks, (w["author"], wk), "minutes_recorded", mins)
        add(weeks, (w["author"], wk), "minutes_recorded_told", told)
        if told:
            add(dests, (w["author"], wk, w["dest"]), "minutes_recorded", told)
        for o in w["owners"]:
            add(weeks, (o, wk), "wins_owned", 1)
            add(weeks, (o, wk), "shoutouts", int(o != w["author"]))
            add(weeks, (o, wk), "minutes_owned", mins)
            add(weeks, (o, wk), "minutes_owned_told", told)
            if told:
                add(dests, (o, wk, w["dest"]), "minutes_owned", told)
    for author, at in narrative_times:
        add(weeks, (author, monday(at)), "narratives", 1)
    active: dict = {}
    for u, wk in weeks:
        active.setdefault(u, set()).add(wk)
    people = {}
    for u, wks in active.items():  # recent: bit i ⇔ active i weeks before the last active week, i < 62
        last = max(wks)
        people[u] = (min(wks), last, sum(1 << (last - w).days // 7 for w in wks if (last - w).days < 62 * 7))
    return weeks, dests, tools, people


def stored_people(session, team):
    return {r.user_id: (r.first_week, r.last_week, r.recent)
            for r in session.execute(select(ActivityPerson.user_id, ActivityPerson.first_week,
                                            ActivityPerson.last_week, ActivityPerson.recent)
                                     .where(ActivityPerson.team_id == team))}


class RollupMachine(RuleBasedStateMachine):
    def __init__(self, db) -> None:  # noqa: ANN001
        super().__init__()
        self.db = db
        self.team = "T" + uuid.uuid4().hex[:10].upper()  # a fresh workspace per example
        self.wins: dict[int, dict] = {}
        self.narratives: list[tuple[str, datetime]] = []
        with db.session(self.team) as s:
            ensure_workspace(s, self.team, None)

    @rule(author=st.sampled_from(PEOPLE), recipients=st.lists(st.sampled_from(PEOPLE), max_size=3),
          minutes=st.one_of(st.none(), st.integers(1, 600)), dest=st.sampled_from(DESTINATIONS),
          at=st.sampled_from(INSTANTS), tool=st.sampled_from(TOOLS))
    def record(self, author, recipients, minutes, dest, at, tool) -> None:  # noqa: ANN001
        with time_machine.travel(at, tick=False), self.db.session(self.team) as s:
            r = wins.record_win(s, wins.NewWin(team_id=self.team, enterprise_id=None, author_id=author, channel_id=None,
                                text="did a thing", text_format="plain", recipients=tuple(recipients),
                                minutes_saved=minutes, reinvested_in=dest, tool=tool, post=False), limits=UNLIMITED)
        self.wins[r.win.id] = {"author": author, "owners": r.win.owner_ids, "minutes": r.win.minutes_saved,
                               "dest": dest, "at": r.win.created_at, "tool": tool}

    @rule(data=st.data(), recipients=st.lists(st.sampled_from(PEOPLE), max_size=3),
          minutes=st.one_of(st.none(), st.integers(1, 600)), dest=st.sampled_from(DESTINATIONS),
          tool=st.sampled_from(TOOLS))
    def edit(self, data, recipients, minutes, dest, tool) -> None:  # noqa: ANN001
        if not self.wins:
            return
        win_id = data.draw(st.sampled_from(sorted(self.wins)))
        w = self.wins[win_id]
        with self.db.session(self.team) as s:
            view = wins.update_win(s, win_id, w["author"], text="edited", recipients=tuple(recipients), tool=tool,
                                   minutes_saved=minutes, how=None, reinvested_in=dest)
        assert view is not None
        w.update(owners=view.owner_ids, minutes=minutes, dest=dest, tool=tool)

    @rule(data=st.data(), choice=st.sampled_from(("customers", "strategy")))
    def answer_reinvest(self, data, choice) -> None:  # noqa: ANN001
        if not self.wins:
            return
        win_id = data.draw(st.sampled_from(sorted(self.wins)))
        w = self.wins[win_id]
        with self.db.session(self.team) as s:
            assert reinvest.record_answer(s, self.team, win_id, w["owners"][0], choice).status == "ok"
        w["dest"] = choice

    @rule(data=st.data())
    def delete(self, data) -> None:  # noqa: ANN001
        if not self.wins:
            return
        win_id = data.draw(st.sampled_from(sorted(self.wins)))
        with self.db.session(self.team) as s:
            assert privacy.delete_win(s, self.team, win_id, "UADMIN", is_admin=True).status == "deleted"
        del self.wins[win_id]

    @rule(author=st.sampled_from(PEOPLE), at=st.sampled_from(INSTANTS))
    def narrate(self, author, at) -> None:  # noqa: ANN001
        with time_machine.travel(at, tick=False), self.db.session(self.team) as s:
            narratives.record_narrative(s, team_id=self.team, enterprise_id=None, author_id=author,
                                        text="how I use it", text_format="plain", limits=UNLIMITED)
        self.narratives.append((author, at))

    @rule(user=st.sampled_from(PEOPLE), out=st.booleans())
    def opt(self, user, out) -> None:  # noqa: ANN001
        with self.db.session(self.team) as s:
            privacy.opt_out(s, self.team, user, out)

    @invariant()
    def rollups_equal_a_fresh_computation(self) -> None:
        weeks, dests, tools, people = expected(self.wins, self.narratives)
        with self.db.read(self.team) as s:
            assert rollups.stored(s, self.team) == (weeks, dests, tools)
            assert rollups.compute(s, self.team) == (weeks, dests, tools)
            assert stored_people(s, self.team) == people

    def teardown(self) -> None:
        """The operator's rebuild (in SQL) arrives at the same roll-ups from scratch."""
        weeks, dests, tools, people = expected(self.wins, self.narratives)
        with self.db.session(self.team) as s:
            rollups.rebuild(s, self.team)
        with self.db.read(self.team) as s:
            assert rollups.stored(s, self.team) == (weeks, dests, tools)
            assert stored_people(s, self.team) == people


def test_rollups_match_a_fresh_computation_after_any_sequence(db):
    run_state_machine_as_test(
        lambda: RollupMachine(db),
        settings=settings(max_examples=30, stateful_step_count=15, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]),
    )


def test_week_of_is_the_utc_monday():
    assert rollups.week_of(datetime(2026, 11, 29, 23, 59, 59, tzinfo=UTC)) == date(2026, 11, 23)
    assert rollups.week_of(datetime(2026, 11, 30, 0, 0, tzinfo=UTC)) == date(2026, 11, 30)
    # 00:30 Monday in Berlin is still Sunday in UTC: the week is UTC's.
    from zoneinfo import ZoneInfo
    berlin = datetime(2026, 11, 30, 0, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    assert rollups.week_of(berlin) == date(2026, 11, 23)


def test_rebuild_command_restores_damaged_rollups(db, db_url, monkeypatch, capsys):
    team = "TREBUILD001"
    with db.session(team) as s:
        ensure_workspace(s, team, None)
        for i in range(3):
            wins.record_win(s, wins.NewWin(team_id=team, enterprise_id=None, author_id=PEOPLE[i], channel_id=None,
                            text="x", text_format="plain", recipients=(PEOPLE[3],), minutes_saved=30,
                            reinvested_in="learning", post=False), limits=UNLIMITED)
    with db.read(team) as s:
        good = rollups.stored(s, team)
    with db.session(team) as s:  # damage: an operator restored wins from a backup without roll-ups
        s.execute(ActivityWeek.__table__.delete())
    with db.read(team) as s:
        assert rollups.stored(s, team) != good
    monkeypatch.setenv("DATABASE_URL", db_url)
    assert cli_main(["rollups", "rebuild", "--team", team]) == 0
    assert f"{team}: rebuilt 4 person-weeks" in capsys.readouterr().out
    with db.read(team) as s:
        assert rollups.stored(s, team) == good
        assert stored_people(s, team) == {u: (good_week, good_week, 1) for u in PEOPLE
                                          for good_week in [next(iter(good[0]))[1]]}
    assert cli_main(["rollups", "rebuild", "--team", "TNOSUCH0001"]) == 2


# -- the team figures from the roll-ups -----------------------------------------------------------------------

NOWS = (datetime(2026, 3, 11, 12, 0, tzinfo=UTC), datetime(2026, 11, 30, 3, 0, tzinfo=UTC),
        datetime(2027, 1, 5, 1, 0, tzinfo=UTC))
FIGURE_TOOLS = (None, "Claude", "ChatGPT", "chatgpt", " CHATGPT ")


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_team_figures_from_rollups_equal_the_direct_count(db, data):
    """Wins and narratives around UTC week and month boundaries, tools spelled in any case, a guest, people
    who opted out: the figures App Home, `/aiwin stats` and the digest read from the roll-ups (each of the
    last 5 weeks, the 5 together, this month) equal the figures counted from the wins themselves."""
    from bot.models import Member, Narrative, Win, WinOwner
    from bot.services import figures
    from bot.services import people as people_service
    from bot.services.figures import NOT_SAID, Weeks

    team = "T" + uuid.uuid4().hex[:10].upper()
    now = data.draw(st.sampled_from(NOWS))
    offsets = st.integers(-6 * 86400, 50 * 86400)
    guest = PEOPLE[3]  # active, but no member: never among the people
    with db.session(team) as s:
        ensure_workspace(s, team, None)
        s.get(Workspace, team).members_synced_at = now  # the member list, copied whole
        for u in PEOPLE:
            s.add(Member(team_id=team, user_id=u, name=u.lower(), is_guest=u == guest, fetched_at=now))
    for _ in range(data.draw(st.integers(1, 12))):
        at = now - timedelta(seconds=data.draw(offsets))
        author = data.draw(st.sampled_from(PEOPLE))
        with time_machine.travel(at, tick=False), db.session(team) as s:
            if data.draw(st.booleans()):
                wins.record_win(s, wins.NewWin(team_id=team, enterprise_id=None, author_id=author, channel_id=None,
                                               text="x", text_format="plain",
                                recipients=tuple(data.draw(st.lists(st.sampled_from(PEOPLE), max_size=2))),
                                minutes_saved=data.draw(st.one_of(st.none(), st.integers(1, 300))),
                                reinvested_in=data.draw(st.sampled_from(DESTINATIONS)),
                                tool=data.draw(st.sampled_from(FIGURE_TOOLS)), post=False), limits=UNLIMITED)
            else:
                narratives.record_narrative(s, team_id=team, enterprise_id=None, author_id=author,
                                            text="how I used AI", limits=UNLIMITED)
    with db.session(team) as s:
        for u in data.draw(st.lists(st.sampled_from(PEOPLE), max_size=2)):
            people_service.set_opt_out(s, team, u, True)

    trend = figures.last_weeks(now, 5)
    periods = [Weeks(w, w) for w in trend.mondays()] + [trend, figures.this_month(now)]
    with db.read(team) as s:
        got = figures.totals(s, team, periods)
        rows = s.execute(select(Win.id, Win.author_id, Win.minutes_saved, Win.reinvested_in, Win.tool,
                                Win.created_at).where(Win.team_id == team)).all()
        owners = s.execute(select(WinOwner.win_id, WinOwner.user_id).where(WinOwner.team_id == team)).all()
        stories = s.execute(select(Narrative.author_id, Narrative.created_at).where(Narrative.team_id == team)).all()
    for period, total in zip(periods, got, strict=True):
        def within(at: datetime, period: Weeks = period) -> bool:
            return period.start <= at.replace(tzinfo=UTC) < period.end  # SQLite hands back naive UTC

        mine = [r for r in rows if within(r.created_at)]
        split: dict[str, int] = {}
        for r in mine:
            if r.minutes_saved:
                key = r.reinvested_in or NOT_SAID
                split[key] = split.get(key, 0) + r.minutes_saved
        spellings: dict[str, dict[str, int]] = {}
        for r in mine:
            if (r.tool or "").strip():
                named = spellings.setdefault(r.tool.strip().lower(), {})
                named[r.tool.strip()] = named.get(r.tool.strip(), 0) + 1
        tools = {min(n, key=lambda t, n=n: (-n[t], t)): sum(n.values()) for n in spellings.values()}
        ids = {r.id for r in mine}
        active = ({r.author_id for r in mine} | {u for w, u in owners if w in ids}
                  | {a for a, at in stories if within(at)})
        assert (total.wins, total.minutes, total.split.minutes, total.tools, total.people) == (
            len(mine), sum(r.minutes_saved or 0 for r in mine), split, tools, len(active - {guest})), period


def test_dropping_a_bot_from_the_owners_keeps_the_rollups_exact(db):
    """The humans-only check (bot/services/owners.py) changes who received a shout-out after the ack."""
    from bot.services.owners import drop_owners

    team = f"T{uuid.uuid4().hex[:10].upper()}"
    with db.session(team) as s:
        new = wins.NewWin(team_id=team, enterprise_id=None, author_id="U0AUTHOR01", channel_id="C0ROLL0001",
                          text="<@U0ABOT0001> and <@U0PERSON01> drafted the memo, saved 1h", post=False)
        win_id = wins.record_win(s, new, limits=UNLIMITED).win.id
    with db.session(team) as s:
        assert set(drop_owners(s, win_id, ("U0ABOT0001",))) == {"U0PERSON01"}
    with db.read(team) as s:
        assert rollups.stored(s, team) == rollups.compute(s, team)


def test_migration_0010_fills_each_persons_mask_from_their_weekly_rows(db_url):
    """A database with roll-ups from before revision 0010 gets the same masks as the services keep."""
    import sqlalchemy as sa
    from alembic import command

    from bot.db import Database
    from bot.migrate import alembic_config

    command.downgrade(alembic_config(db_url), "0009_search_perf")
    try:
        last = date(2026, 11, 23)
        history = {"U0MIGR0001": [0, 1, 3, 61], "U0MIGR0002": [5, 62, 200], "U0MIGR0003": [0]}
        people = sa.table("activity_people", sa.column("team_id"), sa.column("user_id"), sa.column("first_week"),
                          sa.column("last_week"))
        db = Database(db_url, pool_size=1)
        with db.engine.begin() as conn:
            for team in ("TMIGR00001", "TMIGR00002"):
                for u, offsets in history.items():
                    weeks = [last - timedelta(weeks=o) for o in offsets]
                    conn.execute(ActivityWeek.__table__.insert(), [
                        {"team_id": team, "user_id": u, "week": w, "wins_recorded": 1,
                         **{c: 0 for c in rollups.WEEK_COLUMNS if c != "wins_recorded"}} for w in weeks])
                    conn.execute(people.insert().values(team_id=team, user_id=u, first_week=min(weeks),
                                                        last_week=max(weeks)))
        db.dispose()
    finally:
        command.upgrade(alembic_config(db_url), "head")
    db = Database(db_url, pool_size=1)
    with db.read("TMIGR00002") as s:
        got = {u: m for u, m in s.execute(select(ActivityPerson.user_id, ActivityPerson.recent)
                                          .where(ActivityPerson.team_id == "TMIGR00002"))}
    db.dispose()
    assert got == {"U0MIGR0001": 0b1011 | 1 << 61, "U0MIGR0002": 1 | 1 << 57, "U0MIGR0003": 1}
