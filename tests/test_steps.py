"""The Workflow Builder step "Record an AI win": `function_executed` over signed HTTP, completed
through the sandbox's functions.completeSuccess / completeError, which check the outputs against
manifest.yml. Each test runs on SQLite and on PostgreSQL (conftest.py)."""

from __future__ import annotations

import pytest

from bot.services.steps import BOT_AUTHOR, NO_TEXT
from tests.conftest import ALICE, BOB, CHANNEL, TEAM
from tests.helpers import wait_until, wins

BOT = "U07AIWINBOT"  # the sandbox's own bot user


def run_step(slack, fake_slack, inputs, *, execution_id=None):
    event = fake_slack.start_function("record_ai_win", inputs, execution_id=execution_id)
    r = slack.event(event)
    assert r.status == 200
    run = wait_until(lambda: (lambda x: x if x["status"] != "pending" else None)(
        fake_slack.function_run(event["function_execution_id"])), message="the step is completed")
    return event, run


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


def test_redelivered_execution_is_no_second_win(slack, fake_slack, db):
    event, run = run_step(slack, fake_slack, {"author": BOB, "text": "Summarised the RFC with Gemini"})
    assert slack.event(dict(event)).status == 200  # Slack delivers the same execution again
    [_, again] = fake_slack.wait_for_calls("functions.completeSuccess", count=2)
    assert again.response["error"] == "function_execution_already_completed"
    assert len(wins(db, TEAM)) == 1
    assert fake_slack.function_run(event["function_execution_id"])["outputs"] == {"win_id": wins(db, TEAM)[0].id}


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


def test_sandbox_refuses_outputs_the_manifest_does_not_declare(fake_slack):
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    event = fake_slack.start_function("record_ai_win", {"author": BOB, "text": "x"})
    client = WebClient(token=event["bot_access_token"], base_url=fake_slack.api_url)
    for outputs in ({}, {"win_id": "12"}, {"win_id": 12, "extra": 1}):
        with pytest.raises(SlackApiError) as e:
            client.functions_completeSuccess(function_execution_id=event["function_execution_id"], outputs=outputs)
        assert e.value.response["error"] == "invalid_arguments"
    client.functions_completeSuccess(function_execution_id=event["function_execution_id"], outputs={"win_id": 12})
    with pytest.raises(SlackApiError):  # once only
        client.functions_completeError(function_execution_id=event["function_execution_id"], error="late")
    with pytest.raises(ValueError):  # Workflow Builder never runs a step without its required inputs
        fake_slack.start_function("record_ai_win", {"author": BOB})
