"""Adapters for model providers and agent frameworks (docs/integrations.md). Each module
imports its framework only when asked for a framework object, so the SDK stays stdlib-only:

- ``podflare.integrations.anthropic``: ``handle_code_execution_tool_use``, ``code_execution_tool``
- ``podflare.integrations.openai_agents``: ``podflare_code_interpreter`` (``openai-agents``)
- ``podflare.integrations.langchain``: ``PodflareTool`` (``langchain-core``)
- ``podflare.integrations.gemini``: ``podflare_function_declaration``, ``run_function_call``

``podflare.anthropic``, ``podflare.openai_agents``, ``podflare.langchain`` and ``podflare.gemini``
are the same modules under the hosted SDK's shorter names.
"""
