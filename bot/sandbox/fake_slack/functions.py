"""Workflow Builder custom steps: `function_executed` executions and functions.completeSuccess /
completeError, checked against the functions declared in manifest.yml (so the two cannot drift).

An execution is started by the test (`start_function`), which gets the event body Slack would send;
the app must complete it exactly once, with outputs that match the declared output parameters.
Each execution carries a short-lived workflow token (`xwfp-…`), accepted like Slack's for that
execution's calls."""

from __future__ import annotations

import json
import re
import secrets
import time
from pathlib import Path
from typing import Any

from bot.sandbox.fake_slack.common import _Ctx, _err

MANIFEST = Path(__file__).resolve().parents[3] / "manifest.yml"
MAX_ERROR_TEXT = 2000  # what the sandbox allows for completeError's message
_USER = re.compile(r"^[UW][A-Z0-9]+$")
_CHANNEL = re.compile(r"^[CGD][A-Z0-9]+$")


# The manifest's major version whose function parameters the sandbox reads: version 2 declares them
# as {properties: {name: {type, title, ...}}, required: [names]}; version 1 (a manifest that names no
# version) as flat {name: {type, ..., is_required}}. Slack validates each form against its own version,
# so a manifest in the other form is refused here rather than read half-right.
PARAMETER_FORM_VERSION = 2
_V2_FORM = "version 2 declares parameters as properties: {name: {type: ...}} and required: [names]"


class ManifestFormError(ValueError):
    """The manifest declares its functions in a form the sandbox (and Slack, for that version) does not read."""


def _parameters_problem(params: Any) -> str | None:
    if not isinstance(params, dict) or not isinstance(params.get("properties"), dict):
        return "no properties mapping"
    if set(params) - {"properties", "required"}:
        return f"unexpected keys {sorted(set(params) - {'properties', 'required'})}, beside properties and required"
    for name, spec in params["properties"].items():
        if not isinstance(spec, dict) or not isinstance(spec.get("type"), str):
            return f"parameter {name!r} has no type"
        if "is_required" in spec:
            return f"parameter {name!r} has is_required, the version 1 form; list it under required instead"
    required = params.get("required", [])
    if not isinstance(required, list) or any(r not in params["properties"] for r in required):
        return f"required must list names from properties, not {required!r}"
    return None


def declared_functions(path: Path = MANIFEST) -> dict[str, dict[str, Any]]:
    """The manifest's custom steps by callback_id; raises ManifestFormError unless they are in the
    version 2 form in a manifest that declares `_metadata: {major_version: 2}`."""
    import yaml  # a dev dependency, like the sandbox itself

    manifest = yaml.safe_load(path.read_text()) or {}
    functions = dict(manifest.get("functions") or {})
    if not functions:
        return functions
    version = (manifest.get("_metadata") or {}).get("major_version", 1)
    if version != PARAMETER_FORM_VERSION:
        raise ManifestFormError(
            f"{path.name} is manifest major version {version}, but the sandbox reads functions in the version "
            f"{PARAMETER_FORM_VERSION} form: declare _metadata: {{major_version: {PARAMETER_FORM_VERSION}}} "
            f"({_V2_FORM})")
    for callback_id, spec in functions.items():
        for key in ("input_parameters", "output_parameters"):
            problem = _parameters_problem((spec or {}).get(key))
            if problem:
                raise ManifestFormError(f"{path.name}: functions.{callback_id}.{key}: {problem} ({_V2_FORM})")
    return functions


def _type_ok(spec: dict[str, Any], value: Any) -> bool:
    kind = spec.get("type")
    if kind == "string":
        return isinstance(value, str)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "slack#/types/user_id":
        return isinstance(value, str) and bool(_USER.match(value))
    if kind == "slack#/types/channel_id":
        return isinstance(value, str) and bool(_CHANNEL.match(value))
    if kind == "array":
        return isinstance(value, list) and all(_type_ok(spec.get("items") or {}, v) for v in value)
    return True


def parameter_errors(params: dict[str, Any], values: Any, where: str) -> list[str]:
    """What is wrong with `values` against declared parameters (properties, required)."""
    if not isinstance(values, dict):
        return [f"must be an object [json-pointer:/{where}]"]
    props = params.get("properties") or {}
    errors = [f"missing required property {name} [json-pointer:/{where}]"
              for name in params.get("required") or () if name not in values]
    for name, value in values.items():
        if name not in props:
            errors.append(f"unknown property {name} [json-pointer:/{where}/{name}]")
        elif not _type_ok(props[name], value):
            errors.append(f"must be of type {props[name].get('type')} [json-pointer:/{where}/{name}]")
    return errors


class FunctionsMethods:
    """Mixed into FakeSlack; the methods run with the fake's lock held."""

    def start_function(self, callback_id: str, inputs: dict[str, Any], *,
                       execution_id: str | None = None) -> dict[str, Any]:
        """Start an execution of a declared custom step; returns the `function_executed` event.
        Inputs are checked against the manifest as Workflow Builder would (a step never runs with
        a missing required input). Reuse `execution_id` to build a redelivery of the same run."""
        spec = declared_functions().get(callback_id)
        if spec is None:
            raise KeyError(f"manifest.yml declares no function {callback_id!r}")
        errors = parameter_errors(spec.get("input_parameters") or {}, inputs, "inputs")
        if errors:
            raise ValueError("; ".join(errors))
        with self._lock:
            if execution_id and execution_id in self._executions:
                run = self._executions[execution_id]
            else:
                run = {"id": execution_id or self._next_id("Fx"), "callback_id": callback_id,
                       "token": f"xwfp-{secrets.token_hex(12)}", "status": "pending", "outputs": None,
                       "error": None, "workflow_execution_id": self._next_id("Wx")}
                self._executions[run["id"]] = run
                self.tokens.add(run["token"])
                self._token_ws[run["token"]] = self._default_ws
            params = lambda key: [  # noqa: E731 - Slack lists a function's parameters with their names
                {"name": n, **p, "is_required": n in (spec.get(key) or {}).get("required", ())}
                for n, p in ((spec.get(key) or {}).get("properties") or {}).items()]
            return {
                "type": "function_executed",
                "function": {"id": f"Fn{abs(hash(callback_id)) % 10**10:010d}", "callback_id": callback_id,
                             "title": spec.get("title", ""), "description": spec.get("description", ""),
                             "type": "app", "input_parameters": params("input_parameters"),
                             "output_parameters": params("output_parameters"), "app_id": self.app_id,
                             "date_created": int(time.time()), "date_updated": 0, "date_deleted": 0},
                "inputs": dict(inputs),
                "function_execution_id": run["id"],
                "workflow_execution_id": run["workflow_execution_id"],
                "event_ts": f"{time.time():.6f}",
                "bot_access_token": run["token"],
            }

    def function_run(self, execution_id: str) -> dict[str, Any]:
        """An execution's state: status ("pending", "completed", "failed"), outputs, error."""
        with self._lock:
            return dict(self._executions[execution_id])

    def _run_for(self, ctx: _Ctx) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """Slack's method docs: an execution it cannot find is function_execution_not_found; one
        already completed or failed "is no longer in a state to be completed"."""
        run = self._executions.get(str(ctx.params.get("function_execution_id") or ""))
        if run is None:
            return None, _err("function_execution_not_found")
        if str(ctx.token or "").startswith("xwfp-") and ctx.token != run["token"]:
            return None, _err("invalid_auth")  # another execution's workflow token
        if run["status"] != "pending":
            return None, _err("execution_not_in_running_state")
        return run, None

    def _functions_complete_success(self, ctx: _Ctx) -> dict[str, Any]:
        run, error = self._run_for(ctx)
        if error:
            return error
        raw = ctx.params.get("outputs")
        try:
            outputs = json.loads(raw) if isinstance(raw, str) else raw
        except ValueError:
            return _err("invalid_arguments", response_metadata={"messages": ["[ERROR] outputs: not JSON"]})
        spec = declared_functions()[run["callback_id"]]
        errors = parameter_errors(spec.get("output_parameters") or {}, outputs, "outputs")
        if errors:  # Slack: "problems when validating the outputs against the Function parameters"
            return _err("parameter_validation_failed",
                        response_metadata={"messages": [f"[ERROR] {e}" for e in errors]})
        run.update(status="completed", outputs=outputs)
        return {"ok": True}

    def _functions_complete_error(self, ctx: _Ctx) -> dict[str, Any]:
        run, error = self._run_for(ctx)
        if error:
            return error
        message = ctx.params.get("error")
        if not isinstance(message, str) or not message.strip():
            return _err("invalid_arguments", response_metadata={"messages": ["[ERROR] error: required"]})
        if len(message) > MAX_ERROR_TEXT:
            return _err("invalid_arguments", response_metadata={"messages": ["[ERROR] error: too long"]})
        run.update(status="failed", error=message)
        return {"ok": True}
