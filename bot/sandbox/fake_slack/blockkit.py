"""Block Kit validation: the limits Slack enforces on blocks, text objects and elements."""

from __future__ import annotations

import re
from typing import Any

from bot.sandbox.fake_slack.common import (
    _KNOWN_BLOCK_TYPES,
    _SELECT_TYPES,
    MAX_ACTION_ID,
    MAX_ACTIONS_ELEMENTS,
    MAX_BLOCK_ID,
    MAX_BUTTON_TEXT,
    MAX_BUTTON_VALUE,
    MAX_CONTEXT_ELEMENTS,
    MAX_FIELD_TEXT,
    MAX_HEADER_TEXT,
    MAX_MARKDOWN_TEXT,
    MAX_OPTION_TEXT,
    MAX_OPTION_VALUE,
    MAX_OPTIONS,
    MAX_SECTION_FIELDS,
    MAX_SECTION_TEXT,
    MAX_URL,
    _err,
)

# Everything Slack reads as a token in mrkdwn. A "<" that opens none of these is
# markup Slack cannot render: the text shows garbled or vanishes, so the sandbox refuses it.
_MRKDWN_TOKEN = re.compile(
    r"<(?:@[UW][A-Z0-9]+"  # user
    r"|#[CG][A-Z0-9]+"  # channel
    r"|!(?:here|channel|everyone)"  # special mentions
    r"|!subteam\^S[A-Z0-9]+"  # user group
    r"|!date\^\d+\^[^|<>]+(?:\^[^|<>]+)?"  # date, with its fallback label below
    r"|https?://[^\s<>|]+|mailto:[^\s<>|]+"  # links
    r")(?:\|[^<>]*)?>"
)


def mrkdwn_errors(text: str, pointer: str) -> list[str]:
    """One error when `text` (mrkdwn) has a "<" that does not open a Slack token."""
    pos = text.find("<")
    while pos != -1:
        m = _MRKDWN_TOKEN.match(text, pos)
        if m is None:
            bad = text[pos : pos + 40]
            return [f"invalid mrkdwn: unescaped '<' does not open a Slack token ({bad!r}); write it as &lt; "
                    f"[json-pointer:{pointer}]"]
        pos = text.find("<", m.end())
    return []


def _too_long(pointer: str, limit: int) -> str:
    return f"must be less than {limit + 1} characters [json-pointer:{pointer}]"


def _is_block_list(blocks: Any) -> bool:
    return isinstance(blocks, list) and all(isinstance(b, dict) and isinstance(b.get("type"), str) for b in blocks)


def _check_str(value: Any, pointer: str, limit: int, errors: list[str]) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        errors.append(f"must be a string [json-pointer:{pointer}]")
    elif len(value) > limit:
        errors.append(_too_long(pointer, limit))


def _check_text(obj: Any, pointer: str, limit: int, errors: list[str], *, plain_only: bool = False) -> None:
    if not isinstance(obj, dict):
        errors.append(f"must be an object [json-pointer:{pointer}]")
        return
    allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
    if obj.get("type") not in allowed:
        errors.append(f"must be a valid enum value [json-pointer:{pointer}/type]")
    text = obj.get("text")
    if not isinstance(text, str):
        errors.append(f"must be a string [json-pointer:{pointer}/text]")
    elif not text:
        errors.append(f"must be more than 0 characters [json-pointer:{pointer}/text]")
    elif len(text) > limit:
        errors.append(_too_long(f"{pointer}/text", limit))
    elif obj.get("type") == "mrkdwn":
        errors.extend(mrkdwn_errors(text, f"{pointer}/text"))


def _check_options(options: Any, pointer: str, errors: list[str]) -> None:
    if not isinstance(options, list):
        errors.append(f"must be an array [json-pointer:{pointer}]")
        return
    if len(options) > MAX_OPTIONS:
        errors.append(f"no more than {MAX_OPTIONS} items allowed [json-pointer:{pointer}]")
    for i, option in enumerate(options):
        if not isinstance(option, dict):
            errors.append(f"must be an object [json-pointer:{pointer}/{i}]")
            continue
        _check_text(option.get("text"), f"{pointer}/{i}/text", MAX_OPTION_TEXT, errors)
        _check_str(option.get("value"), f"{pointer}/{i}/value", MAX_OPTION_VALUE, errors)


def _check_element(element: Any, pointer: str, errors: list[str]) -> None:
    if not isinstance(element, dict) or not isinstance(element.get("type"), str):
        errors.append(f"must be an object with a type [json-pointer:{pointer}]")
        return
    _check_str(element.get("action_id"), f"{pointer}/action_id", MAX_ACTION_ID, errors)
    kind = element["type"]
    if kind == "button":
        _check_text(element.get("text"), f"{pointer}/text", MAX_BUTTON_TEXT, errors, plain_only=True)
        _check_str(element.get("value"), f"{pointer}/value", MAX_BUTTON_VALUE, errors)
        _check_str(element.get("url"), f"{pointer}/url", MAX_URL, errors)
    elif kind in _SELECT_TYPES:
        if "options" in element:
            _check_options(element["options"], f"{pointer}/options", errors)
        groups = element.get("option_groups")
        if isinstance(groups, list):
            if len(groups) > MAX_OPTIONS:
                errors.append(f"no more than {MAX_OPTIONS} items allowed [json-pointer:{pointer}/option_groups]")
            for i, group in enumerate(groups):
                if isinstance(group, dict):
                    _check_options(group.get("options"), f"{pointer}/option_groups/{i}/options", errors)


def _check_block(block: dict[str, Any], pointer: str, errors: list[str], seen_ids: set[str]) -> None:
    block_id = block.get("block_id")
    if block_id is not None:
        if not isinstance(block_id, str):
            errors.append(f"must be a string [json-pointer:{pointer}/block_id]")
        elif len(block_id) > MAX_BLOCK_ID:
            errors.append(_too_long(f"{pointer}/block_id", MAX_BLOCK_ID))
        elif block_id in seen_ids:
            errors.append(f"duplicate block_id {block_id!r} [json-pointer:{pointer}/block_id]")
        else:
            seen_ids.add(block_id)
    kind = block["type"]
    if kind not in _KNOWN_BLOCK_TYPES:
        errors.append(f"unsupported type: {kind} [json-pointer:{pointer}/type]")
    elif kind == "section":
        text, fields = block.get("text"), block.get("fields")
        if text is None and not fields:
            errors.append(f"must provide either text or fields [json-pointer:{pointer}]")
        if text is not None:
            _check_text(text, f"{pointer}/text", MAX_SECTION_TEXT, errors)
        if fields is not None:
            if not isinstance(fields, list):
                errors.append(f"must be an array [json-pointer:{pointer}/fields]")
            else:
                if len(fields) > MAX_SECTION_FIELDS:
                    errors.append(f"no more than {MAX_SECTION_FIELDS} items allowed [json-pointer:{pointer}/fields]")
                for i, item in enumerate(fields):
                    _check_text(item, f"{pointer}/fields/{i}", MAX_FIELD_TEXT, errors)
        if "accessory" in block:
            _check_element(block["accessory"], f"{pointer}/accessory", errors)
    elif kind == "header":
        _check_text(block.get("text"), f"{pointer}/text", MAX_HEADER_TEXT, errors, plain_only=True)
    elif kind in ("context", "actions"):
        limit = MAX_CONTEXT_ELEMENTS if kind == "context" else MAX_ACTIONS_ELEMENTS
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            errors.append(f"must provide a non-empty array [json-pointer:{pointer}/elements]")
            return
        if len(elements) > limit:
            errors.append(f"no more than {limit} items allowed [json-pointer:{pointer}/elements]")
        for i, element in enumerate(elements):
            ptr = f"{pointer}/elements/{i}"
            if kind == "context" and isinstance(element, dict) and element.get("type") in ("plain_text", "mrkdwn"):
                _check_text(element, ptr, MAX_SECTION_TEXT, errors)
            elif kind == "actions":
                _check_element(element, ptr, errors)
    elif kind == "input":
        _check_text(block.get("label"), f"{pointer}/label", MAX_FIELD_TEXT, errors, plain_only=True)
        _check_element(block.get("element"), f"{pointer}/element", errors)
    elif kind == "markdown":
        _check_str(block.get("text"), f"{pointer}/text", MAX_MARKDOWN_TEXT, errors)


def block_errors(blocks: list[dict[str, Any]], *, max_blocks: int, pointer: str = "/blocks") -> list[str]:
    """Slack-style error strings for Block Kit limit violations; empty when the blocks are fine.

    ``blocks`` must already be a list of dicts with a ``type`` (see the format check).
    """
    errors: list[str] = []
    if len(blocks) > max_blocks:
        errors.append(f"no more than {max_blocks} items allowed [json-pointer:{pointer}]")
    seen_ids: set[str] = set()
    for i, block in enumerate(blocks):
        _check_block(block, f"{pointer}/{i}", errors, seen_ids)
    return errors


def _invalid(error: str, errors: list[str]) -> dict[str, Any]:
    return _err(error, errors=errors, response_metadata={"messages": [f"[ERROR] {e}" for e in errors]})
