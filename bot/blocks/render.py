"""Block Kit to terminal text, for the CLI and the demo ("what Slack would have shown")."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL = re.compile(r"<#([CG][A-Z0-9]+)(?:\|([^>]*))?>")
_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>")


def to_text(mrkdwn: str, name_of: Callable[[str], str] | None = None) -> str:
    """Readable text from mrkdwn: mentions as @name, links as 'label (url)', entities decoded."""
    name_of = name_of or (lambda u: u)
    text = _USER.sub(lambda m: "@" + name_of(m.group(1)), mrkdwn)
    text = _CHANNEL.sub(lambda m: "#" + (m.group(2) or m.group(1)), text)
    text = _LINK.sub(lambda m: f"{m.group(2)} ({m.group(1)})" if m.group(2) else m.group(1), text)
    text = text.replace("\u200b", "")
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def blocks_to_text(blocks: list[dict[str, Any]], name_of: Callable[[str], str] | None = None) -> str:
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            title = block["text"]["text"]
            lines += [title, "=" * min(len(title), 60)]
        elif kind == "section":
            if block.get("text"):
                lines.append(to_text(block["text"]["text"], name_of))
            for f in block.get("fields", []):
                lines.append("  " + to_text(f["text"], name_of))
        elif kind == "context":
            lines.append("  " + "  ".join(to_text(e.get("text", ""), name_of) for e in block.get("elements", [])))
        elif kind == "divider":
            lines.append("-" * 40)
        elif kind == "actions":
            lines.append("  " + "  ".join(f"[{e['text']['text']}]" for e in block.get("elements", [])
                                          if e.get("type") == "button"))
        elif kind == "input":
            lines.append(f"  {block['label']['text']}: ____")
    return "\n".join(lines)
