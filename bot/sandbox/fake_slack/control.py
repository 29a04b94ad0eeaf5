"""The fake's HTTP control API under /_sandbox/ (benchmarks and the demo drive a fake in another process)."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qsl

from bot.sandbox.fake_slack.common import (
    _call_summary,
    _err,
    _query_match,
    _Reply,
)


class ControlMixin:
    """Mixed into FakeSlack."""

    # ------------------------------------------------------------------ HTTP control (benchmarks)

    def _handle_control(self, verb: str, action: str, query: str, body: bytes) -> _Reply:
        q = dict(parse_qsl(query, keep_blank_values=True))
        if verb == "GET":
            if action == "calls":
                calls = self.calls(q.pop("method", None))
                return _Reply(200, [_call_summary(c) for c in calls if _query_match(c, q)])
            if action == "count":
                calls = self.calls(q.pop("method", None))
                return _Reply(200, {"count": sum(1 for c in calls if _query_match(c, q))})
            if action == "wait":
                return self._control_wait(q)
            if action == "messages":
                return _Reply(200, self.messages(q.get("channel", "")))
            if action == "uploads":
                uploads = [{**u, "content": base64.b64encode(u["content"]).decode()} for u in self.uploads()]
                return _Reply(200, uploads)
            return _Reply(404, _err("unknown_control"))
        try:
            data = json.loads(body) if body else None
        except ValueError:
            return _Reply(400, _err("invalid_json"))
        try:
            if action == "reset":
                self.reset()
            elif action == "fail":
                self.fail(**(data or {}))
            elif action == "users":
                for kwargs in data or []:
                    self.add_user(**kwargs)
            elif action == "channels":
                for kwargs in data or []:
                    self.add_channel(**kwargs)
            elif action == "usergroups":
                for group_id, user_ids in (data or {}).items():
                    self.add_usergroup(group_id, user_ids)
            elif action == "tokens":
                for kwargs in data or []:
                    self.add_token(**kwargs)
            elif action == "triggers":  # a sender in another process tells when it sent these
                for trigger_id in data or []:
                    self.issue_trigger(str(trigger_id))
            elif action == "config":
                data = data or {}
                if "latency" in data:
                    self.latency(data["latency"])
                if "rate_limit_per_channel" in data:
                    self.rate_limit_per_channel(data["rate_limit_per_channel"])
                if "trigger_lifetime" in data:
                    self.trigger_lifetime = float(data["trigger_lifetime"])
            else:
                return _Reply(404, _err("unknown_control"))
        except (TypeError, AttributeError, ValueError) as exc:
            return _Reply(400, _err("invalid_arguments", detail=str(exc)))
        return _Reply(200, {"ok": True})

    def _control_wait(self, q: dict[str, str]) -> _Reply:
        method = q.pop("method", "")
        try:
            count = int(q.pop("count", "1"))
            timeout = float(q.pop("timeout", "10"))
        except ValueError:
            return _Reply(400, _err("invalid_arguments"))
        ok_only = q.pop("ok", "1") != "0"
        try:
            # Query-string values are strings, so compare params as strings.
            found = self._wait(method, count, timeout, q, ok_only=ok_only, accept=lambda c: _query_match(c, q))
        except TimeoutError as exc:
            return _Reply(408, _err("timeout", count=len(self.calls(method)), detail=str(exc)))
        return _Reply(200, {"ok": True, "count": len(found)})
