"""Anthropic Messages API: run Claude's code-execution ``tool_use`` blocks in a Podflare
sandbox and answer with the matching ``tool_result`` block (plain dicts, the API's wire shape).

Example::

    from anthropic import Anthropic
    from podflare import Sandbox
    from podflare.integrations.anthropic import code_execution_tool, handle_code_execution_tool_use

    client = Anthropic()
    with Sandbox() as sbx:
        messages = [{"role": "user", "content": "What's sqrt(12345)?"}]
        while True:
            resp = client.messages.create(model="claude-opus-4-7", max_tokens=1024,
                                          tools=[code_execution_tool()], messages=messages)
            messages.append({"role": "assistant", "content": resp.content})
            if resp.stop_reason != "tool_use":
                break
            messages.append({"role": "user", "content": [
                handle_code_execution_tool_use(b, sbx) for b in resp.content
                if b.type == "tool_use" and b.name == "code_execution"]})
"""

from __future__ import annotations

from typing import Any

from ._run_code import RUN_CODE_DESCRIPTION, field, run_code_json_schema, run_tool_call

__all__ = ["handle_code_execution_tool_use", "code_execution_tool"]


def code_execution_tool() -> dict:
    """A client tool named ``code_execution`` with input ``{code, language?}``: declared in
    ``tools``, Claude answers with ``tool_use`` blocks for :func:`handle_code_execution_tool_use`.
    (``{"type": "code_execution_20250825", ...}`` declares Anthropic's own server tool instead,
    which Anthropic runs itself; see docs/integrations.md.)

    Example::

        client.messages.create(..., tools=[code_execution_tool()], messages=messages)
    """
    return {
        "name": "code_execution",
        "description": RUN_CODE_DESCRIPTION,
        "input_schema": run_code_json_schema(),
    }


def handle_code_execution_tool_use(block: Any, sandbox: Any) -> dict:
    """Runs a ``tool_use`` block's ``input["code"]`` (``input["language"]``: "python", the
    default, or "bash") in ``sandbox`` and returns the ``tool_result`` dict::

        {"type": "tool_result", "tool_use_id": "toolu_…",
         "content": [{"type": "text", "text": "stdout:\\n…\\nstderr:\\n…\\nexit_code: 0"}],
         "is_error": False}

    ``is_error`` is true when the exit code is not 0 or the input has no string ``code``. The
    block may be the Anthropic SDK's object or a dict. One sandbox across calls keeps one
    Python REPL for the whole conversation.

    Example::

        results = [handle_code_execution_tool_use(b, sbx) for b in resp.content
                   if b.type == "tool_use" and b.name == "code_execution"]
    """
    kind = field(block, "type")
    if kind != "tool_use":
        raise ValueError(f"handle_code_execution_tool_use takes a tool_use block, got type {kind!r}")
    run = run_tool_call(sandbox, field(block, "input"))
    return {
        "type": "tool_result",
        "tool_use_id": field(block, "id"),
        "content": [{"type": "text", "text": run.text}],
        "is_error": run.is_error,
    }
