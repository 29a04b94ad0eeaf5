"""What we know about a conversation from Slack: is it private, is the bot in it.

Privacy comes from conversations.info (`is_private`, `is_im`, `is_mpim`), never from the id's first
letter: a C… channel can be private, and a G… id can be a group DM. Answers are cached in `channels`
for a day (CHANNEL_TTL); membership changes we cause ourselves (conversations.join) are written at
once, so the bot asks Slack to join a channel once, not before every post.

Slack's side goes through a `ConversationsLike` adapter (bot/slack/conversations.py), so this module takes
and returns plain values."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import update
from sqlalchemy.orm import Session

from bot.db import Database
from bot.models import Channel, Narrative, Win, utcnow
from bot.models.upsert import upsert

log = logging.getLogger(__name__)

CHANNEL_TTL = timedelta(days=1)
# conversations.info answers after which we know the bot cannot see the conversation: Slack hides
# private channels it is not in, so such a conversation is not public.
HIDDEN_ERRORS = frozenset({"channel_not_found"})
# conversations.join answers that mean "not a public channel you can join".
NOT_JOINABLE = frozenset({"method_not_supported_for_channel_type", "is_archived", "channel_not_found"})


class ConversationsLike(Protocol):
    def info(self, channel_id: str) -> tuple[dict[str, Any] | None, str | None]: ...
    def join(self, channel_id: str) -> str | None: ...


@dataclass(frozen=True)
class ChannelInfo:
    channel_id: str
    is_private: bool | None  # None: Slack has not said (then treat as private)
    is_member: bool | None
    is_archived: bool = False
    name: str | None = None


def _from_slack(channel_id: str, obj: dict[str, Any]) -> ChannelInfo:
    private = bool(obj.get("is_private") or obj.get("is_im") or obj.get("is_mpim") or obj.get("is_group"))
    # A DM with the bot has no is_member; the bot is in it by definition.
    member = True if obj.get("is_im") else bool(obj.get("is_member"))
    return ChannelInfo(channel_id, private, member, bool(obj.get("is_archived")), obj.get("name"))


def remember(session: Session, team_id: str, info: ChannelInfo) -> None:
    """Store what Slack said about a conversation (an upsert: first contact from two threads is fine)."""
    values = {"team_id": team_id, "channel_id": info.channel_id, "name": info.name, "is_private": info.is_private,
              "is_member": info.is_member, "is_archived": info.is_archived, "checked_at": utcnow()}
    stmt = upsert(session.get_bind().dialect.name, Channel).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["team_id", "channel_id"],
        set_={k: stmt.excluded[k] for k in ("name", "is_private", "is_member", "is_archived", "checked_at")},
    )
    session.execute(stmt)


def cached(session: Session, team_id: str, channel_id: str) -> ChannelInfo | None:
    """The cached answer while it is fresh, else None."""
    row = session.get(Channel, (team_id, channel_id))
    if row is None or utcnow() - row.checked_at >= CHANNEL_TTL:
        return None
    return ChannelInfo(row.channel_id, row.is_private, row.is_member, row.is_archived, row.name)


def channel_info(db: Database, slack: ConversationsLike, team_id: str, channel_id: str) -> ChannelInfo:
    """The conversation as Slack describes it, from the cache when fresh. Transient Slack errors
    propagate (the caller's job is retried); an answer Slack will keep giving is cached."""
    with db.read(team_id) as session:
        known = cached(session, team_id, channel_id)
    if known is not None:
        return known
    obj, error = slack.info(channel_id)
    if obj is not None:
        info = _from_slack(channel_id, obj)
    elif error in HIDDEN_ERRORS:
        info = ChannelInfo(channel_id, True, False)
    else:  # e.g. missing_scope on an install from before the read scopes: unknown, so private
        log.warning("conversations.info for %s (team %s): %s; treating it as private", channel_id, team_id, error)
        return ChannelInfo(channel_id, None, None)
    with db.session(team_id) as session:
        remember(session, team_id, info)
    return info


def ensure_member(db: Database, slack: ConversationsLike, team_id: str, channel_id: str) -> ChannelInfo:
    """Join a public channel the bot is not in yet (Slack sends reactions only where the bot is a
    member), once. Private conversations are left alone: only a person can invite the bot there."""
    info = channel_info(db, slack, team_id, channel_id)
    if info.is_private is not False or info.is_member or info.is_archived:
        return info
    error = slack.join(channel_id)
    if error is None:
        info = ChannelInfo(channel_id, False, True, False, info.name)
    elif error == "method_not_supported_for_channel_type":
        info = ChannelInfo(channel_id, True, False, False, info.name)  # not a public channel after all
    elif error == "is_archived":
        info = ChannelInfo(channel_id, False, False, True, info.name)
    elif error == "channel_not_found":
        info = ChannelInfo(channel_id, True, False, False, info.name)
    else:  # e.g. missing_scope on an install from before channels:join: post anyway (chat:write.public)
        log.warning("could not join %s (team %s): %s", channel_id, team_id, error)
        return info
    with db.session(team_id) as session:
        remember(session, team_id, info)
    return info


def forget_membership(db: Database, team_id: str, channel_id: str) -> None:
    """Slack said the bot is not in the channel (e.g. removed): ask again next time."""
    with db.session(team_id) as session:
        session.execute(update(Channel).where(Channel.team_id == team_id, Channel.channel_id == channel_id)
                        .values(is_member=False, checked_at=utcnow() - CHANNEL_TTL)
                        .execution_options(synchronize_session=False))


def set_private(session: Session, model: type[Win] | type[Narrative], row_id: int, private: bool | None) -> None:
    """Record where a win or narrative was said (None leaves it unknown, i.e. private)."""
    if private is None:
        return
    session.execute(update(model).where(model.id == row_id).values(private=private)
                    .execution_options(synchronize_session=False))
