"""Where does a batch-16 training step of the bench StarGAN spend its GPU time?

    python3 scripts/gpu/profile_train.py OUT.json [--batch 16] [--variant engine_no_graphs ...]
        [--skip-g] [--skip-ways]

1. The StarGAN G (conv_dim 64) forward + backward, bf16 autocast, eager, NCHW
   and channels_last: GPU time per op and input shapes (torch.profiler,
   record_shapes).
2. The same for whole training iterations of engine variants
   (gamutlib.training.bench.VARIANTS; default engine_no_graphs: with CUDA
   graphs the profiler sees one launch).
3. G's 7x7 convolutions at 128 px computed four ways: cuDNN NCHW, cuDNN NHWC,
   the kernel's width folded into channels (a 7x1 conv over 7x the channels),
   and unfold + matmul; forward and forward + backward.

This is how the critic's generic double backward showed up as the largest
single cost of an iteration (book/results/engine/train_speed.json, experiments).
"""

import argparse
import json
import time
from collections import defaultdict

import torch
import torch.nn.functional as F
from torch.profiler import ProfilerActivity, profile

from gamutlib.training import bench


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


def time_ms(fn, reps=40, warm=10):
    for _ in range(warm):
        fn()
    torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(reps):
        fn()
    torch.cuda.synchronize()
    return round((time.perf_counter() - t) / reps * 1e3, 3)


def conv_ways(x, w):
    """A stride-1 'same' KxK conv of x (N,C,H,W) with w (O,C,K,K), four ways."""
    k = w.shape[-1]
    pad = k // 2

    def direct(x, w):
        return F.conv2d(x, w, padding=pad)

    def nhwc(x, w):
        return F.conv2d(x.contiguous(memory_format=torch.channels_last), w.contiguous(memory_format=torch.channels_last), padding=pad)

    def width_folded(x, w):
        # out[o,h,w] = sum_{c,i,j} W[o,c,i,j] x[c,h+i-p,w+j-p]: stack the K width shifts as channels
        n, c, h, wd = x.shape
        xp = F.pad(x, (pad, pad, 0, 0))
        shifted = torch.stack([xp[..., j:j + wd] for j in range(k)], dim=2).reshape(n, c * k, h, wd)
        wf = w.permute(0, 1, 3, 2).reshape(w.shape[0], c * k, k, 1)
        return F.conv2d(shifted, wf, padding=(pad, 0))

    def unfold_mm(x, w):
        n, c, h, wd = x.shape
        cols = F.unfold(x, k, padding=pad)  # (N, C*K*K, H*W)
        return (w.reshape(w.shape[0], -1) @ cols).reshape(n, w.shape[0], h, wd)

    return {"cudnn_nchw": direct, "cudnn_nhwc": nhwc, "width_folded": width_folded, "unfold_matmul": unfold_mm}


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
    p.add_argument("--skip-ways", action="store_true")
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

    ways = {}
    for name, (cin, cout) in ({} if a.skip_ways else {"first 7x7 (16->64)": (16, 64), "head 7x7 (64->8)": (64, 8)}).items():
        xx = torch.randn(n, cin, 128, 128, device=dev, dtype=torch.bfloat16, requires_grad=True)
        ww = torch.randn(cout, cin, 7, 7, device=dev, dtype=torch.bfloat16, requires_grad=True)
        ref = F.conv2d(xx.float(), ww.float(), padding=3)
        for way, fn in conv_ways(xx, ww).items():
            try:
                err = ((fn(xx, ww).float() - ref).abs().max() / ref.abs().max()).item()
                fwd = time_ms(lambda: fn(xx, ww))

                def fb():
                    xx.grad = ww.grad = None
                    fn(xx, ww).float().sum().backward()
                ways[f"{name} {way}"] = {"fwd_ms": fwd, "fwd_bwd_ms": time_ms(fb), "rel_err": round(err, 5)}
            except Exception as e:  # a way that does not run is reported
                ways[f"{name} {way}"] = {"error": str(e)[:200]}
            print(name, way, ways[f"{name} {way}"], flush=True)
    result["conv_ways"] = ways
    json.dump(result, open(a.out, "w"), indent=1)


if __name__ == "__main__":
    main()
