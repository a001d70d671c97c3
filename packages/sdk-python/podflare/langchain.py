"""The hosted SDK's name for :mod:`podflare.integrations.langchain` (``PodflareTool`` is built on
first access, so importing this module never imports LangChain)."""

from .integrations.langchain import __all__, __getattr__  # noqa: F401
