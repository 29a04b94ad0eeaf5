"""Who may see what was said where: the one privacy rule for win and narrative text.

A win or narrative said in a private conversation (private channel, DM, group DM; `private` True) —
or whose conversation's privacy is not known yet (`private` NULL) — may be shown only in that
conversation, to its author and recipients, and in an admin's export. Everywhere else (digests,
best-wins lists, team views, listings) shows only `private IS false` rows. Counts and hours are not
text: workspace totals include every row."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import or_

from bot.models import Narrative, Win


def shown_in(model: type[Win] | type[Narrative], channel_id: str | None = None) -> Any:
    """SQL condition for rows whose text may be shown in `channel_id` (None: outside any conversation)."""
    public = model.private.is_(False)
    return or_(public, model.channel_id == channel_id) if channel_id else public


def may_see(private: bool | None, said_in: str | None, people: Iterable[str], *, viewer: str | None,
            channel_id: str | None) -> bool:
    """The same rule for one row already loaded: `people` are its author and recipients."""
    if private is False:
        return True
    return (viewer is not None and viewer in set(people)) or (channel_id is not None and said_in == channel_id)
