"""The AI coach: answers questions about how colleagues use AI, from the workspace's own playbook.

Plain values in and out; no Slack types. What the coach may quote is what search may show the asker
(bot/services/visibility.py `visible_to`, through bot/services/search.py): in the assistant pane, a
private thread, public wins and stories plus the asker's own; in a channel (a mention), what that
channel may show. With a model configured (bot/llm.py), the model is given the question and these
items only, never anything else.

What a message can be:
* a question ("How have people here used AI for customer interviews?"): the best matching wins, stories
  and teach-backs, each quoted briefly with its link, and who to ask (owners who have not opted out);
  nothing found: it says so and suggests a broader question;
* "what should I try this week?": the practices colleagues copied most lately that the asker has not
  tried, else the time-savers of the last weeks;
* "log a win: …": a draft with a Save button; nothing is stored until Save is pressed, and then through
  the win service, so the per-person limit and the duplicate rule apply."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from bot.models import TB_DONE, OptOut, TeachBack, Tried, Win, Workspace, utcnow
from bot.services import figures, search
from bot.services.search import Hit, Query
from bot.services.wintext import ParsedWin, parse_win_text
from bot.services.workspaces import ensure_workspace

ASK, TRY, DRAFT, HELP = "ask", "try", "draft", "help"

# Job kinds: the events the coach answers, stored by their acks and handled in bot/jobs/coach.py.
COACH_STARTED = "coach_thread_started"
COACH_CONTEXT = "coach_context_changed"
COACH_MESSAGE = "coach_message"  # a person's message in an assistant thread
COACH_MENTION = "coach_mention"  # @aiwins in a channel
MAX_ITEMS = 5  # quoted in one answer
TRY_WEEKS = 4  # "what should I try": practices copied in the last 4 weeks
MAX_DRAFT = 1900  # a draft travels in its Save button's value (Slack: 2,000 characters)

_MENTION_RE = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")
_DRAFT_RE = re.compile(r"^\s*(?:please\s+)?(?:log|record|save|add)\s+(?:an?\s+|my\s+)?(?:ai\s+)?win\s*[:\-–—]?\s*",
                       re.IGNORECASE)
_TRY_RE = re.compile(r"\bwhat\s+(?:should|could|can)\s+i\s+try\b|\bwhat\s+to\s+try\b|\btry\s+this\s+week\b",
                     re.IGNORECASE)
_HELP_RE = re.compile(r"^\s*(?:help|\?|hi|hello|hey)\s*[!.?]*\s*$", re.IGNORECASE)

# Words of a question that say nothing about its subject: left out of the search (every word must match).
_STOPWORDS = """
a about across after again ai all also am an and any anyone anything are as ask at be been being best can
colleagues could did do does doing done for from get got had has have here how i if in into is it its just
know like lately me my of on or other others our out over people please recently show so some someone
something team tell that the their them there these they this those to tried try up us use used uses using
via was way ways we were what when where which who whom why will with would you your yours
"""
STOPWORDS = frozenset(_STOPWORDS.split())


@dataclass(frozen=True)
class Intent:
    kind: str  # ASK, TRY, DRAFT or HELP
    text: str  # the question as asked (mentions of the bot removed), or the draft's text


def understand(text: str) -> Intent:
    """What a message to the coach asks for."""
    text = _MENTION_RE.sub(" ", text or "").strip()
    m = _DRAFT_RE.match(text)
    if m:
        return Intent(DRAFT, text[m.end():].strip())
    if not text or _HELP_RE.match(text):
        return Intent(HELP, text)
    if _TRY_RE.search(text):
        return Intent(TRY, text)
    return Intent(ASK, text)


def question_query(question: str) -> Query:
    """The search behind a question in plain words: its filters (`tool:`, `#tag`, `@person`) as typed,
    and its words less the ones that say nothing about the subject."""
    q = search.parse_query(question)
    words = tuple(w for w in q.words if w not in STOPWORDS and len(w) > 1)
    return Query(words=words[:search.MAX_TERMS], tool=q.tool, tags=q.tags, people=q.people, names=q.names)


@dataclass(frozen=True)
class Answer:
    kind: str  # ASK or TRY
    question: str
    topic: str  # the words searched for ("customer interviews"), for the answer's first line
    items: tuple[Hit, ...]
    teachbacks: dict[int, str]  # win id → owner who delivered a teach-back on it
    ask: tuple[str, ...]  # who to ask: the items' owners, none of them opted out
    broader: str | None  # nothing found: a broader question to try

    @property
    def empty(self) -> bool:
        return not self.items


def answer(session: Session, team_id: str, intent: Intent, *, user_id: str | None,
           channel_id: str | None = None, now: datetime | None = None) -> Answer:
    """The items the coach quotes for `intent` (ASK or TRY), as `user_id` may see them privately, or as
    channel `channel_id` may show them (then `user_id` is None)."""
    if intent.kind == TRY:
        items = _to_try(session, team_id, user_id, channel_id, now or utcnow())
        q = Query(words=())
    else:
        q = question_query(intent.text)
        items = search.search(session, team_id, user_id, q, MAX_ITEMS, channel_id=channel_id) if not q.empty else []
    win_ids = [h.id for h in items if h.kind == "win"]
    taught = dict(session.execute(
        select(TeachBack.win_id, TeachBack.owner_id).where(TeachBack.win_id.in_(win_ids), TeachBack.status == TB_DONE)
    ).all()) if win_ids else {}
    hidden = set(session.scalars(select(OptOut.user_id).where(OptOut.team_id == team_id)))
    ask = tuple(dict.fromkeys(u for h in items for u in h.owner_ids if u not in hidden and u != user_id))
    broader = None
    if not items and intent.kind == ASK:
        wider = search.broader(q)
        broader = f"How have people here used AI for {wider}?" if wider else None
    return Answer(kind=intent.kind, question=intent.text, topic=" ".join(q.words), items=tuple(items),
                  teachbacks=taught, ask=ask[:5], broader=broader)


def _to_try(session: Session, team_id: str, user_id: str | None, channel_id: str | None,
            now: datetime) -> list[Hit]:
    """What colleagues copied most in the last TRY_WEEKS weeks (the asker's own and already tried left
    out); with too few of those, the biggest time-savers of the same weeks."""
    since = now - timedelta(weeks=TRY_WEEKS)
    if session.get_bind().dialect.name == "postgresql":
        # A few thousand index look-ups that PostgreSQL prices above its JIT threshold: compiling them took
        # 300 ms, running them 20 (bench/coach.py, 1M wins).
        session.execute(text("SET LOCAL jit = off"))
    filters = search.win_filters(session, team_id, user_id, Query(words=()), channel_id=channel_id)
    if user_id:
        mine = select(Tried.win_id).where(Tried.team_id == team_id, Tried.user_id == user_id,
                                          Tried.win_id.is_not(None))
        filters += [Win.author_id != user_id, Win.id.not_in(mine)]
    tried = (select(Tried.win_id, func.count().label("n")).where(Tried.team_id == team_id, Tried.created_at >= since)
             .group_by(Tried.win_id).subquery())
    rows = session.execute(select(Win, tried.c.n).join(tried, tried.c.win_id == Win.id).where(*filters)
                           .order_by(tried.c.n.desc(), Win.created_at.desc()).limit(3)).all()
    if len(rows) < 3:
        seen = [Win.id.not_in([w.id for w, _ in rows])] if rows else []
        rows += session.execute(
            select(Win, func.coalesce(Win.minutes_saved, 0)).where(*filters, *seen, Win.created_at >= since)
            .order_by(func.coalesce(Win.minutes_saved, 0).desc(), Win.created_at.desc()).limit(3 - len(rows))
        ).all()
    return [h for _, h in search.win_hits(session, team_id, rows)]


# -- the assistant pane's greeting --------------------------------------------------------------------------


@dataclass(frozen=True)
class Prompt:
    title: str  # what the pane shows (Slack: a short label)
    message: str  # what is sent when it is picked


def suggested_prompts(session: Session, team_id: str, user_id: str | None, *,
                      now: datetime | None = None) -> tuple[Prompt, ...]:
    """3–4 prompts from this workspace's own data: this month's top tool, a popular tag, the latest
    delivered teach-back's practice, and "log a win"."""
    now = now or utcnow()
    prompts: list[Prompt] = []
    [month] = figures.totals(session, team_id, [figures.this_month(now)])
    if month.top_tools:
        tool = month.top_tools[0][0]
        prompts.append(Prompt(f"How do people use {tool}?"[:75], f"How have people here used {tool}?"))
    tag = _top_tag(session, team_id, figures.this_month(now))
    if tag:
        prompts.append(Prompt(f"Wins tagged #{tag}"[:75], f"How have people here used AI for #{tag}?"))
    taught = _latest_teachback_topic(session, team_id, user_id)
    if taught:
        prompts.append(Prompt(f"Learn: {taught}"[:75], f"How have people here used AI for {taught}?"))
    if not prompts:  # a workspace with no wins yet this month: a common subject instead
        prompts.append(Prompt("AI for meetings?", "How have people here used AI for meetings?"))
    prompts.append(Prompt("What should I try this week?", "What should I try this week?"))
    prompts.append(Prompt("Log a win", "log a win: drafted the customer FAQ with Claude, saved 2h"))
    return tuple(prompts[-4:])


def _top_tag(session: Session, team_id: str, period: figures.Weeks) -> str | None:
    """The tag on the most of the period's public wins (read from the period's wins, at most 2,000)."""
    tags = session.scalars(select(Win.tags).where(Win.team_id == team_id, Win.created_at >= period.start,
                                                  Win.created_at < period.end, Win.private.is_(False),
                                                  Win.tags != "").order_by(Win.created_at.desc()).limit(2000))
    counts: dict[str, int] = {}
    for line in tags:
        for tag in line.split():
            counts[tag.lower()] = counts.get(tag.lower(), 0) + 1
    return min(counts, key=lambda t: (-counts[t], t)) if counts else None


def _latest_teachback_topic(session: Session, team_id: str, user_id: str | None) -> str | None:
    """A few words naming the practice of the latest delivered teach-back the asker may see (as search
    would show it: nobody's who opted out)."""
    row = session.execute(
        select(Win.text, Win.tool).join(TeachBack, TeachBack.win_id == Win.id)
        .where(TeachBack.team_id == team_id, TeachBack.status == TB_DONE,
               *search.win_filters(session, team_id, user_id, Query(words=())))
        .order_by(TeachBack.done_at.desc()).limit(1)).first()
    if row is None:
        return None
    words = [w for w in re.findall(r"[^\W_]+", _MENTION_RE.sub(" ", row.text).lower()) if w not in STOPWORDS]
    return " ".join(words[:3]) or (row.tool.lower() if row.tool else None)


# -- "log a win: …" -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Draft:
    text: str  # as typed (Slack's wire format)
    parsed: ParsedWin
    too_long: bool


def draft(text: str) -> Draft:
    """A win drafted from a message: shown with Save; nothing is stored yet."""
    return Draft(text=text, parsed=parse_win_text(text), too_long=len(text) > MAX_DRAFT)


# -- the model switch (an admin's) -----------------------------------------------------------------------


def model_on(session: Session, team_id: str) -> bool:
    """May the coach use the configured model in this workspace? (Yes unless an admin turned it off.)"""
    on = session.scalar(select(Workspace.coach_model).where(Workspace.team_id == team_id))
    return on is not False


def set_model(session: Session, team_id: str, enterprise_id: str | None, on: bool) -> None:
    ensure_workspace(session, team_id, enterprise_id)
    session.execute(update(Workspace).where(Workspace.team_id == team_id).values(coach_model=on)
                    .execution_options(synchronize_session=False))
