"""Editing a win so that saving it unchanged changes nothing.

A win recorded by command is stored in Slack's wire format (`<@U1|alice> cut &lt;b&gt;…`); the edit
form shows what the person wrote instead (`readable_text`: recipients in the people picker, other
mentions as @name, entities decoded) and remembers a fingerprint of exactly what it showed. On
save, text equal to what was shown keeps the stored text and its format untouched (so the
celebration renders byte for byte as before); any other text is stored as the plain text typed."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.services.people import known_names
from bot.services.wins import WinView, update_win
from bot.services.wintext import parse_win_text, readable_text


@dataclass(frozen=True)
class EditForm:
    text: str  # what the "What was done" field shows
    shown: str  # fingerprint of `text`, carried in the modal's private_metadata


def fingerprint(text: str) -> str:
    return hashlib.sha256(text.strip().encode("utf-8", "surrogatepass")).hexdigest()[:32]


def edit_form(session: Session, win: WinView) -> EditForm:
    """The text the edit form shows for `win`, and its fingerprint."""
    mentioned = parse_win_text(win.text).recipients if win.text_format == "wire" else ()
    names = known_names(session, win.team_id, mentioned)
    omit = () if win.is_own else win.owner_ids
    text = readable_text(win.text, win.text_format, names=names, omit_leading=omit).strip()
    return EditForm(text=text, shown=fingerprint(text))


def save_edit(
    session: Session,
    win_id: int,
    editor_id: str,
    *,
    shown: str | None,
    text: str,
    recipients: tuple[str, ...],
    tool: str | None,
    minutes_saved: int | None,
    how: str | None,
    reinvested_in: str | None,
) -> WinView | None:
    """Apply the edit form (its author only); text the form showed unchanged keeps the stored text."""
    unchanged = shown is not None and fingerprint(text) == shown
    return update_win(session, win_id, editor_id, text=None if unchanged else text, recipients=recipients,
                      tool=tool, minutes_saved=minutes_saved, how=how, reinvested_in=reinvested_in)
