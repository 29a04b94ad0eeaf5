"""`/aiwin search` and the App Home search box: full-text search in the database (FTS5 / tsvector),
only what the caller may see. Each database test runs on SQLite and on PostgreSQL (conftest.py)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

import bot.services.search as search_service
from bot.models import Narrative, Win
from bot.services.channels import set_private
from bot.services.narratives import record_narrative
from bot.services.privacy import delete_win, opt_out
from bot.services.search import parse_query, search
from bot.services.wins import NewWin, mark_posted, record_win, update_win
from tests.conftest import ALICE, BOB, CAROL, CHANNEL, TEAM
from tests.helpers import UNLIMITED, all_text, wait_until, wins

OTHER_TEAM = "T0OTHER0001"


def record(db, text, *, author=BOB, team=TEAM, channel=CHANNEL, **kw):
    """A win, with its conversation's privacy as the post job learns it from Slack: #reporting is
    public, every other channel here is private."""
    with db.session(team) as s:
        win_id = record_win(s, NewWin(team_id=team, enterprise_id=None, author_id=author, channel_id=channel, text=text,
                            post=False, **kw), limits=UNLIMITED).win.id
        set_private(s, Win, win_id, channel != CHANNEL)
    return win_id


def ids(db, query, *, user=BOB, team=TEAM):
    with db.read(team) as s:
        return [(h.kind, h.id) for h in search(s, team, user, parse_query(query))]


def answer(fake_slack, name):
    [reply] = wait_until(lambda: [c for c in fake_slack.calls("response_url") if c.path.endswith("/" + name)],
                         message=f"the answer on response_url {name}")
    return reply.params


# -- the service ---------------------------------------------------------------------------------------


def test_parse_query():
    q = parse_query("Deck  interviews tool:Claude #research <@U02ABCDEF|alice> @carol")
    assert q.words == ("deck", "interviews")
    assert (q.tool, q.tags, q.people, q.names) == ("Claude", ("research",), (ALICE,), ("carol",))
    assert parse_query('tool:"GitHub Copilot" tests').tool == "GitHub Copilot"
    assert parse_query("  ").empty and parse_query("&amp; --").empty


def test_words_match_prefixes_and_rank_by_relevance_then_recency(db):
    one = record(db, "turned 40 interview notes into a deck with Claude, saved 2h")
    two = record(db, "deck deck deck: the board deck, drafted with ChatGPT")
    three = record(db, "drafted the onboarding deck with Claude")
    assert ids(db, "interview") == [("win", one)]
    assert ids(db, "interv NOTES") == [("win", one)]  # a word's start, any case
    assert ids(db, "deck")[0] == ("win", two)  # the most relevant first
    assert ids(db, "drafted deck")[0] == ("win", two) and len(ids(db, "drafted deck")) == 2  # every word
    assert set(ids(db, "deck claude")) == {("win", one), ("win", three)}
    assert ids(db, "spreadsheet") == []


def test_equal_relevance_newest_first(db):
    first = record(db, "summarised the incident review")
    second = record(db, "summarised the incident review")
    assert ids(db, "incident") == [("win", second), ("win", first)]


def test_filters_tool_tag_person(db):
    a = record(db, "<@U02ABCDEF|alice> built the churn model with Claude #forecast")
    b = record(db, "built the churn dashboard with ChatGPT #forecast", author=CAROL)
    c = record(db, "built a churn memo with Claude #memo", author=CAROL)
    assert set(ids(db, "churn tool:claude")) == {("win", a), ("win", c)}
    assert set(ids(db, "churn #forecast")) == {("win", a), ("win", b)}
    assert ids(db, "churn <@U02ABCDEF|alice>") == [("win", a)]  # a recipient
    assert set(ids(db, "<@U03GHIJKL>")) == {("win", b), ("win", c)}  # an author; filters alone
    assert ids(db, "#memo") == [("win", c)]


def test_edits_and_deletes_keep_the_index_in_step(db):
    win = record(db, "wrote the quarterly report with Gemini")
    with db.session(TEAM) as s:
        update_win(s, win, BOB, text="wrote the pricing memo with Gemini", recipients=(), tool="Gemini",
                   minutes_saved=None, how=None, reinvested_in=None)
    assert ids(db, "quarterly") == []
    assert ids(db, "pricing") == [("win", win)]
    with db.session(TEAM) as s:
        assert delete_win(s, TEAM, win, BOB, is_admin=False).status == "deleted"
    assert ids(db, "pricing") == []


def test_narratives_are_found_too(db):
    with db.session(TEAM) as s:
        story = record_narrative(s, team_id=TEAM, enterprise_id=None, author_id=CAROL, channel_id=CHANNEL,
                                 text="I paste the interview transcript and ask for themes",
                                 checked="every quote against the recording", limits=UNLIMITED).narrative.id
        set_private(s, Narrative, story, False)
    assert ids(db, "transcript themes", user=ALICE) == [("narrative", story)]
    assert ids(db, "recording", user=CAROL) == [("narrative", story)]
    assert ids(db, "transcript tool:claude") == []  # filters are about wins


def test_opted_out_people_are_never_found(db):
    own = record(db, "mapped the migration plan with Cursor", author=ALICE)
    shout = record(db, "<@U02ABCDEF|alice> mapped the rollout plan with Cursor", author=CAROL)
    other = record(db, "mapped the hiring plan with Cursor", author=CAROL)
    with db.session(TEAM) as s:
        story = record_narrative(s, team_id=TEAM, enterprise_id=None, author_id=ALICE, channel_id=CHANNEL,
                                 text="mapped plans in Cursor", limits=UNLIMITED).narrative.id
        set_private(s, Narrative, story, False)
    assert len(ids(db, "mapped")) == 4
    with db.session(TEAM) as s:
        opt_out(s, TEAM, ALICE, True)
    assert ids(db, "mapped") == [("win", other)]
    assert ids(db, "mapped", user=ALICE) == [("win", other)]
    assert own and shout


def test_private_wins_only_for_author_and_recipients(db):
    # Said in a private channel: only the people it is about find it.
    win = record(db, "<@U02ABCDEF|alice> cleaned the CRM export with Claude", channel="G0PRIVATE01")
    assert ids(db, "crm", user=BOB) == [("win", win)]  # author
    assert ids(db, "crm", user=ALICE) == [("win", win)]  # recipient
    assert ids(db, "crm", user=CAROL) == []


def test_never_across_workspaces(db):
    record(db, "translated the manual with DeepL", team=OTHER_TEAM)
    assert ids(db, "manual") == []
    assert ids(db, "manual", team=OTHER_TEAM) != []


_EXAMPLES = itertools.count(1)
WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=12)
SEPARATORS = st.sampled_from([" ", ", ", ". ", " - ", " (", ") ", "! ", "\n", " & ", " / "])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=st.lists(WORD, min_size=1, max_size=8), seps=st.lists(SEPARATORS, min_size=8, max_size=8),
       pick=st.integers(min_value=0, max_value=7))
def test_property_found_by_any_word_never_after_delete_optout_elsewhere_or_private(db, words, seps, pick):
    n = next(_EXAMPLES)  # a fresh workspace per example: the database outlives them
    team = f"T{n:010d}"
    text = "".join(w + s for w, s in zip(words, seps, strict=False))
    word = words[pick % len(words)]
    public = record(db, text, team=team, author=ALICE)
    private = record(db, text, team=team, author=BOB, channel="G0PRIVATE01")
    mine = ids(db, word, user=ALICE, team=team)
    assert ("win", public) in mine and ("win", private) not in mine  # never another's private win
    assert ("win", private) in ids(db, word, user=BOB, team=team)
    assert ids(db, word, user=ALICE, team=f"X{n:010d}") == []  # never across workspaces
    with db.session(team) as s:
        delete_win(s, team, public, ALICE, is_admin=False)
        opt_out(s, team, BOB, True)
    assert ids(db, word, user=ALICE, team=team) == [] and ids(db, word, user=BOB, team=team) == []


def test_only_the_newest_candidates_are_ranked(db, monkeypatch):
    monkeypatch.setattr(search_service, "CANDIDATES", 3)
    old = [record(db, "budget budget budget budget review") for _ in range(2)]
    new = [record(db, "budget review") for _ in range(3)]
    # The older, more relevant wins are past the newest three matches: a bounded search.
    assert {i for _, i in ids(db, "budget")} == set(new) and old


@pytest.mark.parametrize("estimate", [1.0, 20_000.0, 10.0**9])
def test_postgres_plans_find_the_same_wins(db, monkeypatch, estimate):
    """Whatever PostgreSQL estimates (few matches: the GIN index, the rarest word looked up; many:
    newest first; more than the workspace holds: its own rows checked), the same wins are found."""
    if db.dialect != "postgresql":
        pytest.skip("PostgreSQL only: SQLite's plan does not depend on estimates")
    monkeypatch.setattr(search_service, "_estimated_matches", lambda *_: estimate)
    deck = record(db, "the board deck, drafted with ChatGPT")
    both = record(db, "deck for the board review with Claude")
    board = record(db, "board minutes summarised with Gemini")
    record(db, "a deck for the board, drafted with Claude", team=OTHER_TEAM)
    record(db, "the board deck in private with Claude", channel="C0PRIVATE01", author=CAROL)
    assert {i for _, i in ids(db, "deck")} == {deck, both}
    assert {i for _, i in ids(db, "board deck")} == {deck, both}
    assert {i for _, i in ids(db, "boa revi")} == {both}
    assert {i for _, i in ids(db, "board")} == {deck, both, board}


def test_postgres_uses_the_gin_index(db):
    if db.dialect != "postgresql":
        pytest.skip("PostgreSQL only: SQLite always searches through its FTS5 table")
    with db.session(TEAM) as s:
        s.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(r[0] for r in s.execute(text(
            "EXPLAIN SELECT id FROM wins WHERE search_tsv @@ to_tsquery('simple', 'deck:*')")))
    assert "ix_wins_search" in plan


# -- over HTTP -------------------------------------------------------------------------------------------


def test_search_command_answers_privately_with_links(slack, fake_slack, db):
    slack.command("/aiwin", "turned 40 interview notes into a deck with Claude, saved 20m", user_id=BOB)
    win = wait_until(lambda: next((w for w in wins(db, TEAM) if w.message_ts), None), message="the post")
    r = slack.command("/aiwin", "search interview deck", user_id=BOB, response_url=fake_slack.webhook_url("s1"))
    assert r.status == 200 and not r.body.strip()
    body = answer(fake_slack, "s1")
    assert body["response_type"] == "ephemeral"
    text = all_text(body["blocks"])
    assert f"Win #{win.id}" in text and "interview notes" in text
    assert f"/archives/{CHANNEL}/p{win.message_ts.replace('.', '')}" in text


def test_search_nothing_found_suggests_broader(slack, fake_slack, db):
    slack.command("/aiwin", "search churn model tool:Claude", user_id=BOB, response_url=fake_slack.webhook_url("s2"))
    text = all_text(answer(fake_slack, "s2"))
    assert "Nothing found" in text and "/aiwin search churn model" in text


def test_search_without_words_shows_usage(slack):
    r = slack.command("/aiwin", "search", user_id=BOB)
    assert "/aiwin search deck interviews" in all_text(r.json())


def test_search_for_someone_else_hides_private_wins(slack, fake_slack, db):
    fake_slack.add_channel("G0PRIVATE01", "secret", is_private=True, bot_member=True)
    slack.command("/aiwin", "cleaned the CRM export with Claude", user_id=BOB, channel_id="G0PRIVATE01")
    # Celebrated there, so the app knows from Slack that the conversation is private.
    wait_until(lambda: [w for w in wins(db, TEAM) if w.message_ts and w.private], message="the private win posted")
    slack.command("/aiwin", "search crm", user_id=CAROL, response_url=fake_slack.webhook_url("s3"))
    assert "Nothing found" in all_text(answer(fake_slack, "s3"))
    slack.command("/aiwin", "search crm", user_id=BOB, response_url=fake_slack.webhook_url("s4"))
    assert "cleaned the CRM export" in all_text(answer(fake_slack, "s4"))  # its author may


def test_app_home_search_box(slack, fake_slack, db):
    record(db, "turned 40 interview notes into a deck with Claude", author=ALICE)
    slack.event({"type": "app_home_opened", "user": BOB, "channel": "D07AIWINDM1", "tab": "home"})
    home = wait_until(lambda: fake_slack.home_view(BOB), message="the Home view")
    assert any(b.get("block_id") == "home_search" for b in home["blocks"])
    home_search(slack, "interview")
    text = all_text(results_view(fake_slack))
    assert "interview notes" in text and "Search AI wins" in text


def home_search(slack, words, user=BOB):
    slack.block_action(user, {"type": "plain_text_input", "action_id": "home_search_input", "block_id": "home_search",
                              "value": words}, view={"id": "VHOME0001", "type": "home"})


def results_view(fake_slack):
    """A "Searching…" view opens at once (a trigger lasts 3 s); the results replace it (views.update,
    with the opened view's hash) once found and linked."""
    [opened] = fake_slack.wait_for("views.open")
    assert "Searching for" in all_text(opened.params["view"])
    [update] = fake_slack.wait_for("views.update", view_id=opened.response["view"]["id"])
    assert update.params["hash"] == opened.response["view"]["hash"]
    return update.params["view"]


def test_app_home_search_on_a_slow_slack_still_shows_linked_results(slack, fake_slack, db):
    """Ten chat.getPermalink calls take 1.5 s here, past the trigger's life (1 s in this test)."""
    links = {}
    for i in range(10):
        win_id = record(db, f"turned interview notes {i} into a deck with Claude", author=ALICE)
        posted = fake_slack.add_message(CHANNEL, "U07AIWINBOT", f"win {i}")
        with db.session(TEAM) as s:
            mark_posted(s, win_id, CHANNEL, posted["ts"])
        links[win_id] = posted["ts"].replace(".", "")
    fake_slack.trigger_lifetime = 1.0
    fake_slack.latency(0.15)

    home_search(slack, "interview")

    text = all_text(results_view(fake_slack))
    assert len(fake_slack.calls("chat.getPermalink")) == 10
    for win_id, ts in links.items():
        assert f"*Win #{win_id}*" in text and f"/archives/{CHANNEL}/p{ts}|open>" in text
    assert [c.error for c in fake_slack.calls("views.open")] == [None]


def test_app_home_search_that_cannot_open_says_so_by_dm(slack, fake_slack, db):
    record(db, "turned interview notes into a deck with Claude", author=ALICE)
    fake_slack.fail("views.open", error="expired_trigger_id")
    home_search(slack, "interview")
    [dm] = fake_slack.wait_for("chat.postMessage", channel=BOB)
    assert "couldn't open the search form" in all_text(dm.params) and "/aiwin search" in all_text(dm.params)
    assert fake_slack.calls("views.update") == []


def test_big_workspace_path_finds_the_same(db, monkeypatch):
    """SQLite searches a big workspace another way (bot/services/search.py _is_big): same answers."""
    a = record(db, "turned interview notes into a deck with Claude")
    b = record(db, "reviewed the interview plan", author=CAROL)
    record(db, "interview notes elsewhere", team=OTHER_TEAM)
    small = ids(db, "interview"), ids(db, "interview notes"), ids(db, "interview", user=ALICE)
    monkeypatch.setattr(search_service, "BIG_WORKSPACE", 1)
    monkeypatch.setattr(search_service, "_big", {})
    assert (ids(db, "interview"), ids(db, "interview notes"), ids(db, "interview", user=ALICE)) == small
    assert set(small[0]) == {("win", a), ("win", b)}
