"""The workspace's AI policy: some text and/or a link, set by an admin.

Digests and prompts link to it through `policy_summary`. Text is stored as plain text (what a
person reads), the link separately, so every surface can show either or both."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import Workspace, utcnow
from bot.services.workspaces import ensure_workspace

MAX_POLICY_TEXT = 3000
MAX_POLICY_URL = 2000
EXAMPLE = "/aiwin policy set https://wiki.example.com/ai-policy"

_TOKEN_RE = re.compile(r"<([^<>]*)>")
_ENTITY_RE = re.compile(r"&(amp|lt|gt);")
_ENTITY_CHARS = {"amp": "&", "lt": "<", "gt": ">"}
_URL_RE = re.compile(r"https?://[^\s<>]+", re.IGNORECASE)


class PolicyError(ValueError):
    """The policy given cannot be stored; the message says why, with an example."""


@dataclass(frozen=True)
class PolicyView:
    text: str | None
    url: str | None
    updated_by: str | None
    updated_at: datetime | None


def policy_summary(session: Session, team_id: str) -> PolicyView | None:
    """The workspace's AI policy, or None until an admin sets one."""
    row = session.execute(
        select(Workspace.policy_text, Workspace.policy_url, Workspace.policy_updated_by,
               Workspace.policy_updated_at)
        .where(Workspace.team_id == team_id)
    ).first()
    if row is None or not (row.policy_text or row.policy_url):
        return None
    return PolicyView(row.policy_text, row.policy_url, row.policy_updated_by, row.policy_updated_at)


def _unescape(text: str) -> str:
    return _ENTITY_RE.sub(lambda m: _ENTITY_CHARS[m.group(1)], text)


def clean_url(raw: str | None) -> str | None:
    """An http(s) URL safe to put in a Slack link, or None when empty; PolicyError when it is not a URL."""
    url = (raw or "").strip()
    if not url:
        return None
    if not _URL_RE.fullmatch(url):
        raise PolicyError("That link doesn't look like a web address. Use one starting with https://, "
                          f"e.g. `{EXAMPLE}`.")
    if len(url) > MAX_POLICY_URL:
        raise PolicyError(f"That link is longer than {MAX_POLICY_URL:,} characters. "
                          "Please use a shorter one.")
    return url.replace("|", "%7C")  # a "|" would end the link in Slack's <url|label> syntax


def clean_text(raw: str | None) -> str | None:
    text = (raw or "").strip()
    if len(text) > MAX_POLICY_TEXT:
        raise PolicyError(
            f"The policy text is {len(text):,} characters; the limit is {MAX_POLICY_TEXT:,}. "
            f"Nothing was changed. Put the full policy on a page and link it: `{EXAMPLE}`."
        )
    return text or None


def parse_command_policy(wire_text: str) -> tuple[str | None, str | None]:
    """(text, url) from `/aiwin policy set …` text in Slack's wire format: the first link
    (`<https://x|label>`, `<https://x>` or a bare URL) is the URL, the rest is the text."""
    url: str | None = None
    parts: list[str] = []
    pos = 0
    for m in _TOKEN_RE.finditer(wire_text):
        parts.append(_unescape(wire_text[pos : m.start()]))
        head, _, label = m.group(1).partition("|")
        head_plain = _unescape(head)
        if url is None and _URL_RE.fullmatch(head_plain):
            url = head_plain
        elif head.startswith("@"):
            parts.append("@" + (_unescape(label) or head[1:]))
        elif head.startswith("#"):
            parts.append("#" + (_unescape(label) or head[1:]))
        elif head.startswith("!"):
            parts.append("@" + (_unescape(label) or head[1:].split("^", 1)[0]))
        else:
            parts.append(head_plain)
        pos = m.end()
    parts.append(_unescape(wire_text[pos:]))
    text = "".join(parts).strip()
    if url is None and _URL_RE.fullmatch(text):
        url, text = text, ""
    if not text and not url:
        raise PolicyError(f"Give the policy text or a link, e.g. `{EXAMPLE}`.")
    return clean_text(text), clean_url(url)


def set_policy(session: Session, *, team_id: str, enterprise_id: str | None, user_id: str,
               text: str | None, url: str | None, now: datetime | None = None) -> PolicyView | None:
    """Store the policy (already cleaned). Both empty clears it."""
    ensure_workspace(session, team_id, enterprise_id)
    ws = session.get(Workspace, team_id)
    assert ws is not None
    ws.policy_text, ws.policy_url = text, url
    ws.policy_updated_by, ws.policy_updated_at = user_id, now or utcnow()
    session.flush()
    return policy_summary(session, team_id)
