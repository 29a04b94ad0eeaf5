"""Where things were said: the bot joins public channels it celebrates in (so 🎓 reactions reach it),
and what was said in a private conversation is never shown outside it. Privacy comes from Slack's
conversations.info, never from the id. Each test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest

from bot.models import utcnow
from bot.services import teachbacks as tb
from bot.services.digest import build_digest
from bot.services.home import build_home
from bot.services.subscriptions import iso_week
from tests.conftest import ALICE, BOB, CAROL, CHANNEL, TEAM
from tests.helpers import all_text, wait_until, wins
from tests.test_teachbacks import MGR, nominations, settle

pytestmark = pytest.mark.dates  # .ci/run runs these again with the clock moved ahead

OTHER = "C0RANDOM001"  # public, the bot is not in it
SECRET = "C0SECRET001"  # private although its id starts with C; the bot was invited
PUBLIC_TEXT = "<@U02ABCDEF|alice> drafted the launch FAQ with ChatGPT, saved 2h"
SECRET_TEXT = "<@U03GHIJKL|carol> modelled the Project Falcon layoffs with Claude, saved 3h"


@pytest.fixture
def world(fake_slack):
    fake_slack.add_user(MGR, "maria", is_admin=True)
    fake_slack.add_channel(OTHER, "random")
    fake_slack.add_channel(SECRET, "falcon", is_private=True, bot_member=True)
    return fake_slack


def record(slack, db, text, channel):
    assert slack.command("/aiwin", text, user_id=BOB, channel_id=channel).status == 200
    return wait_until(lambda: next((w for w in wins(db, TEAM) if w.text == text and w.message_ts), None),
                      message=f"the celebration in {channel}")


# -- 8.1: reactions reach us only where the bot is a member; celebrating joins ------------------------------


def test_a_reaction_in_a_channel_the_bot_never_joined_does_not_arrive_until_it_celebrates_there(
        slack, fake_slack, db, world):
    ts = fake_slack.add_message(OTHER, BOB, "anyone tried Copilot for SQL?")["ts"]
    assert fake_slack.react(MGR, OTHER, ts) == []  # Slack does not deliver it: the bot is not a member
    assert fake_slack.calls("conversations.join") == []

    win = record(slack, db, PUBLIC_TEXT, OTHER)
    [join] = fake_slack.wait_for("conversations.join", channel=OTHER)
    assert join.ok

    assert [r.status for r in fake_slack.react(MGR, OTHER, win.message_ts)] == [200]
    settle(db)
    assert [(n.win_id, n.manager_id) for n in nominations(db)] == [(win.id, MGR)]


def test_membership_is_remembered_so_the_bot_joins_once(slack, fake_slack, db, world):
    record(slack, db, PUBLIC_TEXT, OTHER)
    record(slack, db, "summarised the retro notes with Claude, saved 30m", OTHER)
    assert len(fake_slack.calls("conversations.join")) == 1
    assert len(fake_slack.calls("conversations.info", channel=OTHER)) == 1


def test_a_private_channel_is_never_joined_and_keeps_the_invite_answer(slack, fake_slack, db, world):
    fake_slack.add_channel("C0NOTIN0001", "hush", is_private=True)  # private, the bot not invited
    hook = fake_slack.webhook_url("private")
    r = slack.command("/aiwin", SECRET_TEXT, user_id=BOB, channel_id="C0NOTIN0001", response_url=hook)
    assert r.status == 200
    [notice] = fake_slack.wait_for("response_url")
    assert "/invite @aiwins" in all_text(notice.params)
    assert fake_slack.calls("conversations.join") == []
    [win] = wins(db, TEAM)
    assert win.private is True  # Slack hides it from the bot: not public


@pytest.mark.parametrize("error", ["method_not_supported_for_channel_type", "is_archived", "channel_not_found"])
def test_join_refusals_still_post_the_celebration(slack, fake_slack, db, world, error):
    fake_slack.fail("conversations.join", error=error)
    win = record(slack, db, PUBLIC_TEXT, OTHER)  # chat:write.public still lets it post
    assert win.message_ts
    fake_slack.wait_for_calls("conversations.join")


# -- 8.5: private stays private ----------------------------------------------------------------------------


def test_privacy_comes_from_conversations_info_not_the_id(slack, fake_slack, db, world):
    public = record(slack, db, PUBLIC_TEXT, CHANNEL)
    secret = record(slack, db, SECRET_TEXT, SECRET)
    assert (public.private, secret.private) == (False, True)
    assert fake_slack.wait_for("conversations.info", channel=SECRET)
    assert fake_slack.calls("conversations.join", channel=SECRET) == []


def test_a_private_win_is_in_totals_but_its_text_only_in_its_own_channel(slack, fake_slack, db, world):
    record(slack, db, PUBLIC_TEXT, CHANNEL)
    record(slack, db, SECRET_TEXT, SECRET)
    week = iso_week(utcnow())
    with db.read(TEAM) as s:
        public = build_digest(s, TEAM, week, channel_id=CHANNEL)
        own = build_digest(s, TEAM, week, channel_id=SECRET)
        nowhere = build_digest(s, TEAM, week)
    for data in (public, own, nowhere):
        assert (data.wins, data.minutes_saved) == (2, 300)  # hours and counts include the private win
    assert [w.text for w in public.best_wins] == [PUBLIC_TEXT]
    assert [w.text for w in nowhere.best_wins] == [PUBLIC_TEXT]
    assert [w.text for w in own.best_wins] == [SECRET_TEXT, PUBLIC_TEXT]


def test_a_posted_digest_in_a_public_channel_never_shows_private_text(slack, fake_slack, db, world):
    record(slack, db, PUBLIC_TEXT, CHANNEL)
    record(slack, db, SECRET_TEXT, SECRET)
    hook = fake_slack.webhook_url("preview")
    assert slack.command("/aiwin", "digest preview", user_id=BOB, channel_id=CHANNEL, response_url=hook).status == 200
    shown = all_text(fake_slack.wait_for("response_url")[0].params)
    assert "launch FAQ" in shown
    assert "Falcon" not in shown and "layoffs" not in shown


def test_another_persons_home_and_the_teachback_list_do_not_show_private_text(slack, fake_slack, db, world):
    secret = record(slack, db, SECRET_TEXT, SECRET)
    assert [r.status for r in fake_slack.react(MGR, SECRET, secret.message_ts)] == [200]
    settle(db)
    with db.read(TEAM) as s:
        alice_home = build_home(s, TEAM, ALICE, is_admin=False)
        carol_home = build_home(s, TEAM, CAROL, is_admin=False)
        [elsewhere], _ = tb.open_teachbacks(s, viewer=ALICE, channel_id=CHANNEL)
        [for_carol], _ = tb.open_teachbacks(s, viewer=CAROL, channel_id=CHANNEL)
        [in_place], _ = tb.open_teachbacks(s, viewer=ALICE, channel_id=SECRET)
    assert "Falcon" not in repr(alice_home)
    assert "Falcon" in repr(carol_home.recent_wins)  # her own win
    assert alice_home.weeks[-1].minutes == 180  # the team figures count it
    assert "Falcon" not in elsewhere.win.text and elsewhere.win.message_ts is None
    assert "Falcon" in for_carol.win.text and "Falcon" in in_place.win.text
