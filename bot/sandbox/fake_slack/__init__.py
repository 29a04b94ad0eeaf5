"""A fake Slack Web API served over real HTTP on loopback.

Why it exists: the tests, the benchmarks and ``aiwins demo`` must drive the app's real
Slack client path (slack-sdk over HTTP, its retry handlers, 429 handling, Block Kit
limits) without touching slack.com. The fake answers with Slack's response shapes and
error codes, records every request, and lets a test block on a ``threading.Condition``
until the app has made the calls it expects, instead of sleeping and hoping.

Standard library only, so it can run anywhere the app runs, also as its own process::

    python -m bot.sandbox.fake_slack --port 8888
"""

from bot.sandbox.fake_slack.blockkit import block_errors
from bot.sandbox.fake_slack.common import DEFAULT_SCOPES, MAX_MESSAGE_BLOCKS, MAX_VIEW_BLOCKS, Call
from bot.sandbox.fake_slack.core import FakeSlack, main

__all__ = ["DEFAULT_SCOPES", "MAX_MESSAGE_BLOCKS", "MAX_VIEW_BLOCKS", "Call", "FakeSlack", "block_errors", "main"]
