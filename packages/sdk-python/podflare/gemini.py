"""The hosted SDK's name for :mod:`podflare.integrations.gemini`."""

from .integrations.gemini import *  # noqa: F401,F403
from .integrations.gemini import __all__  # noqa: F401
