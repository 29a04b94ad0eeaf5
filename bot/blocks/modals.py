"""What a person is told when a form cannot open (views.open failed), with the one-line form."""

from __future__ import annotations

from typing import Any

from bot.blocks.common import context, ephemeral, section

WIN_ONE_LINE = "`/aiwin @alice drafted the Q3 board memo with ChatGPT, saved 3h #reporting`"
NARRATIVE_ONE_LINE = ("`/aiwin narrate I paste call notes into Claude, ask for the decisions and owners, "
                      "then check them against the recording`")
SETTINGS_ONE_LINE = "`/aiwin policy set https://wiki.example.com/ai-policy`"

_WHY = {
    "expired_trigger_id": "the button or command expired before I could answer",
    "invalid_trigger_id": "the button or command expired before I could answer",
    "exchanged_trigger_id": "that click was already used to open a form",
}


def modal_failed(what: str, error: str | None, one_line: str | None) -> dict[str, Any]:
    """An ephemeral answer: the `what` form could not open, why (briefly), and what to do instead."""
    why = _WHY.get(error or "", "Slack didn't open it (it may be having trouble)")
    lead = f"Sorry, I couldn't open the {what} form: {why}."
    blocks = [section(f":warning: {lead} Nothing was saved.")]
    if one_line:
        blocks.append(section(f"You can do it in one line instead, for example:\n{one_line}"))
    blocks.append(context("Or try again in a moment."))
    return ephemeral(lead, blocks)


def loading_modal(title: str, note: str, *, callback_id: str | None = None) -> dict[str, Any]:
    """What opens at once when a form needs Slack lookups first: a trigger_id lasts only 3 seconds,
    lookups can take longer. Same title and callback as the form that replaces it (views.update);
    nothing to submit yet."""
    view: dict[str, Any] = {"type": "modal", "title": {"type": "plain_text", "text": title[:24]},
                            "close": {"type": "plain_text", "text": "Cancel"},
                            "blocks": [section(f":hourglass_flowing_sand: {note}")]}
    if callback_id:
        view["callback_id"] = callback_id
    return view


def fill_failed(loading: dict[str, Any], what: str, one_line: str | None) -> dict[str, Any]:
    """The loading view again, saying the `what` form could not be filled in (and what to do instead)."""
    blocks = [section(f":warning: Sorry, something went wrong while preparing the {what} form. Nothing was saved.")]
    if one_line:
        blocks.append(section(f"You can do it in one line instead, for example:\n{one_line}"))
    blocks.append(context("Close this and try again in a moment."))
    return {**loading, "close": {"type": "plain_text", "text": "Close"}, "blocks": blocks}
