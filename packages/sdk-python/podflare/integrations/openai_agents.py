"""OpenAI Agents SDK (``openai-agents``): a ``FunctionTool`` that runs code in a Podflare
sandbox. ``agents`` is imported when the tool is made, never when this module is.

Example::

    from agents import Agent, Runner
    from podflare.integrations.openai_agents import podflare_code_interpreter

    agent = Agent(name="assistant", instructions="Use the run_code tool to answer data questions.",
                  tools=[podflare_code_interpreter()])
    result = await Runner.run(agent, "what is 111 * 111?")
"""

from __future__ import annotations

import asyncio
import atexit
from typing import Any, Optional

from ._run_code import (
    RUN_CODE_DESCRIPTION, RUN_CODE_NAME, SandboxSource, missing, run_code_json_schema, run_tool_call,
)

__all__ = ["podflare_code_interpreter"]


def podflare_code_interpreter(
    sandbox: Any = None, *, name: str = RUN_CODE_NAME, description: Optional[str] = None
) -> Any:
    """An ``agents.FunctionTool`` named ``run_code`` with input ``{code, language?}`` whose
    output is the text ``stdout:\\n…\\nstderr:\\n…\\nexit_code: N``. Without ``sandbox``, one is
    created on the first call, kept for every later call, and closed when the process exits.
    The sandbox's blocking calls run in a worker thread, off the event loop.

    Raises ImportError (naming ``pip install openai-agents``) when the Agents SDK is missing.

    Example::

        with Sandbox() as sbx:
            agent = Agent(name="coder", tools=[podflare_code_interpreter(sandbox=sbx)])
    """
    try:
        from agents import FunctionTool
    except ImportError as e:
        raise missing("the OpenAI Agents SDK", "openai-agents", "podflare.integrations.openai_agents") from e
    source = SandboxSource(sandbox)
    if sandbox is None:
        atexit.register(source.close)

    async def on_invoke_tool(_ctx: Any, args_json: str) -> str:
        return await asyncio.to_thread(lambda: run_tool_call(source.get(), args_json).text)

    # Non-strict: `language` may be left out (strict mode would require every property).
    return FunctionTool(
        name=name,
        description=description or RUN_CODE_DESCRIPTION,
        params_json_schema=run_code_json_schema(),
        on_invoke_tool=on_invoke_tool,
        strict_json_schema=False,
    )
