"""App Home: the plain data behind each person's Home tab, and the workspace settings admins
change from it. `build_home` reads; bot/blocks/home.py turns its result into Block Kit.

Cost: the figures (bot/services/figures.py, read from the weekly roll-ups) over the last five weeks and
the person's own weeks, plus the few rows shown; never a scan of the workspace's history."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.models import (
    KIND_DIGEST,
    KIND_PROMPTS,
    TB_ACCEPTED,
    TB_DONE,
    TB_NOMINATED,
    Member,
    OptOut,
    Subscription,
    TeachBack,
    Win,
    WinOwner,
    Workspace,
    utcnow,
)
from bot.models.queue import enqueue
from bot.services import figures, managers
from bot.services.adoption import AdoptionFigures, adoption_figures
from bot.services.figures import SHORT_WEEKS, Weeks
from bot.services.policy import PolicyView, policy_summary
from bot.services.workspaces import ensure_workspace

HOME_REFRESH = "home_refresh"
HOME_OPENERS = timedelta(days=30)  # App Home is rebuilt after a change only for people who opened it since
REFRESH_WINDOW = 30  # seconds: changes within one window make one republish, just after it (a burst of
# wins costs one Home build per person, after the burst rather than during it)
TREND_WEEKS = 5  # this week and the four before it
RECENT_WINS = 5
RECENT_TEACHBACKS = 5
SHOWN_TEACHBACK_STATUSES = (TB_NOMINATED, TB_ACCEPTED, TB_DONE)
MAX_MANAGERS = 100  # what the Home modal can show and save
_EMOJI_RE = re.compile(r"[a-z0-9_+\-']{1,100}")


@dataclass(frozen=True)
class RecentWin:
    id: int
    author_id: str
    text: str
    text_format: str
    tool: str | None
    minutes_saved: int | None
    reinvested_in: str | None
    created_at: datetime


@dataclass(frozen=True)
class MyTeachBack:
    id: int
    win_id: int
    status: str
    updated_at: datetime


@dataclass(frozen=True)
class SubscriptionView:
    kind: str
    channel_id: str
    weekday: int
    hour: int
    minute: int
    tz: str


@dataclass(frozen=True)
class AdminSettings:
    digests: tuple[SubscriptionView, ...]
    prompts: tuple[SubscriptionView, ...]
    managers: tuple[str, ...]
    managers_group: str | None
    teachback_emoji: str


@dataclass(frozen=True)
class HomeData:
    user_id: str
    is_admin: bool
    tz: str
    now: datetime
    opted_out: bool
    personal: figures.Personal
    recent_wins: tuple[RecentWin, ...]
    teachbacks: tuple[MyTeachBack, ...]
    teachback_counts: dict[str, int]
    weeks: tuple[figures.Totals, ...]  # oldest first; the last is this week (so far)
    trend: figures.Totals  # the whole trend window: where the time went, top tools
    coverage: figures.Change  # the last 4 weeks
    members_known: bool
    leaders: tuple[str, ...]  # leaders who shared a narrative this month
    policy: PolicyView | None
    settings: AdminSettings | None  # admins only
    adoption: AdoptionFigures | None = None  # managers and admins only


def build_home(session: Session, team_id: str, user_id: str, is_admin: bool, now: datetime | None = None, *,
               tz: str = "UTC", group_members: Iterable[str] = (), adoption: bool = False) -> HomeData:
    """`group_members`: the managers user group's members (managers through Slack). With `adoption` (the
    viewer is a manager or an admin) the adoption figures are shown too. `tz` only formats dates."""
    now = now or utcnow()
    # Coverage before the totals: the member list's first copy may commit between two reads, and a Home
    # showing coverage must then count people too (once known, members stay known).
    coverage = figures.coverage(session, team_id, figures.last_weeks(now, SHORT_WEEKS))
    known = figures.members_known(session, team_id)
    trend = figures.last_weeks(now, TREND_WEEKS)
    *weeks, whole = figures.totals(session, team_id, [Weeks(w, w) for w in trend.mondays()] + [trend])
    leaders = figures.managers(session, team_id, group_members)
    return HomeData(
        user_id=user_id,
        is_admin=is_admin,
        tz=tz,
        now=now,
        opted_out=session.get(OptOut, (team_id, user_id)) is not None,
        personal=figures.personal(session, team_id, user_id, now),
        recent_wins=recent_wins(session, team_id, user_id),
        teachbacks=my_teachbacks(session, team_id, user_id),
        teachback_counts=teachback_counts(session, team_id, user_id),
        weeks=tuple(weeks),
        trend=whole,
        coverage=coverage,
        members_known=known,
        leaders=tuple(u for u in figures.leaders_modeling(session, team_id, figures.this_month(now), leaders)
                      if session.get(OptOut, (team_id, u)) is None),
        policy=policy_summary(session, team_id),
        settings=admin_settings(session, team_id) if is_admin else None,
        adoption=(adoption_figures(session, team_id, manager_ids=group_members, now=now) if adoption else None),
    )


def recent_wins(session: Session, team_id: str, user_id: str,
                limit: int = RECENT_WINS) -> tuple[RecentWin, ...]:
    rows = session.execute(
        select(Win.id, Win.author_id, Win.text, Win.text_format, Win.tool, Win.minutes_saved,
               Win.reinvested_in, Win.created_at)
        .select_from(WinOwner)
        .join(Win, Win.id == WinOwner.win_id)
        .where(WinOwner.team_id == team_id, WinOwner.user_id == user_id)
        .order_by(WinOwner.created_at.desc(), WinOwner.win_id.desc())
        .limit(limit)
    ).all()
    return tuple(RecentWin(*row) for row in rows)


def my_teachbacks(session: Session, team_id: str, user_id: str,
                  limit: int = RECENT_TEACHBACKS) -> tuple[MyTeachBack, ...]:
    rows = session.execute(
        select(TeachBack.id, TeachBack.win_id, TeachBack.status, TeachBack.updated_at)
        .where(TeachBack.team_id == team_id, TeachBack.owner_id == user_id,
               TeachBack.status.in_(SHOWN_TEACHBACK_STATUSES))
        .order_by(TeachBack.updated_at.desc())
        .limit(limit)
    ).all()
    return tuple(MyTeachBack(*row) for row in rows)


def teachback_counts(session: Session, team_id: str, user_id: str) -> dict[str, int]:
    rows = session.execute(
        select(TeachBack.status, func.count())
        .where(TeachBack.team_id == team_id, TeachBack.owner_id == user_id,
               TeachBack.status.in_(SHOWN_TEACHBACK_STATUSES))
        .group_by(TeachBack.status)
    ).all()
    return {status: n for status, n in rows}


def admin_settings(session: Session, team_id: str) -> AdminSettings:
    subs = session.scalars(
        select(Subscription)
        .where(Subscription.team_id == team_id, Subscription.active.is_(True))
        .order_by(Subscription.kind, Subscription.channel_id)
    ).all()
    views = [SubscriptionView(s.kind, s.channel_id, s.weekday, s.hour, s.minute, s.tz) for s in subs]
    listed = managers.list_managers(session, team_id)
    ws = session.get(Workspace, team_id)
    return AdminSettings(
        digests=tuple(v for v in views if v.kind == KIND_DIGEST),
        prompts=tuple(v for v in views if v.kind == KIND_PROMPTS),
        managers=listed.user_ids,
        managers_group=listed.group_id,
        teachback_emoji=ws.teachback_emoji if ws else "mortar_board",
    )


# -- refreshing ------------------------------------------------------------------------------------------


def enqueue_home_refresh(session: Session, team_id: str, user_ids: Iterable[str], *,
                         enterprise_id: str | None = None, now: datetime | None = None) -> int:
    """Republish these people's Home shortly, in the caller's transaction, if they opened it in the last
    HOME_OPENERS (the others get a fresh one when they next open it). Changes within the same few seconds
    share one job (the dedupe key names the window), which runs after the window closes so it sees all of
    them. Returns how many jobs were added."""
    now = now or utcnow()
    wanted = list(dict.fromkeys(u for u in user_ids if u))
    if not wanted:
        return 0
    openers = session.scalars(select(Member.user_id).where(
        Member.team_id == team_id, Member.user_id.in_(wanted), Member.home_opened_at >= now - HOME_OPENERS)).all()
    window = int(now.timestamp()) // REFRESH_WINDOW
    run_at = datetime.fromtimestamp((window + 1) * REFRESH_WINDOW, tz=now.tzinfo) + timedelta(seconds=1)
    added = 0
    for user_id in openers:
        job = enqueue(session, team_id=team_id, enterprise_id=enterprise_id, kind=HOME_REFRESH,
                      payload={"user_id": user_id}, dedupe_key=f"home:{user_id}:{window}", run_at=run_at)
        added += job is not None
    return added


def home_opened(session: Session, team_id: str, user_id: str, now: datetime | None = None) -> None:
    """Note that this person looks at their Home (see enqueue_home_refresh)."""
    session.execute(update(Member).where(Member.team_id == team_id, Member.user_id == user_id)
                    .values(home_opened_at=now or utcnow()).execution_options(synchronize_session=False))


# -- settings admins change from Home ---------------------------------------------------------------------


class SettingError(ValueError):
    """A setting value that cannot be stored; the message says why."""


def clean_emoji(raw: str | None) -> str:
    """`:tada:`, `tada` or `Tada` → `tada`; SettingError when it cannot be an emoji name."""
    name = (raw or "").strip().strip(":").strip().lower()
    if not name:
        raise SettingError("Type an emoji name, e.g. `mortar_board` or `:tada:`.")
    if not _EMOJI_RE.fullmatch(name):
        raise SettingError("Emoji names use letters, digits, - and _ only, e.g. `mortar_board`.")
    return name


def set_teachback_emoji(session: Session, team_id: str, enterprise_id: str | None, emoji: str) -> None:
    ensure_workspace(session, team_id, enterprise_id)
    ws = session.get(Workspace, team_id)
    assert ws is not None
    ws.teachback_emoji = clean_emoji(emoji)


def set_managers(session: Session, team_id: str, enterprise_id: str | None, user_ids: Iterable[str], *,
                 added_by: str) -> tuple[str, ...]:
    """Make exactly these people the added managers (from the Home modal); admins and the managers
    group stay managers whatever the list says. The list itself is bot/services/managers.py's."""
    wanted = tuple(dict.fromkeys(u for u in user_ids if u))[:MAX_MANAGERS]
    current = managers.list_managers(session, team_id).user_ids
    gone = tuple(u for u in current if u not in wanted)
    new = tuple(u for u in wanted if u not in current)
    step = managers.MAX_PER_CHANGE
    for i in range(0, len(gone), step):
        managers.remove_managers(session, gone[i : i + step])
    for i in range(0, len(new), step):
        managers.add_managers(session, team_id=team_id, enterprise_id=enterprise_id,
                              user_ids=new[i : i + step], added_by=added_by)
    session.flush()
    return wanted
