"""Issue 9 item 6: one person cannot flood a channel. A per-person token bucket (burst, then a
steady rate) shared through the database. Signed HTTP into the real server; SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from bot.blocks.narratives import NARRATIVE_MODAL
from bot.blocks.win import WIN_MODAL
from bot.models import Narrative, TeachBack
from bot.services import ratelimit
from bot.services.ratelimit import Limits
from bot.settings import ConfigError, Settings, load_settings
from tests.conftest import ALICE, BOB, CAROL, CHANNEL, DAVE, TEAM
from tests.helpers import all_text, settled, wait_until, wins
from tests.test_teachbacks import celebrate, react, settle

BURST = 5  # the default AIWINS_RATE_BURST


@pytest.fixture
def settings(settings):
    """The app's default limits (the shared fixture raises them for the other tests)."""
    return dataclasses.replace(settings, rate_burst=Settings().rate_burst, rate_per_minute=Settings().rate_per_minute)


def test_a_burst_past_the_limit_is_told_to_slow_down_and_stores_exactly_the_allowed_number(slack, fake_slack, db):
    fake_slack.latency(0)
    answers = [slack.command("/aiwin", f"<@{ALICE}|alice> win number {i} with Claude, saved 1h", user_id=BOB,
                             channel_id=CHANNEL).json() for i in range(BURST + 3)]
    saved = [a for a in answers if "Got your AI win" in all_text(a)]
    slowed = [a for a in answers if "Slow down" in all_text(a)]
    assert len(saved) == BURST and len(slowed) == 3
    text = all_text(slowed[0])
    assert slowed[0]["response_type"] == "ephemeral"
    assert "not* saved" in text and "Try again in" in text and "seconds" in text
    assert "win number 5 with Claude" in text  # what they typed, to send again
    assert len(settled(db, TEAM)) == BURST
    # Someone else is not affected by Bob's limit.
    r = slack.command("/aiwin", "my own win with Gemini, saved 30m", user_id=CAROL)
    assert "Got your AI win" in all_text(r.json())
    assert len(settled(db, TEAM)) == BURST + 1


def test_the_win_modal_stays_open_with_a_field_error_past_the_limit(slack, db):
    def submit(i):
        view = {"callback_id": WIN_MODAL, "private_metadata": "{}", "state": {"values": {
            "what": {"what": {"type": "plain_text_input", "value": f"modal win {i}"}}}}}
        return slack.view_submission(BOB, view)

    for i in range(BURST):
        assert submit(i).body.strip() == b""  # closed: saved
    r = submit(BURST).json()
    assert r["response_action"] == "errors" and "Slow down" in r["errors"]["what"]
    assert len(settled(db, TEAM)) == BURST


def test_stories_have_their_own_limit(slack, db):
    for i in range(BURST):
        slack.command("/aiwin", f"narrate story {i}: I paste notes into Claude", user_id=BOB)
    r = slack.command("/aiwin", "narrate one too many", user_id=BOB)
    assert "Slow down" in all_text(r.json())
    view = {"callback_id": NARRATIVE_MODAL, "private_metadata": "{}", "state": {"values": {
        "how": {"how": {"type": "plain_text_input", "value": "modal story"}}}}}
    r = slack.view_submission(BOB, view).json()
    assert r["response_action"] == "errors" and "Slow down" in r["errors"]["how"]
    with db.read(TEAM) as s:
        assert s.scalar(select(func.count()).select_from(Narrative)) == BURST
    # Wins are a separate bucket.
    assert "Got your AI win" in all_text(slack.command("/aiwin", "a win, saved 1h", user_id=BOB).json())


def test_nominations_past_the_limit_are_dropped(slack, fake_slack, db):
    mgr = "U0MGR000001"
    fake_slack.add_user(mgr, "maria", is_admin=True)
    authors = (ALICE, CAROL, DAVE)
    posted = [celebrate(slack, db, text=f"win {i} drafted with ChatGPT, saved 1h", author=authors[i % 3])
              for i in range(BURST + 2)]
    for w in posted:
        react(fake_slack, mgr, w.message_ts)
    settle(db)
    with db.read(TEAM) as s:
        assert s.scalar(select(func.count()).select_from(TeachBack)) == BURST


def test_bucket_refills_at_the_steady_rate(db):
    limits = Limits(burst=2, per_minute=6)  # one every 10 s after a burst of 2
    with db.session(TEAM) as s:
        take = [ratelimit.take(s, TEAM, BOB, "win", limits, now=1000.0 + t) for t in (0, 0, 0, 5, 10, 10, 30)]
    assert take[0] is None and take[1] is None
    assert take[2] == pytest.approx(10.0)  # next allowed at t=10
    assert take[3] == pytest.approx(5.0)
    assert take[4] is None and take[5] is not None  # one token back after 10 s, not two
    assert take[6] is None


def test_rate_settings_are_read_and_checked():
    s = load_settings({"AIWINS_RATE_BURST": "3", "AIWINS_RATE_PER_MINUTE": "0.5"}, dotenv_path=None)
    assert (s.rate_burst, s.rate_per_minute) == (3, 0.5)
    d = load_settings({}, dotenv_path=None)
    assert (d.rate_burst, d.rate_per_minute) == (5, 6.0)
    with pytest.raises(ConfigError, match="AIWINS_RATE_BURST"):
        load_settings({"AIWINS_RATE_BURST": "lots"}, dotenv_path=None)
    with pytest.raises(ConfigError, match="AIWINS_RATE_PER_MINUTE"):
        load_settings({"AIWINS_RATE_PER_MINUTE": "0"}, dotenv_path=None)


def test_a_concurrent_burst_stores_exactly_the_allowed_number(slack, db):
    """200 wins in a second from one person, 20 at a time: the bucket is one row, updated atomically."""
    results: list[str] = []

    def send(i: int) -> None:
        r = slack.command("/aiwin", f"flood {i} with Claude, saved 1m", user_id=BOB)
        results.append("saved" if "Got your AI win" in all_text(r.json()) else
                       "slow" if "Slow down" in all_text(r.json()) else f"other: {r.body[:80]!r}")

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=20) as pool:
        list(pool.map(send, range(200)))
    refilled = int((time.monotonic() - started) // Limits().interval)  # a slow machine earns tokens back
    saved = results.count("saved")
    assert BURST <= saved <= BURST + refilled and results.count("slow") == 200 - saved, set(results)
    assert len(settled(db, TEAM)) == saved


# -- no side doors: every way to record a win goes through the same limit ----------------------------------------


def test_record_it_anyway_is_limited_like_every_other_way_in(slack, fake_slack, db):
    for i in range(BURST):
        assert "Got your AI win" in all_text(slack.command("/aiwin", f"win {i} with Claude", user_id=BOB).json())
    assert len(settled(db, TEAM)) == BURST
    # A typo prompt, then its "record it anyway" button, with the limit used up: nothing more is recorded.
    r = slack.command("/aiwin", "stat &amp; more", user_id=BOB, channel_id=CHANNEL,
                      response_url=fake_slack.webhook_url("t"))
    [button] = [e for b in r.json()["blocks"] if b["type"] == "actions" for e in b["elements"]]
    prompt = fake_slack.show_answer(r.json(), channel=CHANNEL, user=BOB)
    click = {"action_id": button["action_id"], "block_id": "b", "type": "button", "value": button["value"]}
    container = {"type": "message", "message_ts": prompt["ts"], "channel_id": CHANNEL, "is_ephemeral": True}
    slack.block_action(BOB, click, channel_id=CHANNEL, container=container,
                       response_url=fake_slack.webhook_url("anyway", original=prompt))
    [told] = wait_until(lambda: [c for c in fake_slack.calls("response_url") if c.path.endswith("/anyway")])
    assert "Slow down" in all_text(told.params) and "stat &amp; more" in all_text(told.params)
    assert len(wins(db, TEAM)) == BURST


def test_a_workflow_step_is_limited_per_author_and_ends_the_run_with_a_sentence(slack, fake_slack, db):
    runs = []
    for i in range(BURST + 3):
        event = fake_slack.start_function("record_ai_win", {"author": BOB, "text": f"step win {i} with Claude"})
        assert slack.event(event).status == 200
        runs.append(event["function_execution_id"])
    def ended(execution_id: str):  # noqa: ANN202
        run = fake_slack.function_run(execution_id)
        return run if run["status"] != "pending" else None

    done = [wait_until(lambda x=x: ended(x), message="the step ended") for x in runs]
    assert len(wins(db, TEAM)) == BURST
    refused = [r for r in done if r["status"] == "failed"]
    assert len(refused) == 3 and all("was not recorded" in r["error"] for r in refused)


def test_workflows_together_have_a_bucket_of_their_own(db):
    from bot.services import steps
    from bot.services.steps import StepInput

    limits = Limits(burst=1, per_minute=1)  # one person's: a workflow may record ten times that, together
    recorded, refused = 0, 0
    with db.session(TEAM) as s:
        for i in range(15):  # 15 different authors, so no person's own limit is reached
            step = StepInput(author=f"U0AUTHOR{i:03d}", text=f"win {i}", recipients=None, tool=None,
                             minutes_saved=None, channel=None)
            result = steps.record_step_win(s, team_id=TEAM, enterprise_id=None, execution_id=f"Fx{i}", token=None,
                                           step=step, limits=limits)
            recorded, refused = recorded + (result.win is not None), refused + (result.win is None)
    assert (recorded, refused) == (10, 5)


def test_the_services_apply_the_limit_themselves(db):
    """No entry point can skip the limit: recording a story or a nomination takes the token inside the
    service; a retried request (same trigger_id) returns what was recorded and takes none."""
    from bot.models import utcnow
    from bot.services.narratives import record_narrative
    from bot.services.teachbacks import nominate
    from bot.services.wins import NewWin, record_win
    from tests.helpers import UNLIMITED

    limits = Limits(burst=2, per_minute=1.0)
    with db.session(TEAM) as s:
        stories = [record_narrative(s, team_id=TEAM, enterprise_id=None, author_id=BOB, text=f"story {i}",
                                    trigger_id=f"t{i}", limits=limits) for i in range(3)]
        again = record_narrative(s, team_id=TEAM, enterprise_id=None, author_id=BOB, text="story 0",
                                 trigger_id="t0", limits=limits)
    assert [r.created for r in stories] == [True, True, False]
    assert stories[2].narrative is None and stories[2].wait is not None
    assert again.narrative is not None and again.narrative.id == stories[0].narrative.id and again.wait is None
    with db.session(TEAM) as s:
        ids = [record_win(s, NewWin(team_id=TEAM, enterprise_id=None, author_id=ALICE, channel_id=None, text=f"win {i}",
                                    post=False), limits=UNLIMITED).win.id for i in range(3)]
        noms = [nominate(s, team_id=TEAM, win_id=w, manager_id=CAROL, at=utcnow(), limits=limits) for w in ids]
    assert [n.created for n in noms] == [True, True, False] and noms[2].wait is not None
    with db.read(TEAM) as s:
        assert s.scalar(select(func.count()).select_from(Narrative)) == 2
        assert s.scalar(select(func.count()).select_from(TeachBack)) == 2
