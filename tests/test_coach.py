"""The AI coach end to end: the sandbox opens assistant threads, types in them and mentions the bot, and
delivers those events signed to the real server, on SQLite and PostgreSQL. Without a model configured
the coach answers plainly (tests/test_coach_llm.py has the model)."""

from __future__ import annotations

from sqlalchemy import func, select, update

from bot.models import Win
from bot.services import coach
from bot.services.wins import NewWin, record_win
from tests.conftest import ALICE, BOB, CAROL, CHANNEL, DAVE, TEAM
from tests.helpers import UNLIMITED, all_text, wait_until, wins

SECRET = "G0SECRET01"


def seed(db, text, *, author=ALICE, channel=CHANNEL, private=False, recipients=None):
    """A recorded win (not celebrated), said in `channel`, public or private as Slack said."""
    with db.session(TEAM) as s:
        win = record_win(s, NewWin(team_id=TEAM, enterprise_id=None, author_id=author, channel_id=channel,
                                   text=text, recipients=recipients, post=False), limits=UNLIMITED).win
        s.execute(update(Win).where(Win.id == win.id).values(private=private))
    return win.id


def reply_in(fake_slack, channel, thread_ts, count=1, containing="", *, greeting=True):
    """The app's replies in a thread, once there are `count` of them (containing `containing`; the greeting
    left out unless `greeting`: it and the answer are answered by separate jobs, in either order)."""
    def found():
        got = [m for m in fake_slack.thread_messages(channel, thread_ts)
               if m.get("user") == fake_slack.bot_user_id and containing in all_text(m)
               and (greeting or "I'm your AI coach" not in all_text(m))]
        return got if len(got) >= count else None
    return wait_until(found, message=f"{count} repl(ies) in the thread")


def ask(fake_slack, user, text, *, containing=""):
    """Open a thread, ask `text`, and return (channel, thread, the text of the answer: the first reply that
    is not the greeting and contains `containing`)."""
    channel, thread, r = fake_slack.open_assistant(user)
    assert r is not None and r.status == 200
    r = fake_slack.ask_assistant(user, channel, thread, text)
    assert r is not None and r.status == 200
    replies = reply_in(fake_slack, channel, thread, 1, containing, greeting=False)
    return channel, thread, all_text(replies[0])


def test_a_new_thread_is_greeted_with_prompts_from_this_workspaces_data(slack, fake_slack, db):
    seed(db, "summarised 40 customer interviews with Claude, saved 3h #research")
    seed(db, "drafted the release notes with Claude #research", author=CAROL)
    channel, thread, r = fake_slack.open_assistant(BOB)
    assert r.status == 200
    [hello] = reply_in(fake_slack, channel, thread)
    assert "AI coach" in all_text(hello)
    state = wait_until(lambda: (s := fake_slack.assistant_thread(channel, thread))["prompts"] and s,
                       message="suggested prompts")
    titles = [p["title"] for p in state["prompts"]]
    assert 3 <= len(titles) <= 4
    assert any("Claude" in t for t in titles) and any("#research" in t for t in titles)
    assert "Log a win" in titles
    # Following the context: moving to another channel sets the prompts again (and is acknowledged).
    assert fake_slack.change_assistant_context(BOB, channel, thread, CHANNEL).status == 200
    wait_until(lambda: len(fake_slack.calls("assistant.threads.setSuggestedPrompts")) >= 2, message="prompts again")


def test_a_question_is_answered_from_what_the_asker_may_see_with_links_and_who_to_ask(slack, fake_slack, db):
    public = seed(db, "ran customer interviews with Claude and clustered the notes, saved 2h")
    secret = seed(db, "customer interviews for the secret merger, with ChatGPT", author=DAVE, channel=SECRET,
                  private=True)
    channel, thread, text = ask(fake_slack, CAROL, "How have people here used AI for customer interviews?")
    assert f"Win #{public}" in text and "clustered the notes" in text
    assert f"/archives/{CHANNEL}/" not in text or "slack.com" in text
    assert "secret merger" not in text and f"#{secret}" not in text
    assert "Who to ask" in text and f"<@{ALICE}>" in text and f"<@{DAVE}>" not in text
    state = fake_slack.assistant_thread(channel, thread)
    assert state["title"] == "How have people here used AI for customer interviews?"
    assert [c.params["status"] for c in fake_slack.calls("assistant.threads.setStatus")] == [
        "is looking through the playbook\u2026"]
    # The author of the private win sees it: it is theirs.
    _, _, own = ask(fake_slack, DAVE, "customer interviews")
    assert "secret merger" in own


def test_no_match_says_so_and_suggests_a_broader_question(slack, fake_slack, db):
    seed(db, "ran customer interviews with Claude")
    _, _, text = ask(fake_slack, CAROL, "How have people used AI for customer onboarding emails?")
    assert "found no wins" in text and "broader question" in text and "customer onboarding" in text


def test_a_question_with_no_subject_asks_for_one(slack, fake_slack, db):
    seed(db, "ran customer interviews with Claude")
    _, _, text = ask(fake_slack, CAROL, "How have people here used AI?")
    assert "What would you like to know about?" in text


def test_what_to_try_suggests_what_colleagues_copied(slack, fake_slack, db):
    seed(db, "automated the weekly report with Copilot, saved 1h")
    _, _, text = ask(fake_slack, CAROL, "What should I try this week?")
    assert "weekly report" in text and "Try one this week" in text


def test_log_a_win_is_a_draft_until_save_is_pressed_and_save_records_once(slack, fake_slack, db):
    channel, thread, text = ask(fake_slack, BOB, "log a win: drafted the customer FAQ with Claude, saved 2h")
    assert "Draft AI win" in text and "Nothing is saved" in text
    assert wins(db, TEAM) == []
    [draft] = reply_in(fake_slack, channel, thread, 1, "Draft AI win")
    [save] = [e for b in draft["blocks"] if b["type"] == "actions" for e in b["elements"]]
    container = {"type": "message", "message_ts": draft["ts"], "channel_id": channel, "is_ephemeral": False}
    for i in range(2):  # pressed twice: one win
        r = slack.block_action(BOB, {"action_id": save["action_id"], "block_id": "b", "type": "button",
                                     "value": save["value"]}, channel_id=channel, container=container,
                               response_url=fake_slack.webhook_url(f"save{i}"))
        assert r.status == 200
        wait_until(lambda i=i: [c for c in fake_slack.calls("response_url") if c.path.endswith(f"/save{i}")],
                   message="the Save answer")
    [win] = wins(db, TEAM)
    assert win.author_id == BOB and win.tool == "Claude" and win.minutes_saved == 120 and win.source == "coach"
    answers = [all_text(c.params) for c in fake_slack.calls("response_url") if "/save" in c.path]
    assert f"Saved as AI win *#{win.id}*" in answers[0] and "Already saved" in answers[1]


def test_a_mention_answers_in_a_thread_with_what_that_channel_may_show(slack, fake_slack, db):
    public = seed(db, "ran customer interviews with Claude")
    secret = seed(db, "customer interviews for the merger", author=DAVE, channel=SECRET, private=True)
    fake_slack.add_channel(SECRET, "merger", is_private=True, bot_member=True)
    fake_slack.add_channel(CHANNEL, "reporting", bot_member=True)
    ts, r = fake_slack.mention_bot(BOB, CHANNEL, "how have people used AI for customer interviews?")
    assert r.status == 200
    [reply] = reply_in(fake_slack, CHANNEL, ts)
    assert f"Win #{public}" in all_text(reply) and "merger" not in all_text(reply)
    ts, _ = fake_slack.mention_bot(DAVE, SECRET, "customer interviews")
    [reply] = reply_in(fake_slack, SECRET, ts)
    assert f"Win #{secret}" in all_text(reply)
    # Where the bot is not a member, Slack sends nothing.
    fake_slack.add_channel("C0NOTMEMBER", "elsewhere")
    assert fake_slack.mention_bot(BOB, "C0NOTMEMBER", "customer interviews")[1] is None


def test_retried_events_are_answered_once(slack, fake_slack, db):
    seed(db, "ran customer interviews with Claude")
    channel, thread, _ = fake_slack.open_assistant(CAROL)
    fake_slack.ask_assistant(CAROL, channel, thread, "customer interviews")
    reply_in(fake_slack, channel, thread, 1, greeting=False)
    event_id = fake_slack.delivered_event_ids()[-1]
    assert fake_slack.redeliver(event_id).status == 200
    with db.read() as s:
        from bot.models import Job
        assert s.scalar(select(func.count()).select_from(Job).where(Job.kind == coach.COACH_MESSAGE)) == 1


def test_the_sandbox_refuses_what_slack_refuses(slack, fake_slack, db):
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    client = WebClient(token=fake_slack.token, base_url=fake_slack.api_url)
    channel, thread, _ = fake_slack.open_assistant(CAROL)

    def error(call, **kw):
        try:
            call(**kw)
        except SlackApiError as e:
            return e.response["error"]
        return None

    five = [{"title": f"t{i}", "message": f"m{i}"} for i in range(5)]
    assert error(client.assistant_threads_setSuggestedPrompts, channel_id=channel, thread_ts=thread,
                 prompts=five) == "invalid_arguments"
    assert error(client.assistant_threads_setStatus, channel_id=channel, thread_ts="1.000001",
                 status="x") == "invalid_thread_ts"
    assert error(client.chat_startStream, channel=CHANNEL, thread_ts=thread) in ("invalid_arguments",
                                                                               "thread_not_found")
    start = client.chat_startStream(channel=channel, thread_ts=thread, markdown_text="hello")
    assert error(client.chat_appendStream, channel=channel, ts=start["ts"],
                 chunks=[{"type": "bogus"}]) == "invalid_chunks"
    assert error(client.chat_appendStream, channel=channel, ts=start["ts"],
                 markdown_text="x" * 12_001) == "msg_too_long"
    client.chat_stopStream(channel=channel, ts=start["ts"], markdown_text=" world")
    assert error(client.chat_appendStream, channel=channel, ts=start["ts"],
                 markdown_text="late") == "message_not_in_streaming_state"
    assert [m["text"] for m in fake_slack.thread_messages(channel, thread) if m["ts"] == start["ts"]] == [
        "hello world"]


def test_understanding_messages():
    assert coach.understand("<@U07AIWINBOT> log a win: did X with Claude").kind == coach.DRAFT
    assert coach.understand("Log an AI win - did X").text == "did X"
    assert coach.understand("What should I try this week?").kind == coach.TRY
    assert coach.understand("hi").kind == coach.HELP
    assert coach.question_query("How have people here used AI for customer interviews?").words == (
        "customer", "interviews")


def test_prompts_name_the_latest_delivered_teachback_unless_its_owner_opted_out(db):
    from bot.models import TB_DONE, TeachBack, utcnow
    from bot.services.people import set_opt_out

    win = seed(db, "summarised customer interviews with Claude")
    with db.session(TEAM) as s:
        s.add(TeachBack(team_id=TEAM, win_id=win, owner_id=ALICE, status=TB_DONE, first_manager_id=BOB,
                        done_at=utcnow()))
    with db.read(TEAM) as s:
        titles = [p.title for p in coach.suggested_prompts(s, TEAM, CAROL)]
    assert "Learn: summarised customer interviews" in titles and len(titles) <= 4
    with db.session(TEAM) as s:
        set_opt_out(s, TEAM, ALICE, True)
    with db.read(TEAM) as s:
        assert not [p for p in coach.suggested_prompts(s, TEAM, CAROL) if p.title.startswith("Learn")]


def test_a_workspace_without_wins_still_gets_three_prompts(db):
    with db.read(TEAM) as s:
        assert [p.title for p in coach.suggested_prompts(s, TEAM, CAROL)] == [
            "AI for meetings?", "What should I try this week?", "Log a win"]
