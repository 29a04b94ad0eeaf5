"""bot.services.wintext: the win-text parser (recipients, time saved, tool, tags)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.blocks.words import hours as format_minutes
from bot.services.wintext import KNOWN_TOOLS, ParsedWin, parse_duration, parse_win_text

# The url-encoded `text=` fields of tests/fixtures/slash_command*.form, exactly as on the wire.
FORM_TEXT_ESCAPED = (
    "text=%3C%40U02ABCDEF%7Calice%3E+drafted+the+Q3+board+memo+with+ChatGPT%2C+saved+3h+%23reporting"
)
FORM_TEXT_ENTITIES = (
    "text=%3C%40U02ABCDEF%7Calice%3E+%26amp%3B+%3C%40U03GHIJKL%7Ccarol%3E+built+the+R%26amp%3BD+%26lt%3Bdraft"
    "%26gt%3B+deck+in+%3C%23C05RPT12345%7Creporting%3E%2C+saved+90m+%3Chttps%3A%2F%2Fexample.com%2Fmemo%3E"
)
FORM_TEXT_UNESCAPED = "text=%40alice+drafted+the+Q3+board+memo+with+ChatGPT%2C+saved+3h+%23reporting"


def form_text(form: str) -> str:
    return parse_qs(form, keep_blank_values=True)["text"][0]


# --- the three fixtures ---------------------------------------------------------------------------


def test_fixture_escaping_on() -> None:
    text = form_text(FORM_TEXT_ESCAPED)
    assert text == "<@U02ABCDEF|alice> drafted the Q3 board memo with ChatGPT, saved 3h #reporting"
    assert parse_win_text(text) == ParsedWin(
        text=text, recipients=("U02ABCDEF",), minutes_saved=180, tool="ChatGPT", tags=("reporting",)
    )


def test_fixture_escaped_entities() -> None:
    text = form_text(FORM_TEXT_ENTITIES)
    assert "R&amp;D &lt;draft&gt;" in text
    parsed = parse_win_text(text)
    assert parsed.text == text
    assert parsed.recipients == ("U02ABCDEF", "U03GHIJKL")
    assert parsed.minutes_saved == 90
    assert parsed.tool is None
    assert parsed.tags == ()  # <#C05RPT12345|reporting> is a channel, not a tag


def test_fixture_escaping_off() -> None:
    # "@alice" typed with escaping OFF is not a user id: not a recipient (a later layer resolves names).
    text = form_text(FORM_TEXT_UNESCAPED)
    parsed = parse_win_text(text)
    assert parsed.recipients == ()
    assert (parsed.minutes_saved, parsed.tool, parsed.tags) == (180, "ChatGPT", ("reporting",))


# --- recipients ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<@U123ABC> did it", ("U123ABC",)),
        ("<@U123ABC|alice> did it", ("U123ABC",)),
        ("<@W123ABC|grid.user> did it", ("W123ABC",)),
        ("<@U1> and <@U2|b> and <@U1|a again>", ("U1", "U2")),
        ("<@U016RDVB4Q5|username.with.spaces> x", ("U016RDVB4Q5",)),
        ("@alice and @bob", ()),
        ("&lt;@U123&gt; typed literally", ()),  # user-typed brackets arrive escaped: not a mention
        ("<@u123> <@alice> <@> <@U12-3>", ()),  # not user ids
        ("<#C123|general> <!here> <!subteam^S1|@team> <https://x.y>", ()),
        ("", ()),
    ],
)
def test_recipients(text: str, expected: tuple[str, ...]) -> None:
    assert parse_win_text(text).recipients == expected


# --- time saved ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("saved 3h", 180),
        ("saved 3 h", 180),
        ("Saved 3H", 180),
        ("saved 2.5 hours", 150),
        ("saved 1.5hrs", 90),
        ("saved 1 hr", 60),
        ("saved an hour", 60),
        ("saved half an hour", 30),
        ("saved a half hour", 30),
        ("saved a quarter of an hour", 15),
        ("saved an hour and a half", 90),
        ("saved one and a half hours", 90),
        ("saved a couple of hours", 120),
        ("saved twenty-five minutes", 25),
        ("saved forty five minutes", 45),
        ("45m saved", 45),
        ("45 mins saved", 45),
        ("45 minutes of work saved", 45),
        ("3h/week saved", 180),
        ("90 min", 90),
        ("90min", 90),
        ("1h30m", 90),
        ("1h 30m", 90),
        ("1h30", 90),
        ("saved 2h45 on it", 165),
        ("1h300", 60),  # not minutes: only 00-59 right after the h
        ("1 hour 30 minutes", 90),
        ("2 hours and 15 minutes", 135),
        ("a 3-hour task", 180),
        ("2h → 20m", 100),
        ("2h ⟶ 20m", 100),
        ("2h ➜ 20m", 100),
        ("2h -&gt; 20m", 100),  # "->" as it arrives on the wire
        ("2h-&gt;20m", 100),
        ("2h =&gt; 20m", 100),
        ("2h -> 20m", 100),  # and as plain text
        ("2 hours down to 20 minutes", 100),
        ("from 2h to 20m", 100),
        ("cut the report from 2h to 20m", 100),
        ("from about 2 hours to ~20 min", 100),
        ("took 20m instead of 2h", 100),
        ("took 20m instead of the usual 2h", 100),
        ("took 20 minutes rather than 2 hours", 100),
        ("saved 3h a week", 180),
        ("saved 3h per week", 180),
        ("saved us about 2.5 hours", 150),
        ("time saved: 45m", 45),
        ("2,5 h", 150),
        ("saved 2,5 hours", 150),
        ("saved 1,000 minutes", 1000),
        ("saved 5000h", 300000),  # absurd but as written: validation is another layer's job
        ("saved 0m", 0),
        ("saved 1.26m", 1),  # rounded half-up to whole minutes
        ("saved 0.5m", 1),
        ("saved 20s", None),  # seconds are not understood
        ("saved 2 days", None),  # days are ignored
        ("2 days", None),
        ("from 20m to 2h", None),  # after ≥ before is no saving
        ("2h → 2h", None),
        ("took 2h then 3h", None),  # two bare durations and no pattern: no guess
        ("saved 2h on drafting, 3h on review", 120),  # the first "saved" duration wins
        ("meeting took 1h; saved 15m", 15),  # "saved" beats a bare duration
        ("saved 15m, 2h → 30m", 90),  # a pair beats "saved"
        ("processed 1M rows", None),  # capital M is million
        ("closed a $5m deal", None),  # money
        ("Q3 board memo", None),
        ("3 hats and 2 months and 5 ms", None),
        ("at 3pm", None),
        ("saved 1e308h", None),
        ("saved " + "9" * 400 + "h", None),  # unparseable huge number: None, no overflow
        ("saved 99999999999h", None),  # does not fit a 32-bit integer column
        ("https://example.com/1h30m", None),  # inside a URL
        ("<https://example.com/1h30m|saved 2h>", None),  # inside a link token
        ("no time here", None),
        ("", None),
    ],
)
def test_minutes_saved(text: str, minutes: int | None) -> None:
    assert parse_win_text(text).minutes_saved == minutes


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("3h", 180),
        ("2.5 hours", 150),
        ("45m", 45),
        ("1h30m", 90),
        ("90 min", 90),
        ("1,5 h", 90),
        ("about 3h a week", 180),
        ("2h → 20m", 100),
        ("90", None),  # a bare number does not say minutes or hours
        ("soon", None),
        ("", None),
    ],
)
def test_parse_duration(text: str, minutes: int | None) -> None:
    assert parse_duration(text) == minutes


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (None, ""),
        (0, "0 min"),
        (1, "1 min"),
        (20, "20 min"),
        (59, "59 min"),
        (60, "1 h"),
        (66, "1 h 6 min"),
        (90, "1 h 30 min"),
        (345, "5 h 45 min"),
        (100, "1 h 40 min"),
        (120, "2 h"),
        (150, "2 h 30 min"),
        (61, "1 h 1 min"),
        (300000, "5,000 h"),
        (300001, "5,000 h 1 min"),
    ],
)
def test_format_minutes(minutes: int | None, expected: str) -> None:
    assert format_minutes(minutes) == expected


def test_format_minutes_round_trips_through_parse_duration() -> None:
    for minutes in [*range(1, 400), 1000, 12345]:
        assert parse_duration(format_minutes(minutes)) == minutes


# --- tools -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tool"),
    [
        ("drafted with ChatGPT", "ChatGPT"),
        ("drafted with chatgpt", "ChatGPT"),
        ("asked chat gpt", "ChatGPT"),
        ("GPT-4 wrote it", "ChatGPT"),
        ("GPT-4o wrote it", "ChatGPT"),
        ("gpt4 wrote it", "ChatGPT"),
        ("gpt-5 wrote it", "ChatGPT"),
        ("gpt-4o-mini wrote it", "ChatGPT"),
        ("used Claude", "Claude"),
        ("GitHub Copilot wrote tests", "Copilot"),
        ("Microsoft Copilot summarised", "Copilot"),
        ("copilot", "Copilot"),
        ("Gemini", "Gemini"),
        ("Cursor refactored it", "Cursor"),
        ("refactored with cursor", "Cursor"),
        ("moved the cursor faster", None),  # a common word, lower-case, no "with": not the tool
        ("perplexity search", "Perplexity"),
        ("midjourney art", "Midjourney"),
        ("made it with DALL-E 3", "DALL-E"),
        ("notion ai summary", "Notion AI"),
        ("Grammarly fixed it", "Grammarly"),
        ("Otter took notes", "Otter"),
        ("otter.ai took notes", "Otter"),
        ("built in v0", "v0"),
        ("shipped v0 of the API", None),
        ("ElevenLabs voice", "ElevenLabs"),
        ("NotebookLM podcast", "NotebookLM"),
        ("deepseek", "DeepSeek"),
        ("Zapier AI flow", "Zapier AI"),
        ("with Claude, then ChatGPT", "Claude"),  # the first known tool wins
        ("with Tabnine then claude", "Claude"),  # known tools win over with/using
        ("using Bard", "Bard"),
        ("with Tabnine.", "Tabnine"),
        ("via Zed", "Zed"),
        ("with “Tabnine”, fast", "Tabnine"),
        ("using tool9x", "tool9x"),  # contains a digit
        ("with the team", None),
        ("using my notes", None),
        ("with The team", None),
        ("with AI", None),
        ("with @alice", None),
        ("with <@U123|alice>", None),
        ("with 3h to spare", None),
        ("worked with the team using Bard", "Bard"),
        ("claude.ai", "Claude"),
        ("<https://chatgpt.com|link>", None),  # inside a link token
        ("#chatgpt", "ChatGPT"),
        ("nothing here", None),
    ],
)
def test_tool(text: str, tool: str | None) -> None:
    assert parse_win_text(text).tool == tool


def test_known_tools_list() -> None:
    assert len(KNOWN_TOOLS) == len(set(KNOWN_TOOLS)) >= 20
    expected = (
        "ChatGPT", "Claude", "Copilot", "Gemini", "Cursor", "Perplexity", "Midjourney", "DALL-E", "Notion AI",
        "Grammarly", "Windsurf", "v0", "Lovable", "Replit", "Codeium", "Jasper", "Runway", "ElevenLabs",
        "Whisper", "Llama", "Mistral", "DeepSeek", "NotebookLM", "Zapier AI",
    )
    for name in expected:
        assert name in KNOWN_TOOLS
    for name in KNOWN_TOOLS:  # every canonical name is recognised as written, after "with"
        assert parse_win_text(f"did it with {name}.").tool == name


# --- tags ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tags"),
    [
        ("#reporting", ("reporting",)),
        ("#Reporting #reporting #REPORTING", ("reporting",)),
        ("#a-b_c #x1", ("a-b_c", "x1")),
        ("#tag-", ("tag",)),
        ("#café #naïve", ("café", "naïve")),
        ("#cafe\u0301", ("cafe\u0301",)),  # combining mark kept
        ("#日本語 #Ünïcödé", ("日本語", "ünïcödé")),
        ("(#paren), #end.", ("paren", "end")),
        ("<#C05RPT12345|reporting>", ()),
        ("<#C05RPT12345> <#C05RPT12345|>", ()),
        ("<https://x.y/#anchor>", ()),
        ("https://x.y/page#anchor", ()),
        ("&amp;#123; and &#123;", ()),
        ("C# and F#", ()),
        ("page#x", ()),
        ("PR #482", ()),  # a reference, not a tag: needs a letter
        ("##double", ()),
        ("# spaced", ()),
        ("#", ()),
        ("#😀", ()),
    ],
)
def test_tags(text: str, tags: tuple[str, ...]) -> None:
    assert parse_win_text(text).tags == tags


# --- robustness --------------------------------------------------------------------------------------------

_ID_RE = re.compile(r"^[UW][A-Z0-9]+$")

WIRE_PIECES = [
    "<@U123ABC>", "<@U123ABC|alice>", "<@W9>", "<#C1|x>", "<#C1>", "<#C1|>", "<https://x.y|l>", "<!here>",
    "<!subteam^S1|@t>", "&amp;", "&lt;", "&gt;", "&", "<", ">", "|", "@here", "#tag", "saved", " ", "3h",
    "20m", "→", "->", "-&gt;", "from", "to", "instead of", "with", "using", "ChatGPT", "Bard", "an hour",
    "1,5", "2.5", "hours", "min", "\x00", "\u200b", "\u0301", "😀", "\u202e", "日本", "\n", "9" * 50,
]
wire_text = st.one_of(st.text(), st.lists(st.sampled_from(WIRE_PIECES), max_size=40).map("".join))


@settings(max_examples=300, deadline=None)
@given(wire_text)
def test_any_text_parses(text: str) -> None:
    parsed = parse_win_text(text)
    assert parsed.text == text
    minutes = parsed.minutes_saved
    assert minutes is None or (isinstance(minutes, int) and minutes >= 0)
    assert all(_ID_RE.match(r) for r in parsed.recipients)
    assert len(set(parsed.recipients)) == len(parsed.recipients)
    assert len(set(parsed.tags)) == len(parsed.tags)
    assert all(t == t.lower() and t and "#" not in t for t in parsed.tags)
    assert parsed.tool is None or parsed.tool.strip()


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_duration(text: str) -> None:
    minutes = parse_duration(text)
    assert minutes is None or minutes >= 0
    assert isinstance(format_minutes(minutes), str)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=2**31 - 1))
def test_format_minutes_any(minutes: int) -> None:
    assert parse_duration(format_minutes(minutes)) == minutes


@pytest.mark.parametrize(
    "text",
    [
        "1" * 40_000,
        "1 " * 20_000,
        "saved " * 6_000,
        "<" * 40_000,
        "<a" * 20_000,
        "&amp;" * 8_000,
        "1h" + "-" * 40_000,
        "1" + " " * 40_000 + "h",
        "half " * 8_000,
        "from 1h to " * 3_600,
        "1h -> " * 6_600,
        "#" * 40_000,
        "#a" * 20_000,
        "with " * 8_000,
        "with " + "X" * 40_000,
        "1,000" * 8_000,
        "1," * 20_000,
        "<@U1|x>" * 5_700,
        "saved 1h30m → 20m #tag with GPT-4 " * 1_100,
        "#a" + "\u0301" * 40_000,
        "😀\u200d" * 20_000,
        "\x00" * 40_000,
        "a " * 20_000,
    ],
)
def test_adversarial_40k_inputs_finish(text: str) -> None:
    # No timing assertion: a catastrophic regex would simply never finish here.
    parsed = parse_win_text(text)
    assert parsed.text == text
    parse_duration(text)


# --- a negative time is never counted -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("triaged the backlog with Claude, saved -3h", -180),
        ("saved \u22123h", -180),  # a typographic minus
        ("-45m saved", -45),
        ("saved 2-3h", 180),  # a range, not a minus
        ("triage - 3h saved", 180),  # a dash, not a minus
        ("saved 3h", 180),
    ],
)
def test_negative_time_is_kept_negative_so_it_is_refused(text: str, minutes: int) -> None:
    assert parse_win_text(text).minutes_saved == minutes
    assert parse_duration(text) == (minutes if minutes > 0 else None)
