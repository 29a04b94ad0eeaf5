"""`aiwins demo` reads like Slack: names not ids, rendered mrkdwn, the digest exactly as
`aiwins digest` prints it, the modal with its title. Runs the real command in a subprocess."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_demo_output_reads_like_slack(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(ROOT), env.get("PYTHONPATH"))))
    done = subprocess.run([sys.executable, "-m", "bot", "demo"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=240)
    out = done.stdout
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr + out
    # No wire format, ids or entities: what a person in Slack would see.
    for raw in ("<@U", "<#C", "<#G", "<!", "&amp;", "&lt;", "&gt;", "<http", "@U0", "#C05", "#G0", "\u200b"):
        assert raw not in out.replace("--channel C05", "").replace("channel C05RPT12345", ""), raw
    assert not re.search(r"(?<![\w`]):[a-z_]+:(?!\S)", out), re.findall(r":[a-z_]+:", out)  # emoji, not names
    assert not re.search(r"(?<![\w*])\*\w[^*\n]*\*", out)  # bold rendered, not shown as *asterisks*
    # People type @channel; the celebration shows it defused, never as a ping.
    assert "types in #reporting: /aiwin @channel summarised 30 interviews with Claude <b>fast</b>" in out
    assert "I can't post in #secret-project" in out
    assert "🏆 AI win for @alice" in out and "react 🎓 to nominate" in out
    # The digest is the command's own output, with workspace-domain links and names.
    assert "$ aiwins digest --team" in out and "# Digest for channel C05RPT12345" in out
    assert "see the win (https://acme-corp.slack.com/archives/C05RPT12345/p" in out
    # First-timers are people whose first activity ever is this week: bob too (he recorded alice's shout-out).
    assert "welcome @alice, @carol, @dave and @bob!" in out
    # People are the members active in the week (the digest copies the member list first): all four.
    assert "4 AI wins · 4 people active" in out
    # "I tried it too": the count in place, the owner told; the digest names the week's most-tried win.
    assert "[🙌 I tried it too]" in out and "🙌 1 person tried it too" in out and "@carol tried your win #1" in out
    assert "🙌 Most tried this week (1 person tried it too)" in out
    # The coach: greeting, prompts from the workspace's data, a streamed answer with the app's citations; the
    # model was given nothing from the private channel; a draft saved only by Save.
    assert "I'm your AI coach" in out and "[How do people use ChatGPT?]" in out
    given = out.split("what the model was given", 1)[1].split("└", 1)[0]
    assert "summarised 30 interviews" in given and "launch FAQ" not in given
    assert "Sources\n  │ • Win #3" in out and "Who to ask: @dave" in out
    assert "Nothing is saved until you press Save" in out and "Saved as AI win #5" in out
    # The modal with its title and buttons.
    assert "Log an AI win\n  │ =============" in out and "[Cancel]  [Save]" in out


def test_to_text_renders_mrkdwn_for_a_terminal():
    from bot.blocks.render import BOLD, RESET, to_text, typed

    names = {"U02ABCDEF": "alice"}.get
    mrkdwn = ("*AI win* for <@U02ABCDEF> in <#C05RPT12345> :trophy: _leader_ `code *x*` R&amp;D &lt;b&gt; "
              "<https://x.example/a|docs> <https://x.example/|x.example> <!here> :custom_emoji:")
    assert to_text(mrkdwn, lambda u: names(u) or u, {"C05RPT12345": "reporting"}.get) == (
        "AI win for @alice in #reporting 🏆 leader `code *x*` R&D <b> docs (https://x.example/a) "
        "https://x.example/ @here :custom_emoji:")
    assert to_text("*bold* a*b*c", style=True) == f"{BOLD}bold{RESET} a*b*c"
    assert typed("<!channel> hi <@U02ABCDEF|alice> &lt;b&gt; *x* <https://x.y|x.y>", lambda u: "alice") == (
        "@channel hi @alice <b> *x* https://x.y")
    assert to_text("\ue0007\ue001 ok") == "\ue0007\ue001 ok"  # a private-use character stays as typed
