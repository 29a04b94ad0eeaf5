"""Time saved, read from a win's text: the durations in it and which of them is the saving.

Time-saved precedence (the first rule that applies decides):

1. a before/after pair: `2h → 20m`, `2h -> 20m`, `2h => 20m`, `2h down to 20m`, `from 2h to 20m`,
   `took 20m instead of 2h` (also `rather than`, `compared to`). Saved = before − after; a pair whose
   after ≥ before is not a saving (its durations are then ignored, and the result is usually None).
2. the first duration attached to a "saved" word: `saved 3h`, `saved us about 2.5 hours`,
   `time saved: 45m`, `45m saved`, `3h/week saved`. A trailing period (`a week`) is ignored.
3. otherwise exactly one duration in the whole text (`90 min`); with two or more and no pattern the
   answer is None rather than a guess.

Durations: digits (`2.5`, `2,5`, `1,000`) or words (`an`, `half an`, `twenty-five`, `a couple of`)
followed by hours (`h`, `hr(s)`, `hour(s)`) or minutes (`m`, `min(s)`, `minute(s)`); compounds like
`1h30m`, `1h 30m`, `1h30`, `2 hours and 15 minutes`, `an hour and a half`. Days/weeks are ignored. A lone
capital `M` is not minutes (`1M rows`), and money (`$5m`) is not time. Values are returned as
written (5000h is 300000) and rounded half-up to whole minutes; a value that does not fit the
database's 32-bit integer is treated as unparseable (None), never an overflow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# Storage is a 32-bit INTEGER column; anything bigger is not a real answer anyway.
_MAX_MINUTES = 2**31 - 1


_ONES = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}
_TEENS = {
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}
_FRACTIONS = {
    "half": "0.5", "half a": "0.5", "half an": "0.5", "a half": "0.5",
    "quarter": "0.25", "a quarter": "0.25", "quarter of a": "0.25", "quarter of an": "0.25",
    "a quarter of a": "0.25", "a quarter of an": "0.25",
    "three quarters": "0.75", "three quarters of a": "0.75", "three quarters of an": "0.75",
    "couple": "2", "a couple": "2", "couple of": "2", "a couple of": "2",
    "a": "1", "an": "1",
}


def _alt(words: dict[str, object]) -> str:
    return "|".join(sorted(words, key=len, reverse=True))


_WORD_NUM = (
    r"(?:half\s+an?|a\s+half|(?:a\s+)?quarter(?:\s+of\s+an?)?|three\s+quarters(?:\s+of\s+an?)?"
    r"|half|(?:a\s+)?couple(?:\s+of)?"
    rf"|(?:{_alt(_TENS)})(?:[-\s](?:{_alt(_ONES)}))?|{_alt(_TEENS)}|{_alt(_ONES)}|an?)"
)
# Thousands separators first ("1,000"), then a decimal point or a 1-2 digit decimal comma ("2,5").
_DIGITS = r"\d{1,3}(?:,\d{3})+(?!\d)|\d+(?:\.\d+|,\d{1,2}(?!\d))?"
_HALF = r"\s+and\s+a\s+half"
_HOUR_UNIT = r"hours?|hrs?|h"
_MIN_UNIT = r"minutes?|mins?|(?-i:m)"  # capital M is "million", not minutes
_NOT_LETTER = r"(?![^\W\d_])"  # "3 hats", "2 months", "5 ms" are not durations

DURATION_RE = re.compile(
    # Not glued to a word, a number or a currency: "Q3h", "x2h", "$5m", "1.5" from its "5".
    r"(?<![\w$€£¥.,])(?:"
    rf"(?P<h_num>{_DIGITS}|{_WORD_NUM})(?P<h_half1>{_HALF})?(?:\s*|-)(?P<h_unit>{_HOUR_UNIT}){_NOT_LETTER}"
    rf"(?P<h_half2>{_HALF})?"
    rf"(?:\s*(?:and\s+)?(?P<hm_num>{_DIGITS}|{_WORD_NUM})(?:\s*|-)(?P<hm_unit>{_MIN_UNIT}){_NOT_LETTER}"
    r"|(?<=[hH])(?P<hm_bare>[0-5]\d)(?![\w.,]))?"  # "1h30", "2h45": minutes written right after the h
    rf"|(?P<m_num>{_DIGITS}|{_WORD_NUM})(?P<m_half>{_HALF})?(?:\s*|-)(?P<m_unit>{_MIN_UNIT}){_NOT_LETTER}"
    r")",
    re.IGNORECASE,
)

_FILLER = (
    r"(?:~|≈|about\s+|around\s+|roughly\s+|approx\.?\s*|approximately\s+|over\s+|nearly\s+|almost\s+"
    r"|just\s+|only\s+|under\s+)?"
)
_ARROW_GAP_RE = re.compile(rf"\s*(?:→|⟶|➜|➔|➙|➛|➝|➞|⇒|⟹|⇨|-+>|=+>|[—–]+>|~>|down\s+to)\s*{_FILLER}", re.I)
_TO_GAP_RE = re.compile(rf"\s+(?:down\s+)?to\s+{_FILLER}", re.I)
_FROM_BEFORE_RE = re.compile(rf"\bfrom\s+{_FILLER}$", re.I)
_INSTEAD_GAP_RE = re.compile(
    rf"\s+(?:instead\s+of|rather\s+than|compared\s+(?:to|with))\s+(?:the\s+)?(?:usual\s+)?{_FILLER}", re.I
)
# "saved" followed by up to four filler words in the same clause: "saved us about 2h", "time saved: 2h".
_SAVED_BEFORE_RE = re.compile(r"\bsav(?:e|ed|es|ing|ings)\b(?:[^\w.!?;\n]+\w+){0,4}?[^\w.!?;\n]*$", re.I)
_SAVED_AFTER_RE = re.compile(
    r"(?:\s*(?:/|per|a|an|each|every)\s*(?:week|wk|day|month|mo|sprint|year|yr|run|time))?"
    r"\s*(?:of\s+(?:time|work|effort|toil)\s+)?sav(?:ed|ing|ings)\b",
    re.I,
)
# A minus glued to the number ("-3h", "−3h"), but not a range ("2-3h") nor a dash with a space ("x - 3h").
_MINUS_RE = re.compile(r"(?:^|(?<=[^\w.,]))[-\u2212]$")
_WINDOW = 60  # how far around a duration we look for "saved" / "from": bounded, so linear


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    minutes: Decimal | None  # None when the number is too big to be real


def _number(raw: str) -> Decimal | None:
    raw = raw.strip().lower()
    if raw[0].isdigit():
        if re.fullmatch(r"\d{1,3}(?:,\d{3})+", raw):
            raw = raw.replace(",", "")
        raw = raw.replace(",", ".")
        if len(raw.split(".", 1)[0]) > 12:  # 400-digit numbers: unparseable, not an overflow
            return None
        try:
            return Decimal(raw)
        except InvalidOperation:  # pragma: no cover - the regex only lets digits through
            return None
    words = " ".join(raw.replace("-", " ").split())
    if words in _FRACTIONS:
        return Decimal(_FRACTIONS[words])
    total = 0
    for w in words.split():
        value = _ONES.get(w) or _TEENS.get(w) or _TENS.get(w)
        if value is None:
            return None
        total += value
    return Decimal(total)


def _is_word(raw: str) -> bool:
    return not raw[:1].isdigit()


def _span(m: re.Match[str]) -> _Span | None:
    """Minutes for one duration match; None when it is not a duration after all ("a h")."""
    g = m.groupdict()
    if g["h_num"] is not None:
        parts = [(g["h_num"], g["h_unit"], 60, g["h_half1"] or g["h_half2"])]
        if g["hm_num"] is not None:
            parts.append((g["hm_num"], g["hm_unit"], 1, None))
        elif g["hm_bare"] is not None:
            parts.append((g["hm_bare"], "min", 1, None))
    else:
        parts = [(g["m_num"], g["m_unit"], 1, g["m_half"])]
    total = Decimal(0)
    for num, unit, factor, half in parts:
        if _is_word(num) and len(unit) == 1:  # "an h", "a m", "am": words need a spelled unit
            return None
        value = _number(num)
        if value is None:
            return _Span(m.start(), m.end(), None)
        if half:
            value += Decimal("0.5")
        total += value * factor
    if _MINUS_RE.search(m.string, max(0, m.start() - 2), m.start()):
        total = -total  # "saved -3h": a negative time, never counted as 3 h
    return _Span(m.start(), m.end(), total)


def _spans(text: str) -> list[_Span]:
    return [s for m in DURATION_RE.finditer(text) if (s := _span(m)) is not None]


def _to_int(minutes: Decimal | None) -> int | None:
    """Whole minutes; negative stays negative (the caller refuses it and says why)."""
    if minutes is None:
        return None
    value = int(abs(minutes).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if value > _MAX_MINUTES:
        return None
    return -value if minutes < 0 else value


def _clause_before(text: str, span: _Span, floor: int) -> str:
    return text[max(floor, span.start - _WINDOW) : span.start]


def minutes_in(text: str) -> int | None:
    """Time saved in plain (already unescaped) text, by the precedence in the module docstring."""
    spans = _spans(text)
    in_pair: set[int] = set()
    pair_result: Decimal | None = None
    found_pair = False
    for i in range(len(spans) - 1):
        a, b = spans[i], spans[i + 1]
        gap = text[a.end : b.start]
        from_to = _TO_GAP_RE.fullmatch(gap) and _FROM_BEFORE_RE.search(_clause_before(text, a, 0))
        if _ARROW_GAP_RE.fullmatch(gap) or from_to:
            before, after = a.minutes, b.minutes
        elif _INSTEAD_GAP_RE.fullmatch(gap):
            before, after = b.minutes, a.minutes
        else:
            continue
        in_pair.update((i, i + 1))
        if not found_pair and before is not None and after is not None and 0 <= after < before:
            found_pair, pair_result = True, before - after
    if found_pair:
        return _to_int(pair_result)

    free = [(i, s) for i, s in enumerate(spans) if i not in in_pair]
    for i, s in free:
        floor = spans[i - 1].end if i > 0 else 0
        if _SAVED_BEFORE_RE.search(_clause_before(text, s, floor)) or _SAVED_AFTER_RE.match(
            text, s.end, s.end + _WINDOW
        ):
            return _to_int(s.minutes)
    if len(free) == 1:
        return _to_int(free[0][1].minutes)
    return None


def parse_duration(text: str) -> int | None:
    """Minutes in a plain-text time like "3h", "2.5 hours", "45m", "1h30m", "90 min", "2h → 20m".

    Same rules as the win text (so "about 3h a week" is 180). A bare number ("90") is None: it
    does not say whether it means minutes or hours, and a negative time ("-3h") is None too."""
    try:
        minutes = minutes_in(text)
    except Exception:  # a parser of user text must never raise
        return None
    return minutes if minutes is None or minutes >= 0 else None
