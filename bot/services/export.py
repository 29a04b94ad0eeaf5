"""CSV exports of a workspace's data (or one person's), streamed: rows are read in batches from
a server-side cursor and written as they come, so memory stays flat for a million wins.

Format: UTF-8, a header row, RFC 4180 quoting; times are ISO 8601 in UTC (`2026-03-02T10:00:00Z`);
lists (owners, tags) are space-separated. `text` is what the person wrote (`readable_text`: mentions
as @name from the people the app knows, else the name Slack sent, else the user id; `&amp;` as `&`;
`<!channel>` as `@channel`; links as `label (url)`); `text_slack_format` keeps Slack's wire format
for text that came in by command (empty for text typed into a form).

Spreadsheet formula injection: a text cell starting with `=`, `+`, `-`, `@`, a tab or a carriage
return gets a leading `'` (OWASP's advice), so Excel, Sheets and LibreOffice show it as text
instead of running it. Numbers, ids and times never start with those characters, so only
user-typed text is ever changed; a program reading the file back strips one leading `'` from
such cells (see `unguard`)."""

from __future__ import annotations

import csv
import itertools
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import IO, Any

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.orm import Session

from bot.models import TEXT_WIRE, Narrative, TeachBack, Win, WinOwner
from bot.services.people import known_names
from bot.services.wintext import mentions, readable_text

EXPORT = "export"  # the job that sends an export by DM (bot/jobs/export.py)
BATCH = 1000
WIN_COLUMNS = ("id", "created_at", "author_id", "owner_ids", "channel_id", "text", "tool", "minutes_saved",
               "reinvested_in", "tags", "message_ts", "text_slack_format")
NARRATIVE_COLUMNS = ("id", "created_at", "author_id", "is_leader", "channel_id", "text", "tools", "checked",
                     "minutes_saved", "prompt_period", "message_ts", "text_slack_format")
TEACHBACK_COLUMNS = ("id", "win_id", "owner_id", "status", "first_manager_id", "created_at", "invited_at",
                     "accepted_at", "declined_at", "done_at", "updated_at")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_CHARS = frozenset(_FORMULA_START)


def guard(value: Any) -> str:
    """One CSV cell: None → empty, times → ISO 8601 UTC, text guarded against formula injection.
    (Called for every cell of a million-row export: the common types are tested first, by exact type.)"""
    kind = type(value)
    if kind is str:
        return "'" + value if value[:1] in _FORMULA_CHARS else value
    if value is None:
        return ""
    if kind is int:
        return "'" + str(value) if value < 0 else str(value)
    if kind is bool:
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.tzinfo is not UTC:
            value = value.astimezone(UTC)
        return value.isoformat(timespec="seconds")[:-6] + "Z"  # "…+00:00" → "…Z"
    text = str(value)
    return "'" + text if text[:1] in _FORMULA_CHARS else text


def unguard(cell: str) -> str:
    """The stored text of a guarded cell (for programs reading an export back)."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(_FORMULA_START) else cell


def _write(out: IO[str], columns: Sequence[str], rows: Iterable[Sequence[Any]], *, ready: bool = False) -> int:
    """`ready`: the rows' cells are guarded already (win_rows guards only the cells that need it)."""
    rows = iter(rows)
    first = next(rows, None)  # runs the query: if it fails, not even the header has been written
    writer = csv.writer(out)
    writer.writerow(columns)
    n = 0
    for row in itertools.chain([first] if first is not None else [], rows):
        writer.writerow(row if ready else [guard(v) for v in row])
        n += 1
    return n


def _streamed(session: Session, stmt: Any) -> Iterable[list[Any]]:
    """Batches of rows from a server-side cursor (psycopg) / an incrementally stepped SQLite cursor."""
    for batch in session.execute(stmt.execution_options(yield_per=BATCH)).partitions():
        yield list(batch)


def _readable(session: Session, team_id: str, batch: list[Any]) -> list[tuple[str, str]]:
    """(what the person wrote, the wire form or "") for each row's `text`/`text_format`."""
    wire = [r.text for r in batch if r.text_format == TEXT_WIRE]
    names = known_names(session, team_id, (u for t in wire for u in mentions(t)))
    return [(readable_text(r.text, r.text_format, names=names), r.text if r.text_format == TEXT_WIRE else "")
            for r in batch]


def win_rows(session: Session, team_id: str, *, since: datetime | None = None,
             user_id: str | None = None) -> Iterable[tuple[Any, ...]]:
    """The workspace's wins (or those a person wrote or owns), oldest first, as CSV rows."""
    stmt = (
        select(Win.id, Win.created_at, Win.author_id, _owners_of_win(session), Win.channel_id, Win.text,
               Win.text_format, Win.tool, Win.minutes_saved, Win.reinvested_in, Win.tags, Win.message_ts)
        .where(Win.team_id == team_id)
        .order_by(Win.created_at, Win.id)
    )
    if since is not None:
        stmt = stmt.where(Win.created_at >= since)
    if user_id is not None:
        owned = select(WinOwner.win_id).where(WinOwner.team_id == team_id, WinOwner.user_id == user_id)
        stmt = stmt.where(or_(Win.author_id == user_id, Win.id.in_(owned)))
    # Guarded cell by cell where a person's words or a time are (ids, counts, timestamps and the fixed
    # destination keys cannot start a formula; csv writes None as an empty cell): a million rows, 12 cells each.
    for batch in _streamed(session, stmt):
        for r, (text, wire) in zip(batch, _readable(session, team_id, batch), strict=True):
            yield (r.id, guard(r.created_at), r.author_id, _in_order(r.owners), r.channel_id, guard(text),
                   guard(r.tool), r.minutes_saved, r.reinvested_in, guard(r.tags), r.message_ts, guard(wire))


def _owners_of_win(session: Session) -> Any:
    """Each win's owners as one "position:user …" string, read with the win (one index look-up per row in
    the database, not a query per batch): neither database orders an aggregate's input without syntax of
    its own, so the positions travel along and `_in_order` sorts by them."""
    packed = cast(WinOwner.position, String) + ":" + WinOwner.user_id
    agg = func.string_agg(packed, " ") if session.get_bind().dialect.name == "postgresql" else \
        func.group_concat(packed, " ")
    return select(agg).where(WinOwner.win_id == Win.id).scalar_subquery().label("owners")


def _in_order(packed: str | None) -> str:
    if not packed:
        return ""
    if " " not in packed:  # one owner, the common case
        return packed.partition(":")[2]
    pairs = (part.partition(":") for part in packed.split(" "))
    return " ".join(user for _, user in sorted((int(pos), user) for pos, _, user in pairs))


def narrative_rows(session: Session, team_id: str, *, since: datetime | None = None,
                   user_id: str | None = None) -> Iterable[tuple[Any, ...]]:
    stmt = (
        select(Narrative.id, Narrative.created_at, Narrative.author_id, Narrative.is_leader,
               Narrative.channel_id, Narrative.text, Narrative.text_format, Narrative.tools, Narrative.checked,
               Narrative.minutes_saved, Narrative.prompt_period, Narrative.message_ts)
        .where(Narrative.team_id == team_id)
        .order_by(Narrative.created_at, Narrative.id)
    )
    if since is not None:
        stmt = stmt.where(Narrative.created_at >= since)
    if user_id is not None:
        stmt = stmt.where(Narrative.author_id == user_id)
    for batch in _streamed(session, stmt):
        for r, (text, wire) in zip(batch, _readable(session, team_id, batch), strict=True):
            yield (r.id, r.created_at, r.author_id, r.is_leader, r.channel_id, text, r.tools, r.checked,
                   r.minutes_saved, r.prompt_period, r.message_ts, wire)


def teachback_rows(session: Session, team_id: str, *, since: datetime | None = None,
                   user_id: str | None = None) -> Iterable[tuple[Any, ...]]:
    stmt = (
        select(TeachBack.id, TeachBack.win_id, TeachBack.owner_id, TeachBack.status,
               TeachBack.first_manager_id, TeachBack.created_at, TeachBack.invited_at,
               TeachBack.accepted_at, TeachBack.declined_at, TeachBack.done_at, TeachBack.updated_at)
        .where(TeachBack.team_id == team_id)
        .order_by(TeachBack.id)
    )
    if since is not None:
        stmt = stmt.where(TeachBack.created_at >= since)
    if user_id is not None:
        stmt = stmt.where(TeachBack.owner_id == user_id)
    for batch in _streamed(session, stmt):
        yield from (tuple(r) for r in batch)


def write_wins(session: Session, out: IO[str], team_id: str, *, since: datetime | None = None,
               user_id: str | None = None) -> int:
    """Write the wins CSV to `out`; returns the number of data rows."""
    return _write(out, WIN_COLUMNS, win_rows(session, team_id, since=since, user_id=user_id), ready=True)


@dataclass(frozen=True)
class ExportFile:
    path: str
    filename: str
    title: str
    label: str  # "AI wins", "usage narratives", "teach-backs"
    rows: int


def write_export(session: Session, team_id: str, directory: str, *, user_id: str | None = None,
                 today: date | None = None) -> list[ExportFile]:
    """Wins, narratives and teach-backs as three CSV files in `directory` (the workspace's, or
    with `user_id` that person's own: wins they wrote or own, their narratives and teach-backs)."""
    today = today or datetime.now(UTC).date()
    prefix = "aiwins-my" if user_id else f"aiwins-{team_id}"
    whose = "Your" if user_id else "All"
    parts = (
        ("wins", "AI wins", WIN_COLUMNS, win_rows(session, team_id, user_id=user_id)),
        ("narratives", "usage narratives", NARRATIVE_COLUMNS,
         narrative_rows(session, team_id, user_id=user_id)),
        ("teachbacks", "teach-backs", TEACHBACK_COLUMNS, teachback_rows(session, team_id, user_id=user_id)),
    )
    files = []
    for name, label, columns, rows in parts:
        filename = f"{prefix}-{name}-{today.isoformat()}.csv"
        path = os.path.join(directory, filename)
        with open(path, "w", newline="", encoding="utf-8") as out:
            n = _write(out, columns, rows, ready=name == "wins")
        files.append(ExportFile(path, filename, f"{whose} {label} ({today.isoformat()})", label, n))
    return files
