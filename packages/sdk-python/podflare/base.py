"""What every part of the Sandbox class stands on: its transport, id and state, and the
check that the object is still open. The parts by job (exec_stream.ExecMethods,
files.FileMethods) and the Sandbox class itself build on it."""

from __future__ import annotations

import threading
from typing import Any, TypeVar

from .connection import Transport
from .errors import ProtocolError, SandboxClosedError
from .paths import sandbox_path

_S = TypeVar("_S", bound="SandboxBase")


class SandboxBase:
    id: str
    template: str | None
    applied: dict[str, Any] | None
    clamped: list[str]
    warnings: list[str]
    _transport: Transport

    # -- construction without a create call -------------------------------------------

    def _setup(self, transport: Transport, id: str, template: str | None = None, applied: Any = None,
               clamped: Any = None, warnings: Any = None) -> None:
        self._transport = transport
        self.id = id
        self.template = template
        self.applied = dict(applied) if isinstance(applied, dict) else None
        self.clamped = list(clamped) if isinstance(clamped, list) else []
        self.warnings = list(warnings) if isinstance(warnings, list) else []
        self._state = "open"
        self._state_detail = ""
        self._close_lock = threading.Lock()

    def _setup_from_answer(self, transport: Transport, answer: Any, what: str, template: str | None) -> None:
        if not isinstance(answer, dict) or not isinstance(answer.get("id"), str):
            raise ProtocolError(f"{what} answered without a sandbox id")
        self._setup(transport, answer["id"], answer.get("template", template), answer.get("applied"),
                    answer.get("clamped"), answer.get("warnings"))

    @classmethod
    def _attach(cls: type[_S], transport: Transport, id: str, **init: Any) -> _S:
        sb = cls.__new__(cls)
        sb._setup(transport, id, **init)
        return sb

    # -- plumbing -----------------------------------------------------------------------

    @property
    def host(self) -> str:
        """Base URL of the API this sandbox is reached through."""
        return self._transport.host

    @property
    def is_open(self) -> bool:
        """False once ``close()``, ``merge_into()`` (on the winner) or ``freeze()`` has run."""
        return self._state == "open"

    def _check_open(self) -> None:
        if self._state == "open":
            return
        if self._state == "merged":
            raise SandboxClosedError(
                f"sandbox {self.id} was merged into {self._state_detail}; use that sandbox's object")
        if self._state == "frozen":
            raise SandboxClosedError(f"sandbox {self.id} was frozen into Space {self._state_detail};"
                                     f" continue with Sandbox.resume({self._state_detail!r})")
        raise SandboxClosedError(f"sandbox {self.id} is closed; create a new one with Sandbox()")

    def _path(self, suffix: str) -> str:
        return sandbox_path(self.id, suffix)
