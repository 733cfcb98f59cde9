"""Where does a training iteration of the bench StarGAN spend its GPU time?

    python3 scripts/gpu/profile_train.py [--batch 16] [--variant engine_bf16_eager]

Profiles 10 iterations (two G steps) of the reference loop and of one engine
variant with torch.profiler, and prints the top CUDA kernels and per-iteration
GPU busy time against wall time (GPU-bound or launch-bound?).
"""

import argparse
import time

import torch
from torch.profiler import ProfilerActivity, profile

from gamutlib.training import bench


def measure(name, run, iters=10, warm=20):
    for i in range(warm):
        run(i)
    torch.cuda.synchronize()
    t = time.perf_counter()
    with profile(activities=[ProfilerActivity.CUDA, ProfilerActivity.CPU]) as prof:
        for i in range(warm, warm + iters):
            run(i)
        torch.cuda.synchronize()
    wall = (time.perf_counter() - t) / iters
    events = prof.key_averages()
    gpu_ms = sum(e.self_device_time_total for e in events) / 1e3 / iters
    table = events.table(sort_by="self_device_time_total", row_limit=28, max_name_column_width=70)
    print(f"===== {name}: wall {wall * 1e3:.2f} ms/iter (profiled), GPU busy {gpu_ms:.2f} ms/iter")
    print(table)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--variant", action="append", default=None)
    a = p.parse_args()
    dev = torch.device("cuda")
    torch.backends.cudnn.benchmark = True
    pool = bench.make_pool(a.batch, 128, dev, 0)
    G, D = bench.build_networks(128, 64, 0)
    G.to(dev), D.to(dev)
    measure("reference", bench.reference_loop(G, D, pool, dev))
    for variant in a.variant or ["engine_bf16_eager", "engine_fp32_eager"]:
        G, D = bench.build_networks(128, 64, 0)
        run, _ = bench.engine_runner(G, D, pool, dev, bench.VARIANTS[variant])
        measure(variant, run)


if __name__ == "__main__":
    main()
