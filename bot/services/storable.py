"""Text that every database can store.

Slack hands us whatever a browser put in a field. Two things in valid JSON cannot be stored:
a NUL character (PostgreSQL refuses it in text) and a lone UTF-16 surrogate (`"\\ud800"`: no
UTF-8 encoding exists, so neither driver can send it). The decision: clean,
don't refuse. The person cannot see either one in what they typed, so a field error asking them
to remove it could not be acted on. NUL is dropped and a lone surrogate becomes U+FFFD (the
replacement character, what a browser shows for it); everything else is stored exactly as typed.
The form then closes only after the cleaned text is committed, and the receipt shows that text."""

from __future__ import annotations

import re
from typing import Any

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(text: str) -> str:
    """`text` without NUL, lone surrogates replaced by U+FFFD (Python str never pairs surrogates)."""
    if not _UNSTORABLE.search(text):
        return text
    return _UNSTORABLE.sub(lambda m: "" if m.group() == "\x00" else "\ufffd", text)


def storable_values(value: Any) -> Any:
    """A view's `state.values` (or any JSON value) with every string made storable."""
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, dict):
        return {storable(k) if isinstance(k, str) else k: storable_values(v) for k, v in value.items()}
    if isinstance(value, list):
        return [storable_values(v) for v in value]
    return value
