"""Run folders: ``runs/<NNNNN>-<method>/`` with config.json, log.jsonl,
samples/*.png and checkpoints/ (the stylegan2-ada layout)."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from gamutlib.atomic import atomic_write_bytes

RUN_PATTERN = re.compile(r"^(\d{5})-")


def new_run_folder(out: str | Path, method: str) -> Path:
    """Create the next numbered folder under ``out`` (00000-ganmut, 00001-...)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    taken = [int(m.group(1)) for p in out.iterdir() if (m := RUN_PATTERN.match(p.name))]
    number = max(taken, default=-1) + 1
    while True:
        folder = out / f"{number:05d}-{method}"
        try:
            folder.mkdir()
            return folder
        except FileExistsError:  # another process took the number meanwhile
            number += 1


def write_config(folder: str | Path, config: dict[str, Any]) -> Path:
    path = Path(folder) / "config.json"
    atomic_write_bytes(path, (json.dumps(config, indent=2, sort_keys=True) + "\n").encode())
    return path


def read_config(folder: str | Path) -> dict[str, Any]:
    path = Path(folder) / "config.json"
    if not path.exists():
        raise FileNotFoundError(f"{folder} is not a run folder (no config.json)")
    return json.loads(path.read_text())


class JsonlLog:
    """Append-only JSONL; ``truncate_after(step)`` drops lines a resume will redo."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def write(self, record: dict[str, Any]) -> None:
        with open(self.path, "a") as f:
            f.write(json.dumps(record, sort_keys=True) + "\n")

    def read(self) -> list[dict[str, Any]]:
        """The records; a ``.gz`` path is read through gzip (the record keeps finished logs compressed)."""
        if not self.path.exists():
            return []
        text = gzip.decompress(self.path.read_bytes()).decode() if self.path.suffix == ".gz" else self.path.read_text()
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def truncate_after(self, step: int) -> None:
        if not self.path.exists():
            return
        kept = [r for r in self.read() if r.get("step", 0) <= step]
        atomic_write_bytes(self.path, "".join(json.dumps(r, sort_keys=True) + "\n" for r in kept).encode())


def image_grid(images: torch.Tensor, nrow: int | None = None) -> np.ndarray:
    """(N,3,H,W) in [-1,1] -> (rows*H, cols*W, 3) uint8, row-major, 2 px gaps."""
    if images.dim() != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"sample grids are (N, 3, H, W) images; got {tuple(images.shape)}")
    images = images.detach().float().cpu().clamp(-1, 1).add(1).mul(127.5).round().to(torch.uint8)
    n, c, h, w = images.shape
    cols = nrow or int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    pad = 2
    grid = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, 3), 255, np.uint8)
    for i in range(n):
        r, k = divmod(i, cols)
        tile = images[i].permute(1, 2, 0).numpy()
        grid[pad + r * (h + pad): pad + r * (h + pad) + h, pad + k * (w + pad): pad + k * (w + pad) + w] = tile
    return grid


def save_grid(path: str | Path, images: torch.Tensor, nrow: int | None = None) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image_grid(images, nrow)).save(path)
    return path
