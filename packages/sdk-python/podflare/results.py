"""Rich results of a python exec, as Jupyter shows them (docs/api.md, "Rich results"): the
value of the cell's last expression, display() calls and matplotlib figures, each a MIME
bundle; and the cell's exception as data."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Optional

from .errors import ProtocolError


@dataclass(frozen=True)
class Result:
    """One displayed object: ``data`` maps MIME types to text (binary types in base64).

    Example::

        r = sb.run_code("import pandas as pd\\npd.DataFrame({'a': [1]})")
        assert r.results[0].is_main_result and "<table" in r.results[0].html
    """

    data: dict = field(default_factory=dict)
    is_main_result: bool = False

    @property
    def text(self) -> Optional[str]:
        return self.data.get("text/plain")

    @property
    def html(self) -> Optional[str]:
        return self.data.get("text/html")

    @property
    def markdown(self) -> Optional[str]:
        return self.data.get("text/markdown")

    @property
    def svg(self) -> Optional[str]:
        return self.data.get("image/svg+xml")

    @property
    def png(self) -> Optional[str]:
        """base64"""
        return self.data.get("image/png")

    @property
    def jpeg(self) -> Optional[str]:
        """base64"""
        return self.data.get("image/jpeg")

    @property
    def latex(self) -> Optional[str]:
        return self.data.get("text/latex")

    @property
    def json(self) -> Any:
        """``application/json``, parsed."""
        text = self.data.get("application/json")
        return None if text is None else json.loads(text)

    def formats(self) -> list[str]:
        return list(self.data)


@dataclass(frozen=True)
class ExecError:
    """The exception a python exec ended with (its traceback is on stderr too)."""

    name: str
    value: str
    traceback: str


def result_from_event(value: dict) -> Result:
    data = value.get("data")
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ProtocolError("exec result event without a {mime: string} data object")
    return Result(dict(data), value.get("is_main_result") is True)


def error_from_event(value: dict) -> ExecError:
    def text(key: str) -> str:
        v = value.get(key)
        return v if isinstance(v, str) else ""

    return ExecError(text("name"), text("value"), text("traceback"))
