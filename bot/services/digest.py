"""The weekly digest as plain data: what a workspace did with AI in one week.

Its figures (wins, people, hours saved, where the time went, top tools, leaders modeling, first-timers)
are bot/services/figures.py's for that week, the same numbers `/aiwin stats`, App Home and
`/aiwin adoption` show for it. The lists (best wins, narratives, teach-backs) are index ranges over the
week: wins by (team_id, created_at), narratives by (team_id, created_at), teach-backs touched since the
week began by (team_id, updated_at); never a scan of history.

Privacy: the text of a win or narrative said in a private conversation is shown only in a digest posted
in that conversation (bot/services/visibility.py); its hours and counts are in the totals. People who
opted out are counted and never named: no win naming them, no narrative of theirs and no list shows
them."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.models import TB_ACCEPTED, TB_DONE, TB_NOMINATED, Narrative, TeachBack, Win, WinOwner, Workspace
from bot.services import figures
from bot.services.figures import Population, Weeks
from bot.services.people import opted_out_ids
from bot.services.subscriptions import week_monday
from bot.services.visibility import shown_in

BEST_WINS = 5
NARRATIVES_SHOWN = 5

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
    period: Weeks
    totals: figures.Totals
    best_wins: tuple[BestWin, ...]
    more_wins: int  # wins not among best_wins
    narratives: tuple[NarrativeItem, ...]  # leaders' first, then newest
    more_narratives: int
    leaders_modeling: int  # managers who shared a narrative this week
    nominated: tuple[str, ...]  # owners nominated for a teach-back this week
    accepted: tuple[str, ...]
    done: tuple[str, ...]
    first_timers: tuple[str, ...]  # people whose first activity ever is in this week
    has_policy: bool
    policy_url: str | None
    most_tried: tuple[BestWin, int] | None = None  # the week's most-tried win (figures.most_tried), its tries

    @property
    def wins(self) -> int:
        return self.totals.wins

    @property
    def minutes_saved(self) -> int:
        return self.totals.minutes

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


def build_digest(session: Session, team_id: str, week: str, *, channel_id: str | None = None,
                 base_url: str | None = None, group_members: Iterable[str] = ()) -> DigestData:
    """The digest of `team_id` for ISO `week` ("2026-W48", a UTC week). `session` must be opened for
    `team_id` (`db.read(team_id)`). `channel_id`: where it is shown; wins and narratives said in private
    conversations are listed only in their own (None: in none). `base_url` is the workspace's address,
    for message links; `group_members` the managers user group's members (for leaders modeling)."""
    monday = week_monday(week)
    period = Weeks(monday, monday)
    start, end = period.start, period.end
    hidden = opted_out_ids(session)
    [totals] = figures.totals(session, team_id, [period])

    in_week = (Win.team_id == team_id, Win.created_at >= start, Win.created_at < end)
    visible: tuple = ()
    visible_all: tuple = ()  # the same, for wins of any week (one tried this week)
    if hidden:  # a win naming anyone who opted out is never shown
        hidden_wins = select(WinOwner.win_id).where(WinOwner.team_id == team_id, WinOwner.created_at >= start,
                                                    WinOwner.created_at < end, WinOwner.user_id.in_(hidden))
        visible = (Win.id.not_in(hidden_wins),)
        visible_all = (Win.id.not_in(select(WinOwner.win_id).where(WinOwner.team_id == team_id,
                                                                   WinOwner.user_id.in_(hidden))),)
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
                                    Narrative.created_at < end, shown_in(Narrative, channel_id))
        ).all()
        if n.author_id not in hidden
    ]
    narratives.sort(key=lambda n: (n.is_leader, n.created_at, n.id), reverse=True)
    leaders = figures.leaders_modeling(session, team_id, period, figures.managers(session, team_id, group_members))

    nominated, accepted, done = _teachbacks(session, team_id, start, end, hidden)
    tried = figures.most_tried(session, team_id, period, *visible_all, shown_in(Win, channel_id))
    ws = session.get(Workspace, team_id)
    seen = figures.activity(session, Population(team_id), monday, monday)
    return DigestData(
        team_id=team_id, week=week, period=period, totals=totals,
        best_wins=best, more_wins=totals.wins - len(best),
        narratives=tuple(_narrative_item(n, base_url) for n in narratives[:NARRATIVES_SHOWN]),
        more_narratives=max(0, len(narratives) - NARRATIVES_SHOWN),
        leaders_modeling=len(leaders),
        nominated=nominated, accepted=accepted, done=done,
        first_timers=tuple(u for u in seen.new_in(period) if u not in hidden),
        most_tried=_most_tried(session, tried, base_url),
        has_policy=bool(ws and (ws.policy_text or ws.policy_url)),
        policy_url=ws.policy_url if ws and ws.policy_url else None,
    )


def _most_tried(session: Session, tried: tuple[int, int] | None, base_url: str | None) -> tuple[BestWin, int] | None:
    if tried is None:
        return None
    w = session.get(Win, tried[0])
    if w is None:
        return None
    owners = session.scalars(select(WinOwner.user_id).where(WinOwner.win_id == w.id).order_by(WinOwner.position))
    return BestWin(id=w.id, owner_ids=tuple(owners), text=w.text, text_format=w.text_format, tool=w.tool,
                   minutes_saved=w.minutes_saved, permalink=permalink(w.message_channel, w.message_ts, base_url),
                   created_at=w.created_at), tried[1]


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
