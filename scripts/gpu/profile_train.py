"""Where does a batch-16 training step of the bench StarGAN spend its GPU time?

    python3 scripts/gpu/profile_train.py OUT.json [--batch 16] [--variant engine_no_graphs ...]
        [--skip-g]

1. The StarGAN G (conv_dim 64) forward + backward, bf16 autocast, eager, NCHW
   and channels_last: GPU time per op and input shapes (torch.profiler,
   record_shapes).
2. The same for whole training iterations of engine variants
   (gamutlib.bench.train.VARIANTS; default engine_no_graphs: with CUDA
   graphs the profiler sees one launch).

This is how the critic's generic double backward showed up as the largest
single cost of an iteration (book/results/engine/train_speed.json, experiments).
"""

import argparse
import json
from collections import defaultdict

import torch
import torch.nn.functional as F
from torch.profiler import ProfilerActivity, profile

from gamutlib.bench import train as bench


def op_table(prof, iters):
    """GPU ms per iteration of each aten op (the kernels it launched itself),
    keyed by op and input shapes; and the total (every kernel is some CPU-side
    event's self time exactly once)."""
    rows, counts = defaultdict(float), defaultdict(int)
    for e in prof.key_averages(group_by_input_shape=True):
        if e.key.startswith("aten::"):
            key = f"{e.key} {[s for s in e.input_shapes if s][:3]}"
            rows[key] += e.self_device_time_total / 1e3 / iters
            counts[key] += e.count
    total = sum(e.self_device_time_total for e in prof.key_averages() if e.device_type.name == "CPU")
    top = sorted(rows.items(), key=lambda kv: -kv[1])[:40]
    return {"gpu_ms_per_iter": round(total / 1e3 / iters, 3),
            "ops": [{"op": k, "ms_per_iter": round(v, 3), "calls_per_iter": counts[k] / iters} for k, v in top]}


def profiled(fn, iters=10, warm=10):
    for i in range(warm):
        fn(i)
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA], record_shapes=True) as prof:
        for i in range(warm, warm + iters):
            fn(i)
        torch.cuda.synchronize()
    return op_table(prof, iters)


def show(name, table, n=22):
    print(f"== {name}: GPU {table['gpu_ms_per_iter']} ms/iter")
    for row in table["ops"][:n]:
        print(f"  {row['ms_per_iter']:7.3f} ms x{row['calls_per_iter']:<5g} {row['op'][:150]}")
    print(flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--variant", action="append", default=None)
    p.add_argument("--skip-g", action="store_true")
    a = p.parse_args()
    torch.backends.cudnn.benchmark = True
    dev, n = torch.device("cuda"), a.batch
    result = {"batch": n, "device": torch.cuda.get_device_name(), "torch": torch.__version__}

    G, _ = bench.build_networks(128, 64, 0)
    G.to(dev)
    x = torch.randn(n, 3, 128, 128, device=dev)
    c = F.one_hot(torch.arange(n, device=dev) % 7, 7).float()
    for layout in () if a.skip_g else ("nchw", "channels_last"):
        fmt = torch.channels_last if layout == "channels_last" else torch.contiguous_format
        G.to(memory_format=fmt)
        xi = x.contiguous(memory_format=fmt)

        def g_step(i):
            G.zero_grad(set_to_none=True)
            with torch.autocast("cuda", dtype=torch.bfloat16):
                y = G(xi, c)
            y.float().mean().backward()
        result[f"G_fwd_bwd_{layout}"] = profiled(g_step)
        show(layout, result[f"G_fwd_bwd_{layout}"])

    pool = bench.make_pool(n, 128, dev, 0)
    for variant in a.variant or ["engine_no_graphs"]:
        Gv, Dv = bench.build_networks(128, 64, 0)
        run, _ = bench.engine_runner(Gv, Dv, pool, dev, bench.VARIANTS[variant])
        result[f"train_{variant}"] = profiled(run, iters=10, warm=20)
        show(variant, result[f"train_{variant}"])
        del run

    json.dump(result, open(a.out, "w"), indent=1)


if __name__ == "__main__":
    main()
