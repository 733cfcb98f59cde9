"""The controls of an editor, declared once.

An editable method states what a user may turn: each control's name, range,
unit, default and meaning. ``gamut edit`` builds its flags from the
declaration, the explorers their sliders, the edit benchmark its codes, and
every value typed anywhere goes through ``Control.check``, so a NaN or an
out-of-range value gets the same one-line error that names the control.

Two kinds: a number in ``[lo, hi]`` and a choice among names (GANmut's named
emotions). An editor has its *coordinates* (the controls that fix a code:
GANmut's theta and rho) and may add *shortcuts* (controls that stand for
coordinates: ``--emotion happy --intensity 0.8``); its ``values_for`` turns a
shortcut's values into coordinates.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Control:
    """One thing a user may set on an editor."""

    name: str  # the keyword of the editor and the CLI flag (--name)
    meaning: str  # one sentence for --help and the slider's tooltip
    lo: float = 0.0
    hi: float = 1.0
    default: float | str = 0.0
    unit: str = ""  # "radians", "" for a plain number
    label: str = ""  # what a slider shows ("θ (rad)"); the name when empty
    step: float = 0.01  # a slider's step
    choices: tuple[str, ...] = ()  # a choice control: the names it accepts

    @property
    def is_choice(self) -> bool:
        return bool(self.choices)

    @property
    def is_angle(self) -> bool:
        return self.unit == "radians"

    def describe_range(self) -> str:
        if self.is_choice:
            return "one of " + ", ".join(self.choices)
        unit = f" {self.unit}" if self.unit else ""
        return f"[{self.lo:g}, {self.hi:g}]{unit}"

    def check(self, value: Any) -> float | str:
        """The value as this control holds it, else one ValueError that names the control."""
        if self.is_choice:
            key = str(value).strip().lower()
            if key not in self.choices:
                raise ValueError(f"{self.name} must be {self.describe_range()}; got {value!r}")
            return key
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{self.name} must be a number in {self.describe_range()}; got {value!r}") from None
        if math.isnan(v) or math.isinf(v):
            raise ValueError(f"{self.name} must be a finite number in {self.describe_range()}; got {v}")
        if not self.lo <= v <= self.hi:
            raise ValueError(f"{self.name} must lie in {self.describe_range()}; got {v:g}")
        return v


def check_values(controls: Sequence[Control], values: Mapping[str, Any]) -> dict[str, Any]:
    """Every control of ``controls`` checked from ``values`` (a missing one takes
    its default); a name that is no control is refused, naming the known ones."""
    known = {c.name: c for c in controls}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ValueError(f"unknown control {unknown[0]!r}; the controls are {', '.join(known)}")
    return {c.name: c.check(values.get(c.name, c.default)) for c in controls}


def control_named(controls: Sequence[Control], name: str) -> Control:
    for control in controls:
        if control.name == name:
            return control
    raise KeyError(f"no control {name!r}; the controls are {', '.join(c.name for c in controls)}")


@dataclass(frozen=True)
class VectorControl:
    """A named group of number controls set together as ``KEY=VALUE`` pairs.

    FineGrained's editor has one relative control per action unit; a user sets
    a few of them (``--delta AU12=+2 --delta AU04=-1``) and the rest keep their
    defaults. The components are ordinary ``Control``s (each checked, each a
    slider in an explorer); the vector adds how a key is spelt (``aliases``:
    ``AU1`` and ``au01`` both name ``AU01``) and the parsing of ``KEY=VALUE``.
    """

    name: str  # the CLI flag (--name KEY=VALUE, repeated)
    meaning: str
    components: tuple[Control, ...]
    aliases: Mapping[str, str] = None  # type: ignore[assignment]  # lower-cased spelling -> component name

    def component(self, key: str) -> Control:
        by_name = {c.name: c for c in self.components}
        wanted = str(key).strip()
        name = wanted if wanted in by_name else (self.aliases or {}).get(wanted.lower(), wanted)
        if name not in by_name:
            raise ValueError(f"{self.name}: unknown key {key!r}; the keys are {', '.join(by_name)}")
        return by_name[name]

    def parse(self, items: Sequence[str]) -> dict[str, float]:
        """``["AU12=+2", "AU4=-1"]`` -> ``{"AU12": 2.0, "AU04": -1.0}``, each value
        checked by its component (a NaN or out-of-range value names it); a key
        given twice is refused."""
        values: dict[str, float] = {}
        for item in items:
            key, sep, value = str(item).partition("=")
            if not sep or not key.strip():
                raise ValueError(f"--{self.name} takes KEY=VALUE (e.g. {self.components[0].name}=1); got {item!r}")
            control = self.component(key)
            if control.name in values:
                raise ValueError(f"{self.name}: {control.name} is given twice")
            values[control.name] = control.check(value.strip())  # type: ignore[assignment]
        return values

    def check(self, values: Mapping[str, Any]) -> dict[str, float]:
        """Every component checked from ``values`` keyed by (any spelling of) its name; missing ones take defaults."""
        given = {self.component(k).name: v for k, v in values.items()}
        return {c.name: c.check(given.get(c.name, c.default)) for c in self.components}  # type: ignore[misc]
