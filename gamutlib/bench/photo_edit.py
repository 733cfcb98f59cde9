"""Wall time and memory of `gamut edit` on a camera-sized photo (``gamut bench photo-edit``).

The whole command is timed as a user runs it: a fresh Python process
(``python -m gamutlib.cli edit METHOD PHOTO --emotion happy --intensity 0.8
-o out.jpg``), so torch's import, dlib's model loading, the JPEG decode and
encode all count. The photo is synthetic unless one is given: a benchmark
face rendered at 256 px, upscaled (bicubic) to ``face_px`` and pasted into a
``width`` x ``height`` textured background, saved as a JPEG (quality 92), so
that dlib finds one face as in a portrait.

Each run's process may be pinned to CPUs (``cpus``, as ``taskset -c``
does). Memory is read two ways, every 20 ms from ``/proc/PID/status``: the
command's own high-water resident set (``VmHWM``, as ``/usr/bin/time``
reports it for a small caller; ``ru_maxrss`` would include the caller's
memory, which Linux carries across the exec), and the peak of the summed
resident sets of the command and its helper process (an upper bound on what
they hold together: pages the fork shares count twice). VmHWM is read until
the process ends, so only growth in its last 20 ms could be missed. The
machine's load average is
recorded before and after, since on a shared machine other work slows the
runs; the median and the minimum over the repeats are both reported, and the
CPU seconds the command used (user + system, its helper included), which
such load changes far less than the wall time.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

TARGET_WALL_S = 3.0
TARGET_PEAK_MB = 1024.0


def synthetic_photo(path: str | Path, width: int = 6000, height: int = 4000, face_px: int = 1800, seed: int = 3) -> Path:
    """Write a ``width`` x ``height`` JPEG with one benchmark face of ``face_px`` pixels; returns its path."""
    import numpy as np
    import torch
    import torch.nn.functional as F
    from PIL import Image

    from gamutlib.face_source import benchmark_face

    if face_px > min(width, height):
        raise ValueError(f"a {face_px} px face does not fit a {width}x{height} photo")
    # Background: smooth colour gradients plus grain, made at a quarter of the
    # size and upscaled (a full-size float noise field would take seconds).
    g = np.random.default_rng(seed)
    qh, qw = max(height // 4, 1), max(width // 4, 1)
    yy, xx = np.mgrid[0:qh, 0:qw].astype(np.float32)
    base = np.stack([60 + 80 * xx / qw, 90 + 60 * yy / qh, 120 + 40 * np.sin(xx / 75.0)], -1)
    base += g.normal(0, 8, base.shape).astype(np.float32)
    background = Image.fromarray(base.clip(0, 255).astype(np.uint8)).resize((width, height), Image.BILINEAR)
    face = benchmark_face(seed, 256).face
    face = F.interpolate(face, size=face_px, mode="bicubic", align_corners=False).clamp(-1, 1)
    face_u8 = ((face[0].permute(1, 2, 0) + 1) * 127.5).round().to(torch.uint8).numpy()
    top, left = (height - face_px) // 3, (width - face_px) // 2
    background.paste(Image.fromarray(face_u8), (left, top))
    path = Path(path)
    background.save(path, quality=92)
    return path


def _memory_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of one process in MB, from /proc/PID/status ((0, 0) if it is gone).

    status is read in microseconds; smaps_rollup (for the proportional set
    size) takes milliseconds per read of a 500 MB process, which sampled every
    20 ms would take a fair part of one of the two CPUs from the run."""
    found = {"VmRSS:": 0.0, "VmHWM:": 0.0}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key = line.split(maxsplit=1)[0]
                if key in found:
                    found[key] = int(line.split()[1]) / 1024
    except (OSError, IndexError, ValueError):
        pass
    return found["VmRSS:"], found["VmHWM:"]


def _descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (from /proc/PID/task/*/children)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as f:
                    todo.extend(int(child) for child in f.read().split())
        except OSError:
            continue
    return found


def _memory_sampler(pid: int, stop: threading.Event, peaks: dict[str, float]) -> None:
    """Until ``stop``: the summed RSS of ``pid`` and its descendants (peak in ``peaks["tree"]``)
    and the high-water RSS of ``pid`` itself (``peaks["own"]``, its last reading)."""
    while not stop.is_set():
        total = 0.0
        for p in _descendants(pid):
            rss, hwm = _memory_mb(p)
            total += rss
            if p == pid and hwm > 0:
                peaks["own"] = hwm
        peaks["tree"] = max(peaks["tree"], total)
        stop.wait(0.02)


def time_command(args: list[str], cpus: set[int] | None = None) -> dict[str, Any]:
    """Run ``args`` once; returns wall seconds, CPU seconds (user + system, its helper included),
    peak RSS of the largest process and peak summed RSS of it and its helper (MB)."""
    preexec = (lambda: os.sched_setaffinity(0, cpus)) if cpus else None
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=preexec)
    stop, peaks = threading.Event(), {"tree": 0.0, "own": 0.0}
    sampler = threading.Thread(target=_memory_sampler, args=(proc.pid, stop, peaks), daemon=True)
    sampler.start()
    # wait4 gives this child's own CPU time, its reaped helper's included. (Not its ru_maxrss: Linux keeps
    # the high water of the forking process's memory across exec, so a large caller would show in it.)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    stop.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    out, err = proc.stdout.read().decode(), proc.stderr.read().decode()  # type: ignore[union-attr]
    proc.stdout.close()  # type: ignore[union-attr]
    proc.stderr.close()  # type: ignore[union-attr]
    if proc.returncode != 0:
        raise RuntimeError(f"`{' '.join(args)}` failed ({proc.returncode}): {(err or out).strip()[-2000:]}")
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "peak_rss_mb": peaks["own"],
            "tree_rss_mb": peaks["tree"], "output": out.strip()}


def bench_photo_edit(
    method: str = "ganmut",
    photo: str | None = None,
    width: int = 6000,
    height: int = 4000,
    face_px: int = 1800,
    repeats: int = 5,
    cpus: set[int] | None = None,
    weights: str | None = None,
    workdir: str | Path | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Time ``repeats`` fresh ``gamut edit`` runs; returns {"rows", "protocol", "seeds"}."""
    import tempfile

    from PIL import Image

    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        if photo is None:
            photo_path = synthetic_photo(Path(tmp) / "photo.jpg", width, height, face_px)
            what = f"synthetic {width}x{height} JPEG (quality 92), one benchmark face of {face_px} px"
        else:
            photo_path = Path(photo)
            if not photo_path.is_file():
                raise ValueError(f"no photo at {photo_path}")
            what = photo_path.name
        try:
            with Image.open(photo_path) as img:
                w, h = img.size
        except OSError:  # not an image: the command itself says so, in its own words
            w = h = 0
        out = Path(tmp) / "edited.jpg"
        args = [sys.executable, "-m", "gamutlib.cli", "edit", method, str(photo_path),
                "--emotion", "happy", "--intensity", "0.8", "-o", str(out)]
        if weights:
            args += ["--weights", weights]
        load_before = os.getloadavg()
        runs = []
        for i in range(repeats):
            run = time_command(args, cpus)
            with Image.open(out) as edited:
                if edited.size != (w, h):
                    raise RuntimeError(f"the edited photo is {edited.size}, not {(w, h)}")
            runs.append(run)
            log(f"run {i + 1}/{repeats}: {run['wall_s']:.2f} s ({run['cpu_s']:.2f} s of CPU), peak RSS {run['peak_rss_mb']:.0f} MB, "
                f"command + helper RSS {run['tree_rss_mb']:.0f} MB")
        load_after = os.getloadavg()
    walls = [r["wall_s"] for r in runs]
    rss = [r["peak_rss_mb"] for r in runs]
    tree = [r["tree_rss_mb"] for r in runs]
    median_wall, worst_mem = statistics.median(walls), max(max(rss), max(tree))
    meets = median_wall <= TARGET_WALL_S and worst_mem <= TARGET_PEAK_MB
    row = {
        "method": method,
        "photo": what,
        "megapixels": round(w * h / 1e6, 1),
        "cpus": ",".join(map(str, sorted(cpus))) if cpus else "all",
        "nproc": os.cpu_count(),
        "load_avg_1min_before": round(load_before[0], 2),
        "load_avg_1min_after": round(load_after[0], 2),
        "repeats": repeats,
        "wall_s_median": round(median_wall, 2),
        "wall_s_min": round(min(walls), 2),
        "wall_s_max": round(max(walls), 2),
        "cpu_s_median": round(statistics.median(r["cpu_s"] for r in runs), 2),
        "peak_rss_mb_max": round(max(rss), 0),
        "tree_rss_mb_max": round(max(tree), 0),
        "target": f"<= {TARGET_WALL_S:g} s median and <= {TARGET_PEAK_MB:g} MB",
        "verdict": "holds" if meets else "does not hold",
    }
    protocol = (
        f"`gamut edit {method} PHOTO --emotion happy --intensity 0.8 -o out.jpg` in a fresh process, "
        f"{repeats} runs one after another on {what}; CPUs {row['cpus']} of {row['nproc']} (sched_setaffinity, as "
        "taskset -c); wall from start to exit; CPU = user + system seconds of the command and its helper (wait4), which other work on the machine changes less than the wall time; peak RSS = the command process's VmHWM (its high-water resident set, last read before it exits, every 20 ms); tree RSS = peak "
        "of the summed resident sets of the command and its face-finding helper, sampled every 20 ms (an upper "
        "bound: the pages they share count twice). "
        "The machine may be shared: the 1-minute load average before and after is recorded, and the median and "
        "the minimum are both given."
    )
    return {"rows": [row], "protocol": protocol, "seeds": [3], "runs": runs}
