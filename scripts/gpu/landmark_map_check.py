"""Landmark boundary map on the GPU: same map as on the CPU, and its speed.

Run from the repository root:  python scripts/gpu/landmark_map_check.py
Writes $OUT/landmark_map_gpu.json (rows: size, batch, max_abs_diff_vs_cpu,
maps_per_s on the GPU). Takes well under a minute; rerunning overwrites.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import torch

from gamutlib.data.landmark_map import landmark_boundary_map
from gamutlib.faces.geometry import au_geometry, landmarks
from gamutlib.faces.identity import identities_from_ids


def main() -> None:
    if not torch.cuda.is_available():
        raise SystemExit("no CUDA device")
    out_dir = Path(os.environ.get("OUT", "out"))
    out_dir.mkdir(parents=True, exist_ok=True)
    g = torch.Generator().manual_seed(0)
    rows = []
    for size in (64, 128, 256):
        for batch in (16, 64, 256):
            ids = torch.arange(batch)
            aus = torch.rand(batch, 17, generator=g) * 5
            pose = (torch.rand(batch, 3, generator=g) - 0.5) * 0.4
            lm = landmarks(au_geometry(identities_from_ids(ids), aus, pose), size).float()
            cpu = landmark_boundary_map(lm, size)
            gpu_lm = lm.cuda()
            gpu = landmark_boundary_map(gpu_lm, size)
            diff = (gpu.cpu() - cpu).abs().max().item()
            torch.cuda.synchronize()
            reps = 20
            start = time.perf_counter()
            for _ in range(reps):
                landmark_boundary_map(gpu_lm, size)
            torch.cuda.synchronize()
            rate = reps * batch / (time.perf_counter() - start)
            rows.append({"size": size, "batch": batch, "max_abs_diff_vs_cpu": diff, "maps_per_s": rate})
            print(rows[-1], flush=True)
    result = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__, "rows": rows}
    (out_dir / "landmark_map_gpu.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
