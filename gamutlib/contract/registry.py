"""Method registry: a name -> the factory that builds the method.

Methods live beside their networks (gamutlib/models/<method>.py, the judges in
gamutlib/judges/) and register themselves on import::

    @register_method("ganmut")
    def make_ganmut(config: dict) -> Method: ...

This module imports nothing that registers: it holds only what has been
registered so far. ``gamutlib.papers.get_method`` knows, from each paper's
declaration, which module registers a method, imports it and then asks here
(the pytorch-CycleGAN ``--model foo`` pattern, without the file-name magic).
"""

from __future__ import annotations

from typing import Any, Callable

from gamutlib.contract.method import Method

MethodFactory = Callable[[dict[str, Any]], Method]

_METHODS: dict[str, MethodFactory] = {}


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


def registered_methods() -> list[str]:
    """Names registered so far (modules not yet imported have not registered)."""
    return sorted(_METHODS)


def build_method(name: str, config: dict[str, Any] | None = None) -> Method:
    """Build the registered method ``name`` from ``config`` (its own settings; defaults fill the rest)."""
    if name not in _METHODS:
        known = ", ".join(sorted(_METHODS)) or "none registered yet"
        raise ValueError(f"unknown method {name!r}; known methods: {known}")
    return _METHODS[name](dict(config or {}))
