"""LangChain (``langchain-core``): ``PodflareTool``, a ``BaseTool`` that keeps one Podflare
sandbox across calls. The class is built on first access (``from podflare.langchain import
PodflareTool``), so importing the SDK never imports LangChain; without ``langchain-core`` that
access raises ImportError naming the package.

Example::

    from podflare.langchain import PodflareTool

    tool = PodflareTool()
    try:
        agent = create_react_agent(model=ChatOpenAI(model="gpt-5.1"), tools=[tool])
        agent.invoke({"messages": [("user", "What's the 100th prime number? Use code.")]})
    finally:
        tool.close()
"""

from __future__ import annotations

from typing import Any

from ._run_code import RUN_CODE_DESCRIPTION, RUN_CODE_NAME, SandboxSource, missing, run_tool_call

__all__ = ["PodflareTool"]  # noqa: F822 (made by __getattr__ below)

_built: dict[str, Any] = {}


def _build() -> Any:
    try:
        from langchain_core.tools import BaseTool
        from pydantic import BaseModel, Field, PrivateAttr
    except ImportError as e:
        raise missing("LangChain", "langchain-core", "podflare.langchain") from e

    class RunCodeInput(BaseModel):
        code: str = Field(description="Code to execute.")
        language: str = Field(default="python", description="Runtime: python (the default) or bash.")

    class PodflareTool(BaseTool):
        """Runs ``{code, language?}`` in one sandbox for all its calls and answers
        ``stdout:\\n…\\nstderr:\\n…\\nexit_code: N``. Pass ``sandbox=`` to use your own (it stays
        open); otherwise one is created on the first call and ``close()`` closes it.

        Example::

            tool = PodflareTool()
            tool.invoke({"code": "x = 41"})
            tool.invoke({"code": "print(x + 1)"})  # "stdout:\\n42\\n…"
            tool.close()
        """

        name: str = RUN_CODE_NAME
        description: str = RUN_CODE_DESCRIPTION
        args_schema: Any = RunCodeInput
        sandbox: Any = None
        _source: Any = PrivateAttr(default=None)

        # Made on first use, not in model_post_init: that hook is pydantic 2's only, and a
        # LangChain on pydantic 1 (or Debian's python3-pydantic) never called it.
        def _sandbox_source(self) -> Any:
            if self._source is None:
                self._source = SandboxSource(self.sandbox)
            return self._source

        def _run(self, code: str, language: str = "python", run_manager: Any = None) -> str:
            return run_tool_call(self._sandbox_source().get(), {"code": code, "language": language}).text

        def close(self) -> None:
            """Closes the sandbox this tool created (a given sandbox stays open)."""
            if self._source is not None:
                self._source.close()

    return PodflareTool


def __getattr__(name: str) -> Any:
    if name != "PodflareTool":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if name not in _built:
        _built[name] = _build()
    return _built[name]
