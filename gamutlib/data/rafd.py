"""RaFD (Radboud Faces Database), labelled from its file names.

RaFD names every photo ``Rafd{camera}_{subject}_{ethnicity}_{gender}_{emotion}_{gaze}.jpg``,
e.g. ``Rafd090_01_Caucasian_female_angry_frontal.jpg``: camera angle 000, 045,
090 (frontal), 135 or 180; subject number; emotion one of angry,
contemptuous, disgusted, fearful, happy, neutral, sad, surprised; gaze
frontal, left or right. Contemptuous is dropped (not among GANmut's seven).

Each item: ``image`` (3, size, size), ``label`` (gamut EMOTIONS), and
``identity`` (the subject number, the same across a subject's photos).
RaFD photos are portrait 681 x 1024 with the head in the upper half, so the
default crop is the centred square; ``align=True`` uses dlib (the `real`
extra) to align each face by its eyes instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import Dataset

from gamutlib.constants import EMOTIONS
from gamutlib.data.align import align_face
from gamutlib.data.images import read_image, read_image_crop

__all__ = ["RAFD_EMOTIONS", "RaFDDataset", "RaFDRecord", "parse_rafd_name", "scan_rafd"]

# RaFD emotion word -> gamut label (None: dropped).
RAFD_EMOTIONS: dict[str, int | None] = {
    "neutral": EMOTIONS.index("neutral"),
    "happy": EMOTIONS.index("happy"),
    "sad": EMOTIONS.index("sad"),
    "surprised": EMOTIONS.index("surprised"),
    "fearful": EMOTIONS.index("fearful"),
    "disgusted": EMOTIONS.index("disgusted"),
    "angry": EMOTIONS.index("angry"),
    "contemptuous": None,
}

_NAME = re.compile(
    r"^rafd(?P<camera>\d{3})_(?P<subject>\d+)_(?P<ethnicity>[a-z]+)_(?P<gender>[a-z]+)_"
    r"(?P<emotion>[a-z]+)_(?P<gaze>[a-z]+)\.(?:jpe?g|png)$",
    re.IGNORECASE,
)
_IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}


@dataclass(frozen=True)
class RaFDRecord:
    path: Path
    camera: int
    subject: int
    ethnicity: str
    gender: str
    emotion: str
    gaze: str
    label: int | None


def parse_rafd_name(path: str | Path) -> RaFDRecord:
    """Parse one RaFD file name; ValueError if it does not follow RaFD's scheme."""
    path = Path(path)
    m = _NAME.match(path.name)
    if m is None:
        raise ValueError(
            f"{path.name} is not a RaFD file name "
            "(expected Rafd<camera>_<subject>_<ethnicity>_<gender>_<emotion>_<gaze>.jpg)"
        )
    emotion = m["emotion"].lower()
    if emotion not in RAFD_EMOTIONS:
        raise ValueError(f"{path.name}: unknown RaFD emotion {emotion!r}; expected one of {sorted(RAFD_EMOTIONS)}")
    camera = int(m["camera"])
    if camera not in (0, 45, 90, 135, 180):
        raise ValueError(f"{path.name}: unknown RaFD camera angle {camera:03d}")
    gaze = m["gaze"].lower()
    if gaze not in ("frontal", "left", "right"):
        raise ValueError(f"{path.name}: unknown RaFD gaze {gaze!r}")
    return RaFDRecord(
        path=path,
        camera=camera,
        subject=int(m["subject"]),
        ethnicity=m["ethnicity"],
        gender=m["gender"].lower(),
        emotion=emotion,
        gaze=gaze,
        label=RAFD_EMOTIONS[emotion],
    )


def scan_rafd(
    root: str | Path,
    cameras: tuple[int, ...] | None = None,
    gazes: tuple[str, ...] | None = None,
) -> list[RaFDRecord]:
    """All labelled RaFD photos under ``root`` (recursively), sorted by name.

    Image files whose names start with "Rafd" but break the scheme raise;
    other files (thumbnails, notes) are ignored.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"RaFD folder not found: {root}")
    records = []
    for path in sorted(root.rglob("*")):
        if path.suffix.lower() not in _IMAGE_SUFFIXES or not path.name.lower().startswith("rafd"):
            continue
        rec = parse_rafd_name(path)
        if rec.label is None:
            continue
        if cameras is not None and rec.camera not in cameras:
            continue
        if gazes is not None and rec.gaze not in gazes:
            continue
        records.append(rec)
    if not records:
        raise ValueError(
            f"no RaFD photos found under {root} (names like Rafd090_01_Caucasian_female_angry_frontal.jpg)"
        )
    return records


class RaFDDataset(Dataset):
    """RaFD photos as batch-contract dicts (image, label, identity)."""

    def __init__(
        self,
        root: str | Path,
        size: int = 128,
        cameras: tuple[int, ...] | None = (90,),
        gazes: tuple[str, ...] | None = None,
        align: bool = False,
    ) -> None:
        self.records = scan_rafd(root, cameras, gazes)
        self.size = size
        self.align = align

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        rec = self.records[index]
        if self.align:
            try:
                image = align_face(read_image(rec.path), self.size).crop[0]
            except ValueError as err:
                raise ValueError(f"{rec.path}: {err}") from err
        else:
            image = read_image_crop(rec.path, self.size)[0][0]
        return {
            "image": image,
            "label": torch.tensor(rec.label, dtype=torch.long),
            "identity": torch.tensor(rec.subject, dtype=torch.long),
        }
