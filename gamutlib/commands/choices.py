"""Choice lists read from the paper registry when a command runs.

A plain ``click.Choice`` freezes its names when the module is imported; these
ask ``gamutlib.papers`` each time, so a paper (or a method) registered later,
by a test or a plug-in, shows up in ``--help`` and is accepted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import click

from gamutlib.reproduce.profiles import PROFILES


class RegistryChoice(click.Choice):
    """``click.Choice`` over ``names()``, evaluated on use."""

    def __init__(self, names: Callable[[], Sequence[str]]) -> None:
        self._names = names
        super().__init__((), case_sensitive=True)

    @property  # type: ignore[override]
    def choices(self) -> tuple[str, ...]:
        return tuple(self._names())

    @choices.setter
    def choices(self, value: Sequence[str]) -> None:  # click.Choice.__init__ assigns it; the registry is the truth
        pass


def trainable_methods() -> list[str]:
    """Declared methods and those registered directly (tests), without importing any model."""
    from gamutlib.contract.registry import registered_methods
    from gamutlib.papers import method_names

    return sorted(set(method_names()) | set(registered_methods()))


def editable_methods() -> list[str]:
    from gamutlib.papers import editable_methods as names

    return names()


def paper_weights(paper: str) -> Callable[[], list[str]]:
    def names() -> list[str]:
        from gamutlib.papers import weight_names

        return weight_names(paper)

    return names


#: The run profiles, named once in gamutlib.reproduce.profiles.
PROFILE_CHOICE = click.Choice(PROFILES)
