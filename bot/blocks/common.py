"""Small pure helpers shared by the block builders."""

from __future__ import annotations

from typing import Any

from bot.blocks.text import escape, mrkdwn, plain, render_wire_text, truncate
from bot.manifest import invite_hint
from bot.models import TEXT_WIRE

SECTION_LIMIT = 3000
CONTEXT_LIMIT = 2000  # keep context elements short; Slack allows 3000 but they are meant to be small


def user_text(text: str, text_format: str, limit: int = SECTION_LIMIT) -> str:
    """User-supplied text made safe for mrkdwn and cut to `limit` characters."""
    rendered = render_wire_text(text) if text_format == TEXT_WIRE else escape(text)
    return truncate(rendered, limit)


def mention(user_id: str) -> str:
    return f"<@{user_id}>"


def mentions(user_ids: tuple[str, ...] | list[str], limit: int = 10) -> str:
    shown = [mention(u) for u in user_ids[:limit]]
    more = len(user_ids) - len(shown)
    text = ", ".join(shown[:-1]) + (" and " if len(shown) > 1 else "") + shown[-1] if shown else ""
    return text + (f" and {more} more" if more > 0 else "")


def section(text: str, **extra: Any) -> dict[str, Any]:
    # verbatim: Slack must not auto-link or auto-mention anything in text we built. mrkdwn(): our own
    # copy's placeholders ("<id>") are shown as typed, here for every builder.
    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate(mrkdwn(text), SECTION_LIMIT),
                                        "verbatim": True}, **extra}


def context(*texts: str) -> dict[str, Any]:
    return {"type": "context",
            "elements": [{"type": "mrkdwn", "text": truncate(mrkdwn(t), CONTEXT_LIMIT), "verbatim": True}
                         for t in texts[:10]]}


def header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": plain(text, 150), "emoji": True}}


def button(text: str, action_id: str, value: str = "", style: str | None = None) -> dict[str, Any]:
    b: dict[str, Any] = {"type": "button", "action_id": action_id,
                         "text": {"type": "plain_text", "text": plain(text, 75), "emoji": True}}
    if value:
        b["value"] = value[:2000]
    if style:
        b["style"] = style
    return b


def ephemeral(text: str, blocks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A slash-command response body (also valid for respond())."""
    body: dict[str, Any] = {"response_type": "ephemeral", "text": truncate(mrkdwn(text), 3000)}
    if blocks:
        body["blocks"] = blocks[:50]
    return body


def post_problem(noun: str, item_id: int, channel_id: str | None, error: str, retry_action_id: str,
                 archived_hint: str) -> tuple[str, list[dict[str, Any]]]:
    """Told to the author when a post (a win, a story) could not be made; the item itself is saved."""
    where = f"<#{channel_id}>" if channel_id else "that channel"
    if error in ("not_in_channel", "channel_not_found"):
        why = (f"I can't post in {where}: I'm not a member (private channels need an invite). "
               f"Type `{invite_hint()}` there, then press *Post again*.")
    elif error == "is_archived":
        why = f"{where} is archived, so I can't post there. {archived_hint}"
    else:
        why = "Slack kept refusing the post for a while. Press *Post again* to try once more."
    text = f":warning: Your {noun} *#{item_id}* is saved, but it wasn't posted. {why}"
    blocks: list[dict[str, Any]] = [section(text)]
    if error != "is_archived":
        blocks.append({"type": "actions", "elements": [button("Post again", retry_action_id, str(item_id))]})
    return f"Your {noun} #{item_id} is saved, but I couldn't post it.", blocks


def text_input(action_id: str, *, max_length: int = 3000, multiline: bool = False, initial: str | None = None,
               placeholder: str | None = None) -> dict[str, Any]:
    """A plain_text_input element (Slack: initial_value within max_length, placeholder ≤ 150)."""
    el: dict[str, Any] = {"type": "plain_text_input", "action_id": action_id, "multiline": multiline,
                          "max_length": max_length}
    if initial:
        el["initial_value"] = initial[:max_length]
    if placeholder:
        el["placeholder"] = {"type": "plain_text", "text": plain(placeholder, 150)}
    return el


def input_block(block_id: str, label: str, element: dict[str, Any], *, optional: bool = False,
                hint: str | None = None) -> dict[str, Any]:
    """An input block of a modal (label and hint ≤ 2000 characters)."""
    b: dict[str, Any] = {"type": "input", "block_id": block_id, "optional": optional, "element": element,
                         "label": {"type": "plain_text", "text": plain(label, 2000)}}
    if hint:
        b["hint"] = {"type": "plain_text", "text": plain(hint, 2000)}
    return b
