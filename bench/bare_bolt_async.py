"""The fastest Bolt baseline: a bare AsyncApp that only verifies and acks /aiwin (and events),
on uvicorn (one process, one event loop). Compare with bench/bare_bolt.py (sync App, waitress)."""

from __future__ import annotations

import argparse
import os

import uvicorn
from slack_bolt.adapter.asgi.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    client = AsyncWebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"])
    app = AsyncApp(signing_secret=os.environ["SLACK_SIGNING_SECRET"], client=client,
                   process_before_response=True)

    @app.command("/aiwin")
    async def ack_only(ack) -> None:  # noqa: ANN001
        await ack()

    @app.event("reaction_added")
    async def reaction(ack) -> None:  # noqa: ANN001
        await ack()

    uvicorn.run(AsyncSlackRequestHandler(app), host="127.0.0.1", port=args.port, log_level="warning",
                access_log=False)


if __name__ == "__main__":
    main()
