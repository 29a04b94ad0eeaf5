"""The weekly digest as plain data: what a workspace did with AI in one ISO week.

Every query is an index range over the week, never a scan of history, so a workspace with a
million wins builds its digest as fast as one with a hundred:
* wins: (team_id, created_at) — ix_wins_team_created;
* their owners: (team_id, created_at) — ix_win_owners_team_created (WinOwner copies the win's time);
* first-time contributors: for each owner of the week, "is there an earlier WinOwner row?" —
  a probe of ix_win_owners_team_user_created that stops at the first row;
* narratives: ix_narratives_team_created; teach-backs touched since the week began:
  ix_teachbacks_team_updated (any nomination, acceptance or completion in the week updated the row).

Privacy: the text of a win or narrative said in a private conversation is shown only in a digest
posted in that conversation (bot/services/visibility.py); its hours and counts are in the totals.
A person who opted out (`/aiwin optout`) is left out entirely. A win with an opted-out
owner is not counted at all (not in wins, people, hours, tools or lists): its text usually names
them, so showing it without them would still show them."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session, aliased

from bot.models import TB_ACCEPTED, TB_DONE, TB_NOMINATED, Narrative, TeachBack, Win, WinOwner, Workspace
from bot.services.people import opted_out_ids
from bot.services.subscriptions import week_bounds
from bot.services.visibility import shown_in
from bot.services.wins import REINVEST_CATEGORIES

BEST_WINS = 5
NARRATIVES_SHOWN = 5
TOP_TOOLS = 5
NOT_SAID = "not_said"  # reinvestment bucket for saved time whose destination no one gave

_CHANNEL_RE = re.compile(r"[CGD][A-Z0-9]+")
_TS_RE = re.compile(r"\d+\.\d+")


@dataclass(frozen=True)
class BestWin:
    id: int
    owner_ids: tuple[str, ...]
    text: str
    text_format: str
    tool: str | None
    minutes_saved: int | None
    permalink: str | None
    created_at: datetime


@dataclass(frozen=True)
class NarrativeItem:
    id: int
    author_id: str
    text: str
    text_format: str
    tools: str | None
    minutes_saved: int | None
    is_leader: bool
    permalink: str | None
    created_at: datetime


@dataclass(frozen=True)
class DigestData:
    team_id: str
    week: str  # "2026-W48"
    tz: str
    start: datetime  # UTC: Monday 00:00 in tz
    end: datetime  # UTC: next Monday 00:00 in tz
    wins: int
    people: int  # distinct owners
    minutes_saved: int
    reinvested: tuple[tuple[str, int], ...]  # (REINVEST_CATEGORIES key or NOT_SAID, minutes), largest first
    top_tools: tuple[tuple[str, int], ...]  # (tool, wins), most used first
    best_wins: tuple[BestWin, ...]
    more_wins: int  # wins not among best_wins
    narratives: tuple[NarrativeItem, ...]  # leaders' first, then newest
    more_narratives: int
    leaders_sharing: int  # distinct managers who shared a narrative this week
    nominated: tuple[str, ...]  # owners nominated for a teach-back this week
    accepted: tuple[str, ...]
    done: tuple[str, ...]
    first_timers: tuple[str, ...]  # owners whose first win ever is in this week
    has_policy: bool
    policy_url: str | None

    @property
    def quiet(self) -> bool:
        return self.wins == 0 and not self.narratives


def permalink(channel: str | None, ts: str | None, base_url: str | None = None) -> str | None:
    """A message's archive link in the workspace's own domain (`base_url`, "https://acme.slack.com/",
    as chat.getPermalink writes it); Slack's redirector "https://slack.com/" when the domain is unknown."""
    if not channel or not ts or not _CHANNEL_RE.fullmatch(channel) or not _TS_RE.fullmatch(ts):
        return None
    base = base_url if base_url and base_url.endswith("/") else "https://slack.com/"
    return f"{base}archives/{channel}/p{ts.replace('.', '')}"


def _distinct(ids: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(ids))


def build_digest(session: Session, team_id: str, week: str, tz: str,
                 now: datetime | None = None, *, channel_id: str | None = None,
                 base_url: str | None = None) -> DigestData:
    """The digest of `team_id` for ISO `week` ("2026-W48"), Monday to Monday in `tz`. `session`
    must be opened for `team_id` (`db.read(team_id)`): opt-outs are read through its scope.
    `channel_id`: where it is shown; wins and narratives said in private conversations are listed
    only in their own (None: in none).

    With `now`, what happened after it is left out (a digest "as of" that moment). `base_url` is the
    workspace's address, for message links."""
    start, end = week_bounds(week, tz)
    until = min(end, now) if now is not None else end
    hidden = opted_out_ids(session)

    # Aggregates are computed by the database over the week's index range (ix_wins_team_created,
    # ix_win_owners_team_created): only a handful of rows come back, whatever the week's size.
    in_week = (Win.team_id == team_id, Win.created_at >= start, Win.created_at < until)
    owner_in_week = (WinOwner.team_id == team_id, WinOwner.created_at >= start, WinOwner.created_at < until)
    visible: tuple = ()
    visible_owner: tuple = ()
    if hidden:  # a win naming anyone who opted out is left out entirely
        hidden_wins = select(WinOwner.win_id).where(*owner_in_week, WinOwner.user_id.in_(hidden))
        visible, visible_owner = (Win.id.not_in(hidden_wins),), (WinOwner.win_id.not_in(hidden_wins),)

    count, minutes = session.execute(
        select(func.count(), func.coalesce(func.sum(Win.minutes_saved), 0)).where(*in_week, *visible)
    ).one()
    people = tuple(session.scalars(
        select(WinOwner.user_id).where(*owner_in_week, *visible_owner).distinct()
    ).all())
    split: Counter[str] = Counter()
    for reinvested_in, total in session.execute(
        select(Win.reinvested_in, func.sum(Win.minutes_saved))
        .where(*in_week, *visible, Win.minutes_saved > 0).group_by(Win.reinvested_in)
    ):
        key = reinvested_in if reinvested_in in REINVEST_CATEGORIES else ("other" if reinvested_in else NOT_SAID)
        split[key] += total
    tool_key = func.lower(func.trim(Win.tool))
    tools = session.execute(
        select(func.min(func.trim(Win.tool)), func.count())
        .where(*in_week, *visible, Win.tool.is_not(None), func.trim(Win.tool) != "")
        .group_by(tool_key).order_by(func.count().desc(), tool_key).limit(TOP_TOOLS)
    ).all()

    ranked = session.execute(
        select(Win.id, Win.text, Win.text_format, Win.tool, Win.minutes_saved, Win.created_at,
               Win.message_channel, Win.message_ts)
        .where(*in_week, *visible, shown_in(Win, channel_id))
        .order_by(func.coalesce(Win.minutes_saved, 0).desc(), Win.created_at.desc(), Win.id.desc())
        .limit(BEST_WINS)
    ).all()
    owners: dict[int, list[str]] = {}
    for win_id, user_id in session.execute(
        select(WinOwner.win_id, WinOwner.user_id).where(WinOwner.win_id.in_([w.id for w in ranked]))
        .order_by(WinOwner.win_id, WinOwner.position)
    ) if ranked else ():
        owners.setdefault(win_id, []).append(user_id)
    best = tuple(
        BestWin(id=w.id, owner_ids=tuple(owners.get(w.id, ())), text=w.text, text_format=w.text_format,
                tool=w.tool, minutes_saved=w.minutes_saved,
                permalink=permalink(w.message_channel, w.message_ts, base_url), created_at=w.created_at)
        for w in ranked
    )

    narratives = [
        n for n in session.scalars(
            select(Narrative).where(Narrative.team_id == team_id, Narrative.created_at >= start,
                                    Narrative.created_at < until, shown_in(Narrative, channel_id))
        ).all()
        if n.author_id not in hidden
    ]
    narratives.sort(key=lambda n: (n.is_leader, n.created_at, n.id), reverse=True)
    leaders = {n.author_id for n in narratives if n.is_leader}

    nominated, accepted, done = _teachbacks(session, team_id, start, until, hidden)
    ws = session.get(Workspace, team_id)
    policy_url = ws.policy_url if ws and ws.policy_url else None

    return DigestData(
        team_id=team_id, week=week, tz=tz, start=start, end=end,
        wins=count, people=len(people), minutes_saved=minutes,
        reinvested=tuple(sorted(split.items(), key=lambda kv: (kv[0] == NOT_SAID, -kv[1], kv[0]))),
        top_tools=tuple((tool, n) for tool, n in tools),
        best_wins=best, more_wins=count - len(best),
        narratives=tuple(_narrative_item(n, base_url) for n in narratives[:NARRATIVES_SHOWN]),
        more_narratives=max(0, len(narratives) - NARRATIVES_SHOWN),
        leaders_sharing=len(leaders),
        nominated=nominated, accepted=accepted, done=done,
        first_timers=_first_timers(session, team_id, start, until, people, hidden),
        has_policy=bool(ws and (ws.policy_text or ws.policy_url)),
        policy_url=policy_url,
    )


def _narrative_item(n: Narrative, base_url: str | None) -> NarrativeItem:
    return NarrativeItem(id=n.id, author_id=n.author_id, text=n.text, text_format=n.text_format,
                         tools=n.tools, minutes_saved=n.minutes_saved, is_leader=n.is_leader,
                         permalink=permalink(n.message_channel, n.message_ts, base_url), created_at=n.created_at)


def _teachbacks(session: Session, team_id: str, start: datetime, until: datetime,
                hidden: set[str]) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    rows = session.execute(
        select(TeachBack.owner_id, TeachBack.status, TeachBack.created_at, TeachBack.accepted_at,
               TeachBack.done_at)
        .where(TeachBack.team_id == team_id, TeachBack.updated_at >= start)
        .order_by(TeachBack.created_at, TeachBack.id)
    ).all()

    def within(t: datetime | None) -> bool:
        return t is not None and start <= t < until

    rows = [r for r in rows if r.owner_id not in hidden]
    # Declined and withdrawn ones are not announced: a "no thanks" is nobody's news.
    nominated = [r.owner_id for r in rows
                 if within(r.created_at) and r.status in (TB_NOMINATED, TB_ACCEPTED, TB_DONE)]
    accepted = [r.owner_id for r in rows if within(r.accepted_at) and r.status in (TB_ACCEPTED, TB_DONE)]
    done = [r.owner_id for r in rows if within(r.done_at) and r.status == TB_DONE]
    return _distinct(nominated), _distinct(accepted), _distinct(done)


def _first_timers(session: Session, team_id: str, start: datetime, until: datetime,
                  people: tuple[str, ...], hidden: set[str]) -> tuple[str, ...]:
    """Owners of this week's wins with no WinOwner row before the week: one statement whose
    NOT EXISTS is an index probe per owner (team_id, user_id, created_at < start)."""
    if not people:
        return ()
    week, earlier = aliased(WinOwner), aliased(WinOwner)
    rows = session.execute(
        select(week.user_id, week.created_at)
        .where(week.team_id == team_id, week.created_at >= start, week.created_at < until,
               ~exists().where(and_(earlier.team_id == team_id, earlier.user_id == week.user_id,
                                    earlier.created_at < start)))
        .order_by(week.created_at)
    ).all()
    counted = set(people)
    return _distinct([r.user_id for r in rows if r.user_id in counted and r.user_id not in hidden])
