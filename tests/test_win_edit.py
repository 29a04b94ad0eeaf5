"""Edit round-trips: the edit form shows what a person wrote, and saving it
unchanged leaves the stored win and the posted celebration exactly as they were.

Runs on SQLite and PostgreSQL (the `db` fixture)."""

from __future__ import annotations

import json
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.blocks.win import celebration, win_modal
from bot.listeners.views.win_modal import read_win_form
from bot.models import Member, utcnow
from bot.sandbox.requests import submitted_state
from bot.services.win_edit import edit_form, save_edit
from bot.services.wins import NewWin, get_win, record_win
from bot.services.wintext import readable_text
from tests.conftest import ALICE, BOB, CAROL, CHANNEL, ENTERPRISE, TEAM
from tests.helpers import UNLIMITED, all_text, wait_until, wins

pytestmark = pytest.mark.dates  # .ci/run runs these again with the clock moved ahead

USERS = (ALICE, CAROL, "U0DAVE00001", "W0ENTUSER01", BOB)


def _escape(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# Typed text as Slack sends it: the three characters escaped, everything else as typed.
typed = st.lists(
    st.one_of(
        st.sampled_from(list("&<>|@#!*_~`'\" ,.:;()[]{}") + ["&amp;", "&lt;", "é", "日本", "🎉", "👩🏽‍💻", "\n"]),
        st.characters(blacklist_categories=("Cs", "Cc")),
    ),
    max_size=20,
).map(lambda chars: _escape("".join(chars)))
user_token = st.builds(
    lambda uid, name: f"<@{uid}|{name}>" if name else f"<@{uid}>",
    st.sampled_from(USERS),
    st.one_of(st.none(), st.sampled_from(["alice", "carol.b", "Dave & Co", "zoë"]).map(_escape)),
)
link_token = st.builds(
    lambda url, label: f"<{url}|{_escape(label)}>" if label else f"<{url}>",
    st.sampled_from(["https://example.com/a?b=1&amp;c=2", "http://x.y", "mailto:a@b.example"]),
    st.one_of(st.none(), st.sampled_from(["docs", "a@b.example", "https://example.com/a?b=1&c=2", "R&D"])),
)
other_token = st.sampled_from(["<!here>", "<!channel>", "<!everyone>", "<#C05RPT12345|reporting>", "<#C0OTHER1>",
                               "<!subteam^S0TEAM1|@design>", "<!date^1700000000^{date}|Nov 14>"])
wire_text = st.lists(st.one_of(typed, user_token, link_token, other_token), min_size=1, max_size=8).map(
    lambda parts: " ".join(parts).strip()
)


def _submit_unchanged(session, win_id: int) -> None:
    """Open the edit form for a win and save it without touching anything, as Slack would."""
    win = get_win(session, win_id)
    view = win_modal(channel_id=win.channel_id, win=win, form=edit_form(session, win))
    fields, errors = read_win_form(submitted_state(view))
    assert errors == {}
    fields.pop("channel_id")
    meta = json.loads(view["private_metadata"])
    assert save_edit(session, win_id, win.author_id, shown=meta["shown"], **fields) is not None


def _stored(db, win_id: int) -> tuple:
    [w] = [w for w in wins(db, TEAM) if w.id == win_id]
    return (w.text, w.text_format, w.owner_ids, w.tool, w.minutes_saved, w.tags, w.how, w.reinvested_in)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=wire_text, minutes=st.one_of(st.none(), st.integers(1, 12000)), tool=st.sampled_from(
    [None, "ChatGPT", "Tabnine 2", "Gemini"]), tags=st.lists(st.sampled_from(["reporting", "ops", "日本"]), max_size=2))
def test_saving_an_unchanged_edit_keeps_the_win_and_its_celebration(db, text, minutes, tool, tags):
    with db.session(TEAM) as session:
        session.merge(Member(team_id=TEAM, user_id=ALICE, name="alice.w", fetched_at=utcnow()))
        result = record_win(session, NewWin(team_id=TEAM, enterprise_id=ENTERPRISE, author_id=BOB, channel_id=None,
                            text=text, trigger_id=uuid.uuid4().hex, tool=tool, minutes_saved=minutes,
                            tags=tuple(tags)), limits=UNLIMITED)
        win_id = result.win.id
        form = edit_form(session, result.win)
    if not form.text or len(form.text) > 3000:
        return  # nothing a person could save unchanged
    before = _stored(db, win_id)
    with db.read(TEAM) as session:
        shown_before = celebration(get_win(session, win_id))
    with db.session(TEAM) as session:
        _submit_unchanged(session, win_id)
    assert _stored(db, win_id) == before
    with db.read(TEAM) as session:
        assert celebration(get_win(session, win_id)) == shown_before


def test_edit_form_shows_what_a_person_wrote(db):
    text = "<@U02ABCDEF|alice> &amp; <@U03GHIJKL> cut &lt;draft&gt; time with <@U0DAVE00001|dave> — R&amp;D <!channel>"
    with db.session(TEAM) as session:
        session.merge(Member(team_id=TEAM, user_id=CAROL, name="carol", fetched_at=utcnow()))
        win = record_win(session, NewWin(team_id=TEAM, enterprise_id=None, author_id=BOB, channel_id=CHANNEL,
                         text=text, trigger_id="t1"), limits=UNLIMITED).win
        view = win_modal(channel_id=CHANNEL, win=win, form=edit_form(session, win))
    [who] = [b for b in view["blocks"] if b["block_id"] == "who"]
    [what] = [b for b in view["blocks"] if b["block_id"] == "what"]
    assert who["element"]["initial_users"] == [ALICE, CAROL, "U0DAVE00001"]
    # Leading recipients are in the picker; the rest reads as typed.
    assert what["element"]["initial_value"] == "cut <draft> time with @dave — R&D @channel"


def test_changed_text_is_stored_as_plain_text_and_reposted(db):
    with db.session(TEAM) as session:
        win = record_win(session, NewWin(team_id=TEAM, enterprise_id=None, author_id=BOB, channel_id=None,
                         text="<@U02ABCDEF|alice> wrote the FAQ &amp; the memo", trigger_id="t2"), limits=UNLIMITED).win
        form = edit_form(session, win)
        assert form.text == "wrote the FAQ & the memo"
        save_edit(session, win.id, BOB, shown=form.shown, text="wrote the FAQ & the <b>memo</b>",
                  recipients=(ALICE,), tool=None, minutes_saved=None, how=None, reinvested_in=None)
    [w] = wins(db, TEAM)
    assert (w.text, w.text_format, w.owner_ids) == ("wrote the FAQ & the <b>memo</b>", "plain", [ALICE])


def test_readable_text_rules():
    names = {ALICE: "Alice W"}
    assert readable_text("<@U02ABCDEF|alice> hi", names=names) == "@Alice W hi"
    assert readable_text("<@U03GHIJKL|carol> hi") == "@carol hi"
    assert readable_text("<@U03GHIJKL> hi") == "@U03GHIJKL hi"
    assert readable_text("&amp;lt; &lt;b&gt; &amp;") == "&lt; <b> &"
    assert readable_text("<!channel> <!here> <!subteam^S1|@design>") == "@channel @here @design"
    assert readable_text("<https://x.example|docs> <https://y.example> <mailto:a@b.example|a@b.example>") == (
        "docs (https://x.example) https://y.example a@b.example")
    assert readable_text("<https://evil.example|https://intranet.example>") == (
        "https://intranet.example (https://evil.example)")
    assert readable_text("<#C05RPT12345|reporting> <#C0X>") == "#reporting #C0X"
    assert readable_text("<b> &lt;", "plain") == "<b> &lt;"
    # Only leading recipients are omitted, and never the whole text.
    assert readable_text("<@U1>, <@U2> and <@U3> wrote it", omit_leading={"U1", "U2"}) == "@U3 wrote it"
    assert readable_text("<@U1>", omit_leading={"U1"}) == "@U1"


def test_edit_over_http_keeps_the_posted_message(slack, fake_slack, db):
    text = "<@U02ABCDEF|alice> built the R&amp;D &lt;deck&gt; with <@U03GHIJKL|carol> <!here>, saved 2h #ops"
    r = slack.command("/aiwin", text, user_id=BOB, channel_id=CHANNEL)
    assert r.status == 200
    [post] = fake_slack.wait_for("chat.postMessage", channel=CHANNEL)
    [win] = wait_until(lambda: [w for w in wins(db, TEAM) if w.message_ts], message="celebration posted")
    before = (win.text, win.text_format, win.owner_ids, win.tool, win.minutes_saved, win.tags)
    [original] = fake_slack.messages(CHANNEL)

    edit = {"action_id": "win_edit", "block_id": "b", "type": "button", "value": str(win.id)}
    assert slack.block_action(BOB, edit, channel_id=CHANNEL).status == 200
    [opened] = fake_slack.wait_for("views.open")
    view = opened.params["view"]
    shown = all_text(view["blocks"])
    assert "<@" not in shown and "&lt;" not in shown and "&amp;" not in shown
    r = slack.view_submission(BOB, dict(view, id="V9", state={"values": submitted_state(view)}))
    assert r.status == 200 and not r.body.strip()

    fake_slack.wait_for("chat.update", channel=CHANNEL, ts=post.response["ts"])
    [w] = wins(db, TEAM)
    assert (w.text, w.text_format, w.owner_ids, w.tool, w.minutes_saved, w.tags) == before
    [now] = fake_slack.messages(CHANNEL)
    assert (now["text"], now["blocks"]) == (original["text"], original["blocks"])
