"""Calls about the caller's key rather than one sandbox: the sandboxes it can see and its usage."""

from __future__ import annotations

from typing import Any

from .connection import Transport
from .errors import ProtocolError


def list_sandboxes(transport: Transport) -> list[dict[str, Any]]:
    answer = transport.json("GET", "/v1/sandboxes")
    return list(answer.get("sandboxes", [])) if isinstance(answer, dict) else []


def usage(transport: Transport) -> dict[str, Any]:
    answer = transport.json("GET", "/v1/usage")
    if not isinstance(answer, dict) or not isinstance(answer.get("owner"), str):
        raise ProtocolError("GET /v1/usage answered without an owner")
    return answer
