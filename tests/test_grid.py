"""Enterprise Grid: an app installed org-wide through OAuth works in every workspace of the org, with the
org's one token, and passes `team_id` where Slack needs it; data stays per workspace."""

from __future__ import annotations

import http.client
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode, urlsplit

import pytest
import time_machine
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import select

from bot.models.slack_oauth import installations
from bot.sandbox.requests import SlackSender
from bot.server import Server
from bot.services.workspaces import ensure_workspace
from bot.settings import Settings
from bot.slack_client import NotInstalled, installation_store, make_clients
from tests.conftest import ALICE, BOB, CHANNEL, ENTERPRISE, TEAM
from tests.helpers import recorded, wait_until, wins

TEAM2 = "T0SECOND002"
ORG_TOKEN = "xoxb-org-wide"


def oauth_settings(db_url, fake_slack, signing_secret) -> Settings:
    return Settings(database_url=db_url, slack_signing_secret=signing_secret, slack_api_url=fake_slack.api_url,
                    slack_client_id="111.222", slack_client_secret="oauth-secret", port=0, rate_burst=10_000)


@pytest.fixture
def org(fake_slack):
    """The org: TEAM and TEAM2, bob in both (one W-style id everywhere), alice in TEAM2 only."""
    fake_slack.add_org_token(ORG_TOKEN, teams=(TEAM, TEAM2))
    fake_slack.add_user(BOB, "bob", teams=(TEAM2,))
    fake_slack.add_user(ALICE, "alice", team_id=TEAM2)
    return fake_slack


@pytest.fixture
def grid_server(db_url, fake_slack, signing_secret):
    server = Server(oauth_settings(db_url, fake_slack, signing_secret), host="127.0.0.1", port=0,
                    scheduler=False, poll_interval=0.2).serve_in_thread()
    yield server
    server.stop()


def install(server, fake_slack, token: str, installer: str = BOB) -> None:
    """The OAuth round trip: the install page, Slack's approval (a code), the redirect."""
    parts = urlsplit(server.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request("GET", "/slack/install")
        r = conn.getresponse()
        page = r.read().decode()
        state = re.search(r"state=([^&\"']+)", page).group(1)
        cookie = r.getheader("set-cookie").split(";", 1)[0]
        code = fake_slack.issue_install_code(token, installer)
        conn.request("GET", "/slack/oauth_redirect?" + urlencode({"code": code, "state": state}),
                     headers={"Cookie": cookie})
        r = conn.getresponse()
        assert r.status == 200, r.read().decode()
        r.read()
    finally:
        conn.close()


def sender(server, signing_secret, fake_slack, team_id: str, *, org_wide: bool = True) -> SlackSender:
    return SlackSender(base_url=server.url, signing_secret=signing_secret, team_id=team_id, enterprise_id=ENTERPRISE,
                       is_enterprise_install=org_wide, on_trigger=fake_slack.issue_trigger,
                       response_url_base=fake_slack.webhook_url("r"))


def test_an_org_wide_install_works_in_every_workspace_of_the_org(org, grid_server, signing_secret, db):
    install(grid_server, org, ORG_TOKEN)
    with db.engine.connect() as conn:
        [row] = conn.execute(select(installations)).mappings().all()
    assert (row["enterprise_id"], row["team_id"], row["is_enterprise_install"]) == (ENTERPRISE, None, True)

    said = {TEAM: "drafted the memo with Claude, saved 2h", TEAM2: "triaged bugs with Copilot, saved 1h"}
    for team, text in said.items():
        r = sender(grid_server, signing_secret, org, team).command("/aiwin", text, user_id=BOB, channel_id=CHANNEL)
        assert r.status == 200 and "Got your AI win" in r.text, r.text
        [win] = recorded(db, team)
        assert win.text == text  # each workspace has its own win, and only its own
        wait_until(lambda team=team: wins(db, team)[0].message_ts, message=f"celebrated in {team}")
    posts = org.calls("chat.postMessage", channel=CHANNEL)
    assert len(posts) == 2 and {c.token for c in posts} == {ORG_TOKEN}

    # An event from the second workspace (App Home): Bolt finds the org's install, the job uses its token.
    s2 = sender(grid_server, signing_secret, org, TEAM2)
    body = s2.event_envelope({"type": "app_home_opened", "user": ALICE, "channel": "D0ALICE0001", "tab": "home"})
    assert body["authorizations"][0]["team_id"] is None and body["authorizations"][0]["is_enterprise_install"]
    assert s2.event({"type": "app_home_opened", "user": ALICE, "channel": "D0ALICE0001", "tab": "home"}).status == 200
    [publish] = org.wait_for("views.publish", user_id=ALICE)
    assert publish.token == ORG_TOKEN

    # The member copy (users.list) of each workspace names the workspace, as Slack requires of org tokens.
    s2.command("/aiwin", "stats", user_id=BOB, channel_id=CHANNEL)
    pages = org.wait_for("users.list")
    assert pages and all(c.params.get("team_id") == TEAM2 for c in pages)
    assert not [c for c in org.calls() if c.error == "missing_argument"]

    # A search in one workspace never shows another's wins.
    for team, hit in ((TEAM, False), (TEAM2, True)):
        n = len(org.response_messages())
        sender(grid_server, signing_secret, org, team).command("/aiwin", "search triaged bugs", user_id=BOB)
        [answer] = wait_until(lambda n=n: org.response_messages()[n:], message="search answer")
        assert ("triaged bugs with Copilot" in str(answer["blocks"])) is hit, (team, answer["text"])


def test_background_lookups_find_the_org_install_from_the_workspace_alone(org, db_url, db, signing_secret):
    settings = oauth_settings(db_url, org, signing_secret)
    store = installation_store(settings, db)
    store.save(Installation(app_id="A07AIWIN9QZ", enterprise_id=ENTERPRISE, team_id=None, is_enterprise_install=True,
                            user_id=BOB, bot_token=ORG_TOKEN, bot_id="B07AIWINBOT", bot_user_id="U07AIWINBOT"))
    # A workspace install inside the same org (not org-wide) keeps its own token.
    org.add_token("xoxb-own-workspace", "T0OWNINSTAL", enterprise_id=ENTERPRISE)
    store.save(Installation(app_id="A07AIWIN9QZ", enterprise_id=ENTERPRISE, team_id="T0OWNINSTAL", user_id=BOB,
                            bot_token="xoxb-own-workspace", bot_id="B07AIWINBOT", bot_user_id="U07AIWINBOT"))
    clients = make_clients(settings, db)
    assert clients.token_for(TEAM2, ENTERPRISE) == ORG_TOKEN
    assert clients.token_for("T0OWNINSTAL", ENTERPRISE) == "xoxb-own-workspace"
    # A job that knows only the workspace: its org comes from the workspaces table, kept on first contact.
    with db.session(TEAM2) as s:
        ensure_workspace(s, TEAM2, ENTERPRISE)
    client = clients.for_team(TEAM2)
    assert client.token == ORG_TOKEN
    members = client.users_list(limit=10)["members"]  # team_id added by the client, so Slack answers
    assert {m["id"] for m in members} >= {BOB, ALICE}
    assert org.calls("users.list")[-1].params["team_id"] == TEAM2
    with pytest.raises(NotInstalled):
        clients.token_for("T0NOTINORG1", None)



# -- the sandbox's org: as strict as Slack ---------------------------------------------------------------------

def _client(fake, token: str):
    return WebClient(token=token, base_url=fake.api_url)


def test_sandbox_org_token_needs_team_id_where_slack_does(org):

    client = _client(org, ORG_TOKEN)
    for call in (lambda: client.users_list(), lambda: client.usergroups_users_list(usergroup="S0MANAGERS")):
        with pytest.raises(SlackApiError) as e:
            call()
        assert e.value.response["error"] == "missing_argument"
    with pytest.raises(SlackApiError) as e:
        client.users_list(team_id="T0NOTADDED1")
    assert e.value.response["error"] == "team_access_not_granted"
    assert {m["id"] for m in client.users_list(team_id=TEAM2)["members"]} == {BOB, ALICE}
    assert ALICE not in {m["id"] for m in client.users_list(team_id=TEAM)["members"]}
    assert client.chat_postMessage(channel=CHANNEL, text="hi")["ok"]  # needs no team_id
    answer = client.auth_test()
    assert answer["is_enterprise_install"] is True and answer["enterprise_id"] == ENTERPRISE
    # A workspace's own token ignores team_id, as Slack does.
    assert _client(org, org.token).users_list(team_id=TEAM2)["ok"]


def test_sandbox_org_install_answers_like_slack(org):
    code = org.issue_install_code(ORG_TOKEN, BOB)
    answer = _client(org, None).oauth_v2_access(client_id="1.2", client_secret="s", code=code).data
    assert answer["is_enterprise_install"] is True and answer["team"] is None
    assert answer["enterprise"]["id"] == ENTERPRISE and answer["access_token"] == ORG_TOKEN
    assert "refresh_token" not in answer


@pytest.mark.dates
def test_sandbox_rotating_tokens_expire_and_refresh_tokens_are_good_once(org):

    org.rotate_tokens(expires_in=3600)
    anon = _client(org, None)
    answer = anon.oauth_v2_access(client_id="1.2", client_secret="s", code=org.issue_install_code(ORG_TOKEN)).data
    access, refresh = answer["access_token"], answer["refresh_token"]
    assert answer["expires_in"] == 3600 and access.startswith("xoxe.xoxb-") and answer["is_enterprise_install"]
    assert _client(org, access).users_list(team_id=TEAM)["ok"]  # an org token still, with its workspaces
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=1, seconds=1)):
        with pytest.raises(SlackApiError) as e:
            _client(org, access).chat_postMessage(channel=CHANNEL, text="late")
        assert e.value.response["error"] == "token_expired"
        new = anon.oauth_v2_access(client_id="1.2", client_secret="s", grant_type="refresh_token",
                                   refresh_token=refresh).data
        assert new["access_token"] != access and new["refresh_token"] != refresh
        assert _client(org, new["access_token"]).chat_postMessage(channel=CHANNEL, text="fresh")["ok"]
        with pytest.raises(SlackApiError) as e:
            anon.oauth_v2_access(client_id="1.2", client_secret="s", grant_type="refresh_token", refresh_token=refresh)
        assert e.value.response["error"] == "invalid_refresh_token"


# -- leaving: one workspace, then the whole org ------------------------------------------------------------------

def _org_event(s: SlackSender, event: dict) -> int:
    """An Events API delivery about the org-wide install (the envelope names no workspace)."""
    body = s.event_envelope(event)
    body["team_id"] = None
    body["context_team_id"] = None
    return s.post(_json(body), "application/json").status


def told(fake, reply) -> None:
    """The person was told the app is gone: in the answer (our gate), or through the response_url (Bolt,
    when Slack already refuses the token there)."""
    said = [reply.text] + [str(m.get("text")) for m in fake.response_messages()]
    assert reply.status == 200 and any("no longer installed" in text for text in said), said


def _json(body: dict) -> bytes:
    import json

    return json.dumps(body).encode()


def test_uninstalling_from_one_workspace_stops_it_only_and_org_wide_stops_all(org, grid_server, signing_secret, db):
    install(grid_server, org, ORG_TOKEN)
    s1, s2 = (sender(grid_server, signing_secret, org, t) for t in (TEAM, TEAM2))
    for s in (s1, s2):
        assert "Got your AI win" in s.command("/aiwin", "saved 1h with Claude", user_id=BOB).text
    recorded(db, TEAM), recorded(db, TEAM2)

    # The org admin removes the app from the second workspace: Slack revokes the org token's access there.
    org.remove_org_workspace(ORG_TOKEN, TEAM2)
    assert _org_event(s1, {"type": "team_access_revoked", "team_ids": [TEAM2]}) == 200
    told(org, s2.command("/aiwin", "saved 2h with Claude", user_id=BOB))
    assert "Got your AI win" in s1.command("/aiwin", "saved 3h with Claude", user_id=BOB).text
    assert len(recorded(db, TEAM, 2)) == 2 and len(wins(db, TEAM2)) == 1
    with db.engine.connect() as conn:
        assert conn.execute(select(installations.c.bot_token)).scalars().all() == [ORG_TOKEN]  # kept for the rest

    # Uninstalled org-wide: every workspace stops, the token is gone, the wins are kept until a purge.
    org.revoke_token(ORG_TOKEN)
    assert _org_event(s1, {"type": "app_uninstalled"}) == 200
    for s in (s1, s2):
        told(org, s.command("/aiwin", "saved 4h with Claude", user_id=BOB))
    with db.engine.connect() as conn:
        assert conn.execute(select(installations)).all() == []
    assert len(wins(db, TEAM)) == 2 and len(wins(db, TEAM2)) == 1

    # Installed org-wide again: its workspaces are served again (Slack tells us of any left out).
    org.add_org_token("xoxb-org-again", teams=(TEAM, TEAM2))
    install(grid_server, org, "xoxb-org-again")
    assert "Got your AI win" in s1.command("/aiwin", "saved 5h with Claude", user_id=BOB).text
    assert len(recorded(db, TEAM, 3)) == 3


# -- the org's adoption, each person once -----------------------------------------------------------------------

def _answers(fake, since: int) -> list[str]:
    return [str(m.get("text")) for m in fake.response_messages()[since:]]


def test_adoption_org_counts_each_person_once_for_org_admins_only(org, grid_server, signing_secret, db):
    from tests.conftest import CAROL, DAVE

    both = {"id": CAROL, "enterprise_id": ENTERPRISE, "is_admin": True, "is_owner": False, "teams": [TEAM, TEAM2]}
    org.add_user(CAROL, "carol", teams=(TEAM2,), enterprise_user=both)  # an org admin
    org.add_user(DAVE, "dave", is_admin=True,  # a workspace admin, not an org admin
                 enterprise_user={"id": DAVE, "enterprise_id": ENTERPRISE, "is_admin": False, "is_owner": False,
                                  "teams": [TEAM]})
    install(grid_server, org, ORG_TOKEN)
    s1, s2 = (sender(grid_server, signing_secret, org, t) for t in (TEAM, TEAM2))
    s1.command("/aiwin", "wrote the plan with Claude, saved 1h", user_id=BOB)
    s2.command("/aiwin", "sorted the backlog with Claude, saved 2h", user_id=BOB)  # the same person
    s2.command("/aiwin", "drafted the memo with ChatGPT, saved 30m", user_id=ALICE)
    recorded(db, TEAM), recorded(db, TEAM2, 2)

    n = len(org.response_messages())
    s1.command("/aiwin", "adoption org", user_id=DAVE)
    wait_until(lambda: _answers(org, n), message="an answer")
    assert "org's admins and owners" in _answers(org, n)[0]

    s1.command("/aiwin", "adoption org", user_id=CAROL)  # starts the member copies of both workspaces
    for team in (TEAM, TEAM2):
        org.wait_for("users.list", team_id=team)

    def answered() -> str | None:
        n = len(org.response_messages())
        s1.command("/aiwin", "adoption org", user_id=CAROL)
        text = wait_until(lambda: _answers(org, n), message="an answer")[0]
        return text if "in 2 workspaces" in text else None

    text = wait_until(answered, message="both workspaces counted")
    [message] = [m for m in org.response_messages() if m.get("text") == text]
    shown = str(message["blocks"])
    # bob (both workspaces) and alice active; members bob, alice, carol, dave: bob once, so 2 of 4.
    assert "50%" in text and "(2 of 4)" in shown and "*Wins*: 3" in shown and "3 h 30 min" in shown
    assert not [c for c in org.calls() if c.error == "missing_argument"]


def test_adoption_org_outside_an_org_says_so(server, signing_secret, fake_slack):
    n = len(fake_slack.response_messages())
    outside = SlackSender(base_url=server.url, signing_secret=signing_secret, team_id="T0NOTGRID01",
                          response_url_base=fake_slack.webhook_url("r"))
    outside.command("/aiwin", "adoption org", user_id=BOB)
    [text] = wait_until(lambda: _answers(fake_slack, n), message="an answer")
    assert "not part of one" in text


def test_forms_work_in_an_org_wide_install_whose_payloads_have_no_team(org, grid_server, signing_secret, db):
    from tests.test_capture import opened_view, submit

    install(grid_server, org, ORG_TOKEN)
    s2 = sender(grid_server, signing_secret, org, TEAM2)
    assert s2.global_shortcut(ALICE).status == 200  # `team: null`; the workspace is user.team_id
    view = opened_view(org)
    submit(s2, ALICE, view, {"what": "summarised the RFC thread with Gemini", "saved": "15m"}, current=CHANNEL)
    [win] = wins(db, TEAM2)
    assert (win.author_id, win.minutes_saved) == (ALICE, 15) and wins(db, TEAM) == []
    [post] = org.wait_for("chat.postMessage", channel=CHANNEL)
    assert post.token == ORG_TOKEN


def test_a_managers_reaction_in_an_org_wide_install_nominates_and_invites(org, grid_server, signing_secret, db):
    from tests.test_teachbacks import MGR, SHOUT_OUT, react

    org.add_user(MGR, "maria", is_admin=True)
    install(grid_server, org, ORG_TOKEN)
    org.deliver_events(f"{grid_server.url}/slack/events", signing_secret, is_enterprise_install=True)
    sender(grid_server, signing_secret, org, TEAM).command("/aiwin", SHOUT_OUT, user_id=BOB, channel_id=CHANNEL)
    win = wait_until(lambda: next((w for w in wins(db, TEAM) if w.message_ts), None), message="celebrated")
    react(org, MGR, win.message_ts)  # the event's authorizations name the org, not the workspace
    [dm] = org.wait_for("chat.postMessage", channel=ALICE)
    assert dm.token == ORG_TOKEN and f"<@{MGR}> nominated your" in str(dm.params["blocks"])
