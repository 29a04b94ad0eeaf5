"""`/aiwin <subcommand> …`: which words are subcommands, and what each does.

A subcommand has an `ack` part that runs before the HTTP answer (fast: database only; its
return value is the ephemeral answer) and/or a `lazy` part that runs after it (Slack calls;
it answers with `respond`). Text that starts with no subcommand is a win."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient

from bot.blocks.common import ephemeral
from bot.deps import Deps
from bot.services import people
from bot.services.storable import storable
from bot.slack.directory import Directory

log = logging.getLogger(__name__)

SORRY = (":warning: Sorry, something went wrong on our side and nothing was changed. "
         "Please try again in a minute.")
ADMINS = "workspace admins and owners"


@dataclass(frozen=True)
class Call:
    team_id: str
    enterprise_id: str | None
    user_id: str
    channel_id: str | None
    text: str  # what follows the subcommand word (the whole text for a win)
    trigger_id: str | None
    response_url: str | None


AckFn = Callable[[Call, Deps], dict[str, Any] | None]
LazyFn = Callable[[Call, Deps, WebClient, Respond], None]


@dataclass(frozen=True)
class Subcommand:
    ack: AckFn | None = None
    lazy: LazyFn | None = None


def friendly(fn: LazyFn) -> LazyFn:
    """A lazy part that fails tells the caller so (never the exception), and logs it with context."""

    @functools.wraps(fn)
    def run(call: Call, deps: Deps, client: WebClient, respond: Respond) -> None:
        try:
            fn(call, deps, client, respond)
        except Exception:
            log.exception("/aiwin %s failed (team=%s user=%s)", fn.__name__, call.team_id, call.user_id)
            respond(**ephemeral(SORRY))

    return run


def caller_is_admin(call: Call, deps: Deps, client: WebClient) -> bool:
    return people.is_admin(deps.db, Directory(client), call.team_id, call.user_id)


Subcommands = Mapping[str, Subcommand]  # word -> what it does; the table is in bot/registry.py


def split(text: str, subcommands: Subcommands) -> tuple[str, str]:
    """('narrate', 'the rest') for 'narrate the rest'; ('', text) when the first word is no subcommand."""
    stripped = (text or "").strip()
    word, _, rest = stripped.partition(" ")
    key = word.lower()
    if key in subcommands:
        return key, rest.strip()
    return "", stripped


def call_from(command: dict[str, Any], text: str) -> Call:
    return Call(
        team_id=command.get("team_id") or "",
        enterprise_id=command.get("enterprise_id") or None,
        user_id=command.get("user_id") or "",
        channel_id=command.get("channel_id") or None,
        text=storable(text),  # a %00 in the form body: PostgreSQL cannot store NUL (services/storable.py)
        trigger_id=command.get("trigger_id") or None,
        response_url=command.get("response_url") or None,
    )


# ---------------------------------------------------------------------------------------------
# "Did you mean …?": a mistyped subcommand is not a public win.
#
# The rule: the text has at most NEAR_MISS_MAX_WORDS words; its first word (letters only) is one
# edit (a letter added, dropped, changed, or two neighbours swapped) away from a subcommand name of
# at least 4 letters; and that word is not an English word that happens to be that close
# (ENGLISH_NEAR_MISSES, or the name with an ending like "deleted", "exports", "narrating").
# Then the person privately gets "did you mean `/aiwin help`?" and a button to record it anyway.

NEAR_MISS_MAX_WORDS = 3
_ENDINGS = ("s", "es", "d", "ed", "r", "er", "ing", "ion", "ions")
# English words one edit from a subcommand name that can start a real win ("held a workshop").
ENGLISH_NEAR_MISSES = frozenset((
    "held", "hell", "helm", "hemp", "kelp", "yelp", "heap", "whelp", "helps",
    "state", "stars", "stays", "stabs", "stags", "slats", "spats", "seats", "tats",
    "status", "store", "storm", "stork", "stony", "storey", "stoke",
    "expert", "experts", "exhort", "divest", "police", "polity",
    "prompt", "managed", "manages", "manage", "option", "options", "optic", "opting", "opted",
    "couch", "poach", "roach",
))


def _one_edit_apart(a: str, b: str) -> bool:
    """Damerau-Levenshtein distance exactly 1 (equal strings are 0, not a near miss)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    i = next((k for k in range(len(short)) if short[k] != long_[k]), len(short))
    return short[i:] == long_[i + 1:]


def _inflected(word: str, name: str) -> bool:
    stems = {name, name[:-1]} if name.endswith("e") else {name}
    return any(word == stem + ending for stem in stems for ending in _ENDINGS)


def near_miss(text: str, subcommands: Subcommands) -> str | None:
    """The subcommand a short text's first word looks like a typo of, or None (then it is a win)."""
    words = (text or "").split()
    if not words or len(words) > NEAR_MISS_MAX_WORDS:
        return None
    word = words[0].lower()
    if not word.isalpha() or word in subcommands or word in ENGLISH_NEAR_MISSES:
        return None
    for name in sorted(subcommands):
        if len(name) >= 4 and name.isalpha() and _one_edit_apart(word, name) and not _inflected(word, name):
            return name
    return None
