"""AffectNet, read from its annotation CSV (for readers who hold the data).

AffectNet's manually annotated lists (training.csv, validation.csv) have the
columns ``subDirectory_filePath, face_x, face_y, face_width, face_height,
facial_landmarks, expression, valence, arousal``. Expression codes are
0 neutral, 1 happy, 2 sad, 3 surprise, 4 fear, 5 disgust, 6 anger,
7 contempt, 8 none, 9 uncertain, 10 non-face. GANmut trains on the first
seven, which are exactly gamut's EMOTIONS in the same order; contempt and the
three non-emotion codes are dropped, as in the paper.

Each item is a dict of the batch contract: ``image`` (3, size, size) cropped
to the face box, ``label``, ``landmarks`` (68, 2) moved into the crop when
the CSV has them, and AffectNet's own ``valence`` and ``arousal``.

Every malformed row stops reading with an error naming the file and line:
an expression that is not a whole code 0..10 (``1.7`` is not "happy"),
valence or arousal outside AffectNet's [-1, 1] or not finite, a landmark
list of the wrong length. A CSV with no row left after dropping is an error
too, as it is for OpenFace and RaFD: an empty dataset would only fail later,
inside a DataLoader.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import Dataset

from gamutlib.constants import EMOTIONS, N_LANDMARKS
from gamutlib.data.align import align_from_landmarks
from gamutlib.data.images import apply_affine, read_image, read_image_crop

__all__ = ["AFFECTNET_CODES", "AffectNetDataset", "AffectNetRecord", "read_affectnet_csv"]

# AffectNet expression code -> gamut label (None: dropped).
AFFECTNET_CODES: dict[int, int | None] = {
    0: EMOTIONS.index("neutral"),
    1: EMOTIONS.index("happy"),
    2: EMOTIONS.index("sad"),
    3: EMOTIONS.index("surprised"),
    4: EMOTIONS.index("fearful"),
    5: EMOTIONS.index("disgusted"),
    6: EMOTIONS.index("angry"),
    7: None,  # contempt: not among GANmut's seven classes
    8: None,  # none
    9: None,  # uncertain
    10: None,  # non-face
}

_PATH_COLUMN = "subDirectory_filePath"
_BOX_COLUMNS = ("face_x", "face_y", "face_width", "face_height")


@dataclass(frozen=True)
class AffectNetRecord:
    path: Path
    label: int
    box: tuple[float, float, float, float] | None
    landmarks: tuple[float, ...] | None
    valence: float | None
    arousal: float | None


def _parse_float(value: str, column: str, line: int, csv_path: Path) -> float:
    try:
        out = float(value)
    except ValueError:
        raise ValueError(f"{csv_path}, line {line}: column {column!r} is not a number: {value!r}") from None
    if not math.isfinite(out):
        raise ValueError(f"{csv_path}, line {line}: column {column!r} is not finite: {value!r}")
    return out


def _parse_code(text: str, line: int, csv_path: Path) -> int:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{csv_path}, line {line}: expression {text!r} is not an AffectNet code") from None
    # int(float("1.7")) would be 1, "happy": only whole numbers are codes.
    if not math.isfinite(value) or value != int(value):
        raise ValueError(f"{csv_path}, line {line}: expression {text!r} is not a whole AffectNet code (0..10)")
    return int(value)


def _parse_affect(row: list[str], col: dict[str, int], name: str, line: int, csv_path: Path) -> float | None:
    if name not in col:
        return None
    value = _parse_float(row[col[name]], name, line, csv_path)
    if not -1.0 <= value <= 1.0:
        raise ValueError(f"{csv_path}, line {line}: {name} {value:g} outside AffectNet's range [-1, 1]")
    return value


def read_affectnet_csv(csv_path: str | Path, image_root: str | Path) -> list[AffectNetRecord]:
    """Parse and validate an AffectNet CSV; rows with dropped codes are skipped."""
    csv_path, image_root = Path(csv_path), Path(image_root)
    if not csv_path.is_file():
        raise FileNotFoundError(f"AffectNet CSV not found: {csv_path}")
    try:
        return _read_affectnet_csv(csv_path, image_root)
    except UnicodeDecodeError as err:
        raise ValueError(
            f"{csv_path} is not UTF-8 text (byte {err.start}: {err.reason}); is it AffectNet's CSV?"
        ) from None


def _read_affectnet_csv(csv_path: Path, image_root: Path) -> list[AffectNetRecord]:
    # utf-8-sig: a CSV saved by a spreadsheet starts with a byte-order mark
    # that would otherwise become part of the first column's name.
    with open(csv_path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh, skipinitialspace=True)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise ValueError(f"{csv_path} is empty") from None
        missing = [c for c in (_PATH_COLUMN, "expression") if c not in header]
        if missing:
            raise ValueError(f"{csv_path}: missing AffectNet column(s) {missing}; found {header}")
        col = {name: i for i, name in enumerate(header)}
        has_box = all(c in col for c in _BOX_COLUMNS)
        has_landmarks = "facial_landmarks" in col
        records: list[AffectNetRecord] = []
        for line, row in enumerate(reader, start=2):
            if not row or all(not v.strip() for v in row):
                continue
            if len(row) != len(header):
                raise ValueError(f"{csv_path}, line {line}: {len(row)} fields, header has {len(header)}")
            code = _parse_code(row[col["expression"]].strip(), line, csv_path)
            if code not in AFFECTNET_CODES:
                raise ValueError(
                    f"{csv_path}, line {line}: unknown AffectNet expression code {code} (expected 0..10)"
                )
            label = AFFECTNET_CODES[code]
            if label is None:
                continue
            box = None
            if has_box:
                box = tuple(_parse_float(row[col[c]], c, line, csv_path) for c in _BOX_COLUMNS)
            landmarks = None
            if has_landmarks and row[col["facial_landmarks"]].strip():
                values = [v for v in row[col["facial_landmarks"]].strip().split(";") if v.strip()]
                if len(values) != 2 * N_LANDMARKS:
                    raise ValueError(
                        f"{csv_path}, line {line}: facial_landmarks has {len(values)} numbers, "
                        f"expected {2 * N_LANDMARKS} (x;y for 68 points)"
                    )
                landmarks = tuple(_parse_float(v, "facial_landmarks", line, csv_path) for v in values)
            valence = _parse_affect(row, col, "valence", line, csv_path)
            arousal = _parse_affect(row, col, "arousal", line, csv_path)
            records.append(
                AffectNetRecord(
                    path=image_root / row[col[_PATH_COLUMN]].strip(),
                    label=label,
                    box=box,  # type: ignore[arg-type]
                    landmarks=landmarks,
                    valence=valence,
                    arousal=arousal,
                )
            )
    if not records:
        raise ValueError(
            f"{csv_path}: no usable rows (only a header, or every row has a dropped code: "
            "7 contempt, 8 none, 9 uncertain, 10 non-face)"
        )
    return records


class AffectNetDataset(Dataset):
    """AffectNet faces as batch-contract dicts.

    ``crop_to_face`` crops the square around the CSV's face box (when the CSV
    has one; otherwise the centred square); ``align`` instead aligns the face
    by its eye centres (gamutlib.data.align) using the CSV's landmarks.
    """

    def __init__(
        self,
        csv_path: str | Path,
        image_root: str | Path,
        size: int = 128,
        crop_to_face: bool = True,
        align: bool = False,
    ) -> None:
        self.records = read_affectnet_csv(csv_path, image_root)
        self.size = size
        self.crop_to_face = crop_to_face
        self.align = align
        self.has_landmarks = bool(self.records) and all(r.landmarks is not None for r in self.records)
        if align and not self.has_landmarks:
            raise ValueError("align=True needs the facial_landmarks column filled on every row")

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        rec = self.records[index]
        landmarks = None
        if rec.landmarks is not None:
            landmarks = torch.tensor(rec.landmarks, dtype=torch.float32).reshape(N_LANDMARKS, 2)
        if self.align:
            aligned = align_from_landmarks(read_image(rec.path), landmarks[None], self.size)  # type: ignore[index]
            image, landmarks = aligned.crop[0], aligned.landmarks[0]
        else:
            box = rec.box if self.crop_to_face else None
            image, transform = read_image_crop(rec.path, self.size, box)
            image = image[0]
            if landmarks is not None:
                landmarks = apply_affine(landmarks, transform)
        item = {"image": image, "label": torch.tensor(rec.label, dtype=torch.long)}
        if self.has_landmarks:
            item["landmarks"] = landmarks
        if rec.valence is not None:
            item["valence"] = torch.tensor(rec.valence, dtype=torch.float32)
        if rec.arousal is not None:
            item["arousal"] = torch.tensor(rec.arousal, dtype=torch.float32)
        return item
