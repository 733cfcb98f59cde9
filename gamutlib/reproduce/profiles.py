"""Run profiles: how much of the study a machine can afford.

- ``gpu``: everything, training included; writes the record (book/).
- ``cpu``: everything the shipped weights allow; a notebook that cannot do its
  full work on a CPU declares that it runs its smoke settings there.
- ``smoke``: the smallest settings that still run every code path (CI).

A notebook declares a per-profile substitute in its jupytext header::

    # ---
    # jupyter:
    #   gamut:
    #     profiles:
    #       cpu: smoke
    # ---

and receives the *effective* profile as its ``profile`` parameter.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

T = TypeVar("T")

PROFILES = ("smoke", "cpu", "gpu")
RECORD_PROFILE = "gpu"

#: The longest one cell may run per profile (seconds): past it the notebook
#: fails naming the cell instead of waiting forever on a kernel that stopped
#: answering. Smoke cells take seconds; a full cell on a CPU a few minutes.
CELL_TIMEOUT_S: dict[str, float] = {"smoke": 300.0, "cpu": 3600.0, "gpu": 3600.0}


def by_profile(settings: Mapping[str, T], profile: str) -> T:
    """``settings[profile]``: what a profile affords (sizes, steps), declared for every profile.

    The one place a profile name becomes settings: a table of settings must
    name exactly the profiles of ``PROFILES``, so a new profile cannot be
    forgotten by one paper and an unknown one is refused with the known ones."""
    if set(settings) != set(PROFILES):
        raise ValueError(f"settings must be given for exactly the profiles {PROFILES}; got {sorted(settings)}")
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; profiles: {', '.join(PROFILES)}")
    return settings[profile]


def default_profile() -> str:
    """gpu where CUDA is available, cpu otherwise."""
    import torch

    return "gpu" if torch.cuda.is_available() else "cpu"


def effective_profile(metadata: Mapping[str, Any], profile: str) -> str:
    """The profile a notebook actually runs under when ``profile`` is asked for."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; profiles: {', '.join(PROFILES)}")
    declared = (metadata.get("gamut") or {}).get("profiles") or {}
    if not isinstance(declared, Mapping):
        raise ValueError(f"gamut.profiles must map a profile to a profile, got {declared!r}")
    chosen = declared.get(profile, profile)
    if chosen not in PROFILES:
        raise ValueError(f"gamut.profiles maps {profile!r} to unknown profile {chosen!r}")
    if PROFILES.index(chosen) > PROFILES.index(profile):
        raise ValueError(f"gamut.profiles maps {profile!r} up to {chosen!r}; a notebook may only step down")
    return chosen
