"""Training a method on a real dataset instead of the renderer (``gamut train METHOD --data KIND:PATH``).

Every method draws its batches from the renderer through ``method.data``;
what it needs from a batch shows in the wrapper its stream comes in:

- `FaceBatches` (StarGAN, GANimation, GANmut, GGANmut): faces and an
  emotion label, which RaFD's file names and AffectNet's CSV give;
- `AUBatches` (FineGrained, GANimation on AUs): faces and their action-unit
  intensities, which an OpenFace ``FeatureExtraction`` CSV gives.

`use_real_data` keeps that wrapper (its random mirroring included) and
replaces the stream under it by shuffled batches of the dataset
(`gamutlib.data.real_photos.real_batches`). A method whose batches no
dataset kind can fill (pairs, identities, landmark maps) or whose control
the chosen data cannot drive is refused with one error naming both.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from gamutlib.models.au_condition import AUBatches
from gamutlib.models.translation import FaceBatches

__all__ = ["DATA_KINDS", "DataSpec", "open_dataset", "parse_data", "use_real_data"]


@dataclass(frozen=True)
class DataKind:
    name: str
    what: str  # what PATH is
    gives: str  # the control its labels drive, in words
    key: str  # the batch key holding it


DATA_KINDS = {
    "rafd": DataKind("rafd", "a folder of RaFD photos (Rafd090_<subject>_<ethnicity>_<gender>_<emotion>_<gaze>.jpg)",
                     "emotion labels", "label"),
    "affectnet": DataKind("affectnet", "AffectNet's CSV (subDirectory_filePath, face_x, ..., expression, ...)",
                          "emotion labels", "label"),
    "openface": DataKind("openface", "the CSV of OpenFace's FeatureExtraction (frame or file name, AU01_r ... AU45_r)",
                         "action-unit intensities", "aus"),
}

#: The batch wrapper of each kind of method -> (what its control needs, the batch key the data must give).
_NEEDS = {FaceBatches: ("emotion labels", "label"), AUBatches: ("action-unit intensities", "aus")}


@dataclass(frozen=True)
class DataSpec:
    """``KIND:PATH`` and, for a CSV, the folder its image paths are relative to."""

    kind: str
    path: Path
    images: Path | None = None

    def describe(self) -> str:
        images = f" (images under {self.images})" if self.images is not None else ""
        return f"{self.kind}:{self.path}{images}"


def parse_data(text: str, images: str | None = None) -> DataSpec:
    """``"rafd:FOLDER"``, ``"affectnet:CSV"`` or ``"openface:CSV"``; ``images`` the
    CSV kinds' image folder (default: the CSV's folder). One ValueError per problem."""
    kind, sep, path = text.partition(":")
    kind = kind.strip().lower()
    if not sep or not path:
        raise ValueError(f"--data {text!r}: expected KIND:PATH with KIND one of {', '.join(DATA_KINDS)}")
    if kind not in DATA_KINDS:
        raise ValueError(f"--data {text!r}: unknown kind {kind!r}; choose from {', '.join(DATA_KINDS)}")
    where = Path(path)
    if not where.exists():
        raise ValueError(f"--data {text!r}: {where} does not exist (expected {DATA_KINDS[kind].what})")
    if kind == "rafd":
        if images is not None:
            raise ValueError("--data-images is for the CSV kinds (affectnet, openface); RaFD's folder holds its photos")
        if not where.is_dir():
            raise ValueError(f"--data {text!r}: {where} is not a folder (expected {DATA_KINDS[kind].what})")
        return DataSpec(kind, where)
    if where.is_dir():
        raise ValueError(f"--data {text!r}: {where} is a folder; give the CSV ({DATA_KINDS[kind].what})")
    folder = Path(images) if images is not None else where.parent
    if not folder.is_dir():
        raise ValueError(f"--data-images {folder} is not a folder")
    return DataSpec(kind, where, folder)


def open_dataset(spec: DataSpec, size: int) -> torch.utils.data.Dataset:
    """The loader of ``spec`` at ``size`` px (its own checks name a bad file or row)."""
    from gamutlib.data import AffectNetDataset, OpenFaceDataset, RaFDDataset

    if spec.kind == "rafd":
        return RaFDDataset(spec.path, size=size)
    if spec.kind == "affectnet":
        return AffectNetDataset(spec.path, spec.images, size=size)
    return OpenFaceDataset(spec.images, spec.path, size=size)


def use_real_data(method: Any, spec: DataSpec) -> torch.utils.data.Dataset:
    """Make ``method`` train on ``spec``'s faces; returns the dataset.

    Raises ValueError naming the method and the data when the method's
    control cannot be driven by the data's labels, before any file is read.
    """
    from gamutlib.data.real_photos import real_batches

    kind = DATA_KINDS[spec.kind]
    # The wrapper of the method's own stream says what its batches carry;
    # building it renders nothing (streams draw on the first next()).
    wrapper = type(method.data(torch.device("cpu"), 0))
    needs = _NEEDS.get(wrapper)
    if needs is None:
        raise ValueError(
            f"{method.name} trains on batches that {spec.kind} data cannot fill ({wrapper.__name__}, not faces "
            "with one emotion label or one AU vector); --data trains methods whose control is an emotion label "
            "(from rafd, affectnet) or action-unit intensities (from openface)"
        )
    control, key = needs
    if key != kind.key:
        fitting = ", ".join(k for k, d in DATA_KINDS.items() if d.key == key)
        raise ValueError(
            f"{method.name} is driven by {control}, but {spec.kind} data gives {kind.gives}; "
            f"train {method.name} on {fitting} data"
        )
    cfg = method.cfg
    dataset = open_dataset(spec, cfg.image_size)
    if len(dataset) < cfg.batch_size:
        raise ValueError(f"{spec.describe()} holds {len(dataset)} faces, fewer than one batch of {cfg.batch_size}")
    method.data = lambda device, seed: wrapper(real_batches(dataset, cfg.batch_size, device, seed, keys=("image", key)))
    return dataset
