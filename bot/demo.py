"""`aiwins demo`: a tour that needs no Slack workspace and no configuration.

It starts the real app (HTTP server, job worker) on a throwaway SQLite database, points it at
the local Slack sandbox, sends signed requests exactly as Slack would, and prints what people
in Slack would have seen. Each step is a real HTTP round trip."""

from __future__ import annotations

import logging
import secrets
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.blocks.render import blocks_to_text, to_text, typed, view_to_text
from bot.sandbox.fake_llm import FakeLLM
from bot.sandbox.fake_slack import FakeSlack
from bot.sandbox.requests import SlackSender
from bot.settings import Settings

TEAM = "T0AB12CD3EF"
PEOPLE = {"U05BOB12345": "bob", "U02ABCDEF": "alice", "U03GHIJKL": "carol", "U04MNOPQR": "dave",
          "U07AIWINBOT": "AI Wins"}
REPORTING, PRIVATE = "C05RPT12345", "G0SECRET01"
CHANNELS = {REPORTING: "reporting", PRIVATE: "secret-project"}


class Tour:
    def __init__(self, fake: FakeSlack, sender: SlackSender, out: Callable[[str], None]) -> None:
        self.fake, self.sender, self.out = fake, sender, out
        self.style = out is print and sys.stdout.isatty()  # bold and italics only on a terminal

    def name(self, user_id: str) -> str:
        return PEOPLE.get(user_id, user_id)

    def channel(self, channel_id: str) -> str:
        return CHANNELS.get(channel_id, channel_id)

    def step(self, title: str) -> None:
        on, off = ("\033[1m", "\033[0m") if self.style else ("", "")
        self.out(f"\n{on}▶ {title}{off}")

    def show(self, who: str, blocks: list[dict[str, Any]] | None, text: str = "", *, raw: bool = False) -> None:
        if raw:
            body = text
        elif blocks:
            body = blocks_to_text(blocks, self.name, self.channel, style=self.style)
        else:
            body = to_text(text, self.name, self.channel, style=self.style)
        self.out(f"  ┌ {who}")
        for line in body.splitlines():
            self.out(f"  │ {line}")
        self.out("  └")

    def command(self, user: str, text: str, channel: str = REPORTING, **kw: Any) -> dict[str, Any] | None:
        said = typed(text, self.name, self.channel)
        self.out(f"  {self.name(user)} types in #{self.channel(channel)}: /aiwin {said}")
        response = self.sender.command("/aiwin", text, user_id=user, channel_id=channel,
                                       user_name=self.name(user), **kw)
        body = response.json()
        if body and (body.get("blocks") or body.get("text")):
            self.show(f"only visible to {self.name(user)} (HTTP {response.status})", body.get("blocks"),
                      body.get("text", ""))
        return body

    def top_level_posts(self, channel: str) -> list[Any]:
        return [c for c in self.fake.calls("chat.postMessage", channel=channel)
                if c.ok and not c.params.get("thread_ts")]

    def posted(self, channel: str, count: int, label: str) -> None:
        """Wait for the `count`-th top-level message in `channel` and show it."""
        deadline = time.monotonic() + 20
        while len(self.top_level_posts(channel)) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"message {count} in {channel} was not posted")
            time.sleep(0.05)  # polling the sandbox's record for a condition
        call = self.top_level_posts(channel)[count - 1]
        self.show(label, call.params.get("blocks"), call.params.get("text", ""))


def run_demo(out: Callable[[str], None] = print) -> int:
    logging.getLogger().setLevel(logging.WARNING)
    from bot.server import Server

    model = FakeLLM(reply="Colleagues summarise interviews with Claude and then cluster the themes [1]. "
                          "Start with one batch of notes and compare with your own reading.").start()
    with tempfile.TemporaryDirectory(prefix="aiwins-demo-") as tmp, FakeSlack(team_id=TEAM) as fake:
        for user_id, name in PEOPLE.items():
            if user_id != "U07AIWINBOT":
                fake.add_user(user_id, name, is_admin=(name == "dave"))
        fake.add_channel(REPORTING, "reporting")
        fake.add_channel(PRIVATE, "secret-project", is_private=True)
        secret = secrets.token_hex(16)
        settings = Settings(database_url=f"sqlite:///{Path(tmp) / 'demo.db'}", slack_bot_token=fake.token,
                            slack_signing_secret=secret, slack_api_url=fake.api_url, port=0,
                            llm_base_url=model.base_url, llm_api_key=model.api_key, llm_model=model.model)
        server = Server(settings, host="127.0.0.1", port=0, scheduler=False, poll_interval=0.2)
        server.serve_in_thread()
        try:
            sender = SlackSender(base_url=server.url, signing_secret=secret, team_id=TEAM, enterprise_id=None,
                                 on_trigger=fake.issue_trigger)
            fake.deliver_events(f"{server.url}/slack/events", secret)  # reactions reach the app like Slack's
            tour = Tour(fake, sender, out)
            tour.db = server.runtime.db
            tour.settings = settings
            tour.model = model
            out("AI Wins demo: the real app on a throwaway SQLite database, talking to a simulated Slack.")
            out(f"App: {server.url}/slack/events    Simulated Slack Web API: {fake.api_url}")
            play(tour, fake)
            sender.close()
            _wait_for_requests_to_finish(server)
        finally:
            server.stop()
            model.stop()
    out("\nDone. Everything above went through signed HTTP requests, the database and the Slack Web API.")
    return 0


def _wait_for_requests_to_finish(server: Any) -> None:
    """The last answer reaches us a moment before its server thread is done: stopping then would cut
    that thread short (waitress logs a traceback). Bounded, so a stuck request cannot hang the demo."""
    deadline = time.monotonic() + 5
    while server.http.task_dispatcher.active_count and time.monotonic() < deadline:
        time.sleep(0.01)  # polling a condition, not waiting in its place


def show_digest(tour: Tour) -> None:
    """Run `aiwins digest --team T --channel C` itself and show what it printed, unchanged."""
    import argparse
    import contextlib
    import io

    from bot.cli.deliveries import cli_digest

    printed = io.StringIO()
    args = argparse.Namespace(team=TEAM, channel=REPORTING, week=None, post=False)
    with contextlib.redirect_stdout(printed):
        cli_digest(args, tour.settings)
    tour.show(f"$ aiwins digest --team {TEAM} --channel {REPORTING}", None, printed.getvalue().rstrip(), raw=True)


def play(tour: Tour, fake: FakeSlack) -> None:
    tour.step("bob gives alice a shout-out in #reporting")
    tour.command("U05BOB12345", "<@U02ABCDEF|alice> drafted the Q3 board memo with ChatGPT, saved 3h #reporting")
    tour.posted(REPORTING, 1, "#reporting (posted by AI Wins)")

    tour.step("carol logs her own win, with a before → after time")
    tour.command("U03GHIJKL", "cut test triage from 2h to 20m with Copilot #qa")
    tour.posted(REPORTING, 2, "#reporting (posted by AI Wins)")

    tour.step("someone tries to ping everyone through a win: it is stored as typed, posted harmlessly")
    # dave types "@channel …"; Slack sends the command text with the mention as <!channel>.
    tour.command("U04MNOPQR", "<!channel> summarised 30 interviews with Claude &lt;b&gt;fast&lt;/b&gt;, 45m saved")
    tour.posted(REPORTING, 3, "#reporting (posted by AI Wins)")

    tour.step("alice logs a win in a private channel the bot was not invited to")
    hook = fake.webhook_url("private-win")
    tour.command("U02ABCDEF", "wrote the launch FAQ with Gemini, saved 1.5 hours", channel=PRIVATE,
                 response_url=hook)
    notice = fake.wait_for("response_url", timeout=20)[-1]
    tour.show("only visible to alice (the win is saved)", notice.params.get("blocks"), notice.params.get("text", ""))

    tour.step("dave, a workspace admin and so a manager, reacts 🎓 on alice's win")
    first_post = fake.wait_for("chat.postMessage", channel=REPORTING)[0]
    # The bot joined #reporting to celebrate there, so Slack delivers the reaction to it.
    fake.react("U04MNOPQR", REPORTING, first_post.response["ts"], "mortar_board")
    invite = fake.wait_for("chat.postMessage", channel="U02ABCDEF", timeout=20)[-1]
    tour.show("DM to alice", invite.params.get("blocks"), invite.params.get("text", ""))

    tour.step("alice accepts: the win's thread hears a teach-back is coming")
    accept = next(e for b in invite.params["blocks"] if b.get("type") == "actions" for e in b["elements"]
                  if e["text"]["text"] == "Accept")
    tour.sender.block_action("U02ABCDEF", {"action_id": accept["action_id"], "block_id": "tb", "type": "button",
                                           "value": accept["value"], "action_ts": "1"},
                             channel_id=invite.response["channel"], response_url=fake.webhook_url("accept"))
    thread = fake.wait_for("chat.postMessage", channel=REPORTING, thread_ts=first_post.response["ts"], timeout=20)
    tour.show("#reporting, in the win's thread", thread[-1].params.get("blocks"), thread[-1].params.get("text", ""))

    tour.step("dave models AI use with a usage narrative")
    tour.command("U04MNOPQR", "narrate I prep every 1:1 with Claude: paste last week's notes, ask for three open "
                              "questions, then rewrite them in my words. Saves me 30m a week.")
    tour.posted(REPORTING, 4, "#reporting (posted by AI Wins)")

    tour.step("carol copied alice's practice: she presses 🙌 I tried it too on the celebration")
    tried(tour, fake, first_post)

    tour.step("the week's digest, as `aiwins digest` prints it")
    show_digest(tour)

    coach_conversation(tour, fake)

    tour.step("a bare /aiwin opens the win form")
    tour.command("U05BOB12345", "")
    opened = fake.wait_for("views.open", timeout=20)[-1]
    tour.show("a form opens for bob", None,
              view_to_text(opened.params["view"], tour.name, tour.channel, style=tour.style), raw=True)


def _button(blocks: list[dict[str, Any]], action_id: str) -> dict[str, Any]:
    return next(e for b in blocks if b.get("type") == "actions" for e in b["elements"] if e["action_id"] == action_id)


def _wait(condition: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + 20
    while not (found := condition()):
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.05)  # polling the sandbox's record for a condition
    return found


def tried(tour: Tour, fake: FakeSlack, post: Any) -> None:
    button = _button(post.params["blocks"], "tried_it")
    tour.sender.block_action("U03GHIJKL", {"action_id": "tried_it", "block_id": "tried", "type": "button",
                                           "value": button["value"], "action_ts": "1"}, channel_id=REPORTING,
                             container={"type": "message", "message_ts": post.response["ts"],
                                        "channel_id": REPORTING, "is_ephemeral": False},
                             response_url=fake.webhook_url("tried"))
    update = _wait(lambda: fake.calls("chat.update", channel=REPORTING, ts=post.response["ts"]), "count shown")[-1]
    tour.show("#reporting: the celebration, updated in place", update.params.get("blocks"), update.params["text"])
    note = _wait(lambda: [c for c in fake.calls("chat.postMessage", channel="U02ABCDEF")
                          if "tried" in (c.params.get("text") or "")], "alice told")[-1]
    tour.show("DM to alice (at most one a day)", note.params.get("blocks"), note.params.get("text", ""))


def coach_conversation(tour: Tour, fake: FakeSlack) -> None:
    bob = "U05BOB12345"
    tour.step("bob opens the AI coach in Slack's assistant pane (Agents & AI Apps: a paid plan)")
    channel, thread, _ = fake.open_assistant(bob)
    hello = _wait(lambda: fake.thread_messages(channel, thread), "the greeting")[0]
    tour.show("AI Wins, in bob's assistant pane", hello.get("blocks"), hello.get("text", ""))
    prompts = _wait(lambda: fake.assistant_thread(channel, thread)["prompts"], "suggested prompts")
    tour.show("suggested prompts, from this workspace's wins", None,
              "\n".join(f"[{p['title']}]" for p in prompts), raw=True)

    tour.step("bob asks: “How have people here used AI for interviews?” (a model writes the answer)")
    fake.ask_assistant(bob, channel, thread, "How have people here used AI for interviews?")
    answer = _wait(lambda: [m for m in fake.thread_messages(channel, thread) if m.get("streaming") is False],
                   "the streamed answer")[0]
    given = tour.model.received()[-1]["messages"][-1]["content"]
    tour.show("what the model was given: the question and what bob may see (nothing from #secret-project)",
              None, given, raw=True)
    tour.show("AI Wins, streamed into the thread, then its own citations", None,
              answer["text"] + "\n" + blocks_to_text(answer.get("blocks") or [], tour.name, tour.channel,
                                                     style=tour.style), raw=True)

    tour.step("bob: “log a win: …” is a draft until he presses Save")
    fake.ask_assistant(bob, channel, thread, "log a win: prepared the customer call brief with Claude, saved 40m")
    draft = _wait(lambda: [m for m in fake.thread_messages(channel, thread) if "Draft" in (m.get("text") or "")],
                  "the draft")[0]
    tour.show("AI Wins", draft.get("blocks"), draft.get("text", ""))
    save = _button(draft["blocks"], "coach_save_win")
    tour.sender.block_action(bob, {"action_id": save["action_id"], "block_id": "b", "type": "button",
                                   "value": save["value"], "action_ts": "1"}, channel_id=channel,
                             container={"type": "message", "message_ts": draft["ts"], "channel_id": channel,
                                        "is_ephemeral": False}, response_url=fake.webhook_url("save"))
    saved = _wait(lambda: [c for c in fake.calls("response_url") if c.path.endswith("/save")], "saved")[-1]
    tour.show("AI Wins (the draft, replaced)", saved.params.get("blocks"), saved.params.get("text", ""))
