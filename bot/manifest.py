"""What manifest.yml declares, for the code that depends on it.

The constants are what the app uses at run time (an installed package has no manifest.yml next
to it); tests/test_manifest.py proves they equal the file, and the sandbox reads its token scopes
from the file itself (`manifest_bot_scopes`), so the manifest, the OAuth install and the fake's
scope checks cannot drift apart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

# oauth_config.scopes.bot, and the Web API methods that need each one:
# commands (/aiwin) · chat:write (chat.postMessage/update/postEphemeral) · chat:write.public (digests
# and prompts in public channels the bot has not joined) · channels:join (conversations.join, so 🎓
# reactions reach us) · reactions:read (reaction_added/removed) · users:read (users.info/list) ·
# usergroups:read (usergroups.users.list) · im:write (conversations.open) · channels:read, groups:read,
# im:read, mpim:read (conversations.info: is a conversation private?) · channels:history, groups:history
# (conversations.history/replies, after a takeover: was this win already posted?) · files:write (export by DM) ·
# assistant:write (assistant.threads.setStatus/setSuggestedPrompts/setTitle) · im:history (message.im in the
# assistant pane) · app_mentions:read (app_mention). The coach's streamed answers need chat:write only.
BOT_SCOPES: tuple[str, ...] = (
    "commands", "chat:write", "chat:write.public", "channels:join", "reactions:read", "users:read",
    "usergroups:read", "im:write", "channels:read", "groups:read", "im:read", "mpim:read", "channels:history",
    "groups:history", "files:write", "assistant:write", "im:history", "app_mentions:read",
)
BOT_EVENTS: tuple[str, ...] = (
    "app_home_opened", "reaction_added", "reaction_removed", "app_uninstalled", "tokens_revoked",
    "function_executed", "team_access_granted", "team_access_revoked", "assistant_thread_started",
    "assistant_thread_context_changed", "message.im", "app_mention",
)
# features.bot_user.display_name: what people type after `/invite @`.
BOT_DISPLAY_NAME = "aiwins"

MANIFEST_PATH = Path(__file__).resolve().parent.parent / "manifest.yml"


def load_manifest(path: Path = MANIFEST_PATH) -> dict[str, Any] | None:
    """The parsed manifest, or None when the file (or PyYAML, a dev dependency) is not there."""
    try:
        import yaml  # noqa: PLC0415 - only the sandbox and tests read the file
    except ImportError:
        return None
    try:
        return yaml.safe_load(path.read_text())
    except OSError:
        return None


def manifest_bot_scopes(path: Path = MANIFEST_PATH) -> tuple[str, ...]:
    """The bot scopes manifest.yml asks for (BOT_SCOPES where the file cannot be read)."""
    manifest = load_manifest(path)
    if manifest is None:
        return BOT_SCOPES
    return tuple(manifest["oauth_config"]["scopes"]["bot"])


def invite_hint() -> str:
    """How a person adds the bot to a channel, named as the manifest names it."""
    return f"/invite @{BOT_DISPLAY_NAME}"
