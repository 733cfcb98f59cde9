"""The GANmut series' methods on the GPU: graph-safe sampling, and training speed.

Run from the repository root:  python scripts/gpu/ganmut_models_check.py
Writes $OUT/ganmut_models_gpu.json, updated after every measurement:

- ``sampling``: the code samplers captured in a CUDA graph draw new codes at
  every replay (a sampler that read host randomness would silently replay the
  same codes, so a captured training phase would always train on one batch of
  targets);
- ``training``: for stargan, ganimation, ganmut, gganmut at the paper's 128 px
  and batch 16 (G width 32, D width 64), img/s of the trainer's loop with and
  without CUDA-graph capture (bf16 autocast), which phases were captured, and
  the last losses (all finite). Synthetic images: this measures the models and
  the loop, not the face renderer.

About 2-4 minutes on one H100. Resumable: rerunning with the same $OUT skips
the rows already in the JSON file.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any, Iterator

import torch

from gamutlib.models.ganmut import LinearConditionSpace, sample_linear_codes
from gamutlib.models.gganmut import GaussianConditionSpace, sample_gaussian_codes
from gamutlib.models.translation import shuffled_labels
from gamutlib.training.config import TrainConfig
from gamutlib.papers import get_method
from gamutlib.training.trainer import Trainer

METHODS = ("stargan", "ganimation", "ganmut", "gganmut")
WARMUP, TIMED = 30, 150


def save(path: Path, record: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=1) + "\n")
    tmp.replace(path)


def sampling_replays_draw_new_codes(device: torch.device) -> dict[str, bool]:
    label = torch.arange(16, device=device) % 7
    lin, gau = LinearConditionSpace().to(device), GaussianConditionSpace().to(device)
    samplers = {
        "shuffled_labels": lambda: shuffled_labels(label).float(),
        "sample_linear_codes": lambda: sample_linear_codes(lin, label, 9).z,
        "sample_gaussian_codes": lambda: sample_gaussian_codes(gau, 16, 7, device).z,
    }
    result = {}
    for name, fn in samplers.items():
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side), torch.no_grad():
            fn()  # warm-up outside capture
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph), torch.no_grad():
            out = fn()
        draws = []
        for _ in range(3):
            graph.replay()
            draws.append(out.clone())
        torch.cuda.synchronize()
        # gganmut's S_c rows are the means (fixed); its S_r rows must change
        changed = all(not torch.equal(draws[i][7:], draws[i + 1][7:]) for i in range(2))
        result[name] = changed
    return result


def synthetic_stream(device: torch.device, seed: int) -> Iterator[dict[str, torch.Tensor]]:
    g = torch.Generator(device=device).manual_seed(seed)
    while True:
        yield {
            "image": torch.rand(16, 3, 128, 128, device=device, generator=g) * 2 - 1,
            "label": torch.randint(0, 7, (16,), device=device, generator=g),
        }


def train_speed(name: str, graphs: bool) -> dict[str, Any]:
    torch.manual_seed(0)
    method = get_method(name, {})
    method.data = synthetic_stream  # type: ignore[method-assign]
    steps = WARMUP + TIMED
    cfg = TrainConfig(steps=steps, device="cuda", progress=False, cuda_graphs=graphs, log_every=steps,
                      summary_every=steps, sample_every=steps, checkpoint_every=steps)
    trainer = Trainer(method, cfg, run_dir=None)
    for _ in range(WARMUP):
        trainer.train_step()
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(TIMED):
        trainer.train_step()
    torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    last = trainer.flush_log()
    losses = {k: v for k, v in last.items() if "/loss" in k}
    return {
        "method": name,
        "cuda_graphs": graphs,
        "img_s": round(TIMED * 16 / seconds, 1),
        "captured_phases": sorted(trainer._graphs),
        "capture_failed": sorted(trainer._graph_failed),
        "losses_finite": all(math.isfinite(v) for v in losses.values()),
        "losses": {k: round(v, 4) for k, v in losses.items()},
    }


def main() -> None:
    if not torch.cuda.is_available():
        raise SystemExit("no CUDA device")
    out_dir = Path(os.environ.get("OUT", "out"))
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "ganmut_models_gpu.json"
    record: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    record.setdefault("device", torch.cuda.get_device_name())
    record.setdefault("torch", torch.__version__)
    if "sampling" not in record:
        record["sampling"] = sampling_replays_draw_new_codes(torch.device("cuda"))
        save(path, record)
        print("sampling:", record["sampling"], flush=True)
    rows = record.setdefault("training", [])
    done = {(r["method"], r["cuda_graphs"]) for r in rows}
    for name in METHODS:
        for graphs in (False, True):
            if (name, graphs) in done:
                continue
            row = train_speed(name, graphs)
            rows.append(row)
            save(path, record)
            print(row, flush=True)


if __name__ == "__main__":
    main()
