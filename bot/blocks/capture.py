"""The win form opened by the shortcuts: the `/aiwin` modal (bot/blocks/win.py), filled from a
message ("Record as AI win") or with a channel picker that defaults to where you are ("Log an AI win").
Built on the one win modal, so the form and its submission stay the same everywhere."""

from __future__ import annotations

import json
from typing import Any

from bot.blocks.common import context
from bot.blocks.modals import loading_modal
from bot.blocks.text import escape
from bot.blocks.win import OTHER_TOOL, WIN_MODAL, win_modal
from bot.services.capture import Draft
from bot.services.wintext import KNOWN_TOOLS, MAX_RECIPIENTS

SOURCE_KEY = "source"  # in private_metadata: the message a win is recorded from
RECORD_TITLE = "Record as AI win"


def _element(view: dict[str, Any], block_id: str) -> dict[str, Any] | None:
    block = next((b for b in view["blocks"] if b.get("block_id") == block_id), None)
    return block["element"] if block else None


def message_win_modal(draft: Draft, *, permalink: str | None, response_url: str | None,
                      policy_url: str | None = None) -> dict[str, Any]:
    """The win form filled from a message, celebrated in that message's thread (so no channel picker)."""
    view = win_modal(channel_id=draft.source_channel, policy_url=policy_url)
    view["blocks"] = [b for b in view["blocks"] if b.get("block_id") != "channel"]
    if draft.recipients and (who := _element(view, "who")) is not None:
        who["initial_users"] = list(draft.recipients)[:MAX_RECIPIENTS]
    if (what := _element(view, "what")) is not None and draft.text:
        what["initial_value"] = draft.text[: what.get("max_length", 3000)]
    tool = _element(view, "tool")
    if draft.tool and tool is not None:
        known = next((o for o in tool["options"] if o["value"] == draft.tool and o["value"] in KNOWN_TOOLS), None)
        if known:
            tool["initial_option"] = known
        else:
            tool["initial_option"] = next(o for o in tool["options"] if o["value"] == OTHER_TOOL)
            if (other := _element(view, "other_tool")) is not None:
                other["initial_value"] = draft.tool[:80]
    if draft.minutes_saved and (saved := _element(view, "saved")) is not None:
        saved["initial_value"] = f"{draft.minutes_saved}m"
    link = f"<{permalink}|the message>" if permalink else "the message"
    view["blocks"].insert(0, context(f":speech_balloon: From {link} in <#{escape(draft.source_channel)}>; "
                                     "it will be celebrated in its thread."))
    view["private_metadata"] = json.dumps({
        "channel_id": draft.source_channel, "win_id": None,
        SOURCE_KEY: {"channel": draft.source_channel, "ts": draft.source_ts, "thread_ts": draft.source_thread_ts,
                     "permalink": permalink, "response_url": response_url},
    })
    view["title"] = {"type": "plain_text", "text": RECORD_TITLE}
    return view


def message_win_loading() -> dict[str, Any]:
    """Opened at once by the message shortcut, while the names and the link are looked up."""
    return loading_modal(RECORD_TITLE, "Reading the message…", callback_id=WIN_MODAL)


def global_win_modal(*, policy_url: str | None = None) -> dict[str, Any]:
    """The win form from anywhere: the channel picker starts on the conversation you are in."""
    view = win_modal(channel_id=None, policy_url=policy_url)
    if (channel := _element(view, "channel")) is not None:
        channel["default_to_current_conversation"] = True
    return view
