"""A folder of face images with an OpenFace 2 CSV of AU intensities.

This is how EGGAN and FineGrained label their training data: run OpenFace's
FeatureExtraction over the images and read the 17 AU intensity columns
(``AU01_r`` ... ``AU45_r``, 0..5). OpenFace writes its header with a space
after every comma (`` AU12_r``), which is stripped here. Two ways of tying a
row to an image are understood:

- a file-name column (``file``, ``filename``, ``image``, ``path``, ``name`` or
  one given as ``filename_column``), relative to the image folder;
- OpenFace's ``frame`` column, 1-based over the folder's images sorted by
  name, which is what ``FeatureExtraction -fdir`` produces.

Rows with ``success`` 0 (OpenFace lost the face) or ``confidence`` below
``min_confidence`` are dropped. The 2D landmarks ``x_0..x_67, y_0..y_67`` and
the head pose ``pose_Rx, pose_Ry, pose_Rz`` (radians; pitch, yaw, roll in
OpenFace's camera frame) are passed on when present, landmarks moved into
the crop and pose reordered to the contract's (yaw, pitch, roll).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import Dataset

from gamutlib.constants import AU_IDS, AU_MAX, N_LANDMARKS
from gamutlib.data.align import align_from_landmarks
from gamutlib.data.images import apply_affine, read_image, read_image_crop

__all__ = ["OpenFaceDataset", "OpenFaceRecord", "openface_au_columns", "read_openface_csv"]

_FILENAME_COLUMNS = ("file", "filename", "file_name", "image", "image_path", "path", "name", "input")
_IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}
# OpenFace may print a few hundredths outside 0..5 after its own smoothing.
_AU_TOLERANCE = 0.05


@dataclass(frozen=True)
class OpenFaceRecord:
    path: Path
    aus: tuple[float, ...]
    landmarks: tuple[float, ...] | None  # x_0..x_67 then y_0..y_67
    pose: tuple[float, float, float] | None  # yaw, pitch, roll


def openface_au_columns(header: list[str]) -> list[str]:
    """The header's column for each of gamut's 17 AUs, in AU_IDS order.

    Accepts OpenFace's zero-padded ``AU01_r`` and the unpadded ``AU1_r``.
    """
    names = {h.strip() for h in header}
    columns, missing = [], []
    for au in AU_IDS:
        for candidate in (f"AU{au:02d}_r", f"AU{au}_r"):
            if candidate in names:
                columns.append(candidate)
                break
        else:
            missing.append(f"AU{au:02d}_r")
    if missing:
        raise ValueError(f"OpenFace CSV lacks AU intensity column(s) {missing}")
    return columns


def _number(value: str, column: str, line: int, csv_path: Path) -> float:
    try:
        out = float(value)
    except ValueError:
        raise ValueError(f"{csv_path}, line {line}: column {column!r} is not a number: {value!r}") from None
    if not math.isfinite(out):
        raise ValueError(f"{csv_path}, line {line}: column {column!r} is NaN or infinite")
    return out


def read_openface_csv(
    csv_path: str | Path,
    image_dir: str | Path,
    filename_column: str | None = None,
    min_confidence: float = 0.0,
) -> list[OpenFaceRecord]:
    """Parse and validate an OpenFace CSV against its image folder."""
    csv_path, image_dir = Path(csv_path), Path(image_dir)
    if not csv_path.is_file():
        raise FileNotFoundError(f"OpenFace CSV not found: {csv_path}")
    if not image_dir.is_dir():
        raise FileNotFoundError(f"image folder not found: {image_dir}")
    try:
        return _read_openface_csv(csv_path, image_dir, filename_column, min_confidence)
    except UnicodeDecodeError as err:
        raise ValueError(
            f"{csv_path} is not UTF-8 text (byte {err.start}: {err.reason}); "
            "OpenFace writes plain ASCII CSVs: is it the right file, or was it re-saved in another encoding?"
        ) from None


def _read_openface_csv(
    csv_path: Path, image_dir: Path, filename_column: str | None, min_confidence: float
) -> list[OpenFaceRecord]:
    # utf-8-sig: a CSV re-saved by a spreadsheet starts with a byte-order mark.
    with open(csv_path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh, skipinitialspace=True)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise ValueError(f"{csv_path} is empty") from None
        col = {name: i for i, name in enumerate(header)}
        au_columns = openface_au_columns(header)

        if filename_column is not None:
            if filename_column not in col:
                raise ValueError(f"{csv_path}: no column {filename_column!r}; found {header}")
            name_col = filename_column
        else:
            name_col = next((c for c in _FILENAME_COLUMNS if c in col), None)
        frames: list[Path] = []
        if name_col is None:
            if "frame" not in col:
                raise ValueError(
                    f"{csv_path}: cannot tie rows to images: no file-name column "
                    f"({', '.join(_FILENAME_COLUMNS)}) and no 'frame' column"
                )
            frames = sorted(p for p in image_dir.iterdir() if p.suffix.lower() in _IMAGE_SUFFIXES)

        lm_columns = [f"x_{i}" for i in range(N_LANDMARKS)] + [f"y_{i}" for i in range(N_LANDMARKS)]
        present = [c in col for c in lm_columns]
        if any(present) and not all(present):
            raise ValueError(f"{csv_path}: only some of the 2D landmark columns x_0..x_67, y_0..y_67 are present")
        has_landmarks = all(present)
        pose_columns = ("pose_Ry", "pose_Rx", "pose_Rz")  # yaw, pitch, roll
        has_pose = all(c in col for c in pose_columns)

        records: list[OpenFaceRecord] = []
        for line, row in enumerate(reader, start=2):
            if not row or all(not v.strip() for v in row):
                continue
            if len(row) != len(header):
                raise ValueError(f"{csv_path}, line {line}: {len(row)} fields, header has {len(header)}")
            if "success" in col and _number(row[col["success"]], "success", line, csv_path) == 0:
                continue
            if "confidence" in col and _number(row[col["confidence"]], "confidence", line, csv_path) < min_confidence:
                continue
            if name_col is not None:
                path = image_dir / row[col[name_col]].strip()
            else:
                frame = int(_number(row[col["frame"]], "frame", line, csv_path))
                if not 1 <= frame <= len(frames):
                    raise ValueError(
                        f"{csv_path}, line {line}: frame {frame} but {image_dir} holds {len(frames)} images"
                    )
                path = frames[frame - 1]
            aus = tuple(_number(row[col[c]], c, line, csv_path) for c in au_columns)
            bad = [(c, v) for c, v in zip(au_columns, aus) if not -_AU_TOLERANCE <= v <= AU_MAX + _AU_TOLERANCE]
            if bad:
                raise ValueError(f"{csv_path}, line {line}: AU intensities outside 0..{AU_MAX:g}: {bad}")
            aus = tuple(min(max(v, 0.0), AU_MAX) for v in aus)
            landmarks = tuple(_number(row[col[c]], c, line, csv_path) for c in lm_columns) if has_landmarks else None
            pose = tuple(_number(row[col[c]], c, line, csv_path) for c in pose_columns) if has_pose else None
            records.append(OpenFaceRecord(path=path, aus=aus, landmarks=landmarks, pose=pose))  # type: ignore[arg-type]
    if not records:
        raise ValueError(f"{csv_path}: no usable rows (only a header, or every row failed tracking or is below min_confidence)")
    return records


class OpenFaceDataset(Dataset):
    """Images with OpenFace AUs as batch-contract dicts (image, aus, landmarks, pose).

    The image is the centred square of the file resized to ``size`` (OpenFace
    is usually run on face crops already); ``align=True`` aligns by the eye
    centres of the CSV's landmarks instead.
    """

    def __init__(
        self,
        image_dir: str | Path,
        csv_path: str | Path,
        size: int = 128,
        filename_column: str | None = None,
        min_confidence: float = 0.0,
        align: bool = False,
    ) -> None:
        self.records = read_openface_csv(csv_path, image_dir, filename_column, min_confidence)
        self.size = size
        self.align = align
        self.has_landmarks = self.records[0].landmarks is not None
        self.has_pose = self.records[0].pose is not None
        if align and not self.has_landmarks:
            raise ValueError("align=True needs the CSV's 2D landmark columns x_0..x_67, y_0..y_67")

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        rec = self.records[index]
        landmarks = None
        if rec.landmarks is not None:
            landmarks = torch.tensor(rec.landmarks, dtype=torch.float32).reshape(2, N_LANDMARKS).T.contiguous()
        if self.align:
            aligned = align_from_landmarks(read_image(rec.path), landmarks[None], self.size)  # type: ignore[index]
            image, landmarks = aligned.crop[0], aligned.landmarks[0]
        else:
            image, transform = read_image_crop(rec.path, self.size)
            image = image[0]
            if landmarks is not None:
                landmarks = apply_affine(landmarks, transform)
        item = {"image": image, "aus": torch.tensor(rec.aus, dtype=torch.float32)}
        if landmarks is not None:
            item["landmarks"] = landmarks
        if rec.pose is not None:
            item["pose"] = torch.tensor(rec.pose, dtype=torch.float32)
        return item
