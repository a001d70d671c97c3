"""The hosted SDK's name for :mod:`podflare.integrations.anthropic`."""

from .integrations.anthropic import *  # noqa: F401,F403
from .integrations.anthropic import __all__  # noqa: F401
