"""Teach-backs end to end: signed reaction events and button clicks into the real server, the
sandbox playing Slack. Each test runs on SQLite and on PostgreSQL (see conftest.py)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from bot.models import (
    JOB_FAILED,
    JOB_PENDING,
    NOMINATION_ACTIVE,
    NOMINATION_WITHDRAWN,
    TB_ACCEPTED,
    TB_DECLINED,
    TB_DONE,
    TB_NOMINATED,
    TB_WITHDRAWN,
    Job,
    Nomination,
    TeachBack,
)
from bot.services.narratives import POST_NARRATIVE
from bot.services.people import set_opt_out
from bot.services.teachbacks import INVITE, MANAGER_NOTE, THREAD_NOTE
from bot.services.wins import POST_WIN
from tests.conftest import ALICE, BOB, CAROL, CHANNEL, DAVE, TEAM
from tests.helpers import all_text, wait_until, wins

MGR = "U0MGR000001"  # a workspace admin in the sandbox, so a manager
MGR2 = "U0MGR000002"
SHOUT_OUT = "<@U02ABCDEF|alice> drafted the Q3 board memo with ChatGPT, saved 3h"


@pytest.fixture
def managers(fake_slack):
    fake_slack.add_user(MGR, "maria", is_admin=True)
    fake_slack.add_user(MGR2, "omar", is_owner=True)
    return MGR, MGR2


# -- helpers -------------------------------------------------------------------------------------------------


def celebrate(slack, db, text=SHOUT_OUT, author=BOB):
    """Log a win and wait for its celebration to be posted; returns the Win row."""
    assert slack.command("/aiwin", text, user_id=author, channel_id=CHANNEL).status == 200
    return wait_until(lambda: next((w for w in wins(db, TEAM) if w.text == text and w.message_ts), None),
                      message="celebration posted")


def react(fake_slack, user, ts, *, emoji="mortar_board", kind="reaction_added", channel=CHANNEL, event_ts=None):
    """`user` reacts in the sandbox, which (like Slack) delivers the signed event to the app because the
    bot is a member of the channel: it joined it to post the celebration."""
    act = fake_slack.react if kind == "reaction_added" else fake_slack.unreact
    responses = act(user, channel, ts, emoji, event_ts=event_ts)
    assert [r.status for r in responses] == [200], "the sandbox did not deliver the reaction"
    return responses[0]


# The jobs this feature's tests wait for (other features queue their own, some for later).
KINDS = ("reaction_added", "reaction_removed", INVITE, THREAD_NOTE, MANAGER_NOTE, POST_WIN, POST_NARRATIVE)


def settle(db, timeout=20.0):
    """Wait until those jobs are all finished (events handled, posts and DMs sent or given up)."""
    def idle():
        with db.read() as s:
            pending = select(func.count()).select_from(Job).where(Job.kind.in_(KINDS))
            return s.scalar(pending.where(Job.status == JOB_PENDING)) == 0
    wait_until(idle, timeout, "the job queue to drain")


def failed_jobs(db):
    with db.read() as s:
        return [(j.kind, j.last_error) for j in s.scalars(select(Job).where(Job.status == JOB_FAILED))]


def nominations(db):
    with db.read(TEAM) as s:
        return list(s.scalars(select(Nomination).order_by(Nomination.id)))


def teachbacks(db):
    with db.read(TEAM) as s:
        return list(s.scalars(select(TeachBack).order_by(TeachBack.id)))


def dms(fake_slack, user):
    return [c for c in fake_slack.calls("chat.postMessage", channel=user) if c.ok]


def invitations(fake_slack, user):
    return [c for c in dms(fake_slack, user) if "teachback_accept" in all_text(c.params.get("blocks"))]


def replies(fake_slack, name, count=1):
    """What the app sent to the response_url named `name` (waits for `count` of them)."""
    return wait_until(
        lambda: (calls := [c for c in fake_slack.calls("response_url") if c.path.endswith("/" + name)])
        and len(calls) >= count and calls,
        message=f"a reply on {name}")


def ask(slack, fake_slack, user, text, name):
    """Run `/aiwin <text>` and return the text of what the app answered after the ack."""
    r = slack.command("/aiwin", text, user_id=user, response_url=fake_slack.webhook_url(name))
    assert r.status == 200 and not r.body.strip(), r.text  # a silent ack: the answer follows
    [reply] = replies(fake_slack, name)
    return all_text(reply.params)


def click(slack, fake_slack, user, action_id, value, name):
    """Press a button in a DM; returns the calls the app made to that click's response_url."""
    action = {"action_id": action_id, "block_id": "b", "type": "button", "value": value}
    r = slack.block_action(user, action, channel_id=fake_slack.dm_channel_id(user),
                           response_url=fake_slack.webhook_url(name))
    assert r.status == 200
    return replies(fake_slack, name)


def nominated(slack, fake_slack, db, manager=MGR):
    """A celebrated shout-out for alice, nominated by `manager`, invitation delivered."""
    win = celebrate(slack, db)
    react(fake_slack, manager, win.message_ts)
    fake_slack.wait_for("chat.postMessage", channel=ALICE)
    settle(db)
    [tb] = teachbacks(db)
    return win, tb


# -- nominations ---------------------------------------------------------------------------------------------


def test_manager_reaction_nominates_the_owner_and_invites_by_dm(slack, fake_slack, db, managers):
    win = celebrate(slack, db)
    react(fake_slack, MGR, win.message_ts)
    [dm] = fake_slack.wait_for("chat.postMessage", channel=ALICE)
    settle(db)

    [nom] = nominations(db)
    assert (nom.win_id, nom.manager_id, nom.status) == (win.id, MGR, NOMINATION_ACTIVE)
    [tb] = teachbacks(db)
    assert (tb.win_id, tb.owner_id, tb.status, tb.first_manager_id) == (win.id, ALICE, TB_NOMINATED, MGR)
    assert tb.invited_at is not None

    text = all_text(dm.params["blocks"])
    assert f"<@{MGR}> nominated your" in text
    assert f"/archives/{CHANNEL}/p{win.message_ts.replace('.', '')}" in text  # chat.getPermalink's link
    assert "What's a teach-back?" in text and "drafted the Q3 board memo" in text
    buttons = [e for b in dm.params["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [(b["action_id"], b["value"]) for b in buttons] == [
        ("teachback_accept", str(tb.id)), ("teachback_decline", str(tb.id))]
    assert failed_jobs(db) == []


def test_skin_tone_suffix_is_the_same_emoji(slack, fake_slack, db, managers):
    win = celebrate(slack, db)
    react(fake_slack, MGR, win.message_ts, emoji="mortar_board::skin-tone-2")
    fake_slack.wait_for("chat.postMessage", channel=ALICE)
    assert [n.manager_id for n in nominations(db)] == [MGR]


def test_every_shout_out_owner_is_invited_once(slack, fake_slack, db, managers):
    win = celebrate(slack, db, text="<@U02ABCDEF> and <@U03GHIJKL|carol> automated the QBR deck with Claude")
    react(fake_slack, MGR, win.message_ts)
    react(fake_slack, MGR2, win.message_ts)
    settle(db)
    assert sorted(t.owner_id for t in teachbacks(db)) == sorted([ALICE, CAROL])
    assert len(nominations(db)) == 2
    assert len(invitations(fake_slack, ALICE)) == len(invitations(fake_slack, CAROL)) == 1
    # The invitation names who nominated: both, or whichever reaction the worker handled first (the two
    # reaction jobs may run at the same time on different worker threads).
    text = all_text(invitations(fake_slack, ALICE)[0].params["blocks"])
    assert f"<@{MGR}>" in text or f"<@{MGR2}>" in text


@pytest.mark.parametrize("case", ["non_manager", "other_emoji", "unknown_message", "own_win", "file_item",
                                  "unknown_user", "malformed"])
def test_reactions_that_nominate_nobody(slack, fake_slack, db, managers, case):
    own_text = "cut test triage from 2h to 20m with Copilot"
    win = celebrate(slack, db, text=own_text, author=MGR) if case == "own_win" else celebrate(slack, db)
    if case in ("file_item", "malformed"):
        # Shapes a person's reaction in the sandbox cannot take: sent as signed events directly.
        event = {
            "file_item": {"type": "reaction_added", "user": MGR, "reaction": "mortar_board",
                          "item": {"type": "file", "file": "F0123456"}},
            "malformed": {"type": "reaction_added", "reaction": ["mortar_board"],
                          "item": {"type": "message", "channel": CHANNEL}},
        }[case]
        assert slack.event(event).status == 200
    else:
        user, emoji, ts = {
            "non_manager": (CAROL, "mortar_board", win.message_ts),
            "other_emoji": (MGR, "tada", win.message_ts),
            "unknown_message": (MGR, "mortar_board", fake_slack.add_message(CHANNEL, BOB, "lunch?")["ts"]),
            "own_win": (MGR, "mortar_board", win.message_ts),
            "unknown_user": ("U0GHOST0001", "mortar_board", win.message_ts),  # users.info: user_not_found
        }[case]
        react(fake_slack, user, ts, emoji=emoji)
    settle(db)
    assert nominations(db) == [] and teachbacks(db) == []
    assert failed_jobs(db) == []  # handled as a harmless no-op, not an error
    assert dms(fake_slack, ALICE) == [] and dms(fake_slack, MGR) == []


def test_slack_retry_of_the_same_event_is_one_nomination_and_one_dm(slack, fake_slack, db, managers):
    win = celebrate(slack, db)
    react(fake_slack, MGR, win.message_ts)
    event_id = fake_slack.delivered_event_ids()[-1]
    assert fake_slack.redeliver(event_id, retry_num=1).status == 200
    fake_slack.wait_for("chat.postMessage", channel=ALICE)
    assert fake_slack.redeliver(event_id, retry_num=2).status == 200
    settle(db)
    assert len(nominations(db)) == 1 and len(teachbacks(db)) == 1
    assert len(invitations(fake_slack, ALICE)) == 1


def test_removing_withdraws_and_re_adding_does_not_invite_again(slack, fake_slack, db, managers):
    win, tb = nominated(slack, fake_slack, db)
    [first] = nominations(db)

    react(fake_slack, MGR, win.message_ts, kind="reaction_removed")
    settle(db)
    [nom] = nominations(db)
    assert nom.status == NOMINATION_WITHDRAWN
    assert [t.status for t in teachbacks(db)] == [TB_WITHDRAWN]

    react(fake_slack, MGR, win.message_ts)
    settle(db)
    [nom] = nominations(db)
    assert (nom.id, nom.status) == (first.id, NOMINATION_ACTIVE)  # the same row, reactivated
    [again] = teachbacks(db)
    assert (again.id, again.status, again.invited_at) == (tb.id, TB_NOMINATED, tb.invited_at)
    assert len(invitations(fake_slack, ALICE)) == 1


def test_teachback_stays_while_another_manager_still_nominates(slack, fake_slack, db, managers):
    win, _ = nominated(slack, fake_slack, db)
    react(fake_slack, MGR2, win.message_ts)
    settle(db)
    react(fake_slack, MGR, win.message_ts, kind="reaction_removed")
    settle(db)
    assert [t.status for t in teachbacks(db)] == [TB_NOMINATED]
    react(fake_slack, MGR2, win.message_ts, kind="reaction_removed")
    settle(db)
    assert [t.status for t in teachbacks(db)] == [TB_WITHDRAWN]
    assert {n.status for n in nominations(db)} == {NOMINATION_WITHDRAWN}
    assert len(invitations(fake_slack, ALICE)) == 1


def test_a_removal_processed_before_its_addition_wins(slack, fake_slack, db, managers):
    win = celebrate(slack, db)
    added_at = time.time() - 5
    # Slack is late delivering the addition: the removal arrives first.
    assert fake_slack.react(MGR, CHANNEL, win.message_ts, event_ts=f"{added_at:.6f}", held=True) == []
    react(fake_slack, MGR, win.message_ts, kind="reaction_removed", event_ts=f"{added_at + 1:.6f}")
    settle(db)
    assert [r.status for r in fake_slack.release_held()] == [200]  # older, delivered late
    settle(db)
    assert [n.status for n in nominations(db)] == [NOMINATION_WITHDRAWN]
    assert teachbacks(db) == [] and invitations(fake_slack, ALICE) == []


def test_concurrent_duplicate_deliveries_of_one_event(slack, fake_slack, db, managers):
    win = celebrate(slack, db)
    results = fake_slack.react(MGR, CHANNEL, win.message_ts, deliveries=2)  # one event, sent twice at once
    assert [r.status for r in results] == [200, 200]
    fake_slack.wait_for("chat.postMessage", channel=ALICE)
    settle(db)
    assert len(nominations(db)) == 1 and len(teachbacks(db)) == 1
    assert len(invitations(fake_slack, ALICE)) == 1


def test_two_event_ids_for_the_same_reaction_give_one_nomination(slack, fake_slack, db, managers):
    win = celebrate(slack, db)
    results = fake_slack.react(MGR, CHANNEL, win.message_ts, deliveries=3, distinct_event_ids=True)
    assert [r.status for r in results] == [200, 200, 200]
    settle(db)
    assert len(nominations(db)) == 1 and len(teachbacks(db)) == 1
    assert len(invitations(fake_slack, ALICE)) == 1
    assert failed_jobs(db) == []


def test_enterprise_grid_w_ids(slack, fake_slack, db):
    boss, owner = "W0BOSS00001", "W0OWNER0001"
    fake_slack.add_user(boss, "wanda", is_admin=True)
    fake_slack.add_user(owner, "walt")
    win = celebrate(slack, db, text=f"<@{owner}|walt> rebuilt the onboarding guide with Gemini, saved 4h")
    assert win.owner_ids == [owner]
    react(fake_slack, boss, win.message_ts)
    [dm] = fake_slack.wait_for("chat.postMessage", channel=owner)
    assert f"<@{boss}>" in all_text(dm.params["blocks"])
    [tb] = teachbacks(db)
    [reply] = click(slack, fake_slack, owner, "teachback_accept", str(tb.id), "w-accept")
    assert "You accepted" in all_text(reply.params)
    fake_slack.wait_for("chat.postMessage", channel=boss)


def test_undeliverable_invitation_keeps_the_teachback_nominated_and_listed(slack, fake_slack, db, managers):
    fake_slack.fail("chat.postMessage", error="cannot_dm_bot", times=None, match={"channel": ALICE})
    win = celebrate(slack, db)
    react(fake_slack, MGR, win.message_ts)
    fake_slack.wait_for_calls("chat.postMessage", channel=ALICE)
    settle(db)
    [tb] = teachbacks(db)
    assert (tb.status, tb.invited_at) == (TB_NOMINATED, None)
    assert len(nominations(db)) == 1
    listing = ask(slack, fake_slack, MGR, "teachbacks", "tb-list")
    assert f"*#{tb.id}*" in listing and f"<@{ALICE}>" in listing


# -- the lifecycle -------------------------------------------------------------------------------------------


def test_accept_replies_in_the_thread_and_tells_the_manager(slack, fake_slack, db, managers):
    win, tb = nominated(slack, fake_slack, db)
    [reply] = click(slack, fake_slack, ALICE, "teachback_accept", str(tb.id), "accept-1")
    assert reply.params.get("replace_original") is True
    assert "You accepted" in all_text(reply.params) and "teachback_done" in all_text(reply.params)

    [note] = fake_slack.wait_for("chat.postMessage", channel=CHANNEL, thread_ts=win.message_ts)
    assert f"<@{ALICE}>" in all_text(note.params["blocks"]) and "teach-back" in note.params["text"]
    [manager_dm] = fake_slack.wait_for("chat.postMessage", channel=MGR)
    assert "accepted your teach-back nomination" in all_text(manager_dm.params["blocks"])
    settle(db)
    [tb] = teachbacks(db)
    assert tb.status == TB_ACCEPTED and tb.accepted_at is not None

    [again] = click(slack, fake_slack, ALICE, "teachback_accept", str(tb.id), "accept-2")
    assert "already accepted" in all_text(again.params) and again.params.get("replace_original") is False
    settle(db)
    assert len(fake_slack.calls("chat.postMessage", thread_ts=win.message_ts)) == 1
    assert len(dms(fake_slack, MGR)) == 1


def test_only_the_owner_may_answer(slack, fake_slack, db, managers):
    _, tb = nominated(slack, fake_slack, db)
    [reply] = click(slack, fake_slack, CAROL, "teachback_accept", str(tb.id), "not-yours")
    assert f"Only <@{ALICE}>" in all_text(reply.params)
    [reply] = click(slack, fake_slack, MGR, "teachback_decline", str(tb.id), "not-yours-either")
    assert f"Only <@{ALICE}>" in all_text(reply.params)
    assert [t.status for t in teachbacks(db)] == [TB_NOMINATED]


def test_decline_tells_the_manager_kindly_and_leaves_no_public_trace(slack, fake_slack, db, managers):
    win, tb = nominated(slack, fake_slack, db)
    [reply] = click(slack, fake_slack, ALICE, "teachback_decline", str(tb.id), "decline")
    assert "declined" in all_text(reply.params)
    [manager_dm] = fake_slack.wait_for("chat.postMessage", channel=MGR)
    assert "passed on the teach-back" in all_text(manager_dm.params["blocks"])
    settle(db)
    assert [t.status for t in teachbacks(db)] == [TB_DECLINED]
    assert fake_slack.calls("chat.postMessage", channel=CHANNEL, thread_ts=win.message_ts) == []
    [late] = click(slack, fake_slack, ALICE, "teachback_accept", str(tb.id), "accept-after-decline")
    assert "already declined" in all_text(late.params)


def test_a_withdrawn_nomination_cannot_be_accepted(slack, fake_slack, db, managers):
    win, tb = nominated(slack, fake_slack, db)
    react(fake_slack, MGR, win.message_ts, kind="reaction_removed")
    settle(db)
    [reply] = click(slack, fake_slack, ALICE, "teachback_accept", str(tb.id), "too-late")
    assert "no longer open" in all_text(reply.params)
    settle(db)
    assert [t.status for t in teachbacks(db)] == [TB_WITHDRAWN]
    assert dms(fake_slack, MGR) == []


def test_mark_done_by_button_after_accepting(slack, fake_slack, db, managers):
    _, tb = nominated(slack, fake_slack, db)
    click(slack, fake_slack, ALICE, "teachback_accept", str(tb.id), "acc")
    [done] = click(slack, fake_slack, ALICE, "teachback_done", str(tb.id), "done")
    assert "marked done" in all_text(done.params)
    [tb] = teachbacks(db)
    assert tb.status == TB_DONE and tb.done_at is not None
    [again] = click(slack, fake_slack, ALICE, "teachback_done", str(tb.id), "done-again")
    assert "already done" in all_text(again.params)


def test_mark_done_by_command_is_for_the_owner_or_a_manager(slack, fake_slack, db, managers):
    _, tb = nominated(slack, fake_slack, db)
    assert f"Only <@{ALICE}>" in ask(slack, fake_slack, CAROL, f"teachbacks done {tb.id}", "carol")
    assert [t.status for t in teachbacks(db)] == [TB_NOMINATED]
    assert "marked done" in ask(slack, fake_slack, MGR2, f"teachbacks done #{tb.id}", "manager")
    assert [t.status for t in teachbacks(db)] == [TB_DONE]

    r = slack.command("/aiwin", "teachbacks done", user_id=MGR)
    assert "Which teach-back?" in all_text(r.json())
    assert "can't find that teach-back" in ask(slack, fake_slack, MGR, "teachbacks done 987654", "gone")


@pytest.mark.parametrize(("action_id", "value"), [
    ("teachback_accept", "not-a-number"),
    ("teachback_accept", "987654"),
    ("teachback_frobnicate", "1"),
    ("teachback_decline", ""),
])
def test_bad_buttons_get_a_kind_answer(slack, fake_slack, db, action_id, value):
    [reply] = click(slack, fake_slack, ALICE, action_id, value, "bad")
    text = all_text(reply.params)
    assert "doesn't work any more" in text or "can't find that teach-back" in text
    assert reply.params.get("replace_original") is False


# -- the list and the emoji ----------------------------------------------------------------------------------


def test_teachbacks_lists_open_ones_newest_first_with_links(slack, fake_slack, db, managers):
    first = celebrate(slack, db)
    second = celebrate(slack, db, text="<@U04MNOPQR> wrote the <b>launch</b> FAQ @here with Claude")
    react(fake_slack, MGR, first.message_ts)
    settle(db)
    react(fake_slack, MGR, second.message_ts)
    settle(db)
    tb_alice, tb_dave = teachbacks(db)
    click(slack, fake_slack, DAVE, "teachback_accept", str(tb_dave.id), "dave-accepts")
    settle(db)

    text = ask(slack, fake_slack, CAROL, "teachbacks", "list")
    assert text.index(f"*#{tb_dave.id}*") < text.index(f"*#{tb_alice.id}*")
    assert "accepted" in text and "nominated" in text
    assert f"/archives/{CHANNEL}/p{second.message_ts.replace('.', '')}|win #{second.id}>" in text
    assert "&lt;b&gt;launch&lt;/b&gt;" in text and "@here" not in text

    click(slack, fake_slack, ALICE, "teachback_decline", str(tb_alice.id), "alice-declines")
    assert f"*#{tb_alice.id}*" not in ask(slack, fake_slack, CAROL, "teachbacks", "list2")


def test_people_who_opted_out_are_left_out_of_the_list_except_for_themselves(slack, fake_slack, db, managers):
    _, tb = nominated(slack, fake_slack, db)
    with db.session(TEAM) as s:
        set_opt_out(s, TEAM, ALICE, True)
    assert f"*#{tb.id}*" not in ask(slack, fake_slack, CAROL, "teachbacks", "carol-list")
    assert f"*#{tb.id}*" in ask(slack, fake_slack, ALICE, "teachbacks", "alice-list")


def test_teachbacks_list_is_capped_with_and_n_more(slack, fake_slack, db, managers):
    people = [f"U0PEOPLE{i:03d}" for i in range(23)]
    for p in people:
        fake_slack.add_user(p)
    for group in (people[:12], people[12:]):  # a win names at most 20 people
        win = celebrate(slack, db, text=" ".join(f"<@{p}>" for p in group) + " cleaned the CRM with ChatGPT")
        react(fake_slack, MGR, win.message_ts)
    settle(db, timeout=60)
    assert len(teachbacks(db)) == 23
    text = ask(slack, fake_slack, MGR, "teachbacks", "long")
    [listing] = replies(fake_slack, "long")
    assert listing.ok  # within Block Kit limits
    assert "…and 3 more" in text and "(23)" in text


def test_empty_list_and_usage(slack, fake_slack):
    assert "No open teach-backs" in ask(slack, fake_slack, BOB, "teachbacks", "empty")
    r = slack.command("/aiwin", "teachbacks frobnicate", user_id=BOB)
    assert r.status == 200 and "/aiwin teachbacks done 12" in all_text(r.json())


def test_admins_can_change_the_emoji(slack, fake_slack, db, managers):
    assert "only workspace admins" in ask(slack, fake_slack, CAROL, "teachbacks emoji :trophy:", "no")
    assert ":trophy:" in ask(slack, fake_slack, MGR, "teachbacks emoji :trophy:", "yes")

    win = celebrate(slack, db)
    assert ":trophy:" in all_text(fake_slack.calls("chat.postMessage", channel=CHANNEL)[-1].params["blocks"])
    react(fake_slack, MGR, win.message_ts)  # the old emoji no longer nominates
    settle(db)
    assert nominations(db) == []
    react(fake_slack, MGR, win.message_ts, emoji="trophy")
    fake_slack.wait_for("chat.postMessage", channel=ALICE)
    assert len(nominations(db)) == 1

    r = slack.command("/aiwin", "teachbacks emoji <!channel>", user_id=MGR)
    assert "Give an emoji name" in all_text(r.json())
