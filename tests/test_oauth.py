"""Multi-workspace mode: SLACK_CLIENT_ID/SECRET switch on OAuth; each workspace's bot token comes
from the installation store on our own (migrated) tables, and jobs use that workspace's token."""

from __future__ import annotations

import urllib.error
import urllib.request

from slack_sdk.oauth.installation_store import Installation

from bot.sandbox.requests import SlackSender
from bot.server import Server
from bot.settings import Settings
from bot.slack_client import installation_store
from tests.conftest import BOB, CHANNEL
from tests.helpers import wait_until, wins

OTHER_TEAM = "T0OTHER0001"


def test_install_page_and_per_workspace_tokens(db_url, fake_slack, signing_secret, db):
    settings = Settings(database_url=db_url, slack_signing_secret=signing_secret, slack_api_url=fake_slack.api_url,
                        slack_client_id="111.222", slack_client_secret="oauth-secret", port=0)
    fake_slack.add_token("xoxb-other-workspace", OTHER_TEAM, bot_user_id="U07AIWINBOT")
    installation_store(settings, db).save(Installation(
        app_id="A07AIWIN9QZ", team_id=OTHER_TEAM, user_id=BOB, bot_token="xoxb-other-workspace",
        bot_id="B07AIWINBOT", bot_user_id="U07AIWINBOT", bot_scopes=["commands", "chat:write"],
    ))
    server = Server(settings, host="127.0.0.1", port=0, scheduler=False, poll_interval=0.2).serve_in_thread()
    try:
        with urllib.request.urlopen(server.url + "/slack/install") as page:
            html = page.read().decode()
        assert "slack.com/oauth/v2/authorize" in html and "client_id=111.222" in html

        sender = SlackSender(base_url=server.url, signing_secret=signing_secret, team_id=OTHER_TEAM)
        r = sender.command("/aiwin", "planned the offsite with Claude, saved 2h", user_id=BOB, channel_id=CHANNEL)
        assert r.status == 200 and "Got your AI win" in r.text
        [call] = fake_slack.wait_for("chat.postMessage", channel=CHANNEL)
        assert call.token == "xoxb-other-workspace"  # the installed workspace's own token
        wait_until(lambda: [w for w in wins(db, OTHER_TEAM) if w.message_ts], message="posted")

        # A workspace that never installed the app gets nothing done in its name.
        stranger = SlackSender(base_url=server.url, signing_secret=signing_secret, team_id="T0NOTINSTALL")
        r = stranger.command("/aiwin", "saved 1h with Claude", user_id=BOB)
        assert r.status in (200, 401) and wins(db, "T0NOTINSTALL") == []
    except urllib.error.HTTPError as e:  # pragma: no cover - shows the page on failure
        raise AssertionError(e.read().decode()) from e
    finally:
        server.stop()
