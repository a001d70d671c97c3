"""Google Gemini function calling (``google-genai``) backed by a Podflare sandbox. Plain data:
the declaration is a dict ``types.Tool(function_declarations=[...])`` accepts as it is, and
the response is the dict for ``types.Part.from_function_response(name=..., response=...)``.

Example::

    from google.genai import types
    from podflare.gemini import podflare_function_declaration, run_function_call

    config = types.GenerateContentConfig(
        tools=[types.Tool(function_declarations=[podflare_function_declaration()])])
    ...
    parts = [types.Part.from_function_response(name=c.name, response=run_function_call(c, sandbox))
             for c in calls]
"""

from __future__ import annotations

from typing import Any

from ._run_code import RUN_CODE_DESCRIPTION, RUN_CODE_NAME, LANGUAGES, field, run_tool_call

__all__ = ["podflare_function_declaration", "run_function_call"]


def podflare_function_declaration() -> dict:
    """The ``run_code`` FunctionDeclaration: ``code`` (required) and ``language`` ("python"
    or "bash"), in Gemini's OpenAPI-style schema.

    Example::

        types.Tool(function_declarations=[podflare_function_declaration()])
    """
    return {
        "name": RUN_CODE_NAME,
        "description": RUN_CODE_DESCRIPTION,
        "parameters": {
            "type": "OBJECT",
            "properties": {
                "code": {"type": "STRING", "description": "Code to execute."},
                "language": {
                    "type": "STRING", "enum": list(LANGUAGES), "description": "Runtime; defaults to python.",
                },
            },
            "required": ["code"],
        },
    }


def run_function_call(call: Any, sandbox: Any) -> dict:
    """Runs a ``run_code`` function call (``types.FunctionCall`` or a dict with ``name`` and
    ``args``) in ``sandbox`` and returns ``{"stdout", "stderr", "exit_code"}`` (and
    ``"error"`` when the call named another function or its args were unusable).

    Example::

        response = run_function_call(part.function_call, sandbox)
        types.Part.from_function_response(name=part.function_call.name, response=response)
    """
    name = field(call, "name")
    if name is not None and name != RUN_CODE_NAME:
        return {"stdout": "", "stderr": "", "exit_code": -1,
                "error": f"unknown function {name!r}: only {RUN_CODE_NAME} runs here"}
    run = run_tool_call(sandbox, field(call, "args") or {})
    if run.result is None:
        return {"stdout": "", "stderr": "", "exit_code": -1, "error": run.problem}
    return {"stdout": run.result.stdout, "stderr": run.result.stderr, "exit_code": run.result.exit_code}
