"""Block Kit for wins: the celebration, the author's receipt, help, and the win modal."""

from __future__ import annotations

import json
from typing import Any

from bot.blocks.common import (
    button,
    context,
    ephemeral,
    input_block,
    mention,
    mentions,
    section,
    text_input,
    user_text,
)
from bot.blocks.common import post_problem as common_post_problem
from bot.blocks.modals import WIN_ONE_LINE
from bot.blocks.ratelimit import typed
from bot.blocks.text import escape, plain, truncate
from bot.blocks.tries import tried_blocks
from bot.blocks.words import hours
from bot.models import TEXT_PLAIN
from bot.services.tries import WIN, Target
from bot.services.win_edit import EditForm
from bot.services.wins import EDIT_BY_TRIGGER, MAX_MINUTES_SAVED, REINVEST_CATEGORIES, WinView, counted_minutes
from bot.services.wintext import KNOWN_TOOLS, MAX_RECIPIENTS, ParsedWin

WIN_MODAL = "win_modal"
OTHER_TOOL = "__other__"


def celebration(win: WinView, *, teachback_emoji: str = "mortar_board",
                tried: int = 0) -> tuple[str, list[dict[str, Any]]]:
    """The channel message for a win: fallback text and blocks (well inside every limit), ending with
    "I tried it too" and how many people did (`tried`)."""
    who = mentions(list(win.owner_ids))
    headline = f":trophy: *AI win* for {who}" if not win.is_own else f":trophy: *AI win* by {who}"
    blocks: list[dict[str, Any]] = [
        section(headline),
        section(user_text(win.text, win.text_format, 2900)),
    ]
    if win.how:
        blocks.append(section("*How:* " + user_text(win.how, TEXT_PLAIN, 2800)))
    facts = []
    if win.tool:
        facts.append(f":robot_face: {escape(win.tool)}")
    if win.minutes_saved:
        facts.append(f":stopwatch: saved {hours(win.minutes_saved)}")
    if win.reinvested_in:
        facts.append(f":seedling: time went to {REINVEST_CATEGORIES.get(win.reinvested_in, 'other')}")
    if win.tags:
        facts.append(" ".join("#" + escape(t) for t in win.tags[:10]))
    if facts:
        blocks.append(context(truncate("  ·  ".join(facts), 1900)))
    meta = f"Win #{win.id}"
    if win.source == "workflow":  # a workflow spoke for its author: say so, never silently
        meta += f" · recorded by a Workflow Builder workflow for {mention(win.author_id)}"
    elif not win.is_own:
        meta += f" · shared by {mention(win.author_id)}"
    meta += f" · managers: react :{teachback_emoji}: to nominate a teach-back"
    blocks.append(context(meta))
    blocks += tried_blocks(Target(WIN, win.id), tried)
    fallback = truncate(f"AI win for {who}: " + user_text(win.text, win.text_format, 300), 400)
    return fallback, blocks


def receipt(win: WinView, *, created: bool, dropped_minutes: int | None = None) -> dict[str, Any]:
    """The ephemeral answer to the author once the win is recorded: what was understood, how to fix it."""
    title = f":white_check_mark: Saved your AI win *#{win.id}*." if created else (
        f":white_check_mark: Already saved as win *#{win.id}* (that command arrived twice)."
    )
    return _receipt(title, f"Saved your AI win #{win.id}.", win.owner_ids if not win.is_own else (), win.tool,
                    win.minutes_saved, win.tags, dropped_minutes, win.channel_id, str(win.id),
                    f"Not right? Press Edit, or remove it with `/aiwin delete {win.id}`.")


def accepted(parsed: ParsedWin, *, channel_id: str | None, trigger_id: str) -> dict[str, Any]:
    """The answer to `/aiwin <win>` before the win is recorded (the job worker records it just after the
    ack): what was understood, with an Edit button that finds the win by the command's trigger_id."""
    minutes, dropped = counted_minutes(parsed.minutes_saved)
    return _receipt(":white_check_mark: Got your AI win.", "Got your AI win.", parsed.recipients, parsed.tool,
                    minutes, parsed.tags, dropped, channel_id, f"{EDIT_BY_TRIGGER}{trigger_id}",
                    "Not right? Press Edit; its number for `/aiwin delete` is on the celebration.")


def too_many_people(count: int, wire_text: str) -> dict[str, Any]:
    """The answer to a command (or the note after one) naming more than MAX_RECIPIENTS people: nothing
    was saved, the bound, an example, and what they typed to send again."""
    lead = f"That win names {count} people; a win can name at most {MAX_RECIPIENTS}. Nothing was saved."
    blocks = [
        section(f":raised_hand: That win names *{count} people*, and a win can name at most *{MAX_RECIPIENTS}*, "
                "so it was *not* saved."),
        typed(wire_text),
        context(f"Name up to {MAX_RECIPIENTS} people, e.g. {WIN_ONE_LINE}. For a bigger group, record it as "
                "your own win and say who took part in the text."),
    ]
    return ephemeral(lead, blocks)


def _receipt(title: str, fallback: str, for_: tuple[str, ...], tool: str | None, minutes: int | None,
             tags: tuple[str, ...], dropped_minutes: int | None, channel_id: str | None, edit_value: str,
             hint: str) -> dict[str, Any]:
    understood = [
        f"*For:* {mentions(list(for_)) if for_ else 'you'}",
        f"*Tool:* {escape(tool) if tool else '_none found — say “with ChatGPT”_'}",
        f"*Time saved:* {hours(minutes) if minutes else '_none found — say “saved 2h”_'}",
    ]
    if tags:
        understood.append("*Tags:* " + " ".join("#" + escape(t) for t in tags[:10]))
    lines = [title, "  ·  ".join(understood)]
    if dropped_minutes is not None and dropped_minutes <= 0:
        lines.append(f":warning: I didn't count “-{hours(-dropped_minutes)}” saved: time saved can't be negative. "
                     "Use *Edit* to put the right time.")
    elif dropped_minutes is not None:
        lines.append(
            f":warning: I didn't count {escape(hours(dropped_minutes))} saved: one win can save at most "
            f"{hours(MAX_MINUTES_SAVED)}. Use *Edit* to put the right time."
        )
    if channel_id:
        lines.append("I'm posting the celebration in this channel now.")
    blocks = [
        section("\n".join(lines)),
        {"type": "actions", "elements": [button("Edit", "win_edit", edit_value)]},
        context(hint),
    ]
    return ephemeral(fallback, blocks)


def workflow_receipt(win: WinView) -> tuple[str, list[dict[str, Any]]]:
    """The DM to the person a workflow recorded a win for: it spoke in their name, so they hear of it."""
    text = (f":robot_face: A Workflow Builder workflow recorded AI win *#{win.id}* in your name:\n"
            + user_text(win.text, win.text_format, 600))
    return (f"A workflow recorded AI win #{win.id} in your name.",
            [section(text), context(f"Not yours, or not right? Remove it with `/aiwin delete {win.id}`.")])


def post_problem(win: WinView, error: str) -> tuple[str, list[dict[str, Any]]]:
    return common_post_problem("AI win", win.id, win.channel_id, error, "win_retry_post",
                               "Log your next win in an active channel.")


HELP_TEXT = """*AI Wins* — celebrate smart AI use. Examples:
• `/aiwin @alice drafted the Q3 board memo with ChatGPT, saved 3h #reporting` — a shout-out
• `/aiwin cut test triage from 2h to 20m with Copilot` — your own win
• `/aiwin` — open a form with every field
• `/aiwin narrate <how you used AI, step by step>` — share a usage story
• `/aiwin stats` · `/aiwin teachbacks` · `/aiwin policy` · `/aiwin help`
Time saved: `saved 3h`, `45m saved`, `90 min`, `2h → 20m`. Tools: ChatGPT, Claude, Copilot, Gemini, \
Cursor… or `with <Tool>`. Tags: `#reporting`.
Managers react :{emoji}: on a win to nominate its owner for a teach-back. Copied someone's practice? \
Press :raised_hands: *I tried it too* on it.
Ask the *AI coach* how colleagues used AI for something: in the AI apps pane, or `@aiwins <question>` \
in a channel (`/aiwin coach` says more)."""


def help_message(teachback_emoji: str = "mortar_board") -> dict[str, Any]:
    return ephemeral("How to use /aiwin", [section(HELP_TEXT.replace("{emoji}", teachback_emoji))])


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": plain(text, 75)}, "value": value[:150]}


def win_modal(
    *,
    channel_id: str | None,
    win: WinView | None = None,
    policy_url: str | None = None,
    form: EditForm | None = None,
) -> dict[str, Any]:
    """The modal behind a bare `/aiwin` (and the Edit button, prefilled with `win` and the `form` text)."""
    tool_options = [_option(t, t) for t in KNOWN_TOOLS[:98]] + [_option("Other (type it below)", OTHER_TOOL)]
    tool_el: dict[str, Any] = {"type": "static_select", "action_id": "tool", "options": tool_options,
                               "placeholder": {"type": "plain_text", "text": "Pick a tool"}}
    other_tool = ""
    if win and win.tool:
        if win.tool in KNOWN_TOOLS[:98]:
            tool_el["initial_option"] = _option(win.tool, win.tool)
        else:
            tool_el["initial_option"] = _option("Other (type it below)", OTHER_TOOL)
            other_tool = win.tool
    reinvest_el: dict[str, Any] = {
        "type": "static_select", "action_id": "reinvest",
        "placeholder": {"type": "plain_text", "text": "Customers, learning, rest…"},
        "options": [_option(label, key) for key, label in REINVEST_CATEGORIES.items()],
    }
    if win and win.reinvested_in in REINVEST_CATEGORIES:
        reinvest_el["initial_option"] = _option(REINVEST_CATEGORIES[win.reinvested_in], win.reinvested_in)

    who_el: dict[str, Any] = {"type": "multi_users_select", "action_id": "who", "max_selected_items": MAX_RECIPIENTS,
                              "placeholder": {"type": "plain_text", "text": "Leave empty for yourself"}}
    if win and not win.is_own:
        who_el["initial_users"] = list(win.owner_ids)[:MAX_RECIPIENTS]
    minutes = win.minutes_saved if win else None
    blocks = [
        input_block("who", "Whose win is it?", who_el, optional=True, hint="Leave empty if it's your own win."),
        input_block("what", "What was done with AI?",
                    text_input("what", multiline=True, initial=(form.text if form else None),
                               placeholder="Drafted the Q3 board memo with ChatGPT")),
        input_block("tool", "Which AI tool?", tool_el, optional=True),
        input_block("other_tool", "Other tool", text_input("other_tool", max_length=80, initial=other_tool),
                    optional=True),
        input_block("saved", "Time saved", text_input("saved", max_length=40,
                                                      initial=(f"{minutes}m" if minutes else None),
                                                      placeholder="e.g. 3h, 45m, 1h30m"), optional=True),
        input_block("reinvest", "Where did the saved time go?", reinvest_el, optional=True),
        input_block("how", "How was it done?",
                    text_input("how", multiline=True, initial=(win.how if win else None),
                               placeholder="The prompt, the steps, what you checked"),
                    optional=True),
    ]
    if win is None:
        channel_el: dict[str, Any] = {
            "type": "conversations_select", "action_id": "channel",
            "filter": {"include": ["public", "private"], "exclude_bot_users": True},
            "placeholder": {"type": "plain_text", "text": "Where to celebrate it"},
        }
        if channel_id and channel_id[:1] in ("C", "G"):
            channel_el["initial_conversation"] = channel_id
        blocks.append(input_block("channel", "Share in", channel_el, optional=True,
                                  hint="Leave empty to save it without posting."))
    if policy_url:
        blocks.append(context(f"Our AI policy: <{policy_url}|read it here>"))
    meta = json.dumps({"channel_id": channel_id, "win_id": win.id if win else None,
                       **({"shown": form.shown} if form else {})})
    return {
        "type": "modal",
        "callback_id": WIN_MODAL,
        "private_metadata": meta,
        "title": {"type": "plain_text", "text": "Edit AI win" if win else "Log an AI win"},
        "submit": {"type": "plain_text", "text": "Save"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": blocks,
    }
