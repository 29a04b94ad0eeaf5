"""A crash between Slack accepting a celebration and the app recording its ts.

Slack has no idempotency key for chat.postMessage. Celebrations carry message metadata
(aiwins_win, win_id); a job taken over from a lapsed lease first looks for that message in the
channel's history (conversations.history), or, for a celebration posted in a thread, in that thread
(conversations.replies: the history lists parent messages only), and records it instead of posting
again. Where history cannot be read (no channels:history / groups:history grant), it posts: the one
at-least-once window the README states (tests/test_leases.py covers that fallback)."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import update

from bot.jobs.wins import post_win
from bot.jobs.worker import JobContext
from bot.models import Job, queue, utcnow
from bot.server import Server
from bot.services.wins import POST_WIN, NewWin, record_win
from bot.slack.client import make_clients
from tests.conftest import ALICE, BOB, CAROL, CHANNEL, DAVE, TEAM
from tests.helpers import UNLIMITED, wait_until, wins

pytestmark = pytest.mark.dates  # .ci/run runs these again with the clock moved ahead


def _post_then_die(settings, fake_slack, db, win_id):
    """A worker claims the post job and posts; Slack accepts; the process dies before recording the ts
    (the handler's completion, which records it with the job's "done", never runs). Returns that post."""
    with db.session() as s:
        [job] = queue.claim(s, limit=1, lease=timedelta(minutes=5), holder="dead-worker")
    assert (job.kind, job.payload["win_id"]) == (POST_WIN, win_id)
    ctx = JobContext(db=db, clients=make_clients(settings, db))
    post_win(ctx, job)  # returns the completion; dropping it is the crash
    [first] = fake_slack.wait_for("chat.postMessage", channel=CHANNEL)
    assert first.params["metadata"] == {"event_type": "aiwins_win", "event_payload": {"win_id": win_id}}
    assert wins(db, TEAM)[0].message_ts is None
    # The lease runs out (as it would after a restart), ready for another process to pick the job up.
    with db.session() as s:
        s.execute(update(Job).where(Job.id == job.id).values(locked_until=utcnow() - timedelta(seconds=1)))
    return first


def _take_over(settings, fake_slack, db, read_back: str, **where):
    """Another process serves, takes the job over and reads back (`read_back` with `where`)."""
    server = Server(settings, host="127.0.0.1", port=0, scheduler=False, poll_interval=0.2).serve_in_thread()
    try:
        wait_until(lambda: wins(db, TEAM)[0].message_ts, message="the first post recorded after the takeover")
        fake_slack.wait_for(read_back, **where)
    finally:
        server.stop()


def test_killed_after_slack_accepted_is_recorded_not_posted_again(settings, fake_slack, db, caplog):
    with db.session(TEAM) as s:
        new = NewWin(team_id=TEAM, enterprise_id=None, author_id=BOB, channel_id=CHANNEL,
                     text="wrote the launch FAQ with ChatGPT, saved 2h", trigger_id="t-crash")
        win_id = record_win(s, new, limits=UNLIMITED).win.id
    first = _post_then_die(settings, fake_slack, db, win_id)
    assert "thread_ts" not in first.params
    caplog.set_level(logging.INFO, logger="bot.jobs.wins")
    _take_over(settings, fake_slack, db, "conversations.history", channel=CHANNEL)
    assert len(fake_slack.calls("chat.postMessage", channel=CHANNEL)) == 1  # no second copy
    assert wins(db, TEAM)[0].message_ts == first.response["ts"]
    assert any(f"win {win_id} was already celebrated" in r.getMessage() for r in caplog.records)


def test_a_threaded_celebration_is_found_in_its_thread_after_a_crash(settings, fake_slack, db, caplog):
    # A win recorded from a message ("Record as AI win") is celebrated in that message's thread. The
    # celebration is a reply, which conversations.history never lists: the read-back is the thread.
    parent = fake_slack.add_message(CHANNEL, ALICE, "drafted the board memo with Claude, saved 2h")
    fake_slack.add_message(CHANNEL, CAROL, "nice one", thread_ts=parent["ts"])
    with db.session(TEAM) as s:
        new = NewWin(team_id=TEAM, enterprise_id=None, author_id=BOB, channel_id=CHANNEL,
                     text="drafted the board memo with Claude, saved 2h", source="message",
                     source_channel=CHANNEL, source_ts=parent["ts"], source_thread_ts=parent["ts"])
        win_id = record_win(s, new, limits=UNLIMITED).win.id
    first = _post_then_die(settings, fake_slack, db, win_id)
    assert first.params["thread_ts"] == parent["ts"]
    fake_slack.add_message(CHANNEL, DAVE, "congrats!", thread_ts=parent["ts"])  # the thread goes on
    caplog.set_level(logging.INFO, logger="bot.jobs.wins")
    _take_over(settings, fake_slack, db, "conversations.replies", channel=CHANNEL, ts=parent["ts"])

    celebrations = [m for m in fake_slack.messages(CHANNEL)
                    if (m.get("metadata") or {}).get("event_payload") == {"win_id": win_id}]
    assert [(m["ts"], m["thread_ts"]) for m in celebrations] == [(first.response["ts"], parent["ts"])]
    assert wins(db, TEAM)[0].message_ts == first.response["ts"]
    assert any(f"win {win_id} was already celebrated" in r.getMessage() for r in caplog.records)
    assert fake_slack.calls("conversations.history") == []  # a thread is not looked for in the history


def test_sandbox_refuses_malformed_metadata_like_slack(fake_slack):
    client = WebClient(base_url=fake_slack.api_url, token=fake_slack.token)
    for bad, error in (({"event_type": "has space", "event_payload": {}}, "invalid_metadata_schema"),
                       ({"event_type": "aiwins_win"}, "invalid_metadata_schema"),
                       ("nope", "invalid_metadata_format")):
        with pytest.raises(SlackApiError) as e:
            client.chat_postMessage(channel=CHANNEL, text="x", metadata=bad)
        assert e.value.response["error"] == error
