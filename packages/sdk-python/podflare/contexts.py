"""REPL contexts (docs/api.md, "Contexts"): each its own ``__main__`` namespace, and
optionally the directory its cells start in, in one sandbox. The Sandbox methods call these."""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from typing import Any, Optional, Union

from .errors import ProtocolError


@dataclass(frozen=True)
class Context:
    """A REPL context: pass it (or its id) as ``run_code(code, context=ctx)``."""

    id: str
    language: str = "python"
    cwd: Optional[str] = None


def context_id(context: Union[Context, str]) -> str:
    return context if isinstance(context, str) else context.id


def _to_context(value: Any, what: str) -> Context:
    if not isinstance(value, dict) or not isinstance(value.get("id"), str):
        raise ProtocolError(f"{what}: the answer has no context")
    return Context(value["id"], value.get("language") or "python", value.get("cwd"))


def create(transport: Any, base: str, cwd: Optional[str]) -> Context:
    body = {"cwd": cwd} if cwd is not None else {}
    return _to_context(transport.json("POST", f"{base}/contexts", json_body=body), "create context")


def list_all(transport: Any, base: str) -> list[Context]:
    answer = transport.json("GET", f"{base}/contexts")
    items = answer.get("contexts") if isinstance(answer, dict) else None
    return [_to_context(c, "list contexts") for c in items or []]


def restart(transport: Any, base: str, context: Union[Context, str]) -> Context:
    cid = urllib.parse.quote(context_id(context), safe="")
    return _to_context(transport.json("POST", f"{base}/contexts/{cid}/restart"), "restart context")


def delete(transport: Any, base: str, context: Union[Context, str]) -> None:
    transport.request("DELETE", f"{base}/contexts/{urllib.parse.quote(context_id(context), safe='')}")
