"""bot.blocks.text: escaping user text for Block Kit, rendering wire text, truncating safely."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.blocks.text import escape, mrkdwn, plain, render_wire_text, truncate
from bot.sandbox.fake_slack.blockkit import mrkdwn_errors

Z = "\u200b"
_LIVE_SPECIAL_RE = re.compile(r"@(here|channel|everyone)", re.IGNORECASE)
_ALLOWED_LT_RE = re.compile(r"<(?:@U|@W|#C|http|mailto:)")


def unescape_escaped(text: str) -> str:
    """The inverse of `escape` for texts without U+200B."""
    text = text.replace("@" + Z, "@")
    return re.sub(r"&(amp|lt|gt);", lambda m: {"amp": "&", "lt": "<", "gt": ">"}[m.group(1)], text)


# --- escape --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain", "plain"),
        ("R&D", "R&amp;D"),
        ("a < b > c", "a &lt; b &gt; c"),
        ("&lt;", "&amp;lt;"),  # & first: a typed entity stays visible as typed
        ("<!channel>", "&lt;!channel&gt;"),
        ("<@U123>", "&lt;@U123&gt;"),
        ("<https://evil.example|bank>", "&lt;https://evil.example|bank&gt;"),
        ("@here", "@" + Z + "here"),
        ("hi @Channel and @EVERYONE", "hi @" + Z + "Channel and @" + Z + "EVERYONE"),
        ("@@here", "@@" + Z + "here"),
        ("@alice mail@x.com", "@alice mail@x.com"),
        ("*bold* _it_ `code` ~s~", "*bold* _it_ `code` ~s~"),  # nothing else changes
        ("日本 😀 \u202e \x00", "日本 😀  \x00"),  # bidi controls dropped
        ("a\u202ab\u2066c\u2069d\u200ee\u200ff\u061c", "abcdef"),
        ("", ""),
    ],
)
def test_escape(text: str, expected: str) -> None:
    assert escape(text) == expected


# --- render_wire_text ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        ("<@U02ABCDEF|alice> did it", "<@U02ABCDEF> did it"),
        ("<@U02ABCDEF> did it", "<@U02ABCDEF> did it"),
        ("<@W123|grid> did it", "<@W123> did it"),
        ("in <#C05RPT12345|reporting>", "in <#C05RPT12345>"),
        ("in <#C05RPT12345|>", "in <#C05RPT12345>"),
        ("in <#C05RPT12345>", "in <#C05RPT12345>"),
        ("<https://example.com/memo>", "<https://example.com/memo>"),
        ("<https://example.com/memo|the memo>", "the memo (<https://example.com/memo>)"),
        ("<http://x.y|a &lt;b&gt; @here>", "a &lt;b&gt; @" + Z + "here (<http://x.y>)"),
        ("<http://x.y|x.y>", "<http://x.y|x.y>"),  # how Slack sends a typed "x.y"
        ("<https://Example.COM/a/|https://example.com/a>", "<https://Example.COM/a/|https://example.com/a>"),
        ("<https://evil.example|https://intranet.example/login>",
         "https://intranet.example/login (<https://evil.example>)"),
        ("<mailto:a@evil.example|support@acme.example>", "support@acme.example (<mailto:a@evil.example>)"),
        ("<https://evil.example|\u202eelpmaxe.live//:sptth>",
         "elpmaxe.live//:sptth (<https://evil.example>)"),
        ("<HTTPS://X.Y/a?b=1&amp;c=2|x>", "x (<https://X.Y/a?b=1&amp;c=2>)"),
        ("<mailto:a@b.c|mail me>", "mail me (<mailto:a@b.c>)"),
        ("<mailto:a@b.c|a@b.c>", "<mailto:a@b.c|a@b.c>"),
        ("<javascript:alert(1)|click>", "click"),
        ("<ftp://x.y>", "ftp://x.y"),
        ("<!here>", "@" + Z + "here"),
        ("<!here|here>", "@" + Z + "here"),
        ("<!channel> <!everyone>", "@" + Z + "channel @" + Z + "everyone"),
        ("<!subteam^S123|@team>", "@" + Z + "team"),
        ("<!subteam^S123>", "@" + Z + "group"),
        ("<!date^1392734382^{date_short}|Feb 18, 2014>", "Feb 18, 2014"),
        ("R&amp;D &lt;draft&gt;", "R&amp;D &lt;draft&gt;"),
        ("&amp;lt;!here&amp;gt;", "&amp;lt;!here&amp;gt;"),
        ("@here typed (escaping off)", "@" + Z + "here typed (escaping off)"),
        ("stray < and > and &", "stray &lt; and &gt; and &amp;"),  # not a Slack token: shown as typed
        ("a <b and c", "a &lt;b and c"),
        ("<>", "&lt;&gt;"),
        ("<@alice>", "@alice"),
        ("<#G123|secret>", "#secret"),
        ("<@>HERE", "@" + Z + "HERE"),  # "@" from a token and "here" after it must not join
        ("@<!date^1^{d}|here>", "@" + Z + "here"),
        (
            "<@U02ABCDEF|alice> &amp; <@U03GHIJKL|carol> built the R&amp;D &lt;draft&gt; deck in "
            "<#C05RPT12345|reporting>, saved 90m <https://example.com/memo>",
            "<@U02ABCDEF> &amp; <@U03GHIJKL> built the R&amp;D &lt;draft&gt; deck in "
            "<#C05RPT12345>, saved 90m <https://example.com/memo>",
        ),
    ],
)
def test_render_wire_text(wire: str, expected: str) -> None:
    assert render_wire_text(wire) == expected


def test_render_wire_text_cannot_forge_a_link_label() -> None:
    out = render_wire_text("<https://good.example|ok&gt;<https://evil.example|pwned>")
    assert "<!" not in out
    assert out.count("<") == 1 and all(_ALLOWED_LT_RE.match(out, m.start()) for m in re.finditer("<", out))


# --- truncate and plain ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short", 10, "short"),
        ("exactly10!", 10, "exactly10!"),
        ("hello world", 8, "hello w…"),
        ("hello world", 7, "hello…"),  # trailing space dropped before the suffix
        ("ab &amp;cd", 7, "ab…"),  # never "ab &am…"
        ("ab &lt;cd", 6, "ab…"),
        ("ab &lt;cd", 8, "ab &lt;…"),
        ("ab <https://x.y|label> cd", 10, "ab…"),  # never half a link token
        ("ab <@U123> cd", 12, "ab <@U123>…"),
        ("e\u0301e\u0301e\u0301e\u0301", 4, "e\u0301…"),  # combining mark stays with its letter
        ("👩\u200d👩\u200d👧 ok", 4, "…"),  # a ZWJ family is one character to a reader
        ("🇺🇸🇫🇷🇩🇪", 4, "🇺🇸…"),  # flags are pairs
    ],
)
def test_truncate(text: str, limit: int, expected: str) -> None:
    assert truncate(text, limit) == expected


def test_truncate_custom_suffix_and_bad_limit() -> None:
    assert truncate("abcdefghij", 8, suffix=" (more)") == "a (more)"
    with pytest.raises(ValueError):
        truncate("abcdefghij", 1)


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("Win of the week", 150, "Win of the week"),
        ("R&D <draft>", 75, "R&D <draft>"),  # plain_text shows &<> literally
        ("@here look", 75, "@" + Z + "here look"),
        ("A very long modal title here", 24, "A very long modal title…"),
        ("x" * 200, 150, "x" * 149 + "…"),
        ("e\u0301" * 20, 5, "e\u0301e\u0301…"),
    ],
)
def test_plain(text: str, limit: int, expected: str) -> None:
    assert plain(text, limit) == expected


# --- properties ------------------------------------------------------------------------------------------

PIECES = [
    "<@U123ABC>", "<@U123ABC|alice>", "<@W9|x>", "<#C1|x>", "<#C1>", "<#C1|>", "<https://x.y|l>", "<http://a>",
    "<mailto:a@b.c>", "<javascript:x|y>", "<!here>", "<!channel>", "<!everyone>", "<!subteam^S1|@t>",
    "<!date^1^{d}|D>", "<>", "<|>", "&amp;", "&lt;", "&gt;", "&", "<", ">", "|", "!", "@", "@here",
    "@channel", "@everyone", "here", "#tag", " ", "😀", "\u200d", "\u0301", "🇺", "\x00", "\n", "日本",
]
wire_text = st.one_of(st.text(), st.lists(st.sampled_from(PIECES), max_size=40).map("".join))
text_without_zwsp = st.one_of(st.text(), st.lists(st.sampled_from(PIECES), max_size=40).map("".join)).filter(
    lambda s: Z not in s and not re.search("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]", s)
)


@settings(max_examples=300, deadline=None)
@given(wire_text)
def test_escape_is_safe(text: str) -> None:
    out = escape(text)
    assert "<" not in out and ">" not in out
    assert not _LIVE_SPECIAL_RE.search(out)


@settings(max_examples=300, deadline=None)
@given(text_without_zwsp)
def test_escape_round_trips(text: str) -> None:
    assert unescape_escaped(escape(text)) == text


@settings(max_examples=300, deadline=None)
@given(wire_text)
def test_render_wire_text_is_safe(text: str) -> None:
    out = render_wire_text(text)
    assert "<!" not in out
    for m in re.finditer("<", out):
        assert _ALLOWED_LT_RE.match(out, m.start()), out
    # Outside the kept tokens nothing can ping anyone (a kept token separates the text around it).
    outside = re.sub(r"<[^<>]*>", " ", out)
    assert ">" not in outside
    assert not _LIVE_SPECIAL_RE.search(outside)


_PARTIAL_ENTITY_RE = re.compile(r"&(?:a|am|amp|l|lt|g|gt)?$")


@settings(max_examples=300, deadline=None)
@given(wire_text, st.integers(min_value=2, max_value=80))
def test_truncate_escaped(text: str, limit: int) -> None:
    escaped = escape(text)
    out = truncate(escaped, limit)
    assert len(out) <= limit
    body = out[:-1] if out != escaped else out
    assert not _PARTIAL_ENTITY_RE.search(body)
    assert out == escaped or escaped.startswith(body)


@settings(max_examples=300, deadline=None)
@given(wire_text, st.integers(min_value=2, max_value=80))
def test_truncate_rendered_keeps_whole_tokens(text: str, limit: int) -> None:
    rendered = render_wire_text(text)
    out = truncate(rendered, limit)
    assert len(out) <= limit
    body = out[:-1] if out != rendered else out
    assert not _PARTIAL_ENTITY_RE.search(body)
    assert body.count("<") == body.count(">")  # every kept token is complete
    assert "<!" not in out


@settings(max_examples=300, deadline=None)
@given(wire_text, st.sampled_from([24, 75, 150, 3000]))
def test_plain_is_safe(text: str, limit: int) -> None:
    out = plain(text, limit)
    assert len(out) <= limit
    assert not _LIVE_SPECIAL_RE.search(out)


def test_long_inputs_finish() -> None:
    # No timing assertion: these just have to come back.
    for text in ["<" * 40_000, "&amp;" * 8_000, "<https://x|" * 3_000, "@here" * 8_000, "\u200d&amp;" * 6_000,
                 "e" + "\u0301" * 40_000, "<@U1>" * 8_000]:
        out = truncate(render_wire_text(text), 3000)
        assert len(out) <= 3000
        assert len(truncate(escape(text), 3000)) <= 3000
        assert len(plain(text, 150)) <= 150


# --- links cannot be disguised; bidi controls never survive -----------------------------------------------

BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
_HOSTS = ["intranet.example", "evil.example", "Evil.Example", "acme.example", "bank.example", "x.y"]
_host = st.sampled_from(_HOSTS)
_path = st.sampled_from(["", "/", "/login", "/a/b", "/login/", "/LOGIN"])
_url = st.builds(lambda s, h, p: f"{s}{h}{p}", st.sampled_from(["http://", "https://", "HTTPS://"]), _host, _path)
_mail = st.builds(lambda u, h: f"{u}@{h}", st.sampled_from(["a", "support", "it"]), _host)
_bidi_text = st.lists(st.one_of(st.sampled_from(list(BIDI)), st.text(max_size=5)), max_size=6).map("".join)
_label = st.one_of(
    _url, _host, _mail, _url.map(lambda u: u.upper()), _bidi_text,
    st.builds(lambda a, b, c: a + b + c, _bidi_text, st.one_of(_url, _host, _mail), _bidi_text),
)
_link = st.one_of(
    st.builds(lambda u, lab: f"<{u}|{lab}>", _url, _label),
    st.builds(lambda m, lab: f"<mailto:{m}|{lab}>", _mail, _label),
)
_wire_with_links = st.lists(st.one_of(_link, st.sampled_from(PIECES), _bidi_text), max_size=8).map("".join)
_OUT_LINK_RE = re.compile(r"<((?:https?://|mailto:)[^|<>]*)\|([^<>]*)>")


def _names(s: str) -> str:
    """What a reader takes a link label or target to name: no scheme, case, or trailing slash."""
    s = re.sub(r"^(?:https?://|mailto:)", "", s.strip(), flags=re.IGNORECASE).lower()
    return s.rstrip("/")


@settings(max_examples=500, deadline=None)
@given(_wire_with_links)
def test_no_rendered_link_has_a_label_naming_another_target(wire: str) -> None:
    out = render_wire_text(wire)
    for m in _OUT_LINK_RE.finditer(out):
        target, label = m.group(1).replace("&amp;", "&"), m.group(2)
        assert _names(label) == _names(target), out
    assert not any(c in out for c in BIDI), out


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(PIECES), _bidi_text, _link), max_size=10).map("".join))
def test_no_bidi_control_survives(text: str) -> None:
    for out in (escape(text), render_wire_text(text), plain(text, 3000), mrkdwn(text)):
        assert not any(c in out for c in BIDI), repr(out)


def test_disguised_links_show_their_real_target() -> None:
    out = render_wire_text("reset it at <https://evil.example|https://intranet.example/login> or "
                           "<mailto:a@evil.example|support@acme.example>")
    assert "<https://evil.example>" in out and "|https://intranet" not in out
    assert "<mailto:a@evil.example>" in out and "|support@acme.example" not in out


# --- mrkdwn: the bot's own copy ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("copy", "expected"),
    [
        ("Mark one done: `/aiwin teachbacks done <id>`.", "Mark one done: `/aiwin teachbacks done &lt;id&gt;`."),
        ("`/aiwin digest on <day> <time>`", "`/aiwin digest on &lt;day&gt; &lt;time&gt;`"),
        ("`with <Tool>` `/aiwin narrate <how you used AI, step by step>`",
         "`with &lt;Tool&gt;` `/aiwin narrate &lt;how you used AI, step by step&gt;`"),
        ("<@U1> <#C2> <!subteam^S3> <https://x.y|read it> <mailto:a@b.c>",
         "<@U1> <#C2> <!subteam^S3> <https://x.y|read it> <mailto:a@b.c>"),
        ("<!channel> <!here|here>", "&lt;!channel&gt; &lt;!here|here&gt;"),  # the bot pings no one
        ("a < b, c > d, <<@U1>>", "a &lt; b, c &gt; d, &lt;<@U1>>"),
        ("x < y", "x &lt; y"),
        ("R&amp;D &lt;x&gt; *bold*", "R&amp;D &lt;x&gt; *bold*"),
    ],
)
def test_mrkdwn(copy: str, expected: str) -> None:
    assert mrkdwn(copy) == expected
    assert mrkdwn(expected) == expected  # idempotent


@settings(max_examples=300, deadline=None)
@given(wire_text)
def test_mrkdwn_leaves_only_slack_tokens(text: str) -> None:
    out = mrkdwn(text)
    assert not mrkdwn_errors(out, "/t")
    assert "<!here" not in out and "<!channel" not in out and "<!everyone" not in out
