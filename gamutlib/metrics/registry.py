"""One registry of evaluation protocols, named after what they measure and how.

A metric file holds the maths (``frechet_distance``, ``smoothness_score``, ...)
and registers one or more *protocols*: the maths plus the settings a paper
fixed (``ere_setting1`` is ERE with top-3 targets over batches of 16 faces).
Notebooks call ``compute_metric("ere_setting1", G=..., judge=..., ...)`` so
that the name in a results table says exactly how its number was made (the
stylegan2-ada ``fid50k_full`` convention).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Literal

MetricFn = Callable[..., dict[str, Any]]


@dataclass(frozen=True)
class MetricSpec:
    """A registered protocol.

    ``fn(**inputs, **protocol)`` returns a dict of results; ``protocol`` holds
    the settings that the name stands for and cannot be overridden by a caller.
    """

    name: str
    fn: MetricFn
    protocol: dict[str, Any] = field(default_factory=dict)
    better: Literal["lower", "higher", "none"] = "lower"
    paper: str = ""
    description: str = ""


_METRICS: dict[str, MetricSpec] = {}


def register_metric(
    name: str,
    fn: MetricFn,
    *,
    protocol: dict[str, Any] | None = None,
    better: Literal["lower", "higher", "none"] = "lower",
    paper: str = "",
    description: str = "",
) -> MetricSpec:
    """Register ``fn`` under the protocol name ``name`` (unique)."""
    if name in _METRICS:
        raise ValueError(f"metric protocol {name!r} is already registered")
    spec = MetricSpec(name, fn, dict(protocol or {}), better, paper, description)
    _METRICS[name] = spec
    return spec


def get_metric(name: str) -> MetricSpec:
    """The protocol registered as ``name``; a clear error lists the known ones."""
    try:
        return _METRICS[name]
    except KeyError:
        known = ", ".join(sorted(_METRICS))
        raise KeyError(f"unknown metric protocol {name!r}; known: {known}") from None


def list_metrics() -> list[str]:
    """Names of every registered protocol, sorted."""
    return sorted(_METRICS)


def compute_metric(name: str, **inputs: Any) -> dict[str, Any]:
    """Run protocol ``name`` on ``inputs`` and tag the result with its name."""
    spec = get_metric(name)
    clash = sorted(set(inputs) & set(spec.protocol))
    if clash:
        raise TypeError(
            f"metric protocol {name!r} fixes {clash}; use the plain function "
            f"{spec.fn.__module__}.{spec.fn.__name__} to change them"
        )
    result = spec.fn(**inputs, **spec.protocol)
    return {"metric": name, **result}
