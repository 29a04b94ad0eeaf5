"""The AI coach end to end: how long a person waits in the assistant pane.

The real server (`aiwins serve`'s Server, SQLite, job worker in process) answers signed assistant events
that the sandbox delivers, as Slack does. A workspace of 2,000 wins; each round opens a thread, asks a
question and waits for the reply in the thread (Call times are the sandbox's own clock):

* without a model: from the question to the answer's `chat.postMessage` in the thread;
* with a model (the sandbox's OpenAI-compatible fake, streaming): from the question to the first words
  streamed into the thread (`chat.startStream` or `chat.appendStream` carrying text). That includes the
  retrieval and the model's own time to its first token (none for the fake), so it bounds the app's time
  from the model's first token to Slack from above.

Targets: the plain answer within 1 s of the question; the first words within 1 s of the model's first
token. Run: `python bench/coach_latency.py [--rounds 20]`."""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import update  # noqa: E402

from bench.common import machine, new_secret, save  # noqa: E402
from bot.db import Database  # noqa: E402
from bot.migrate import upgrade  # noqa: E402
from bot.models import Win  # noqa: E402
from bot.sandbox.fake_llm import FakeLLM  # noqa: E402
from bot.sandbox.fake_slack import FakeSlack  # noqa: E402
from bot.server import Server  # noqa: E402
from bot.services.ratelimit import Limits  # noqa: E402
from bot.services.wins import NewWin, record_win  # noqa: E402
from bot.settings import Settings  # noqa: E402

TEAM = "T0AB12CD3EF"
CHANNEL = "C0GENERAL01"
ASKER = "U0ASKER0001"
TOPICS = ("customer interviews", "release notes", "board memo", "test triage", "onboarding FAQ")
QUESTION = "How have people here used AI for customer interviews?"


def seed(url: str, wins: int) -> None:
    db = Database(url)
    unlimited = Limits(burst=10**9, per_minute=1.0)
    with db.session(TEAM) as s:
        for i in range(wins):
            record_win(s, NewWin(team_id=TEAM, enterprise_id=None, author_id=f"U{i % 40:010d}", channel_id=CHANNEL,
                                 text=f"{TOPICS[i % len(TOPICS)]} #{i} with Claude, saved 1h", post=False),
                       limits=unlimited)
        # Said in a public channel (the celebration would have found out): every asker may see them.
        s.execute(update(Win).where(Win.team_id == TEAM).values(private=False))
    db.dispose()


def wait(condition, timeout: float = 20.0):  # noqa: ANN001, ANN201
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise TimeoutError("no answer in the thread")
        time.sleep(0.002)
    return value


def run(settings: Settings, fake: FakeSlack, secret: str, rounds: int, streamed: bool) -> list[float]:
    """Seconds from each question to the answer's first words in its thread (the sandbox runs in this
    process: its Call times and ours are one monotonic clock)."""
    server = Server(settings, host="127.0.0.1", port=0, scheduler=False, poll_interval=0.2).serve_in_thread()
    fake.deliver_events(f"{server.url}/slack/events", secret)
    methods = ("chat.startStream", "chat.appendStream") if streamed else ("chat.postMessage",)
    waits = []
    try:
        for i in range(rounds + 2):  # two warm-up rounds
            seconds = one_question(fake, methods)
            if i >= 2:
                waits.append(seconds)
    finally:
        server.stop()
    return waits


def one_question(fake: FakeSlack, methods: tuple[str, ...]) -> float:
    channel, thread, r = fake.open_assistant(ASKER)
    assert r is not None and r.status == 200
    wait(lambda: [m for m in fake.thread_messages(channel, thread) if "AI coach" in str(m)])  # greeted
    before = len(fake.calls())
    asked = time.monotonic()
    r = fake.ask_assistant(ASKER, channel, thread, QUESTION)
    assert r is not None and r.status == 200
    first = wait(lambda: [c for c in fake.calls()[before:] if c.method in methods and c.status == 200
                          and c.params.get("thread_ts") == thread and "AI coach" not in str(c.params)])
    return first[0].at - asked


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--wins", type=int, default=2000)
    args = parser.parse_args()
    secret = new_secret()
    fake = FakeSlack(team_id=TEAM).start()
    fake.add_user(ASKER, "asker")
    llm = FakeLLM().start()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/coach.db"
        upgrade(url)
        seed(url, args.wins)
        base = Settings(database_url=url, slack_bot_token=fake.token, slack_signing_secret=secret,
                        slack_api_url=fake.api_url, port=0)
        for name, settings, streamed in (
                ("plain answer (no model)", base, False),
                ("first words with a model (streamed)", dataclasses.replace(
                    base, llm_base_url=llm.base_url, llm_api_key=llm.api_key, llm_model=llm.model), True)):
            waits = sorted(run(settings, fake, secret, args.rounds, streamed))
            results[name] = {"median_ms": round(1000 * statistics.median(waits), 1),
                             "p90_ms": round(1000 * waits[int(0.9 * (len(waits) - 1))], 1),
                             "max_ms": round(1000 * waits[-1], 1)}
            print(f"{name:40} median {results[name]['median_ms']:7.1f} ms  p90 {results[name]['p90_ms']:7.1f} ms  "
                  f"max {results[name]['max_ms']:7.1f} ms  ({len(waits)} questions, {args.wins:,} wins)")
    llm.stop()
    fake.stop()
    save("coach_latency", {"machine": machine(), "results": results})


if __name__ == "__main__":
    main()
