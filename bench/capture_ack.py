"""The three ways to record a win ack in about the same time: `/aiwin`, the "Record as AI win"
message shortcut and the Workflow Builder step (`function_executed`), in the same run.

`aiwins serve` (SQLite, in-process worker) runs as its own process; the sandbox runs in this one
(its `start_function` builds the step's event). Signed requests go one at a time over one
keep-alive connection, the three kinds interleaved (so each sees the same background work:
celebrations, the shortcut's form, the step's completion), 20 warm-ups each. The time is the
sender's, from request to ack. Afterwards every step must be completed and every command and
step's win stored. Run: `python bench/capture_ack.py [--requests 300]`."""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import PY, Proc, free_port, machine, new_secret, save, wait_http  # noqa: E402
from bot.sandbox.fake_slack import FakeSlack  # noqa: E402
from bot.sandbox.requests import SlackSender  # noqa: E402

TEAM = "T0AB12CD3EF"
CHANNELS = [f"C{i:08d}" for i in range(200)]  # Slack posts ~1 message/s per channel
PEOPLE = [f"U{i:08d}" for i in range(50)]
TEXTS = [
    "drafted the Q3 board memo with ChatGPT, saved 3h #reporting",
    "cut test triage from 2h to 20m with Copilot",
    "summarised 40 customer interviews with Claude, saved 5 hours #research",
]
KINDS = ("/aiwin", "message shortcut", "workflow step")


def send(kind: str, i: int, slack: SlackSender, fake: FakeSlack, runs: list[str]) -> float:
    """One request of `kind`; returns milliseconds to the ack (building the request is not timed)."""
    person, text = PEOPLE[i % len(PEOPLE)], f"{TEXTS[i % len(TEXTS)]} (#{i})"
    channel = CHANNELS[(i * len(KINDS) + KINDS.index(kind)) % len(CHANNELS)]
    if kind == "/aiwin":
        t0 = time.perf_counter()
        r = slack.command("/aiwin", text, user_id=person, channel_id=channel)
    elif kind == "message shortcut":
        message = fake.add_message(channel, PEOPLE[(i + 1) % len(PEOPLE)], text)
        t0 = time.perf_counter()
        r = slack.message_shortcut(person, message, channel_id=channel)
    else:
        event = fake.start_function("record_ai_win", {"author": person, "text": text, "channel": channel})
        runs.append(event["function_execution_id"])
        t0 = time.perf_counter()
        r = slack.event(event)
    ms = (time.perf_counter() - t0) * 1000
    if r.status != 200:
        raise RuntimeError(f"{kind}: HTTP {r.status} {r.body[:200]!r}")
    return ms


def p99(xs: list[float]) -> float:
    return sorted(xs)[min(len(xs) - 1, round(0.99 * (len(xs) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300, help="of each kind")
    args = parser.parse_args()
    fake = FakeSlack(team_id=TEAM).start()
    for user in PEOPLE:
        fake.add_user(user, user.lower())
    for channel in CHANNELS:
        fake.add_channel(channel, channel.lower())
    secret, port = new_secret(), free_port()
    runs: list[str] = []
    times: dict[str, list[float]] = {k: [] for k in KINDS}
    with tempfile.TemporaryDirectory() as tmp:
        env = {"SLACK_BOT_TOKEN": fake.token, "SLACK_SIGNING_SECRET": secret, "SLACK_API_URL": fake.api_url,
               "DATABASE_URL": f"sqlite:///{tmp}/bench.db", "PORT": str(port), "LOG_LEVEL": "WARNING",
               "AIWINS_RATE_BURST": "10000"}  # few senders, many wins: no per-person limit
        proc = Proc([PY, "-m", "bot", "serve", "--host", "127.0.0.1"], env)
        proc.drain()
        try:
            wait_http(f"http://127.0.0.1:{port}/healthz", 60)
            slack = SlackSender(f"http://127.0.0.1:{port}", secret, team_id=TEAM, on_trigger=fake.issue_trigger)
            for i in range(20 + args.requests):
                for kind in KINDS:
                    ms = send(kind, i, slack, fake, runs)
                    if i >= 20:
                        times[kind].append(ms)
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and any(fake.function_run(r)["status"] == "pending" for r in runs):
                time.sleep(0.2)
            completed = sum(fake.function_run(r)["status"] == "completed" for r in runs)
            forms = sum(bool(c.response.get("ok")) for c in fake.calls("views.open"))
            slack.close()
        except Exception:
            print("".join(proc.output[-40:]), file=sys.stderr)
            raise
        finally:
            proc.stop()
    results = [{"path": k, "median_ms": round(statistics.median(v), 2), "p99_ms": round(p99(v), 2),
                "max_ms": round(max(v), 1), "n": len(v)} for k, v in times.items()]
    base = results[0]["median_ms"]
    for r in results:
        r["vs_aiwin"] = round(r["median_ms"] / base, 2)
        print(f"{r['path']:17} median {r['median_ms']:6.2f} ms  p99 {r['p99_ms']:6.2f} ms  max {r['max_ms']:6.1f} ms"
              f"  {r['vs_aiwin']:.2f}x /aiwin", flush=True)
    print(f"steps completed: {completed} of {len(runs)}; shortcut forms opened: {forms} of {len(runs)}")
    print(f"machine: {machine()}")
    fake.stop()
    save("capture_ack", {"machine": machine(), "results": results, "steps_completed": completed,
                         "steps": len(runs), "forms_opened": forms})


if __name__ == "__main__":
    main()
