"""Block Kit for the AI policy: what `/aiwin policy` answers and App Home shows."""

from __future__ import annotations

from typing import Any

from bot.blocks.common import context, ephemeral, section
from bot.blocks.text import escape, truncate
from bot.services.policy import EXAMPLE, PolicyView

NOT_SET = (":scroll: Your workspace hasn't set an AI policy yet. Workspace admins can set one with "
           f"`{EXAMPLE}` (a link, some text, or both) or from the app's Home tab.")


def policy_link(url: str, label: str = "Read the AI policy") -> str:
    # The stored URL has no spaces, "<", ">" or "|" (bot/services/policy.py); "&" is escaped for mrkdwn.
    return f"<{url.replace('&', '&amp;')}|{label}>"


def policy_blocks(policy: PolicyView | None, *, show_updated: bool = True) -> list[dict[str, Any]]:
    if policy is None:
        return [section(NOT_SET)]
    lines = [":scroll: *Our AI policy*"]
    if policy.text:
        lines.append(truncate(escape(policy.text), 2800))
    if policy.url:
        lines.append(":link: " + policy_link(policy.url))
    blocks = [section("\n".join(lines))]
    if show_updated and policy.updated_by and policy.updated_at:
        blocks.append(context(f"Set by <@{policy.updated_by}> on {policy.updated_at:%Y-%m-%d}"))
    return blocks


def policy_message(policy: PolicyView | None) -> dict[str, Any]:
    """The ephemeral answer to `/aiwin policy`."""
    fallback = "Our AI policy" if policy else "No AI policy has been set yet."
    return ephemeral(fallback, policy_blocks(policy))


def policy_saved(policy: PolicyView | None) -> dict[str, Any]:
    return ephemeral("AI policy saved.", [section(":white_check_mark: Saved. Everyone now sees this with "
                                                  "`/aiwin policy`, on Home and in digests:"),
                                          *policy_blocks(policy, show_updated=False)])
