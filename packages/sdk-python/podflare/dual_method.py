"""A name that is one method on the class and another on an instance."""

from __future__ import annotations

import types
from typing import Any, Callable


class ClassOrInstanceMethod:
    """``Sandbox.resume(space_id)`` on the class, ``sb.resume()`` on an instance: Podflare
    names both ``resume``, and Python needs a descriptor to tell them apart."""

    def __init__(self, on_class: Callable[..., Any], on_instance: Callable[..., Any]):
        self._on_class = on_class
        self._on_instance = on_instance
        self.__doc__ = f"On the class: {on_class.__doc__}\n\nOn an instance: {on_instance.__doc__}"

    def __get__(self, obj: Any, cls: type | None = None) -> Any:
        if obj is None:
            return types.MethodType(self._on_class, cls)
        return types.MethodType(self._on_instance, obj)
