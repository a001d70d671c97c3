"""What every adapter shares: the one tool the model sees (name, description, JSON schema of
its input), running a call's input in a sandbox, and the text handed back. The adapters only
translate this into each framework's own shape."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any, Optional

RUN_CODE_NAME = "run_code"

RUN_CODE_DESCRIPTION = (
    "Execute code in an isolated Podflare sandbox. Supports python (the default) and bash. "
    "The same sandbox is reused across calls, so variables, imports and files persist. "
    "Returns stdout, stderr and exit_code."
)

LANGUAGES = ("python", "bash")


def run_code_json_schema() -> dict:
    """The tool's input as JSON Schema: ``{code, language?}``."""
    return {
        "type": "object",
        "properties": {
            "code": {"type": "string", "description": "Code to execute."},
            "language": {
                "type": "string", "enum": list(LANGUAGES), "description": "Runtime; defaults to python.",
            },
        },
        "required": ["code"],
        "additionalProperties": False,
    }


def field(obj: Any, name: str, default: Any = None) -> Any:
    """``obj[name]`` for a dict, ``obj.name`` for an SDK object (Anthropic, google-genai)."""
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def format_result(stdout: str, stderr: str, exit_code: int) -> str:
    """The text the model reads: both streams and the exit code, as the hosted adapters write it."""
    return f"stdout:\n{stdout}\nstderr:\n{stderr}\nexit_code: {exit_code}"


@dataclass
class ToolRun:
    """One call's outcome: the text for the model, whether it is an error (exit code not 0,
    or unusable input), and the ExecResult when the code ran."""

    text: str
    is_error: bool
    result: Optional[Any] = None
    problem: Optional[str] = None


def parse_input(raw: Any) -> tuple[str, str] | str:
    """``(code, language)`` from a tool input (a dict, an SDK object or a JSON string), or
    the sentence saying what is wrong with it."""
    if isinstance(raw, (str, bytes)):
        try:
            raw = json.loads(raw)
        except ValueError:
            return "the tool input is not JSON"
    code = field(raw, "code") if raw is not None else None
    if not isinstance(code, str):
        return "the tool input has no string 'code'"
    language = field(raw, "language") or "python"
    if language not in LANGUAGES:
        return f"unknown language {language!r}: use 'python' or 'bash'"
    return code, language


def run_tool_call(sandbox: Any, raw_input: Any) -> ToolRun:
    """Runs one tool call's input in ``sandbox``. Unusable input is an error result for the
    model, not an exception; the sandbox's own errors (closed, unreachable) do raise."""
    parsed = parse_input(raw_input)
    if isinstance(parsed, str):
        return ToolRun(text=f"error: {parsed}", is_error=True, problem=parsed)
    code, language = parsed
    r = sandbox.run_code(code, language)
    return ToolRun(text=format_result(r.stdout, r.stderr, r.exit_code), is_error=r.exit_code != 0, result=r)


class SandboxSource:
    """The sandbox an adapter runs in: the one given, or one created on first use and kept
    (thread-safe, since agent frameworks call tools from worker threads)."""

    def __init__(self, sandbox: Any = None):
        self._given = sandbox
        self._created: Any = None
        self._lock = threading.Lock()

    def get(self) -> Any:
        if self._given is not None:
            return self._given
        with self._lock:
            if self._created is None:
                from ..sandbox import Sandbox

                self._created = Sandbox()
            return self._created

    def close(self) -> None:
        """Closes the sandbox if this source created it; a given one is the caller's to close."""
        with self._lock:
            created, self._created = self._created, None
        if created is not None:
            created.close()


def missing(framework: str, pip_name: str, adapter: str) -> ImportError:
    """The ImportError an adapter raises when its framework is not installed."""
    return ImportError(f"{adapter} needs {framework}: pip install {pip_name}")
