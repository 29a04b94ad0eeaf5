"""Block Kit for usage narratives: the "how I use AI" story, the author's receipt, the modal."""

from __future__ import annotations

import json
from typing import Any

from bot.blocks.common import (
    button,
    context,
    ephemeral,
    input_block,
    mention,
    post_problem,
    section,
    text_input,
    user_text,
)
from bot.blocks.text import escape, truncate
from bot.blocks.tries import tried_blocks
from bot.blocks.words import hours
from bot.models import TEXT_PLAIN
from bot.services.narratives import NarrativeView
from bot.services.tries import STORY, Target

NARRATIVE_MODAL = "narrative_modal"
OPEN_NARRATIVE_MODAL = "open_narrative_modal"
RETRY_POST = "narrative_retry_post"

MAX_HOW = 3000
MAX_TOOLS = 200
MAX_CHECKED = 1500


def narrative_post(n: NarrativeView, *, tried: int = 0) -> tuple[str, list[dict[str, Any]]]:
    """The channel message: a leader's story is marked as leadership modeling AI use; it ends with
    "I tried it too" and how many people did (`tried`)."""
    if n.is_leader:
        headline = f":star2: *Leading by example:* {mention(n.author_id)} shares how they use AI"
    else:
        headline = f":bulb: *How I use AI*, by {mention(n.author_id)}"
    blocks: list[dict[str, Any]] = [section(headline), section(user_text(n.text, n.text_format, 2900))]
    if n.tools:
        blocks.append(section("*What I used:* " + user_text(n.tools, TEXT_PLAIN, 500)))
    if n.checked:
        blocks.append(section("*What I checked myself:* " + user_text(n.checked, TEXT_PLAIN, 1600)))
    facts = [f"Story #{n.id}"]
    if n.minutes_saved:
        facts.append(f":stopwatch: saves {hours(n.minutes_saved)}")
    if n.is_leader:
        facts.append("a leader modeling AI use")
    facts.append("share yours with `/aiwin narrate`")
    blocks.append(context("  ·  ".join(facts)))
    blocks += tried_blocks(Target(STORY, n.id), tried)
    fallback = truncate(f"How {mention(n.author_id)} uses AI: " + user_text(n.text, n.text_format, 300), 400)
    return fallback, blocks


def narrative_receipt(n: NarrativeView, *, created: bool) -> dict[str, Any]:
    title = (f":white_check_mark: Saved your AI story *#{n.id}*. Thanks for showing how you work!" if created
             else f":white_check_mark: Already saved as story *#{n.id}* (that arrived twice).")
    lines = [title]
    if n.tools or n.minutes_saved:
        understood = []
        if n.tools:
            understood.append(f"*Used:* {escape(n.tools)}")
        if n.minutes_saved:
            understood.append(f"*Saves:* {hours(n.minutes_saved)}")
        lines.append("  ·  ".join(understood))
    if n.channel_id:
        lines.append("I'm sharing it in this channel now.")
    return ephemeral(f"Saved your AI story #{n.id}.", [section("\n".join(lines))])


def narrative_post_problem(n: NarrativeView, error: str) -> tuple[str, list[dict[str, Any]]]:
    return post_problem("AI story", n.id, n.channel_id, error, RETRY_POST,
                        "Share your next story in an active channel.")


def open_modal_button(*, prompt_period: str | None = None, channel_id: str | None = None,
                      text: str = "Share how you use AI") -> dict[str, Any]:
    """The button other messages (leadership prompts) carry to open the narrative modal."""
    value = json.dumps({k: v for k, v in (("prompt_period", prompt_period), ("channel_id", channel_id)) if v})
    return button(text, OPEN_NARRATIVE_MODAL, value, style="primary")


def narrative_modal(*, channel_id: str | None = None, prompt_period: str | None = None) -> dict[str, Any]:
    channel_el: dict[str, Any] = {
        "type": "conversations_select", "action_id": "channel",
        "filter": {"include": ["public", "private"], "exclude_bot_users": True},
        "placeholder": {"type": "plain_text", "text": "Where to share it"},
    }
    if channel_id and channel_id[:1] in ("C", "G"):
        channel_el["initial_conversation"] = channel_id
    intro = "Tell the team how you actually use AI, step by step, so they can try it too."
    if prompt_period:
        intro = "Answering this week's leadership prompt: " + intro[0].lower() + intro[1:]
    blocks = [
        context(intro),
        input_block("tools", "What did you use?",
                    text_input("tools", max_length=MAX_TOOLS, placeholder="ChatGPT, Claude, Copilot…"),
                    optional=True),
        input_block("how", "How did you do it, step by step?",
                    text_input("how", max_length=MAX_HOW, multiline=True,
                               placeholder="1. I pasted the notes into… 2. I asked it to… 3. Then I…")),
        input_block("checked", "What did you check yourself?",
                    text_input("checked", max_length=MAX_CHECKED, multiline=True,
                               placeholder="Numbers against the source, tone, names…"), optional=True),
        input_block("saved", "Time saved", text_input("saved", max_length=40, placeholder="e.g. 30m, 2h, 1h30m"),
                    optional=True),
        input_block("channel", "Share in", channel_el, optional=True,
                    hint="Leave empty to save it without posting."),
    ]
    meta = json.dumps({"channel_id": channel_id, "prompt_period": prompt_period})
    return {
        "type": "modal",
        "callback_id": NARRATIVE_MODAL,
        "private_metadata": meta,
        "title": {"type": "plain_text", "text": "How I use AI"},
        "submit": {"type": "plain_text", "text": "Share"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": blocks,
    }
