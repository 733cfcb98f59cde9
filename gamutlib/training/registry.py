"""Method registry: ``gamut train METHOD`` finds a method by name.

Methods live beside their networks (gamutlib/models/<method>.py, the judges in
gamutlib/judges/) and register themselves on import::

    @register_method("ganmut")
    def make_ganmut(config: dict) -> Method: ...

``get_method`` imports gamutlib.models and gamutlib.judges first, so a method
is found without the caller knowing where it lives (the pytorch-CycleGAN
``--model foo`` pattern, without the file-name magic).
"""

from __future__ import annotations

import importlib
from typing import Any, Callable

from gamutlib.training.method import Method

MethodFactory = Callable[[dict[str, Any]], Method]

_METHODS: dict[str, MethodFactory] = {}
#: Packages whose import registers methods.
METHOD_PACKAGES = ("gamutlib.models", "gamutlib.judges")


def register_method(name: str) -> Callable[[MethodFactory], MethodFactory]:
    """Decorator: register ``factory(config) -> Method`` under ``name``."""
    if not name or not name.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"method names are letters, digits, '-' and '_'; got {name!r}")

    def decorate(factory: MethodFactory) -> MethodFactory:
        previous = _METHODS.get(name)
        if previous is not None and previous is not factory and _qualname(previous) != _qualname(factory):
            raise ValueError(f"method {name!r} is already registered by {_qualname(previous)}")
        _METHODS[name] = factory
        return factory

    return decorate


def _qualname(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}"


def _import_method_packages() -> None:
    for package in METHOD_PACKAGES:
        try:
            importlib.import_module(package)
        except ModuleNotFoundError as err:
            # Tolerate a package that does not exist yet, never a broken import inside it.
            if err.name != package:
                raise


def available_methods() -> list[str]:
    _import_method_packages()
    return sorted(_METHODS)


def get_method(name: str, config: dict[str, Any] | None = None) -> Method:
    """Build the method ``name`` from ``config`` (its own settings; defaults fill the rest)."""
    if name not in _METHODS:
        _import_method_packages()
    if name not in _METHODS:
        known = ", ".join(sorted(_METHODS)) or "none registered yet"
        raise ValueError(f"unknown method {name!r}; known methods: {known}")
    return _METHODS[name](dict(config or {}))
