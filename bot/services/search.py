"""`/aiwin search`: the wins and narratives that best match some words, among those the caller may see.

Full-text search runs in the database (revision 0005_search): SQLite FTS5 tables kept in step by
triggers, PostgreSQL's generated `search_tsv` columns with GIN indexes. Every word must match (as
a prefix, so "interv" finds "interviews"); ranking is relevance, then the newest first, among the
newest CANDIDATES matches. Deleted rows leave the index with the row, words and all (drop_deleted_words);
opted-out people are never found.

A query's filters are bounded (MAX_PEOPLE, MAX_TAGS, MAX_TOOLS; `too_many_filters` says so), and the
people filter is one predicate whatever their number: the named people are one array parameter
(`= ANY(:ids)` on PostgreSQL, one IN list on SQLite), not a condition per person. Searches per person
are limited like recording is (ratelimit.SEARCH, `take_search`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Float,
    Integer,
    String,
    and_,
    any_,
    bindparam,
    case,
    column,
    exists,
    false,
    func,
    literal_column,
    select,
    table,
    text,
    union,
)
from sqlalchemy.orm import Session

from bot.cache import TTLMemo
from bot.models import Member, Narrative, OptOut, Win, WinOwner
from bot.services import ratelimit
from bot.services.ratelimit import Limits
from bot.services.visibility import visible_to
from bot.services.wintext import parse_win_text

MAX_RESULTS = 10
MAX_TERMS = 12  # more words than this only narrow a search that is already narrow
# Filters one query may carry; more is refused with a sentence naming these numbers (too_many_filters).
MAX_PEOPLE = 10  # @people: mentions and typed @names together
MAX_TAGS = 10  # #tags and #channels together
MAX_TOOLS = 1  # tool:
_WORD_RE = re.compile(r"[^\W_]+")  # what both FTS5 (unicode61) and PostgreSQL's parser call a word
_TOOL_RE = re.compile(r"(?<!\S)tool:(?:\"([^\"]+)\"|(\S+))", re.IGNORECASE)
_PLAIN_PERSON_RE = re.compile(r"(?<![\w<])@([\w.\-]+)")
_CHANNEL_TOKEN_RE = re.compile(r"<#C[A-Z0-9]+\|([^<>|]+)>")  # `#deck` Slack turned into a channel link

# Full-text search looks at the newest this-many matches in the workspace, and ranks those: a
# search costs the same in a workspace of a thousand wins as in one of a million (BENCHMARKS.md).
# A word in a tenth of all wins still ranks its newest matches; narrower words rank all of theirs.
CANDIDATES = 500

@dataclass(frozen=True)
class Query:
    words: tuple[str, ...]
    tool: str | None = None
    tags: tuple[str, ...] = ()
    people: tuple[str, ...] = ()  # user ids (`<@U…>` in command text)
    names: tuple[str, ...] = ()  # `@name` typed as plain text (the App Home box): looked up in members
    tools: tuple[str, ...] = ()  # every `tool:` given (`tool` is the first); more than MAX_TOOLS is refused

    @property
    def empty(self) -> bool:
        return not (self.words or self.tool or self.tags or self.people or self.names)


@dataclass(frozen=True)
class Hit:
    kind: str  # "win" or "narrative"
    id: int
    author_id: str
    owner_ids: tuple[str, ...]
    text: str
    text_format: str
    tool: str | None
    minutes_saved: int | None
    created_at: datetime
    channel: str | None  # the message to link to: the celebration, else where it was recorded from
    ts: str | None
    permalink: str | None  # known without asking Slack (a shortcut's source message)


def parse_query(raw: str) -> Query:
    """`deck interviews tool:claude #research @alice` → words, tool, tags and people."""
    raw = raw or ""
    tools = tuple(t for m in _TOOL_RE.finditer(raw) if (t := (m.group(1) or m.group(2)).strip()))
    tool = tools[0] if tools else None
    raw = _TOOL_RE.sub(" ", raw)
    channel_tags = tuple(t.strip().lower() for t in _CHANNEL_TOKEN_RE.findall(raw))
    raw = _CHANNEL_TOKEN_RE.sub(" ", raw)
    parsed = parse_win_text(raw)
    names = tuple(dict.fromkeys(n.lower() for n in _PLAIN_PERSON_RE.findall(raw)))
    rest = _PLAIN_PERSON_RE.sub(" ", re.sub(r"<[^<>]*>", " ", raw))
    rest = re.sub(r"(?<![\w&#])#[^\s#]+", " ", rest)  # the #tags themselves are filters, not words
    rest = re.sub(r"&(amp|lt|gt);", " ", rest)
    words = tuple(dict.fromkeys(w.lower() for w in _WORD_RE.findall(rest)))[:MAX_TERMS]
    tags = tuple(dict.fromkeys((*parsed.tags, *channel_tags)))
    return Query(words=words, tool=tool, tags=tags, people=parsed.recipients, names=names, tools=tools)


def too_many_filters(q: Query) -> str | None:
    """The sentence for a query carrying more filters than a search takes, or None when it is fine."""
    people, tags, tools = len(q.people) + len(q.names), len(q.tags), len(q.tools)
    over = [f"{n} {what}" for n, most, what in ((people, MAX_PEOPLE, "@people"), (tags, MAX_TAGS, "#tags or #channels"),
                                                (tools, MAX_TOOLS, "tools")) if n > most]
    if not over:
        return None
    return (f"That search names {' and '.join(over)}; a search takes at most {MAX_PEOPLE} @people, {MAX_TAGS} "
            f"#tags or #channels and {MAX_TOOLS} tool:, so it was not run. Narrow it down, e.g. "
            "`deck interviews tool:Claude #research @alice`.")


def take_search(session: Session, team_id: str, user_id: str, limits: Limits) -> float | None:
    """One search from `user_id`'s own bucket (ratelimit.SEARCH), in the caller's transaction: None when
    allowed, else the seconds to wait."""
    return ratelimit.take(session, team_id, user_id, ratelimit.SEARCH, limits)


def _opted_out(team_id: str, user: ColumnElement[str]) -> ColumnElement[bool]:
    return exists().where(OptOut.team_id == team_id, OptOut.user_id == user)


def win_filters(session: Session, team_id: str, user_id: str | None, q: Query, *,
                channel_id: str | None = None) -> list[ColumnElement[bool]]:
    """The wins `user_id` may read where the answer is shown (visibility.visible_to), of people who have
    not opted out, matching `q`'s filters (not its words)."""
    owner = select(WinOwner.win_id).where(WinOwner.team_id == team_id, WinOwner.win_id == Win.id)
    filters: list[ColumnElement[bool]] = [
        Win.team_id == team_id,
        visible_to(Win, viewer=user_id, channel_id=channel_id),
        ~_opted_out(team_id, Win.author_id),
        ~exists(owner.where(_opted_out(team_id, WinOwner.user_id))),
    ]
    if q.tool:
        filters.append(func.lower(Win.tool).contains(q.tool.lower(), autoescape=True))
    for tag in q.tags:
        # tags are stored space-separated: match a whole tag
        filters.append(func.lower(" " + Win.tags + " ").contains(f" {tag.lower()} ", autoescape=True))
    people = _people(session, team_id, q)
    if people is None:
        filters.append(false())  # a typed @name nobody has: nothing matches
    elif people:
        filters.append(_involves_all(session, team_id, people))
    return filters


def _people(session: Session, team_id: str, q: Query) -> tuple[str, ...] | None:
    """The user ids the query names, its typed @names looked up in one statement; None when a name is
    nobody's."""
    people = dict.fromkeys(q.people)
    if q.names:
        found: dict[str, str] = {}
        for user_id, name in session.execute(
            select(Member.user_id, func.lower(Member.name)).where(
                Member.team_id == team_id, _one_of(session, func.lower(Member.name), q.names))
            .order_by(Member.user_id)
        ):
            found.setdefault(name, user_id)
        if any(n not in found for n in q.names):
            return None
        people.update(dict.fromkeys(found[n] for n in q.names))
    return tuple(people)


def _one_of(session: Session, col: ColumnElement[str], ids: tuple[str, ...]) -> ColumnElement[bool]:
    """`col = ANY(:ids)`, one array parameter on PostgreSQL (the statement is the same for any number of
    people); an IN list on SQLite."""
    if session.get_bind().dialect.name == "postgresql":
        return col == any_(bindparam(None, list(ids), type_=ARRAY(String)))
    return col.in_(ids)


def _involves_all(session: Session, team_id: str, people: tuple[str, ...]) -> ColumnElement[bool]:
    """The win is by or for every one of `people`: the named people among its owners (one index probe of
    the win's own owners), plus its author when named and not an owner, count them all. One predicate,
    however many people; and the rows it is tried on are only those the people are on (`candidates`)."""
    named_owners = (select(func.count()).select_from(WinOwner)
                    .where(WinOwner.win_id == Win.id, _one_of(session, WinOwner.user_id, people))
                    .scalar_subquery())
    author_owns = exists(select(WinOwner.win_id).where(WinOwner.win_id == Win.id, WinOwner.user_id == Win.author_id))
    author_named = case((and_(_one_of(session, Win.author_id, people), ~author_owns), 1), else_=0)
    candidates = union(
        select(WinOwner.win_id).where(WinOwner.team_id == team_id, _one_of(session, WinOwner.user_id, people)),
        select(Win.id).where(Win.team_id == team_id, _one_of(session, Win.author_id, people)),
    )
    return and_(Win.id.in_(candidates), named_owners + author_named == len(people))


def search(session: Session, team_id: str, user_id: str | None, q: Query, limit: int = MAX_RESULTS, *,
           channel_id: str | None = None) -> list[Hit]:
    """The best `limit` wins and narratives for `q` that `user_id` may see in `team_id`: privately (the
    default), or in channel `channel_id`, where everyone in it reads the answer (then `user_id` None)."""
    if q.empty:
        return []
    if session.get_bind().dialect.name == "postgresql":
        # psycopg prepares a statement run 5 times, and PostgreSQL may then plan it once for any
        # words and workspace: a common word's plan for a rare one (2-3x slower; BENCHMARKS.md).
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    hits = _search_wins(session, team_id, user_id, q, limit, channel_id)
    # Narratives have no tool field, tags or recipients: only a words-only search finds them.
    if q.words and not (q.tool or q.tags or q.people or q.names):
        hits += _search_narratives(session, team_id, user_id, q, limit, channel_id)
    hits.sort(key=lambda h: (h[0], -h[1].created_at.timestamp()))
    return [h for _, h in hits[:limit]]


def _candidates(session: Session, team_id: str, q: Query, table_name: str):  # noqa: ANN202
    """The newest CANDIDATES full-text matches in the workspace, with a score (smaller is better)."""
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        t = table(table_name, column("id"), column("team_id"), column("search_tsv"), column("created_at"))
        tsq = func.to_tsquery("simple", " & ".join(f"{w}:*" for w in q.words))
        query = " & ".join(f"{w}:*" for w in q.words)
        # Many matches: walking the newest rows backwards finds CANDIDATES of them soon. Fewer: the
        # GIN index's bitmap is faster, and `id + 0` stops the planner from walking backwards
        # anyway (its LIMIT estimate assumes matches are spread evenly; BENCHMARKS.md).
        found = _estimated_matches(session, table_name, query)
        newest = t.c.id if found > 20 * CANDIDATES else t.c.id + 0
        match = t.c.search_tsv.op("@@")(tsq)
        # What the GIN index would read: each word's matches.
        each = {w: _estimated_matches(session, table_name, f"{w}:*") for w in q.words} if q.words[1:] else {}
        read = sum(each.values()) if each else found
        if each and found <= 20 * CANDIDATES:
            # A word's prefix matches are collected whole before words are intersected: look up
            # only the rarest word in the index and check the others on its rows (two words, a
            # common and a middling one: 23 → 10 ms).
            rarest = min(each, key=each.__getitem__)
            match = t.c.search_tsv.op("@@")(func.to_tsquery("simple", f"{rarest}:*")) & func.ts_match_vq(
                t.c.search_tsv, tsq)
        if read > BIG_WORKSPACE and not _is_big(session, team_id):
            # The GIN bitmap would collect every workspace's matches of each word (a common word:
            # 56,000 rows, 40-60 ms), and the planner prices that low: check the workspace's own
            # rows instead (1,000 rows: 0.7 ms). ts_match_vq is `@@` that no index can serve.
            match = func.ts_match_vq(t.c.search_tsv, tsq)
        # Ranked after the LIMIT: only the CANDIDATES rows kept are ranked, not every match read.
        newest_matches = (select(t.c.id, t.c.search_tsv).where(t.c.team_id == team_id, match)
                          .order_by(newest.desc()).limit(CANDIDATES).subquery())
        return select(newest_matches.c.id.label("rowid"),
                      (-func.ts_rank_cd(newest_matches.c.search_tsv, tsq)).label("score")).subquery()
    # SQLite. Words are letters and digits, team ids too: both are safe inside quotes.
    fts = f"{table_name}_fts"
    text_columns = "text tool tags" if table_name == "wins" else "text tools checked"
    words = f"{{{text_columns}}} : ({' '.join(f'{chr(34)}{w}{chr(34)}*' for w in q.words)})"
    if _is_big(session, team_id):
        # Its rows are a good share of any word's matches: walk the word's matches newest first
        # (FTS5 drives: CROSS JOIN fixes the join order), keep this workspace's, stop at CANDIDATES.
        sql = (f"SELECT {fts}.rowid AS rowid, bm25({fts}, 0.0, 1.0, 1.0, 1.0) AS score FROM {fts} "
               f"CROSS JOIN {table_name} AS t ON t.id = {fts}.rowid "
               f"WHERE {fts} MATCH :words AND t.team_id = :team ORDER BY {fts}.rowid DESC LIMIT :n")
        params = {"words": words, "team": team_id, "n": CANDIDATES}
    else:
        # A small workspace: intersect the word with the workspace's own (short) list of rows.
        sql = (f"SELECT rowid, bm25({fts}, 0.0, 1.0, 1.0, 1.0) AS score FROM {fts} "
               f"WHERE {fts} MATCH :words ORDER BY rowid DESC LIMIT :n")
        params = {"words": f'team_id : "{team_id}" AND {words}', "n": CANDIDATES}
    return text(sql).bindparams(**params).columns(rowid=Integer, score=Float).subquery()


def drop_deleted_words(session: Session, *tables: str) -> None:
    """After deleting rows of `tables` ("wins", "narratives") in this transaction, leave none of
    their words in the search index (revision 0012_search_forgets).

    PostgreSQL keeps a row's words in the row itself (`search_tsv`): deleted with it. SQLite's FTS5
    only marks a deleted row's words as deleted and keeps them in its own tables (`wins_fts_data`)
    until the index segments are merged; 'optimize' merges them all into one now. It rewrites the
    whole index (about 0.1 s for 20,000 wins, 0.3-0.45 s for 100,000, 1.5 s for 300,000 on the
    2-core dev box), so it runs once per deletion (a workspace purge: once), not once per row."""
    if session.get_bind().dialect.name != "sqlite":
        return
    for table_name in tables:
        fts = {"wins": "wins_fts", "narratives": "narratives_fts"}[table_name]
        session.execute(text(f"INSERT INTO {fts}({fts}) VALUES ('optimize')"))


def _estimated_matches(session: Session, table_name: str, query: str) -> float:
    """PostgreSQL's own estimate of how many rows match (from the GIN statistics; no rows read)."""
    plan = session.execute(text(
        f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {table_name} WHERE search_tsv @@ to_tsquery('simple', :q)"
    ), {"q": query}).scalar_one()
    return float(plan[0]["Plan"]["Plan Rows"])


BIG_WORKSPACE = 50_000  # wins; where SQLite's two ways of searching cross over (bench/search.py)
_big: TTLMemo[str, bool] = TTLMemo(ttl=600.0)  # team id → more than BIG_WORKSPACE wins


def _is_big(session: Session, team_id: str) -> bool:
    """Has the workspace more than BIG_WORKSPACE wins? Asked of its time index, remembered a while."""
    return bool(_big.get_or_load(team_id, lambda: session.scalar(
        select(Win.id).where(Win.team_id == team_id).order_by(Win.team_id, Win.created_at)
        .offset(BIG_WORKSPACE).limit(1)) is not None))


def _search_wins(session: Session, team_id: str, user_id: str | None, q: Query, limit: int,
                 channel_id: str | None) -> list[tuple[float, Hit]]:
    filters = win_filters(session, team_id, user_id, q, channel_id=channel_id)
    if q.words:
        cand = _candidates(session, team_id, q, "wins")
        stmt = (select(Win, cand.c.score).join(cand, cand.c.rowid == Win.id).where(*filters)
                .order_by(cand.c.score, Win.created_at.desc(), Win.id.desc()))
    else:  # filters only: the newest matching wins (the workspace's time index, read backwards)
        stmt = select(Win, literal_column("0")).where(*filters).order_by(Win.created_at.desc(), Win.id.desc())
    return win_hits(session, team_id, session.execute(stmt.limit(limit)).all())


def win_hits(session: Session, team_id: str, rows: Sequence[Any]) -> list[tuple[float, Hit]]:
    """(score, Hit) for (Win, score) rows, with each win's owners (one query)."""
    owners: dict[int, list[str]] = {}
    if rows:
        for win_id, user in session.execute(
            select(WinOwner.win_id, WinOwner.user_id)
            .where(WinOwner.team_id == team_id, WinOwner.win_id.in_([w.id for w, _ in rows]))
            .order_by(WinOwner.win_id, WinOwner.position)
        ):
            owners.setdefault(win_id, []).append(user)
    return [
        (float(s), Hit(
            kind="win", id=w.id, author_id=w.author_id, owner_ids=tuple(owners.get(w.id) or (w.author_id,)),
            text=w.text, text_format=w.text_format, tool=w.tool, minutes_saved=w.minutes_saved,
            created_at=w.created_at,
            channel=w.message_channel if w.message_ts else w.source_channel,
            ts=w.message_ts or w.source_ts,
            permalink=None if w.message_ts else w.source_permalink,
        ))
        for w, s in rows
    ]


def _search_narratives(session: Session, team_id: str, user_id: str | None, q: Query,
                       limit: int, channel_id: str | None) -> list[tuple[float, Hit]]:
    cand = _candidates(session, team_id, q, "narratives")
    stmt = (select(Narrative, cand.c.score).join(cand, cand.c.rowid == Narrative.id).where(
        Narrative.team_id == team_id,
        visible_to(Narrative, viewer=user_id, channel_id=channel_id),
        ~_opted_out(team_id, Narrative.author_id),
    ).order_by(cand.c.score, Narrative.created_at.desc()).limit(limit))
    return [
        (float(s), Hit(
            kind="narrative", id=n.id, author_id=n.author_id, owner_ids=(n.author_id,), text=n.text,
            text_format=n.text_format, tool=n.tools, minutes_saved=n.minutes_saved, created_at=n.created_at,
            channel=n.message_channel, ts=n.message_ts, permalink=None,
        ))
        for n, s in session.execute(stmt).all()
    ]


def broader(q: Query) -> str | None:
    """A broader query to suggest when nothing was found (None: nothing to drop)."""
    if q.tool or q.tags or q.people or q.names:
        return " ".join(q.words) or None
    if len(q.words) > 1:
        return " ".join(q.words[:-1])
    return None

