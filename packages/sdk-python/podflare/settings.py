"""Changes to a running sandbox's settings: idle timeout and network policy. Each gives back
the limits the server says it applied, for the Sandbox to keep in ``applied``."""

from __future__ import annotations

from typing import Any

from .connection import Transport
from .paths import sandbox_path


def change_timeout(transport: Transport, sandbox_id: str, idle_timeout_s: int,
                   applied: dict[str, Any] | None) -> dict[str, Any] | None:
    """Sets the idle timeout; the new ``applied`` (``applied`` updated when the server gave
    only the timeout)."""
    answer = transport.json("POST", sandbox_path(sandbox_id, "/timeout"),
                            json_body={"idle_timeout_s": idle_timeout_s})
    if isinstance(answer, dict):
        if isinstance(answer.get("applied"), dict):
            return dict(answer["applied"])
        if applied is not None and isinstance(answer.get("idle_timeout_s"), int):
            applied["idle_timeout_s"] = answer["idle_timeout_s"]
    return applied


def network_body(allow_out: Any, deny_out: Any, egress: bool | None, *, unset: Any) -> dict[str, Any]:
    """The PUT .../network body: only the lists given (``unset`` marks one not given)."""
    body: dict[str, Any] = {}
    if allow_out is not unset:
        body["allow_out"] = list(allow_out) if allow_out is not None else None
    if deny_out is not unset:
        body["deny_out"] = list(deny_out) if deny_out is not None else None
    if egress is not None:
        body["egress"] = egress
    return body


def change_network(transport: Transport, sandbox_id: str,
                   body: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Sends the policy; (applied limits, network) as the server reports them."""
    answer = transport.json("PUT", sandbox_path(sandbox_id, "/network"), json_body=body)
    if not isinstance(answer, dict):
        return None, None
    applied = dict(answer["applied"]) if isinstance(answer.get("applied"), dict) else None
    net = answer.get("network")
    return applied, dict(net) if isinstance(net, dict) else None
