"""Where a workspace's bot token comes from in OAuth mode: slack-sdk's SQLAlchemy installation store on
our own tables, plus the two things Enterprise Grid and token rotation need of it.

**Org-wide installs.** An app installed to a whole Enterprise Grid org is stored once, with the org's
`enterprise_id` and no `team_id` (slack-sdk's `find_installation(..., is_enterprise_install=True)`
semantics). A lookup for one workspace (`enterprise_id`, `team_id`) that finds no installation of its
own falls back to its org's installation, so commands, events and every background job of any
workspace in the org use the org token. A caller that does not know the workspace's org (an old job,
the CLI) gets it from the `workspaces` table, where it is kept from the first request. A workspace
install inside an org (not org-wide) is found first, as before.

**Token rotation.** With rotation on, Slack's access tokens expire (12 hours) and a refresh token
buys a new pair. Every lookup, the request path's (Bolt's `authorize`) and the background path's
alike, refreshes a token first when it has less than REFRESH_MARGIN left. One process at a time
refreshes an installation: the refresh runs in a transaction that first writes the installation's bot
rows (a row lock on PostgreSQL; on SQLite the write lock, which lookups do not wait for: they only
read), then reads them again and calls Slack only if the token is still due, so a refresh token, which
Slack honours once, is never sent twice; whoever waited finds the new token. Whoever waits longer than
a query may, or finds Slack refusing the refresh, keeps using the old token while it is still good and
tries again on its next use; a refusal is logged once per installation (until a refresh succeeds).
Once the token has expired the lookup raises TokenRefreshFailed: a job is retried with backoff,
nothing is lost. Bolt's own rotation (120 minutes before expiry) never fires: this store refreshes
earlier, and a copy it hands out after a refused refresh carries no refresh token."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackTokenRotationError
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.token_rotation import TokenRotator
from sqlalchemy import Connection, Engine, and_, select, update

from bot.db import DATABASE_ERRORS
from bot.models.workspace import Workspace

log = logging.getLogger(__name__)

BOLT_ROTATION_MINUTES = 120  # what bot/app.py tells Bolt (its default)
REFRESH_MARGIN = (BOLT_ROTATION_MINUTES + 10) * 60  # seconds: refresh earlier than Bolt would
REFRESH_FAILED = "could not refresh the bot token"
STILL_GOOD = 60  # seconds: a token with less left is not handed out when its refresh failed


class TokenRefreshFailed(SlackTokenRotationError):
    """Slack refused to refresh an installation's token (or could not be reached)."""

    def __init__(self, message: str) -> None:
        Exception.__init__(self, message)


class GridInstallationStore(SQLAlchemyInstallationStore):
    def __init__(self, *, client_id: str, client_secret: str | None, base_url: str, writer: Engine | None = None,
                 **kwargs: Any) -> None:
        """`engine` serves lookups (and slack-sdk's own saves); `writer`, the refresh (see _refresh)."""
        super().__init__(client_id=client_id, **kwargs)
        self._writer = writer or self.engine
        # The refresh is made holding the installation (on SQLite, the database's write lock): a short wait.
        self._rotator = TokenRotator(client_id=client_id, client_secret=client_secret or "",
                                     client=WebClient(base_url=base_url, timeout=5))
        self._failing: set[tuple[str | None, str | None]] = set()  # refreshes that failed (logged once)
        self._failing_lock = threading.Lock()

    # -- lookups: the workspace's own install, else its org's ----------------------------------------------

    def find_bot(self, *, enterprise_id: str | None, team_id: str | None,
                 is_enterprise_install: bool | None = False) -> Bot | None:
        def find(e: str | None, t: str | None) -> Bot | None:
            return super(GridInstallationStore, self).find_bot(enterprise_id=e, team_id=t,
                                                               is_enterprise_install=t is None)
        return self._lookup(find, enterprise_id, team_id, is_enterprise_install)

    def find_installation(self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None,
                          is_enterprise_install: bool | None = False) -> Installation | None:
        def find(e: str | None, t: str | None) -> Installation | None:
            return super(GridInstallationStore, self).find_installation(
                enterprise_id=e, team_id=t, user_id=user_id, is_enterprise_install=t is None)
        return self._lookup(find, enterprise_id, team_id, is_enterprise_install)

    def _lookup(self, find: Callable[[str | None, str | None], Any], enterprise_id: str | None,
                team_id: str | None, is_enterprise_install: bool | None) -> Any:  # noqa: ANN401
        """The workspace's own install, else its org's; fresh (see the module's docstring)."""
        if is_enterprise_install or not team_id:
            found = find(enterprise_id, None)
        else:
            found = find(enterprise_id, team_id)
            if found is None and not enterprise_id:
                enterprise_id = self._enterprise_of(team_id)
                found = find(enterprise_id, team_id) if enterprise_id else None
            if found is None and enterprise_id:
                found = find(enterprise_id, None)
        if found is None or not _due(found):
            return found
        try:
            self._refresh(found.enterprise_id, found.team_id)
        except TokenRefreshFailed:
            if (found.bot_token_expires_at or 0) <= time.time() + STILL_GOOD:
                raise
            # Still good for a while: use it, and try again on the next use. This copy carries no refresh
            # token, so Bolt does not try to rotate it on its own, outside the lock.
            found.bot_refresh_token = None
            return found
        return find(found.enterprise_id, found.team_id)

    def _enterprise_of(self, team_id: str) -> str | None:
        """The workspace's org, as its first request said, or as its own install said (a workspace id
        belongs to one org)."""
        i = self.installations.c
        with self.engine.connect() as conn:
            return conn.scalar(select(Workspace.enterprise_id).where(Workspace.team_id == team_id)) or conn.scalar(
                select(i.enterprise_id).where(i.client_id == self.client_id, i.team_id == team_id)
                .order_by(i.installed_at.desc()).limit(1))

    # -- rotation ------------------------------------------------------------------------------------

    def _refresh(self, enterprise_id: str | None, team_id: str | None) -> None:
        bots = self.bots
        c = bots.c
        mine = and_(c.client_id == self.client_id, c.enterprise_id == enterprise_id, c.team_id == team_id,
                    c.bot_refresh_token.is_not(None))
        key = (enterprise_id, team_id)
        with self._writer.connect() as conn:
            try:
                # Take the installation first (PostgreSQL: these rows; SQLite: BEGIN IMMEDIATE already did):
                # another process refreshing it waits here, then finds the token fresh below.
                conn.begin()
                conn.execute(update(bots).where(mine).values(bot_refresh_token=c.bot_refresh_token))
            except DATABASE_ERRORS as e:  # waited longer than a query may: someone else is refreshing it
                raise TokenRefreshFailed(f"the bot token of {team_id or enterprise_id} is being refreshed") from e
            self._refresh_locked(conn, key, mine)
            conn.commit()
        with self._failing_lock:
            if key in self._failing:
                self._failing.discard(key)
                log.info("bot token of %s refreshed again", team_id or enterprise_id)

    def _refresh_locked(self, conn: Connection, key: tuple[str | None, str | None], mine: Any) -> None:  # noqa: ANN401
        """Holding the installation: read it again, and refresh it only if it is still due."""
        enterprise_id, team_id = key
        c = self.bots.c
        row = conn.execute(select(self.bots).where(mine).order_by(c.installed_at.desc()).limit(1)).mappings().first()
        current = self.build_bot_entity(row) if row is not None else None
        if current is None or not _due(current):
            return  # refreshed meanwhile by someone else
        try:
            refreshed = self._rotator.perform_bot_token_rotation(bot=current,
                                                                minutes_before_expiration=REFRESH_MARGIN // 60)
        except Exception as e:
            self._failed(key, e)
            raise TokenRefreshFailed(f"{REFRESH_FAILED} of {team_id or enterprise_id}") from e
        if refreshed is None:
            return
        values = {"bot_token": refreshed.bot_token, "bot_refresh_token": refreshed.bot_refresh_token,
                  "bot_token_expires_at": _naive_utc(refreshed.bot_token_expires_at)}
        old = current.bot_refresh_token
        conn.execute(update(self.bots).where(mine, c.bot_refresh_token == old).values(**values))
        i = self.installations.c
        conn.execute(update(self.installations).where(
            i.client_id == self.client_id, i.enterprise_id == enterprise_id, i.team_id == team_id,
            i.bot_refresh_token == old).values(**values))

    def _failed(self, key: tuple[str | None, str | None], error: Exception) -> None:
        with self._failing_lock:
            first = key not in self._failing
            self._failing.add(key)
        if first:
            api = getattr(error, "api_error", None)
            reason = api.response.get("error") if api is not None else type(error).__name__
            log.error("%s of %s (%s); will try again on its next use", REFRESH_FAILED, key[1] or key[0], reason)


def _due(found: Any) -> bool:  # noqa: ANN401
    expires = getattr(found, "bot_token_expires_at", None)
    return bool(getattr(found, "bot_refresh_token", None)) and expires is not None \
        and expires <= time.time() + REFRESH_MARGIN


def _naive_utc(epoch: int | None) -> datetime | None:
    """How slack-sdk's store keeps the expiry (a naive UTC DateTime column)."""
    return None if epoch is None else datetime.fromtimestamp(epoch, tz=UTC).replace(tzinfo=None)
