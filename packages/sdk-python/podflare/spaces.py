"""Calls that change which sandbox an id names: fork (new ids from one state), merge (an id
takes a child's state) and freeze (the sandbox becomes a Space)."""

from __future__ import annotations

from .connection import Transport
from .errors import ProtocolError
from .paths import q, sandbox_path


def fork_children(transport: Transport, sandbox_id: str, n: int) -> list[str]:
    answer = transport.json("POST", sandbox_path(sandbox_id, "/fork"), json_body={"n": n})
    if not isinstance(answer, dict) or not isinstance(answer.get("children"), list):
        raise ProtocolError(f"fork of {sandbox_id} answered without children")
    return list(answer["children"])


def merge_into(transport: Transport, sandbox_id: str, winner_id: str) -> None:
    transport.request("POST", sandbox_path(sandbox_id, f"/merge_into/{q(winner_id)}"))


def freeze_to_space(transport: Transport, sandbox_id: str) -> str:
    answer = transport.json("POST", sandbox_path(sandbox_id, "/freeze"))
    if not isinstance(answer, dict) or not isinstance(answer.get("space_id"), str):
        raise ProtocolError(f"freeze of {sandbox_id} answered without space_id")
    return answer["space_id"]
