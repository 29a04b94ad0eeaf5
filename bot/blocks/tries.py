"""Block Kit for "I tried it too": the button (with the count) on celebrations, stories and delivered
teach-backs, the presser's private answer, and the owner's daily note."""

from __future__ import annotations

from typing import Any

from bot.blocks.common import button, context, ephemeral, mention, section
from bot.blocks.ratelimit import wait_words
from bot.services.tries import ALREADY, NOT_FOUND, OK, OWN, SLOW_DOWN, STORY, Target, TryResult

TRIED_IT = "tried_it"  # the button's action_id


def tried_line(tried: int) -> str:
    if tried <= 0:
        return "Copied this practice? Say so:"
    return f":raised_hands: {tried} {'person' if tried == 1 else 'people'} tried it too"


def tried_blocks(target: Target, tried: int) -> list[dict[str, Any]]:
    """The count and the button, as the last blocks of the message."""
    return [
        {"type": "actions", "block_id": "tried", "elements": [button(":raised_hands: I tried it too", TRIED_IT,
                                                                     target.value)]},
        context(tried_line(tried)),
    ]


def tried_answer(target: Target, result: TryResult) -> dict[str, Any]:
    """The presser's private answer."""
    noun = "story" if target.kind == STORY else "win"
    text = {
        OK: f":raised_hands: Noted: you tried it too. That makes {result.count}. Tell us how it went with `/aiwin`!",
        ALREADY: f"You already said you tried this {noun}: thanks, it's counted once.",
        OWN: f"This is your own {noun}, so it's already yours. :slightly_smiling_face: "
             "Press the button on a colleague's practice you copied.",
        NOT_FOUND: f"That {noun} no longer exists.",
        SLOW_DOWN: f"Easy there: too many presses at once. Try again in {wait_words(result.wait or 10)}.",
    }[result.status]
    return {**ephemeral(text), "replace_original": False}


def tried_notice(owner_id: str, user_id: str | None, target: Target, tried: int,
                 permalink: str | None) -> tuple[str, list[dict[str, Any]]]:
    """The owner's DM (at most one a day). `user_id` None: the presser opted out, so is not named."""
    noun = "story" if target.kind == STORY else "win"
    thing = f"<{permalink}|your {noun} #{target.id}>" if permalink else f"your {noun} #{target.id}"
    who = mention(user_id) if user_id else "A colleague"
    text = f":raised_hands: {who} tried {thing} too. That practice is spreading!"
    if tried > 1:
        text += f" ({tried} people so far.)"
    return (f"Someone tried your {noun} #{target.id} too", [section(text),
            context("You hear about this at most once a day; the message shows every try.")])
