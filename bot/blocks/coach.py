"""Block Kit for the AI coach: the greeting, answers quoted from the playbook with their links, the
citations that follow a model's answer, and the "log a win" draft with its Save button."""

from __future__ import annotations

from typing import Any

from bot.blocks.common import button, context, mention, mentions, section, user_text
from bot.blocks.ratelimit import rule, wait_words
from bot.blocks.text import escape, truncate
from bot.blocks.words import hours
from bot.services.coach import TRY, Answer, Draft, Prompt
from bot.services.digest import permalink
from bot.services.ratelimit import Limits
from bot.services.search import Hit

SAVE_DRAFT = "coach_save_win"  # the draft's Save button
QUOTE = 160  # characters of each item quoted

GREETING = ("Hi! I'm your AI coach. Ask me how colleagues here have used AI for something (\u201cHow have "
            "people used AI for customer interviews?\u201d), what to try this week, or say "
            "\u201clog a win: \u2026\u201d to draft one.")
HELP = ("Ask me things like \u201cHow have people here used AI for customer interviews?\u201d, \u201cWhat "
        "should I try this week?\u201d, or \u201clog a win: drafted the FAQ with Claude, saved 2h\u201d.")


def greeting() -> tuple[str, list[dict[str, Any]]]:
    return GREETING, [section(escape(GREETING))]


def help_message() -> tuple[str, list[dict[str, Any]]]:
    return HELP, [section(escape(HELP))]


def prompts_arg(prompts: tuple[Prompt, ...]) -> list[dict[str, str]]:
    """assistant.threads.setSuggestedPrompts' `prompts`."""
    return [{"title": p.title[:75], "message": p.message[:300]} for p in prompts]


def link_of(hit: Hit, base_url: str | None) -> str | None:
    return hit.permalink or permalink(hit.channel, hit.ts, base_url)


def item_line(hit: Hit, base_url: str | None, taught_by: str | None = None) -> str:
    """One quoted item: what, by whom, its facts and its link."""
    noun = "Story" if hit.kind == "narrative" else "Win"
    link = link_of(hit, base_url)
    name = f"<{link}|{noun} #{hit.id}>" if link else f"{noun} #{hit.id}"
    who = mentions(list(hit.owner_ids), limit=3)
    facts = []
    if hit.tool:
        facts.append(escape(truncate(hit.tool, 60)))
    if hit.minutes_saved:
        facts.append(f"saved {hours(hit.minutes_saved)}")
    if taught_by:
        facts.append(f":mortar_board: {mention(taught_by)} gave a teach-back on it")
    quote = user_text(hit.text, hit.text_format, QUOTE)
    return f"\u2022 {name} by {who}: \u201c{quote}\u201d" + (f" ({', '.join(facts)})" if facts else "")


def citations(answer: Answer, base_url: str | None) -> list[str]:
    return [item_line(h, base_url, answer.teachbacks.get(h.id) if h.kind == "win" else None) for h in answer.items]


def who_to_ask(answer: Answer) -> str | None:
    return f":raising_hand: *Who to ask:* {mentions(list(answer.ask), limit=5)}" if answer.ask else None


def slow_down(wait: float, limits: Limits) -> tuple[str, list[dict[str, Any]]]:
    """A question past the asker's search limit: it looks through the playbook as a search does, so it
    counts as one (ratelimit.SEARCH), and this one was not answered."""
    text = f"Slow down: that's a lot of questions in a short time. Ask again in {wait_words(wait)}."
    return text, [section(f":hourglass_flowing_sand: {text}"),
                  context(f"A question counts as a search: each person can search {rule(limits)}, so everyone's "
                          "answers stay quick.")]


def plain_answer(answer: Answer, base_url: str | None) -> tuple[str, list[dict[str, Any]]]:
    """The answer without a model: the items quoted, who to ask; or, with nothing found, a broader question."""
    if answer.empty:
        if answer.kind == TRY:
            text = ("I found nothing recent to suggest yet. Browse the latest wins with `/aiwin search`, "
                    "or log your own: \u201clog a win: \u2026\u201d.")
        elif not answer.topic:
            text = ("What would you like to know about? Name a task, e.g. \u201cHow have people here used AI for "
                    "customer interviews?\u201d")
            return text, [section(escape(text))]
        else:
            about = f" about \u201c{escape(answer.topic)}\u201d"
            text = f"I found no wins, stories or teach-backs{about} that I can show you here."
            if answer.broader:
                text += f" Try a broader question, like \u201c{escape(answer.broader)}\u201d"
            else:
                text += " Try a broader question, with fewer or more general words."
        return truncate(text, 300), [section(text)]
    if answer.kind == TRY:
        head = "Here is what colleagues have been copying lately. Try one this week:"
    else:
        head = (f"Here is how colleagues used AI for \u201c{escape(answer.topic)}\u201d:" if answer.topic
                else "Here is what colleagues shared:")
    blocks = [section(head + "\n" + "\n".join(citations(answer, base_url)))]
    ask = who_to_ask(answer)
    if ask:
        blocks.append(section(ask))
    blocks.append(context("Only what you may see is quoted. Copied one? Press :raised_hands: *I tried it too* on it."))
    return truncate(head, 300), blocks


def sources_blocks(answer: Answer, base_url: str | None) -> list[dict[str, Any]]:
    """What follows a model's streamed answer: the app's own citations (never the model's) and who to ask."""
    blocks = [section("*Sources*\n" + "\n".join(citations(answer, base_url)))]
    ask = who_to_ask(answer)
    if ask:
        blocks.append(section(ask))
    blocks.append(context("Written by a language model from the items above only; check the sources."))
    return blocks


def draft_message(d: Draft) -> tuple[str, list[dict[str, Any]]]:
    """The "log a win" draft: what was understood, and Save (nothing is stored before it is pressed)."""
    if d.too_long:
        text = "That win is too long for a draft here. Send it with `/aiwin <your win>` in a channel instead."
        return text, [section(text)]
    if not d.text.strip():
        text = ("Say what you did after \u201clog a win:\u201d, e.g. "
                "\u201clog a win: drafted the FAQ with Claude, saved 2h\u201d.")
        return text, [section(escape(text))]
    p = d.parsed
    facts = [f"*For:* {mentions(list(p.recipients)) if p.recipients else 'you'}",
             f"*Tool:* {escape(p.tool) if p.tool else '_none found_'}",
             f"*Time saved:* {hours(p.minutes_saved) if p.minutes_saved else '_none found_'}"]
    blocks = [
        section(":memo: *Draft AI win*\n" + user_text(d.text, "wire", 2000)),
        context("  \u00b7  ".join(facts)),
        {"type": "actions", "elements": [button("Save", SAVE_DRAFT, d.text, style="primary")]},
        context("Nothing is saved until you press Save. To celebrate it in a channel, use `/aiwin` there."),
    ]
    return "Draft AI win: press Save to record it.", blocks


def saved_message(win_id: int | None, *, created: bool, wait: str | None = None) -> dict[str, Any]:
    """The draft after Save (replaces it): saved, already saved, or refused by the per-person limit."""
    if win_id is None:
        text = f":hourglass: Slow down: you're logging wins quickly. Press Save again in {wait}."
        return {"replace_original": False, "text": text}
    text = (f":white_check_mark: Saved as AI win *#{win_id}*." if created
            else f":white_check_mark: Already saved as AI win *#{win_id}*.")
    return {"replace_original": True, "text": text, "blocks": [section(text)]}
