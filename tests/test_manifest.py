"""manifest.yml asks for exactly what the code uses, and the sandbox enforces those scopes as Slack does."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.app import BOT_SCOPES
from bot.manifest import BOT_DISPLAY_NAME, BOT_EVENTS, MANIFEST_PATH, invite_hint
from bot.sandbox.fake_slack import DEFAULT_SCOPES, FakeSlack
from bot.sandbox.fake_slack.common import METHOD_SCOPES
from bot.sandbox.fake_slack.functions import ManifestFormError, declared_functions
from tests.manifest_schema import schema_errors

REPO = Path(__file__).resolve().parents[1]
MANIFEST = yaml.safe_load(MANIFEST_PATH.read_text())

# Which scope each Web API method the app calls needs (docs.slack.dev/reference/methods). A method the
# code starts calling must be added here, and then to the manifest.
SCOPE_OF_METHOD = {
    "chat_postMessage": {"chat:write"}, "chat_update": {"chat:write"}, "chat_postEphemeral": {"chat:write"},
    "chat_getPermalink": set(), "users_info": {"users:read"}, "users_list": {"users:read"},
    "usergroups_users_list": {"usergroups:read"}, "conversations_open": {"im:write"},
    "conversations_info": {"channels:read", "groups:read", "im:read", "mpim:read"},
    "conversations_join": {"channels:join"}, "conversations_history": {"channels:history", "groups:history"},
    "conversations_replies": {"channels:history", "groups:history"},
    "views_open": set(), "views_publish": set(),
    "views_update": set(), "views_push": set(), "files_upload_v2": {"files:write"}, "auth_test": set(),
    "assistant_threads_setStatus": {"assistant:write"}, "assistant_threads_setSuggestedPrompts": {"assistant:write"},
    "assistant_threads_setTitle": {"assistant:write"}, "chat_stream": {"chat:write"},
}
# Scopes not tied to a Web API method: the slash command, posting where the bot is not a member
# (digests, prompts), and the events: reactions, messages in the assistant pane, mentions.
NON_METHOD_SCOPES = {"commands", "chat:write.public", "reactions:read", "im:history", "app_mentions:read"}


def _methods_called() -> set[str]:
    found: set[str] = set()
    for path in (REPO / "bot").rglob("*.py"):
        if "sandbox" in path.parts:
            continue
        found |= set(re.findall(r"\.((?:chat|users|usergroups|conversations|views|files|reactions|assistant_threads)"
                                r"_[A-Za-z0-9_]+|auth_test)\(", path.read_text()))
    return found


def test_bot_scopes_equal_the_manifest_and_the_sandbox_defaults():
    scopes = MANIFEST["oauth_config"]["scopes"]["bot"]
    assert scopes == BOT_SCOPES
    assert DEFAULT_SCOPES.split(",") == scopes
    assert "channels:join" in scopes


def test_every_scope_is_used_and_every_used_method_is_covered():
    called = _methods_called()
    unknown = called - SCOPE_OF_METHOD.keys()
    assert not unknown, f"add these methods and their scopes to SCOPE_OF_METHOD: {unknown}"
    needed = set().union(*(SCOPE_OF_METHOD[m] for m in called)) | NON_METHOD_SCOPES
    assert set(MANIFEST["oauth_config"]["scopes"]["bot"]) == needed


def test_events_and_bot_name_match_the_manifest():
    events = MANIFEST["settings"]["event_subscriptions"]["bot_events"]
    assert sorted(events) == sorted(BOT_EVENTS)
    assert {"app_uninstalled", "tokens_revoked", "reaction_added", "reaction_removed"} <= set(events)
    assert MANIFEST["features"]["bot_user"]["display_name"] == BOT_DISPLAY_NAME
    assert invite_hint() == f"/invite @{MANIFEST['features']['bot_user']['display_name']}"
    shortcuts = {(s["type"], s["callback_id"]) for s in MANIFEST["features"]["shortcuts"]}
    assert shortcuts == {("message", "record_ai_win"), ("global", "log_ai_win")}
    assert set(MANIFEST["functions"]) == {"record_ai_win"}


def test_manifest_is_valid_against_slacks_schema_of_its_declared_version():
    errors = schema_errors(MANIFEST)
    assert not errors, "manifest.yml against Slack's schema:\n" + "\n".join(errors)


def test_the_schema_check_refuses_the_nested_parameter_form_in_a_version_1_manifest():
    # Without _metadata Slack reads the manifest as version 1, where a parameter is a flat entry
    # with is_required and "properties"/"required" are taken for parameter names.
    v1 = {k: v for k, v in MANIFEST.items() if k != "_metadata"}
    errors = schema_errors(v1)
    assert len(errors) == 4 and all(e.startswith("functions/record_ai_win/") for e in errors), errors
    assert schema_errors({**MANIFEST, "_metadata": {"major_version": 3}}) == [
        "_metadata/major_version: 3 is not a version Slack publishes a schema for (1, 2)"]


def _write(tmp_path: Path, manifest: dict) -> Path:
    path = tmp_path / "manifest.yml"
    path.write_text(yaml.safe_dump(manifest))
    return path


def test_sandbox_reads_the_version_2_parameter_form_of_the_manifest():
    [spec] = declared_functions().values()
    assert spec["input_parameters"]["required"] == ["author", "text"]
    assert set(spec["input_parameters"]["properties"]) >= {"author", "text", "channel"}


def test_sandbox_refuses_function_parameters_in_the_version_1_form(tmp_path):
    flat = {"author": {"type": "slack#/types/user_id", "title": "Author", "is_required": True},
            "text": {"type": "string", "title": "Text", "is_required": True}}
    v1 = {"display_information": {"name": "x"}, "functions": {"record_ai_win": {
        "title": "t", "description": "d", "input_parameters": flat,
        "output_parameters": {"win_id": {"type": "integer", "title": "Win"}}}}}
    assert schema_errors(v1) == []  # valid for Slack as version 1: only the sandbox refuses it
    with pytest.raises(ManifestFormError, match=r"major version 1.*_metadata: \{major_version: 2\}"):
        declared_functions(_write(tmp_path, v1))
    # Declaring version 2 is not enough: the parameters must be in its nested form.
    with pytest.raises(ManifestFormError, match=r"record_ai_win\.input_parameters.*properties"):
        declared_functions(_write(tmp_path, {**v1, "_metadata": {"major_version": 2}}))
    nested_with_flag = {"properties": {"author": {"type": "string", "is_required": True}}, "required": ["author"]}
    with pytest.raises(ManifestFormError, match=r"is_required"):
        declared_functions(_write(tmp_path, {**v1, "_metadata": {"major_version": 2}, "functions": {"f": {
            "title": "t", "description": "d", "input_parameters": nested_with_flag,
            "output_parameters": {"properties": {}}}}}))
    # Today's mistake: the nested form in a manifest that declares no version.
    with pytest.raises(ManifestFormError, match="major version 1"):
        declared_functions(_write(tmp_path, {k: v for k, v in MANIFEST.items() if k != "_metadata"}))


def test_no_message_names_the_bot_otherwise():
    for path in (REPO / "bot").rglob("*.py"):
        assert "@AI Wins" not in path.read_text(), path


@pytest.fixture
def fake():
    with FakeSlack() as f:
        f.add_user("U0ALICE0001", "alice")
        f.add_channel("C0PUBLIC001", "general")
        yield f


@pytest.mark.parametrize(("method", "kwargs"), [
    ("conversations_join", {"channel": "C0PUBLIC001"}),
    ("users_info", {"user": "U0ALICE0001"}),
    ("conversations_open", {"users": "U0ALICE0001"}),
    ("chat_postMessage", {"channel": "C0PUBLIC001", "text": "hi"}),
])
def test_sandbox_answers_missing_scope_like_slack(fake, method, kwargs):
    needed = METHOD_SCOPES[method.replace("_", ".", 1)]
    granted = [s for s in DEFAULT_SCOPES.split(",") if s != needed]
    fake.add_token("xoxb-narrow", fake.team_id, scopes=",".join(granted))
    with pytest.raises(SlackApiError) as e:
        getattr(WebClient("xoxb-narrow", base_url=fake.api_url), method)(**kwargs)
    assert e.value.response["error"] == "missing_scope"
    assert e.value.response["needed"] == needed
    assert e.value.response["provided"] == ",".join(granted)
    # With the manifest's scopes the same call goes through.
    assert getattr(WebClient(fake.token, base_url=fake.api_url), method)(**kwargs)["ok"]


def test_conversations_info_needs_the_read_scope_of_the_conversation_type(fake):
    fake.add_channel("G0PRIVATE01", "secret", is_private=True, bot_member=True)
    fake.add_token("xoxb-public-only", fake.team_id, scopes="chat:write,channels:read")
    client = WebClient("xoxb-public-only", base_url=fake.api_url)
    assert client.conversations_info(channel="C0PUBLIC001")["channel"]["is_private"] is False
    with pytest.raises(SlackApiError) as e:
        client.conversations_info(channel="G0PRIVATE01")
    assert (e.value.response["error"], e.value.response["needed"]) == ("missing_scope", "groups:read")


def test_posting_in_a_public_channel_the_bot_is_not_in_needs_chat_write_public(fake):
    fake.add_token("xoxb-no-public", fake.team_id, scopes="chat:write")
    with pytest.raises(SlackApiError) as e:
        WebClient("xoxb-no-public", base_url=fake.api_url).chat_postMessage(channel="C0PUBLIC001", text="hi")
    assert e.value.response["error"] == "not_in_channel"
    fake.invite_bot("C0PUBLIC001")
    assert WebClient("xoxb-no-public", base_url=fake.api_url).chat_postMessage(channel="C0PUBLIC001", text="hi")["ok"]
