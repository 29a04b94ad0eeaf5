"""The OAuth `state` of an install, kept by the browser instead of a database row.

`GET /slack/install` hands out a state that `GET /slack/oauth_redirect` must bring back (Bolt's
OAuthFlow): with a store that inserts a row per visit, anyone could fill the table by loading the
install page, since that page needs no authentication. Here the state carries its own proof: an
expiry time and a random nonce, signed with HMAC-SHA256 under a key derived from the app's client
secret. Nothing is written; `consume()` checks the signature and the expiry.

What still binds a state to the browser that started the install is Bolt's `slack-app-oauth-state`
cookie (Secure, HttpOnly), which must equal the state before `consume()` is called. What a stateless
state gives up is "at most once": within its ten minutes a state could be brought back twice, but
the code that comes with it is single-use at Slack (oauth.v2.access refuses it the second time)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time

from slack_sdk.oauth.state_store import OAuthStateStore

log = logging.getLogger(__name__)

STATE_LIFETIME = 600  # seconds: Bolt's default, and the Max-Age of its state cookie


class SignedOAuthStateStore(OAuthStateStore):
    def __init__(self, client_secret: str, *, expiration_seconds: int = STATE_LIFETIME) -> None:
        # A key of its own: the client secret itself signs nothing else of ours this way.
        self._key = hmac.new(client_secret.encode(), b"aiwins oauth state v1", hashlib.sha256).digest()
        self.expiration_seconds = expiration_seconds

    @property
    def logger(self) -> logging.Logger:
        return log

    def issue(self, *args: object, **kwargs: object) -> str:
        body = f"{int(time.time()) + self.expiration_seconds}.{secrets.token_urlsafe(16)}"
        return f"{body}.{self._mac(body)}"

    def consume(self, state: str) -> bool:
        """True for a state this app issued less than `expiration_seconds` ago, unchanged."""
        parts = state.split(".") if isinstance(state, str) else []
        if len(parts) != 3:
            return False
        expires, nonce, mac = parts
        if not hmac.compare_digest(mac.encode(), self._mac(f"{expires}.{nonce}").encode()):
            log.info("refused an OAuth state with a wrong signature")
            return False
        if not (expires.isascii() and expires.isdigit()) or time.time() > int(expires):
            log.info("refused an expired OAuth state")
            return False
        return True

    def _mac(self, body: str) -> str:
        return hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()
