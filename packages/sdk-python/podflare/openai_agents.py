"""The hosted SDK's name for :mod:`podflare.integrations.openai_agents`."""

from .integrations.openai_agents import *  # noqa: F401,F403
from .integrations.openai_agents import __all__  # noqa: F401
