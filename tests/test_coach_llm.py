"""The AI coach with a model: an OpenAI-compatible server (the sandbox's fake, over loopback HTTP) writes
the answer, streamed into the thread, followed by the app's own citations. On SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import json

import pytest

from bot.llm import Model
from bot.sandbox.fake_llm import ERROR, HANG, HANG_AFTER_FIRST, FakeLLM
from bot.settings import ConfigError, load_settings
from tests.conftest import ALICE, BOB, CAROL, CHANNEL, DAVE
from tests.helpers import all_text, answer, wait_until
from tests.test_coach import SECRET, ask, seed

ADMIN = "U0ADMIN0001"


@pytest.fixture
def fake_llm():
    fake = FakeLLM().start()
    yield fake
    fake.stop()


@pytest.fixture
def settings(settings, fake_llm):  # conftest's settings, with the model configured
    return dataclasses.replace(settings, llm_base_url=fake_llm.base_url, llm_api_key=fake_llm.api_key,
                               llm_model=fake_llm.model)


@pytest.fixture
def quick_model(server, fake_llm):
    """The server's model, giving up on a silent endpoint after 1 s instead of 8."""
    server.runtime.worker.ctx.model = Model(base_url=fake_llm.base_url, model=fake_llm.model,
                                            api_key=fake_llm.api_key, first_token_timeout=1.0)


def sent_to_model(fake_llm) -> str:
    return json.dumps(fake_llm.received())


def streamed(fake_slack, channel, thread):
    """The streamed answer, once stopped."""
    return wait_until(lambda: [m for m in fake_slack.thread_messages(channel, thread)
                               if "streaming" in m and m["streaming"] is False], message="the stream stopped")[0]


def test_the_model_is_given_only_what_the_asker_may_see_and_its_answer_is_streamed_with_citations(
        slack, fake_slack, db, fake_llm):
    public = seed(db, "ran customer interviews with Claude and clustered the notes, saved 2h")
    seed(db, "customer interviews for the secret merger", author=DAVE, channel=SECRET, private=True)
    own = seed(db, "customer interviews about my own private pilot", author=CAROL, channel="G0CAROLS01", private=True)
    channel, thread, _ = fake_slack.open_assistant(CAROL)
    fake_slack.ask_assistant(CAROL, channel, thread, "How have people here used AI for customer interviews?")
    message = streamed(fake_slack, channel, thread)
    given = sent_to_model(fake_llm)
    assert "clustered the notes" in given and "my own private pilot" in given
    assert "secret merger" not in given
    for user in (ALICE, CAROL, DAVE):  # no one's identity either
        assert user not in given
    [request] = fake_llm.received()
    assert request["stream"] is True and request["model"] == fake_llm.model
    assert "customer interviews" in request["messages"][-1]["content"]
    # The model's words, then the app's citations (never the model's).
    assert message["text"] == fake_llm.reply
    sources = all_text(message["blocks"])
    assert "Sources" in sources and f"Win #{public}" in sources and f"Win #{own}" in sources
    assert "secret merger" not in sources
    assert fake_slack.calls("chat.startStream") and fake_slack.calls("chat.stopStream")
    assert not [c for c in fake_slack.calls("chat.postMessage", channel=channel) if "Here is how" in all_text(c.params)]


def test_a_mention_gives_the_model_only_what_that_channel_may_show(slack, fake_slack, db, fake_llm):
    seed(db, "ran customer interviews with Claude")
    seed(db, "customer interviews of my private pilot", author=BOB, channel=SECRET, private=True)
    fake_slack.add_channel(CHANNEL, "reporting", bot_member=True)
    ts, r = fake_slack.mention_bot(BOB, CHANNEL, "customer interviews?")
    assert r.status == 200
    streamed(fake_slack, CHANNEL, ts)
    given = sent_to_model(fake_llm)
    assert "ran customer interviews" in given and "private pilot" not in given
    [start] = fake_slack.calls("chat.startStream")
    assert start.params["recipient_user_id"] == BOB and start.params["recipient_team_id"]


@pytest.mark.parametrize("mode", [ERROR, HANG])
def test_a_model_that_fails_or_hangs_gives_way_to_the_plain_answer(slack, fake_slack, db, fake_llm, quick_model,
                                                                   mode):
    public = seed(db, "ran customer interviews with Claude")
    fake_llm.set_mode(mode)
    _, _, text = ask(fake_slack, CAROL, "customer interviews", containing="Here is how")
    assert f"Win #{public}" in text
    assert fake_llm.received() and not fake_slack.calls("chat.startStream")
    fake_llm.release()


def test_a_model_that_stops_mid_answer_ends_the_stream_with_the_sources(slack, fake_slack, db, fake_llm, quick_model):
    public = seed(db, "ran customer interviews with Claude")
    fake_llm.set_mode(HANG_AFTER_FIRST)
    channel, thread, _ = fake_slack.open_assistant(CAROL)
    fake_slack.ask_assistant(CAROL, channel, thread, "customer interviews")
    message = streamed(fake_slack, channel, thread)
    fake_llm.release()
    assert message["text"].startswith("Colleagues") and "stopped before it finished" in message["text"]
    assert f"Win #{public}" in all_text(message["blocks"])


def test_an_admin_turns_the_model_off_and_on(slack, fake_slack, db, fake_llm):
    fake_slack.add_user(ADMIN, "ada", is_admin=True)
    seed(db, "ran customer interviews with Claude")
    assert "Only workspace admins" in answer(slack, fake_slack, CAROL, "coach model off", "no")
    assert "now *off*" in answer(slack, fake_slack, ADMIN, "coach model off", "off")
    assert "an admin turned the model off" in answer(slack, fake_slack, CAROL, "coach", "status")
    ask(fake_slack, CAROL, "customer interviews", containing="Here is how")
    assert fake_llm.received() == []
    assert "now *on*" in answer(slack, fake_slack, ADMIN, "coach model on", "on")
    channel, thread, _ = fake_slack.open_assistant(CAROL)
    fake_slack.ask_assistant(CAROL, channel, thread, "customer interviews")
    streamed(fake_slack, channel, thread)
    assert len(fake_llm.received()) == 1
    assert "Try `/aiwin coach`" in answer(slack, fake_slack, CAROL, "coach model maybe", "bad")


def test_no_items_means_no_model_call(slack, fake_slack, db, fake_llm):
    _, _, text = ask(fake_slack, CAROL, "customer interviews", containing="found no wins")
    assert "broader" in text and fake_llm.received() == []


def test_llm_settings_are_checked_and_the_key_is_a_secret():
    with pytest.raises(ConfigError, match="LLM_MODEL"):
        load_settings({"LLM_BASE_URL": "http://localhost:11434/v1"}, dotenv_path=None)
    with pytest.raises(ConfigError, match="LLM_BASE_URL"):
        load_settings({"LLM_BASE_URL": "localhost", "LLM_MODEL": "x"}, dotenv_path=None)
    s = load_settings({"LLM_BASE_URL": "http://localhost:11434/v1/", "LLM_MODEL": "llama3.1",
                       "LLM_API_KEY": "sk-secret-123"}, dotenv_path=None)
    assert s.llm_enabled and s.llm_base_url == "http://localhost:11434/v1" and "sk-secret-123" not in repr(s)


def test_without_slacks_ai_features_the_answer_still_arrives(slack, fake_slack, db, fake_llm):
    """A workspace where Slack refuses the assistant and streaming methods (no paid plan): plain answers."""
    public = seed(db, "ran customer interviews with Claude")
    for method in ("assistant.threads.setStatus", "assistant.threads.setTitle",
                   "assistant.threads.setSuggestedPrompts", "chat.startStream"):
        fake_slack.fail(method, error="not_allowed_token_type", times=None)
    _, _, text = ask(fake_slack, CAROL, "customer interviews", containing="Here is how")
    assert f"Win #{public}" in text
