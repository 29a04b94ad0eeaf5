""""I tried it too" end to end: signed button presses into the real server, the sandbox playing Slack,
on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.models import Tried
from bot.services import ratelimit, tries
from bot.services.narratives import record_narrative
from bot.services.ratelimit import Limits
from bot.services.tries import STORY, WIN, Target
from tests.conftest import ALICE, BOB, CAROL, CHANNEL, DAVE, TEAM
from tests.helpers import UNLIMITED, all_text, wait_until
from tests.test_teachbacks import MGR, celebrate, click, nominated, replies

SHOUT_OUT = "<@U02ABCDEF|alice> ran customer interviews with Claude, saved 3h"


@pytest.fixture
def manager(fake_slack):
    fake_slack.add_user(MGR, "maria", is_admin=True)
    return MGR


def press(slack, fake_slack, user, value, name, *, ts, channel=CHANNEL):
    action = {"action_id": "tried_it", "block_id": "tried", "type": "button", "value": value}
    container = {"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": False}
    r = slack.block_action(user, action, channel_id=channel, container=container,
                           response_url=fake_slack.webhook_url(name))
    assert r.status == 200
    [reply] = replies(fake_slack, name)
    return all_text(reply.params)


def shown(fake_slack, ts, channel=CHANNEL):
    return next(all_text(m.get("blocks")) for m in fake_slack.messages(channel) if m["ts"] == ts)


def tried_rows(db):
    with db.read(TEAM) as s:
        return [(t.user_id, t.win_id, t.narrative_id) for t in s.scalars(select(Tried).order_by(Tried.id))]


def test_tried_it_counts_once_per_person_declines_the_owner_and_updates_the_message(slack, fake_slack, db):
    win = celebrate(slack, db, SHOUT_OUT)  # bob's shout-out for alice: alice owns the practice
    assert "I tried it too" in shown(fake_slack, win.message_ts)
    value = f"w:{win.id}"

    assert "your own win" in press(slack, fake_slack, ALICE, value, "own", ts=win.message_ts)
    assert tried_rows(db) == []

    assert "Noted" in press(slack, fake_slack, CAROL, value, "carol", ts=win.message_ts)
    wait_until(lambda: "1 person tried it too" in shown(fake_slack, win.message_ts), message="count 1 shown")
    assert "already said you tried" in press(slack, fake_slack, CAROL, value, "carol2", ts=win.message_ts)
    assert "That makes 2" in press(slack, fake_slack, DAVE, value, "dave", ts=win.message_ts)
    wait_until(lambda: "2 people tried it too" in shown(fake_slack, win.message_ts), message="count 2 shown")
    assert tried_rows(db) == [(CAROL, win.id, None), (DAVE, win.id, None)]

    # The owner hears once today, however many people tried it; the author of the shout-out never.
    settle_tries(db)
    notes = [c for c in fake_slack.calls("chat.postMessage", channel=ALICE) if "tried" in all_text(c.params)]
    assert len(notes) == 1 and CAROL in all_text(notes[0].params)
    assert not [c for c in fake_slack.calls("chat.postMessage", channel=BOB) if "tried" in all_text(c.params)]


def test_a_presser_who_opted_out_is_counted_and_not_named(slack, fake_slack, db):
    from bot.services.people import set_opt_out

    win = celebrate(slack, db, SHOUT_OUT)
    with db.session(TEAM) as s:
        set_opt_out(s, TEAM, CAROL, True)
    assert "Noted" in press(slack, fake_slack, CAROL, f"w:{win.id}", "carol", ts=win.message_ts)
    wait_until(lambda: "1 person tried it too" in shown(fake_slack, win.message_ts), message="count shown")
    settle_tries(db)
    [note] = [c for c in fake_slack.calls("chat.postMessage", channel=ALICE) if "tried" in all_text(c.params)]
    assert "A colleague tried" in all_text(note.params) and CAROL not in all_text(note.params)


def test_a_story_can_be_tried_too(slack, fake_slack, db):
    r = slack.command("/aiwin", "narrate I ask Claude for three interview guides and merge them", user_id=BOB,
                      channel_id=CHANNEL)
    assert r.status == 200
    story = wait_until(lambda: [m for m in fake_slack.messages(CHANNEL) if "How I use AI" in all_text(m.get("blocks"))],
                       message="the story posted")[0]
    [button] = [e for b in story["blocks"] if b["type"] == "actions" for e in b["elements"]
                if e["action_id"] == "tried_it"]
    assert button["value"].startswith("n:")
    assert "your own story" in press(slack, fake_slack, BOB, button["value"], "bob", ts=story["ts"])
    assert "Noted" in press(slack, fake_slack, CAROL, button["value"], "carol", ts=story["ts"])
    wait_until(lambda: "1 person tried it too" in shown(fake_slack, story["ts"]), message="story count shown")


def test_a_delivered_teachback_carries_the_button_and_its_presses_count_for_the_win(slack, fake_slack, db, manager):
    win, tb = nominated(slack, fake_slack, db)
    click(slack, fake_slack, ALICE, "teachback_done", str(tb.id), "done")
    note = wait_until(lambda: [c for c in fake_slack.calls("chat.postMessage", thread_ts=win.message_ts)
                               if "delivered a teach-back" in all_text(c.params)], message="the delivered note")[0]
    assert "tried_it" in all_text(note.params["blocks"])
    assert "Noted" in press(slack, fake_slack, CAROL, f"w:{win.id}", "carol", ts=note.response["ts"])
    wait_until(lambda: "1 person tried it too" in shown(fake_slack, note.response["ts"]), message="note updated")
    wait_until(lambda: "1 person tried it too" in shown(fake_slack, win.message_ts), message="celebration updated")


def test_bad_button_values_get_a_sentence(slack, fake_slack, db):
    for i, value in enumerate(("x:1", "w:", "w:99999999999999999999", "", "w:424242")):
        text = press(slack, fake_slack, CAROL, value, f"bad{i}", ts="1.000001")
        assert "no longer exists" in text or "not one I know" in text


def test_the_per_person_limit_applies(db):
    win = _win(db)
    tight = Limits(burst=1, per_minute=1.0)
    with db.session(TEAM) as s:  # the one token of the burst goes elsewhere first
        assert ratelimit.take(s, TEAM, CAROL, ratelimit.TRY, tight) is None
    with db.session(TEAM) as s:
        r = tries.tried_it(s, team_id=TEAM, enterprise_id=None, user_id=CAROL, target=Target(WIN, win),
                           limits=tight)
    assert r.status == tries.SLOW_DOWN and r.wait and tried_rows(db) == []


def test_a_story_and_a_win_are_told_apart(db):
    win = _win(db)
    with db.session(TEAM) as s:
        story = record_narrative(s, team_id=TEAM, enterprise_id=None, author_id=BOB, text="my story",
                                 channel_id=None, trigger_id="t-story", limits=UNLIMITED).narrative.id
    lim = Limits(burst=100, per_minute=100.0)
    with db.session(TEAM) as s:
        assert tries.tried_it(s, team_id=TEAM, enterprise_id=None, user_id=CAROL, target=Target(STORY, story),
                              limits=lim).status == tries.OK
        assert tries.tried_it(s, team_id=TEAM, enterprise_id=None, user_id=CAROL, target=Target(WIN, win),
                              limits=lim).status == tries.OK
    assert sorted(tried_rows(db), key=str) == sorted([(CAROL, None, story), (CAROL, win, None)], key=str)


def _win(db) -> int:
    from bot.services.wins import NewWin, record_win
    from tests.helpers import UNLIMITED

    with db.session(TEAM) as s:
        return record_win(s, NewWin(team_id=TEAM, enterprise_id=None, author_id=ALICE, channel_id=None,
                                    text="drafted it with Claude"), limits=UNLIMITED).win.id


def settle_tries(db):
    from sqlalchemy import func

    from bot.models import JOB_PENDING, Job

    def idle():
        with db.read() as s:
            return s.scalar(select(func.count()).select_from(Job).where(
                Job.kind.in_((tries.TRIED_UPDATE, tries.TRIED_NOTICE)), Job.status == JOB_PENDING)) == 0
    wait_until(idle, message="tries jobs done")


# -- figures: practices spread, teach-back reach, the week's most-tried win ------------------------------------


def test_spread_reach_and_the_most_tried_win_the_viewer_may_see(db):
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from bot.models import TB_DONE, TeachBack, Win
    from bot.services import figures
    from bot.services.digest import build_digest
    from bot.services.figures import Weeks, week_of

    done_at = datetime(2026, 11, 2, 10, tzinfo=UTC)  # a Monday
    public, private = _win(db), _win(db)
    with db.session(TEAM) as s:
        s.execute(update(Win).where(Win.id == public).values(private=False, channel_id=CHANNEL))
        s.execute(update(Win).where(Win.id == private).values(private=True, channel_id="G0SECRET01"))
        s.add(TeachBack(team_id=TEAM, win_id=public, owner_id=ALICE, status=TB_DONE, first_manager_id=BOB,
                        done_at=done_at))
    lim = Limits(burst=100, per_minute=100.0)
    with db.session(TEAM) as s:
        for user, win, days in ((CAROL, public, 1), (DAVE, public, 40), (CAROL, private, 2), (DAVE, private, 3),
                                (BOB, private, 3)):
            r = tries.tried_it(s, team_id=TEAM, enterprise_id=None, user_id=user, target=Target(WIN, win),
                               limits=lim, now=done_at + timedelta(days=days))
            assert r.status == tries.OK
    everything = Weeks(week_of(done_at), week_of(done_at + timedelta(days=40)))
    with db.read(TEAM) as s:
        assert figures.spread(s, TEAM, everything) == figures.Spread(tries=5, practices_spread=2, teachback_reach=1)
        first_week = Weeks(week_of(done_at), week_of(done_at))
        assert figures.spread(s, TEAM, first_week) == figures.Spread(tries=4, practices_spread=2, teachback_reach=1)
        week = done_at.strftime("%G-W%V")
        assert build_digest(s, TEAM, week, channel_id="G0SECRET01").most_tried[0].id == private
        in_public = build_digest(s, TEAM, week, channel_id=CHANNEL).most_tried
        assert in_public[0].id == public and in_public[1] == 1
