"""The Workflow Builder step "Record an AI win": `function_executed` over signed HTTP, completed
through the sandbox's functions.completeSuccess / completeError, which check the outputs against
manifest.yml and answer with Slack's own error names. The ack only stores a job; the author check,
the win and the completion happen in the job queue. Each test runs on SQLite and on PostgreSQL
(conftest.py)."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from bot.listeners.functions.steps import RECORD_STEP
from bot.models import Job
from bot.sandbox.requests import SlackSender
from bot.server import Server
from bot.services.steps import BOT_AUTHOR, COMPLETE_STEP, NO_TEXT, RUN_STEP
from tests.conftest import ALICE, BOB, CHANNEL, ENTERPRISE, TEAM
from tests.helpers import all_text, wait_until, wins

BOT = "U07AIWINBOT"  # the sandbox's own bot user


def finished(fake_slack, execution_id):
    return wait_until(lambda: (lambda x: x if x["status"] != "pending" else None)(
        fake_slack.function_run(execution_id)), message="the step is completed")


def run_step(slack, fake_slack, inputs, *, execution_id=None):
    event = fake_slack.start_function("record_ai_win", inputs, execution_id=execution_id)
    r = slack.event(event)
    assert r.status == 200
    return event, finished(fake_slack, event["function_execution_id"])


def jobs(db, kind):
    with db.read() as s:
        return list(s.scalars(select(Job).where(Job.kind == kind).order_by(Job.id)).all())


def test_step_records_celebrates_and_completes_with_outputs(slack, fake_slack, db):
    event, run = run_step(slack, fake_slack, {
        "author": BOB, "text": "Drafted the onboarding FAQ from 30 tickets", "recipients": [ALICE],
        "tool": "Claude", "minutes_saved": 90, "channel": CHANNEL})
    [win] = wins(db, TEAM)
    assert run["status"] == "completed" and run["outputs"]["win_id"] == win.id
    assert (win.author_id, win.owner_ids, win.tool, win.minutes_saved, win.source) == (
        BOB, [ALICE], "Claude", 90, "workflow")
    [post] = fake_slack.calls("chat.postMessage", channel=CHANNEL)
    assert run["outputs"]["permalink"].endswith(f"/archives/{CHANNEL}/p{post.response['ts'].replace('.', '')}")
    [done] = fake_slack.calls("functions.completeSuccess")
    assert done.token == event["bot_access_token"]  # the execution's own workflow token
    assert done.at > post.at  # completed once celebrated, with the celebration's link
    [completion] = jobs(db, COMPLETE_STEP)  # by the job queue, not a request thread
    assert completion.payload["execution_id"] == event["function_execution_id"]


def test_no_listener_thread_waits_for_the_step(server):
    """Bolt runs lazy listeners on a few threads; the step has none (nothing polls for the celebration)."""
    [listener] = [x for x in server.app._listeners if x.ack_function.__module__ == "bot.listeners.functions.steps"]
    assert listener.ack_function.__name__ == "ack_step" and listener.lazy_functions == []
    assert RECORD_STEP == "record_ai_win"


def test_the_ack_calls_no_slack_method_even_on_a_slow_slack(settings, fake_slack, db, signing_secret):
    """The job worker is held back: whatever Slack saw by the ack's answer, the ack did."""
    srv = Server(settings, host="127.0.0.1", port=0, scheduler=False, poll_interval=0.2)
    worker, srv.runtime.worker = srv.runtime.worker, None
    srv.serve_in_thread()
    try:
        fake_slack.latency(0.2)
        sender = SlackSender(base_url=srv.url, signing_secret=signing_secret, team_id=TEAM, enterprise_id=ENTERPRISE)
        event = fake_slack.start_function("record_ai_win", {"author": BOB, "text": "Wrote tests with Copilot"})
        assert sender.event(event).status == 200
        # Bolt's single-workspace authorization asks auth.test once, on the app's first request.
        assert {c.method for c in fake_slack.calls()} <= {"auth.test"}
        [job] = jobs(db, RUN_STEP)
        assert job.payload["execution_id"] == event["function_execution_id"]

        srv.runtime.worker = worker.start()
        run = finished(fake_slack, event["function_execution_id"])
        assert run["status"] == "completed" and run["outputs"] == {"win_id": wins(db, TEAM)[0].id}
        assert fake_slack.calls("users.info", user=BOB)  # the author was checked, after the ack
    finally:
        srv.stop()


def test_redelivered_execution_is_one_win_and_one_completion(slack, fake_slack, db):
    event = fake_slack.start_function("record_ai_win", {"author": BOB, "text": "Summarised the RFC with Gemini"})
    assert slack.event(event).status == 200
    assert slack.event(dict(event)).status == 200  # Slack delivers the same execution again at once
    run = finished(fake_slack, event["function_execution_id"])
    assert slack.event(dict(event)).status == 200  # … and once more after it was completed
    assert len(jobs(db, RUN_STEP)) == 1  # the redeliveries added no work
    [win] = wins(db, TEAM)
    assert run["outputs"] == {"win_id": win.id}
    [done] = fake_slack.calls("functions.completeSuccess")
    assert done.ok and fake_slack.calls("functions.completeError") == []


@pytest.mark.parametrize(("inputs", "sentence"), [
    ({"author": BOB, "text": "   "}, NO_TEXT),
    ({"author": BOB, "text": "Wrote tests with Copilot", "minutes_saved": 0}, "from 1 to 12000"),
    ({"author": BOB, "text": "Wrote tests with Copilot", "minutes_saved": 10**6}, "it was 1000000"),
    ({"author": BOT, "text": "Wrote tests with Copilot"}, BOT_AUTHOR),
])
def test_bad_inputs_fail_the_step_with_a_sentence(slack, fake_slack, db, inputs, sentence):
    _, run = run_step(slack, fake_slack, inputs)
    assert run["status"] == "failed" and sentence in run["error"]
    assert wins(db, TEAM) == []
    assert fake_slack.calls("functions.completeSuccess") == []


def test_refused_outputs_end_the_run_with_one_error_sentence(slack, fake_slack, db, caplog):
    fake_slack.fail("functions.completeSuccess", error="parameter_validation_failed")
    event, run = run_step(slack, fake_slack, {"author": BOB, "text": "Wrote tests with Copilot"})
    [win] = wins(db, TEAM)
    assert run["status"] == "failed"
    assert f"Win #{win.id} was recorded" in run["error"] and "parameter_validation_failed" in run["error"]
    assert "reinstall" in run["error"]  # what the workflow's author can do about it
    [refused] = fake_slack.calls("functions.completeSuccess")
    assert refused.error == "parameter_validation_failed"
    [ended] = fake_slack.calls("functions.completeError")
    assert ended.ok and ended.token == event["bot_access_token"]
    assert any("Slack refused the outputs" in r.getMessage() and r.levelno == logging.WARNING
               for r in caplog.records)


def test_an_execution_slack_no_longer_runs_is_one_log_line(slack, fake_slack, db, caplog):
    caplog.set_level(logging.INFO, logger="bot.jobs.steps")
    fake_slack.fail("functions.completeSuccess", error="execution_not_in_running_state")
    event = fake_slack.start_function("record_ai_win", {"author": BOB, "text": "Wrote tests with Copilot"})
    assert slack.event(event).status == 200
    [job] = wait_until(lambda: [j for j in jobs(db, COMPLETE_STEP) if j.status == "done"],
                       message="the completion job is done")
    assert fake_slack.calls("functions.completeError") == []
    assert len(fake_slack.calls("functions.completeSuccess")) == 1
    [line] = [r.getMessage() for r in caplog.records if "no longer runs it" in r.getMessage()]
    assert event["function_execution_id"] in line and "execution_not_in_running_state" in line


def test_a_celebration_that_cannot_be_posted_still_completes_the_step(slack, fake_slack, db):
    fake_slack.add_channel("G0SECRET001", "secret-project", is_private=True, members=[BOB])
    _, run = run_step(slack, fake_slack, {"author": BOB, "text": "Wrote tests with Copilot",
                                          "channel": "G0SECRET001"})
    [win] = wins(db, TEAM)
    assert run["status"] == "completed" and run["outputs"] == {"win_id": win.id}  # no link: nothing was posted
    assert win.post_status == "failed"
    # Two DMs: a workflow recorded a win in bob's name, and it could not be posted (what to do).
    dms = fake_slack.wait_for("chat.postMessage", count=2, channel=BOB)
    assert sum("/invite" in all_text(d.params) for d in dms) == 1
    assert sum("in your name" in all_text(d.params) for d in dms) == 1


def test_sandbox_answers_with_slacks_error_names(fake_slack):
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    event = fake_slack.start_function("record_ai_win", {"author": BOB, "text": "x"})
    client = WebClient(token=event["bot_access_token"], base_url=fake_slack.api_url)
    for outputs in ({}, {"win_id": "12"}, {"win_id": 12, "extra": 1}):
        with pytest.raises(SlackApiError) as e:
            client.functions_completeSuccess(function_execution_id=event["function_execution_id"], outputs=outputs)
        assert e.value.response["error"] == "parameter_validation_failed"
        assert e.value.response["response_metadata"]["messages"]  # what did not match, as Slack details it
    client.functions_completeSuccess(function_execution_id=event["function_execution_id"], outputs={"win_id": 12})
    for again in (lambda: client.functions_completeSuccess(function_execution_id=event["function_execution_id"],
                                                           outputs={"win_id": 12}),
                  lambda: client.functions_completeError(function_execution_id=event["function_execution_id"],
                                                         error="late")):
        with pytest.raises(SlackApiError) as e:  # once only
            again()
        assert e.value.response["error"] == "execution_not_in_running_state"
    bot = WebClient(token=fake_slack.token, base_url=fake_slack.api_url)
    with pytest.raises(SlackApiError) as e:
        bot.functions_completeSuccess(function_execution_id="Fx0NOSUCHRUN", outputs={"win_id": 1})
    assert e.value.response["error"] == "function_execution_not_found"
    with pytest.raises(ValueError):  # Workflow Builder never runs a step without its required inputs
        fake_slack.start_function("record_ai_win", {"author": BOB})


def test_slacks_bad_moment_is_retried_not_turned_into_an_error(slack, fake_slack, db):
    fake_slack.fail("functions.completeSuccess", status=500, times=2)  # slack-sdk retries a 5xx once in place
    _, run = run_step(slack, fake_slack, {"author": BOB, "text": "Wrote tests with Copilot"})
    assert run["status"] == "completed" and run["outputs"] == {"win_id": wins(db, TEAM)[0].id}
    assert [c.status for c in fake_slack.calls("functions.completeSuccess")] == [500, 500, 200]
    assert fake_slack.calls("functions.completeError") == []


def test_a_completion_that_gives_up_still_ends_the_run(settings, fake_slack, db):
    """After the worker's last attempt the workflow must not wait: the run ends with a sentence."""
    from bot.jobs.steps import complete_step_gave_up
    from bot.jobs.worker import JobContext
    from bot.slack.client import make_clients

    event = fake_slack.start_function("record_ai_win", {"author": BOB, "text": "Wrote tests with Copilot"})
    job = Job(team_id=TEAM, enterprise_id=None, kind=COMPLETE_STEP, payload={
        "win_id": 41, "execution_id": event["function_execution_id"], "token": event["bot_access_token"]})
    complete_step_gave_up(JobContext(db=db, clients=make_clients(settings, db)), job)
    run = fake_slack.function_run(event["function_execution_id"])
    assert run["status"] == "failed" and "Win #41 was recorded" in run["error"]


def test_a_win_a_workflow_records_says_so_and_its_author_hears_of_it(slack, fake_slack, db):
    fake_slack.add_channel("C0STEPWINS1", "wins", bot_member=True)
    event, run = run_step(slack, fake_slack, {"author": ALICE, "text": "Drafted the QBR with Claude",
                                              "channel": "C0STEPWINS1"})
    assert run["status"] == "completed"
    [post] = fake_slack.wait_for("chat.postMessage", channel="C0STEPWINS1")
    assert f"recorded by a Workflow Builder workflow for <@{ALICE}>" in all_text(post.params["blocks"])
    [dm] = fake_slack.wait_for("chat.postMessage", channel=ALICE)  # the person it speaks for is told, privately
    win = wins(db, TEAM)[0]
    assert f"recorded AI win *#{win.id}* in your name" in all_text(dm.params["blocks"])
    assert f"/aiwin delete {win.id}" in all_text(dm.params["blocks"])
