"""Block Kit for `/aiwin search` and the App Home search box: results, "nothing found", usage."""

from __future__ import annotations

from typing import Any

from bot.blocks.common import context, ephemeral, mentions, section, user_text
from bot.blocks.modals import loading_modal
from bot.blocks.ratelimit import rule, wait_words
from bot.blocks.text import escape
from bot.blocks.words import hours
from bot.services.ratelimit import Limits
from bot.services.search import Hit, Query

SEARCH_ACTION = "home_search"  # the App Home search box's button
SEARCH_INPUT = "home_search_input"
SEARCH_BLOCK = "home_search"
SEARCH_TITLE = "Search AI wins"
SEARCH_ONE_LINE = "`/aiwin search deck interviews`"

USAGE = ("Search the wins and stories you may see: `/aiwin search deck interviews`. "
         "Narrow it with `tool:Claude`, a `#tag` or an `@person`.")


def describe(q: Query) -> str:
    """The query as a person typed it, escaped for mrkdwn."""
    parts = [escape(" ".join(q.words))] if q.words else []
    if q.tool:
        parts.append(f"tool:{escape(q.tool)}")
    parts += [f"#{escape(t)}" for t in q.tags]
    parts += [f"<@{p}>" for p in q.people]
    parts += [f"@{escape(n)}" for n in q.names]
    return " ".join(parts)


def _hit_blocks(hit: Hit, link: str | None) -> list[dict[str, Any]]:
    who = mentions(list(hit.owner_ids))
    label = "Story" if hit.kind == "narrative" else "Win"
    head = f"*{label} #{hit.id}* · {who}"
    if link:
        head += f" · <{link}|open>"
    facts = [f"{hit.created_at:%b} {hit.created_at.day}, {hit.created_at:%Y}"]
    if hit.tool:
        facts.append(f":robot_face: {escape(hit.tool[:80])}")
    if hit.minutes_saved:
        facts.append(f":stopwatch: saved {hours(hit.minutes_saved)}")
    return [section(head + "\n" + user_text(hit.text, hit.text_format, 500)), context("  ·  ".join(facts))]


def results(q: Query, hits: list[Hit], links: dict[tuple[str, int], str]) -> list[dict[str, Any]]:
    n = len(hits)
    blocks: list[dict[str, Any]] = [
        section(f":mag: {'The best match' if n == 1 else f'The {n} best matches'} for *{describe(q)}*:")
    ]
    for hit in hits:
        blocks += _hit_blocks(hit, links.get((hit.kind, hit.id)))
    return blocks


def nothing_found(q: Query, suggestion: str | None) -> list[dict[str, Any]]:
    text = f":mag: Nothing found for *{describe(q)}* among the wins and stories you can see."
    if suggestion:
        text += f" Try a broader search: `/aiwin search {escape(suggestion)}`."
    else:
        text += " Try fewer or shorter words (a word's start is enough: `interv` finds interviews)."
    return [section(text)]


def search_message(q: Query, hits: list[Hit], links: dict[tuple[str, int], str],
                   suggestion: str | None) -> dict[str, Any]:
    """The ephemeral answer to `/aiwin search`."""
    if hits:
        return ephemeral(f"{len(hits)} matches for {describe(q)}", results(q, hits, links))
    return ephemeral(f"Nothing found for {describe(q)}", nothing_found(q, suggestion))


def usage() -> dict[str, Any]:
    return ephemeral(USAGE)


def results_modal(q: Query, hits: list[Hit], links: dict[tuple[str, int], str],
                  suggestion: str | None) -> dict[str, Any]:
    """The App Home search answer: a modal only the searcher sees."""
    if q.empty:
        blocks = [section(USAGE.replace("/aiwin search ", ""))]
    else:
        blocks = results(q, hits, links) if hits else nothing_found(q, suggestion)
    return {"type": "modal", "title": {"type": "plain_text", "text": SEARCH_TITLE},
            "close": {"type": "plain_text", "text": "Close"}, "blocks": blocks[:100]}


def refused(sentence: str) -> dict[str, Any]:
    """The ephemeral answer to a search that was not run (too many filters)."""
    return ephemeral(sentence, [section(f":warning: {escape(sentence)}")])


def slow_down_search(wait: float, limits: Limits) -> dict[str, Any]:
    """The ephemeral answer to a search past the person's search limit (ratelimit.SEARCH)."""
    lead = f"Slow down: that search was not run. Try again in {wait_words(wait)}."
    return ephemeral(lead, [
        section(f":hourglass_flowing_sand: *Slow down* — that's a lot of searches in a short time, so this one "
                f"was *not* run. Try again in {wait_words(wait)}."),
        context(f"Each person can search {rule(limits)}, so everyone's searches stay quick."),
    ])


def message_modal(message: dict[str, Any]) -> dict[str, Any]:
    """The App Home search's answer when the search did not run: the same words as the command's."""
    return {"type": "modal", "title": {"type": "plain_text", "text": SEARCH_TITLE},
            "close": {"type": "plain_text", "text": "Close"}, "blocks": message["blocks"]}


def searching_modal(q: Query) -> dict[str, Any]:
    """Opened at once from App Home while the search runs and its links are looked up."""
    return loading_modal(SEARCH_TITLE, f"Searching for *{describe(q)}*…")


def search_box() -> list[dict[str, Any]]:
    """The App Home search box: Enter or the button searches."""
    return [
        {"type": "input", "block_id": SEARCH_BLOCK, "dispatch_action": True, "optional": True,
         "label": {"type": "plain_text", "text": "Search wins and stories"},
         "element": {"type": "plain_text_input", "action_id": SEARCH_INPUT, "max_length": 200,
                     "placeholder": {"type": "plain_text", "text": "deck interviews tool:Claude #research"},
                     "dispatch_action_config": {"trigger_actions_on": ["on_enter_pressed"]}}},
        {"type": "actions", "elements": [
            {"type": "button", "action_id": SEARCH_ACTION, "text": {"type": "plain_text", "text": "Search"}}]},
    ]
