"""Who may see what was said where: the one privacy rule for win and narrative text.

A win or narrative said in a private conversation (private channel, DM, group DM; `private` True) —
or whose conversation's privacy is not known yet (`private` NULL) — may be shown only in that
conversation, to its author and recipients, and in an admin's export. Everywhere else (digests,
best-wins lists, team views, listings) shows only `private IS false` rows. Counts and hours are not
text: workspace totals include every row."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import exists, or_, select

from bot.models import Narrative, Win, WinOwner


def visible_to(model: type[Win] | type[Narrative], *, viewer: str | None, channel_id: str | None = None) -> Any:
    """SQL condition for the rows whose text `viewer` may read where the answer is shown (`channel_id`:
    a channel everyone in it reads; None: privately to the viewer, in a DM or an ephemeral): rows
    shown there (`shown_in`), and the viewer's own (the author, a win's owners). Search and the AI
    coach (its answers, and everything it gives a model) both take it from here."""
    allowed = [shown_in(model, channel_id)]
    if viewer is not None:
        allowed.append(model.author_id == viewer)
        if model is Win:
            allowed.append(exists(select(WinOwner.win_id).where(WinOwner.team_id == Win.team_id,
                                                                WinOwner.win_id == Win.id,
                                                                WinOwner.user_id == viewer)))
    return or_(*allowed)


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
