"""Per-person per-week activity roll-ups, kept exact in the same transaction as every write.

What a win adds to its UTC ISO week (bot/models/rollup.py):
* its author: wins_recorded +1, minutes_recorded (+ _told when it has a destination);
* each owner: wins_owned +1, shoutouts +1 when the owner is not the author, minutes_owned (+ _told);
* per destination: minutes_owned for each owner, minutes_recorded for the author.
A narrative adds narratives +1 to its author. An edit applies (new contribution − old
contribution); a delete applies −old. Rows that fall to zero are deleted, and each touched
person's first/last active week is kept in `activity_people`.

Opting out changes nothing here: opted-out people are counted in totals and never named, and
the views that name people filter them out when they read.

`rebuild` recomputes a workspace from the wins and narratives themselves (`aiwins rollups rebuild`)."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Integer, and_, case, cast, delete, func, literal, select, tuple_, union_all
from sqlalchemy.orm import Session

from bot.models import ActivityPerson, ActivityWeek, ActivityWeekDestination, ActivityWeekTool, Narrative, Win, WinOwner
from bot.models.upsert import upsert

WEEK_COLUMNS = ("wins_recorded", "wins_owned", "shoutouts", "narratives", "minutes_owned", "minutes_owned_told",
                "minutes_recorded", "minutes_recorded_told")
DEST_COLUMNS = ("minutes_owned", "minutes_recorded")

Deltas = dict[tuple, dict[str, int]]
RECENT_WEEKS = 62  # activity_people.recent covers the last 62 weeks of each person's activity
RECENT_MASK = (1 << RECENT_WEEKS) - 1


def week_of(at: datetime) -> date:
    """Monday of the UTC ISO week `at` falls in."""
    day = at.astimezone(UTC).date()
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class WinFacts:
    """What of a win the roll-ups depend on."""

    author_id: str
    owner_ids: tuple[str, ...]
    minutes: int
    destination: str | None
    created_at: datetime
    tool: str | None = None


def facts(author_id: str, owner_ids: Iterable[str], minutes: int | None, destination: str | None,
          created_at: datetime, tool: str | None = None) -> WinFacts:
    owners = tuple(dict.fromkeys(owner_ids)) or (author_id,)
    return WinFacts(author_id, owners, int(minutes or 0), destination or None, created_at, tool or None)


def facts_of(win: Win) -> WinFacts:
    return facts(win.author_id, win.owner_ids, win.minutes_saved, win.reinvested_in, win.created_at, win.tool)


def _add(target: Deltas, key: tuple, column: str, value: int) -> None:
    if value:
        row = target.setdefault(key, {})
        row[column] = row.get(column, 0) + value


def _win_deltas(f: WinFacts, sign: int, weeks: Deltas, dests: Deltas, tools: Deltas) -> None:
    w = week_of(f.created_at)
    if f.tool:
        _add(tools, (w, f.tool), "wins", sign)
    told = f.minutes if f.destination else 0
    a = (f.author_id, w)
    _add(weeks, a, "wins_recorded", sign)
    _add(weeks, a, "minutes_recorded", sign * f.minutes)
    _add(weeks, a, "minutes_recorded_told", sign * told)
    if told:
        _add(dests, (f.author_id, w, f.destination), "minutes_recorded", sign * told)
    for owner in f.owner_ids:
        o = (owner, w)
        _add(weeks, o, "wins_owned", sign)
        _add(weeks, o, "shoutouts", sign * (owner != f.author_id))
        _add(weeks, o, "minutes_owned", sign * f.minutes)
        _add(weeks, o, "minutes_owned_told", sign * told)
        if told:
            _add(dests, (owner, w, f.destination), "minutes_owned", sign * told)


def _net(deltas: Deltas) -> Deltas:
    return {k: v for k, v in ((k, {c: n for c, n in cols.items() if n}) for k, cols in deltas.items()) if v}


# -- applying changes -------------------------------------------------------------------------------------


def win_added(session: Session, team_id: str, f: WinFacts) -> None:
    win_changed(session, team_id, None, f)


def win_removed(session: Session, team_id: str, f: WinFacts) -> None:
    win_changed(session, team_id, f, None)


def win_changed(session: Session, team_id: str, before: WinFacts | None, after: WinFacts | None) -> None:
    """Apply (after − before) to the roll-ups, in the caller's transaction."""
    weeks: Deltas = {}
    dests: Deltas = {}
    tools: Deltas = {}
    if before is not None:
        _win_deltas(before, -1, weeks, dests, tools)
    if after is not None:
        _win_deltas(after, +1, weeks, dests, tools)
    _apply(session, team_id, _net(weeks), _net(dests), _net(tools))


def narrative_added(session: Session, team_id: str, author_id: str, created_at: datetime) -> None:
    _apply(session, team_id, {(author_id, week_of(created_at)): {"narratives": 1}}, {}, {})


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


# The upserts are built once per dialect: they run in the transaction of every win (the ack path),
# and building one costs more than executing it.
@functools.cache
def _upsert_stmt(dialect: str, model: type, keys: tuple[str, ...], columns: tuple[str, ...]) -> Any:
    table = model.__table__
    stmt = upsert(dialect, table)
    return stmt.on_conflict_do_update(index_elements=[table.c[k] for k in keys],
                                      set_={c: table.c[c] + stmt.excluded[c] for c in columns})


@functools.cache
def _person_stmt(dialect: str) -> Any:
    """Upsert of a person's first week, last week and `recent` mask (bit i ⇔ active in last_week − i
    weeks): when the new last week is later, the stored mask moves up by the difference first."""
    table = ActivityPerson.__table__
    stmt = upsert(dialect, table)
    new, old = stmt.excluded, table.c
    ahead = _weeks_apart(dialect, new.last_week, old.last_week)  # ≥ 0: the new week is the later one
    behind = _weeks_apart(dialect, old.last_week, new.last_week)
    recent = case(
        (ahead >= RECENT_WEEKS, new.recent),
        (ahead >= 0, ((old.recent.op("<<")(ahead)).op("&")(RECENT_MASK)).op("|")(new.recent)),
        (behind >= RECENT_WEEKS, old.recent),
        else_=old.recent.op("|")((new.recent.op("<<")(behind)).op("&")(RECENT_MASK)))
    return stmt.on_conflict_do_update(index_elements=[table.c.team_id, table.c.user_id], set_={
        "first_week": case((new.first_week < old.first_week, new.first_week), else_=old.first_week),
        "last_week": case((new.last_week > old.last_week, new.last_week), else_=old.last_week),
        "recent": recent,
    })


def _weeks_apart(dialect: str, later: Any, earlier: Any) -> Any:
    """Whole weeks from one Monday to another, in SQL (negative when `later` is earlier)."""
    if dialect == "postgresql":
        days = later - earlier  # date − date is an integer number of days
    else:
        days = cast(func.julianday(later) - func.julianday(earlier), Integer)
    return days // 7


def recent_mask(weeks: Iterable[date], last: date) -> int:
    """The `recent` mask of a set of active weeks whose latest is `last`."""
    mask = 0
    for w in weeks:
        i = (last - w).days // 7
        if 0 <= i < RECENT_WEEKS:
            mask |= 1 << i
    return mask


def _upsert(session: Session, model: type, keys: tuple[str, ...], columns: tuple[str, ...],
            rows: list[dict[str, Any]]) -> None:
    session.execute(_upsert_stmt(_dialect(session), model, keys, columns), rows)


def _apply(session: Session, team_id: str, weeks: Deltas, dests: Deltas, tools: Deltas) -> None:
    if tools:
        _upsert(session, ActivityWeekTool, ("team_id", "week", "tool"), ("wins",),
                [{"team_id": team_id, "week": w, "tool": t, "wins": d.get("wins", 0)} for (w, t), d in tools.items()])
        shrunk = [k for k, d in tools.items() if d.get("wins", 0) < 0]
        if shrunk:
            session.execute(delete(ActivityWeekTool).where(
                ActivityWeekTool.team_id == team_id, tuple_(ActivityWeekTool.week, ActivityWeekTool.tool).in_(shrunk),
                ActivityWeekTool.wins == 0).execution_options(synchronize_session=False))
    if weeks:
        _upsert(session, ActivityWeek, ("team_id", "user_id", "week"), WEEK_COLUMNS, [
            {"team_id": team_id, "user_id": u, "week": w, **{c: d.get(c, 0) for c in WEEK_COLUMNS}}
            for (u, w), d in weeks.items()])
    if dests:
        _upsert(session, ActivityWeekDestination, ("team_id", "user_id", "week", "destination"), DEST_COLUMNS, [
            {"team_id": team_id, "user_id": u, "week": w, "destination": dest, **{c: d.get(c, 0) for c in DEST_COLUMNS}}
            for (u, w, dest), d in dests.items()])
    shrunk_weeks = [k for k, d in weeks.items() if any(n < 0 for n in d.values())]
    shrunk_dests = [k for k, d in dests.items() if any(n < 0 for n in d.values())]
    if shrunk_dests:
        session.execute(delete(ActivityWeekDestination).where(
            ActivityWeekDestination.team_id == team_id,
            tuple_(ActivityWeekDestination.user_id, ActivityWeekDestination.week,
                   ActivityWeekDestination.destination).in_(shrunk_dests),
            ActivityWeekDestination.minutes_owned == 0, ActivityWeekDestination.minutes_recorded == 0,
        ).execution_options(synchronize_session=False))
    if shrunk_weeks:
        session.execute(delete(ActivityWeek).where(
            ActivityWeek.team_id == team_id,
            tuple_(ActivityWeek.user_id, ActivityWeek.week).in_(shrunk_weeks),
            ActivityWeek.wins_recorded == 0, ActivityWeek.wins_owned == 0, ActivityWeek.narratives == 0,
        ).execution_options(synchronize_session=False))
        # A week may have gone: recompute these people's first and last weeks (two index probes each).
        _recompute_people(session, team_id, {u for u, _ in shrunk_weeks})
    grown: dict[str, set[date]] = {}
    for (u, w), d in weeks.items():
        if any(n > 0 for n in d.values()) and not any(n < 0 for n in d.values()):
            grown.setdefault(u, set()).add(w)
    if grown:
        session.execute(_person_stmt(_dialect(session)), [_person_row(team_id, u, ws) for u, ws in grown.items()])


def _person_row(team_id: str, user_id: str, weeks: set[date]) -> dict[str, Any]:
    last = max(weeks)
    return {"team_id": team_id, "user_id": user_id, "first_week": min(weeks), "last_week": last,
            "recent": recent_mask(weeks, last)}


def _recompute_people(session: Session, team_id: str, user_ids: set[str]) -> None:
    """Set these people's rows from their weekly rows (after a week of theirs may have gone)."""
    weeks: dict[str, set[date]] = {}
    for u, w in session.execute(select(ActivityWeek.user_id, ActivityWeek.week)
                                .where(ActivityWeek.team_id == team_id, ActivityWeek.user_id.in_(user_ids))):
        weeks.setdefault(u, set()).add(as_date(w))
    gone = [u for u in user_ids if u not in weeks]
    if gone:
        session.execute(delete(ActivityPerson).where(ActivityPerson.team_id == team_id,
                                                     ActivityPerson.user_id.in_(gone))
                        .execution_options(synchronize_session=False))
    _store_people(session, team_id, weeks)


def _store_people(session: Session, team_id: str, weeks: dict[str, set[date]]) -> None:
    if not weeks:
        return
    table = ActivityPerson.__table__
    stmt = upsert(_dialect(session), table)
    stmt = stmt.on_conflict_do_update(index_elements=[table.c.team_id, table.c.user_id],
                                      set_={c: stmt.excluded[c] for c in ("first_week", "last_week", "recent")})
    session.execute(stmt, [_person_row(team_id, u, ws) for u, ws in weeks.items()])


def as_date(value: Any) -> date:
    """min()/max() of a DATE comes back as text on SQLite."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


# -- from scratch ------------------------------------------------------------------------------------------


def _week_sql(session: Session, column: Any) -> Any:
    """Monday (UTC) of a stored UTC timestamp, in SQL."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.date_trunc("week", func.timezone("UTC", column)))
    # SQLite stores naive UTC text: move to the coming Sunday (or stay), then back six days.
    return func.date(column, "weekday 0", "-6 days")


def compute(session: Session, team_id: str) -> tuple[Deltas, Deltas, Deltas]:
    """The roll-ups of a workspace computed from its wins and narratives (aggregated in SQL)."""
    weeks: Deltas = {}
    dests: Deltas = {}
    tools: Deltas = {}
    mins = func.coalesce(Win.minutes_saved, 0)
    told = case((Win.reinvested_in.is_not(None), mins), else_=0)
    wk = _week_sql(session, Win.created_at).label("wk")
    for user, w, n, m, t in session.execute(
            select(Win.author_id, wk, func.count(), func.sum(mins), func.sum(told))
            .where(Win.team_id == team_id).group_by(Win.author_id, wk)):
        key = (user, as_date(w))
        for col, value in (("wins_recorded", n), ("minutes_recorded", m), ("minutes_recorded_told", t)):
            _add(weeks, key, col, int(value or 0))
    for user, w, n, s, m, t in session.execute(
            select(WinOwner.user_id, wk, func.count(),
                   func.sum(case((WinOwner.user_id != Win.author_id, 1), else_=0)), func.sum(mins), func.sum(told))
            .select_from(WinOwner).join(Win, Win.id == WinOwner.win_id)
            .where(WinOwner.team_id == team_id).group_by(WinOwner.user_id, wk)):
        key = (user, as_date(w))
        for col, value in (("wins_owned", n), ("shoutouts", s), ("minutes_owned", m), ("minutes_owned_told", t)):
            _add(weeks, key, col, int(value or 0))
    told_only = and_(Win.team_id == team_id, Win.reinvested_in.is_not(None), mins > 0)
    for user, w, dest, m in session.execute(
            select(Win.author_id, wk, Win.reinvested_in, func.sum(mins)).where(told_only)
            .group_by(Win.author_id, wk, Win.reinvested_in)):
        _add(dests, (user, as_date(w), dest), "minutes_recorded", int(m or 0))
    for user, w, dest, m in session.execute(
            select(WinOwner.user_id, wk, Win.reinvested_in, func.sum(mins))
            .select_from(WinOwner).join(Win, Win.id == WinOwner.win_id).where(told_only)
            .group_by(WinOwner.user_id, wk, Win.reinvested_in)):
        _add(dests, (user, as_date(w), dest), "minutes_owned", int(m or 0))
    for w, tool, n in session.execute(select(wk, Win.tool, func.count())
                                      .where(Win.team_id == team_id, Win.tool.is_not(None), Win.tool != "")
                                      .group_by(wk, Win.tool)):
        _add(tools, (as_date(w), tool), "wins", int(n))
    nwk = _week_sql(session, Narrative.created_at).label("wk")
    for user, w, n in session.execute(select(Narrative.author_id, nwk, func.count())
                                      .where(Narrative.team_id == team_id).group_by(Narrative.author_id, nwk)):
        _add(weeks, (user, as_date(w)), "narratives", int(n))
    return weeks, dests, tools


def stored(session: Session, team_id: str) -> tuple[Deltas, Deltas, Deltas]:
    """The roll-ups as stored (zero columns left out), comparable with `compute`."""
    weeks = {(r.user_id, r.week): {c: getattr(r, c) for c in WEEK_COLUMNS if getattr(r, c)}
             for r in session.execute(select(ActivityWeek.__table__).where(ActivityWeek.team_id == team_id))}
    dests = {(r.user_id, r.week, r.destination): {c: getattr(r, c) for c in DEST_COLUMNS if getattr(r, c)}
             for r in session.execute(select(ActivityWeekDestination.__table__)
                                      .where(ActivityWeekDestination.team_id == team_id))}
    tools = {(r.week, r.tool): {"wins": r.wins} for r in session.execute(
        select(ActivityWeekTool.__table__).where(ActivityWeekTool.team_id == team_id)) if r.wins}
    return weeks, dests, tools


def rebuild(session: Session, team_id: str) -> int:
    """Replace a workspace's roll-ups with a from-scratch computation, in SQL (INSERT … SELECT with
    GROUP BY: memory stays flat however many wins). Returns the weekly rows written. One transaction:
    writers wait for it, so nothing recorded meanwhile is lost or counted twice."""
    for model in (ActivityWeekDestination, ActivityWeek, ActivityPerson, ActivityWeekTool):
        session.execute(delete(model).where(model.team_id == team_id).execution_options(synchronize_session=False))
    mins = func.coalesce(Win.minutes_saved, 0)
    told = case((Win.reinvested_in.is_not(None), mins), else_=0)
    wk = _week_sql(session, Win.created_at)
    zero = literal(0)
    other = case((WinOwner.user_id != Win.author_id, 1), else_=0)

    def columns(**given: Any) -> list[Any]:
        return [given.get(c, zero).label(c) for c in WEEK_COLUMNS]

    authored = select(Win.author_id.label("user_id"), wk.label("week"),
                      *columns(wins_recorded=literal(1), minutes_recorded=mins, minutes_recorded_told=told)
                      ).where(Win.team_id == team_id)
    owned = (select(WinOwner.user_id.label("user_id"), wk.label("week"),
                    *columns(wins_owned=literal(1), shoutouts=other, minutes_owned=mins, minutes_owned_told=told))
             .select_from(WinOwner).join(Win, Win.id == WinOwner.win_id).where(WinOwner.team_id == team_id))
    narrated = select(Narrative.author_id.label("user_id"), _week_sql(session, Narrative.created_at).label("week"),
                      *columns(narratives=literal(1))).where(Narrative.team_id == team_id)
    every = union_all(authored, owned, narrated).subquery()
    session.execute(ActivityWeek.__table__.insert().from_select(
        ["team_id", "user_id", "week", *WEEK_COLUMNS],
        select(literal(team_id), every.c.user_id, every.c.week, *[func.sum(every.c[c]) for c in WEEK_COLUMNS])
        .group_by(every.c.user_id, every.c.week)))

    told_only = and_(Win.team_id == team_id, Win.reinvested_in.is_not(None), mins > 0)
    dest_authored = select(Win.author_id.label("user_id"), wk.label("week"), Win.reinvested_in.label("destination"),
                           zero.label("minutes_owned"), mins.label("minutes_recorded")).where(told_only)
    dest_owned = (select(WinOwner.user_id.label("user_id"), wk.label("week"), Win.reinvested_in.label("destination"),
                         mins.label("minutes_owned"), zero.label("minutes_recorded"))
                  .select_from(WinOwner).join(Win, Win.id == WinOwner.win_id).where(told_only))
    dests = union_all(dest_authored, dest_owned).subquery()
    session.execute(ActivityWeekDestination.__table__.insert().from_select(
        ["team_id", "user_id", "week", "destination", *DEST_COLUMNS],
        select(literal(team_id), dests.c.user_id, dests.c.week, dests.c.destination,
               func.sum(dests.c.minutes_owned), func.sum(dests.c.minutes_recorded))
        .group_by(dests.c.user_id, dests.c.week, dests.c.destination)))

    session.execute(ActivityWeekTool.__table__.insert().from_select(
        ["team_id", "week", "tool", "wins"],
        select(literal(team_id), wk, Win.tool, func.count())
        .where(Win.team_id == team_id, Win.tool.is_not(None), Win.tool != "").group_by(wk, Win.tool)))
    _rebuild_people(session, team_id)
    return session.scalar(select(func.count()).select_from(ActivityWeek.__table__)
                          .where(ActivityWeek.team_id == team_id)) or 0


def _rebuild_people(session: Session, team_id: str, chunk: int = 5_000) -> None:
    """activity_people from activity_weeks, a person at a time in person order (memory stays flat)."""
    weeks: dict[str, set[date]] = {}
    rows = session.execute(select(ActivityWeek.user_id, ActivityWeek.week).where(ActivityWeek.team_id == team_id)
                           .order_by(ActivityWeek.user_id).execution_options(yield_per=chunk))
    for u, w in rows:
        if u not in weeks and len(weeks) >= chunk:
            _store_people(session, team_id, weeks)
            weeks = {}
        weeks.setdefault(u, set()).add(as_date(w))
    _store_people(session, team_id, weeks)
