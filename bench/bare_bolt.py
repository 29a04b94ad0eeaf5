"""The baseline: a bare Bolt app that only verifies and acks /aiwin (and events), served by the
same WSGI server with the same thread count as `aiwins serve`."""

from __future__ import annotations

import argparse
import os

import waitress
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--process-before-response", action="store_true")
    args = parser.parse_args()
    client = WebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"])
    app = App(signing_secret=os.environ["SLACK_SIGNING_SECRET"], client=client, token_verification_enabled=False,
              process_before_response=args.process_before_response)

    @app.command("/aiwin")
    def ack_only(ack) -> None:  # noqa: ANN001
        ack()

    @app.event("reaction_added")
    def reaction(ack) -> None:  # noqa: ANN001
        ack()

    waitress.serve(SlackRequestHandler(app), host="127.0.0.1", port=args.port, threads=8, ident="bare-bolt",
                   _quiet=True)


if __name__ == "__main__":
    main()
