"""Events the fake sends to the app, as Slack does: signed Events API requests to the app's request URL.

Slack delivers reaction events only for conversations the bot is a member of ("perspectival to your
bot user", SLACK_FACTS §6). `react`/`unreact` keep that rule: a person's reaction is recorded on the
message either way, but the app hears about it only where the bot is a member."""

from __future__ import annotations

import json
import threading
import time
from typing import Any
from urllib.parse import urlsplit

from bot.sandbox.requests import JSON, Response, SlackSender


class EventsMixin:
    """Mixed into FakeSlack."""

    _event_sender: SlackSender | None = None

    def deliver_events(self, request_url: str, signing_secret: str, *, is_enterprise_install: bool = False) -> None:
        """Where events go: the app's Event Subscriptions request URL, signed with its signing secret.
        ``is_enterprise_install``: the app is installed org-wide, and the events' authorizations say so."""
        url = urlsplit(request_url)
        sender = SlackSender(
            base_url=f"{url.scheme}://{url.netloc}", signing_secret=signing_secret, path=url.path or "/slack/events",
            team_id=self.team_id, enterprise_id=self.enterprise_id, api_app_id=self.app_id,
            team_domain=self._default_ws.domain, bot_user_id=self.bot_user_id, bot_id=self.bot_id,
            is_enterprise_install=is_enterprise_install,
        )
        with self._lock:
            old, self._event_sender = self._event_sender, sender
            self._delivered_events: dict[str, bytes] = {}
            self._held_events: list[bytes] = []
        if old is not None:
            old.close()

    def react(self, user: str, channel: str, ts: str, name: str = "mortar_board", *, deliveries: int = 1,
              distinct_event_ids: bool = False, event_ts: str | None = None, held: bool = False) -> list[Response]:
        """`user` adds reaction `name` to the message (channel, ts), as reactions.add would. Returns the
        app's answers to the `reaction_added` deliveries: none when the bot is not a member of the
        conversation (or the user had reacted so already). ``deliveries`` > 1 sends that many copies at
        once, as Slack does when it retries a slow delivery (``distinct_event_ids``: each with its own id).
        ``held``: Slack is late with this delivery; it is sent by ``release_held()`` (out-of-order arrival)."""
        return self._reaction("reaction_added", user, channel, ts, name, deliveries, distinct_event_ids, event_ts,
                              held)

    def unreact(self, user: str, channel: str, ts: str, name: str = "mortar_board", *,
                event_ts: str | None = None) -> list[Response]:
        """`user` removes their reaction; `reaction_removed` is delivered only where the bot is a member."""
        return self._reaction("reaction_removed", user, channel, ts, name, 1, False, event_ts, False)

    def release_held(self) -> list[Response]:
        """Deliver the held events now, oldest first."""
        with self._lock:
            sender, bodies, self._held_events = self._event_sender, self._held_events, []
        assert sender is not None
        return [sender.post(body, JSON) for body in bodies]

    def delivered_event_ids(self) -> list[str]:
        """The event_ids of the events sent (or held) so far, oldest first."""
        with self._lock:
            return list(self._delivered_events)

    def redeliver(self, event_id: str, retry_num: int = 1, retry_reason: str = "http_timeout") -> Response:
        """Slack's retry of an event it delivered before: the same body, with the retry headers."""
        with self._lock:
            sender, body = self._event_sender, self._delivered_events[event_id]
        assert sender is not None
        return sender.post(body, JSON, extra_headers={"X-Slack-Retry-Num": str(retry_num),
                                                      "X-Slack-Retry-Reason": retry_reason})

    def reactions(self, channel: str, ts: str) -> list[dict[str, Any]]:
        """The reactions on a message, shaped like reactions.get's."""
        with self._lock:
            found = self._lookup_channel(channel)
            message = self._messages.get(found["id"], {}).get(ts) if found else None
            return json.loads(json.dumps((message or {}).get("reactions", [])))

    def _reaction(self, kind: str, user: str, channel: str, ts: str, name: str, deliveries: int,
                  distinct_ids: bool, event_ts: str | None, held: bool) -> list[Response]:
        with self._lock:
            sender = self._event_sender
            if sender is None:
                raise RuntimeError("call deliver_events(request_url, signing_secret) first")
            found = self._lookup_channel(channel)
            if found is None:
                raise KeyError(f"unknown channel {channel!r}")
            message = self._messages.get(found["id"], {}).get(ts)
            if message is None:
                raise KeyError(f"no message {ts} in {channel}")  # reactions.add: message_not_found
            if not self._change_reaction(message, user, name, add=kind == "reaction_added"):
                return []  # already_reacted / no_reaction: Slack sends nothing
            if self.bot_user_id not in found["members"]:
                return []  # not perspectival to the bot: Slack does not deliver it
            event = {"type": kind, "user": user, "reaction": name, "item_user": message.get("user"),
                     "item": {"type": "message", "channel": found["id"], "ts": ts},
                     "event_ts": event_ts or f"{time.time():.6f}"}
            bodies = []
            first_id = sender.new_event_id()
            for _ in range(deliveries):
                event_id = sender.new_event_id() if distinct_ids and bodies else first_id
                body = json.dumps(sender.event_envelope(event, event_id=event_id)).encode()
                self._delivered_events[event_id] = body
                bodies.append(body)
            if held:
                self._held_events.extend(bodies)
                return []
        # Sent without the lock: the app calls back into the fake while handling the event.
        if len(bodies) == 1:
            return [sender.post(bodies[0], JSON)]
        results: list[Response | None] = [None] * len(bodies)
        barrier = threading.Barrier(len(bodies))

        def send(i: int) -> None:
            barrier.wait()
            results[i] = sender.post(bodies[i], JSON)

        threads = [threading.Thread(target=send, args=(i,)) for i in range(len(bodies))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        return [r for r in results if r is not None]

    @staticmethod
    def _change_reaction(message: dict[str, Any], user: str, name: str, *, add: bool) -> bool:
        reactions = message.setdefault("reactions", [])
        entry = next((r for r in reactions if r["name"] == name), None)
        if add:
            if entry is None:
                entry = {"name": name, "users": [], "count": 0}
                reactions.append(entry)
            if user in entry["users"]:
                return False
            entry["users"].append(user)
        else:
            if entry is None or user not in entry["users"]:
                return False
            entry["users"].remove(user)
            if not entry["users"]:
                reactions.remove(entry)
        if entry in reactions:
            entry["count"] = len(entry["users"])
        message["reactions"] = reactions
        return True
