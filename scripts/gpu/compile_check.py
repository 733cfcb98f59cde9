"""Does torch.compile give the same gradients as eager, double-backward penalty included?

The benchmark's StarGAN (128 px, conv_dim 64) in fp32: one D step (WGAN-GP)
and one G step, eager against `nn.Module.compile()`, from the same weights,
batch and random draws, in two settings: both networks compiled (the D step's
penalty needs a double backward through D, which AOTAutograd may refuse: the
error is recorded) and G compiled with D eager (what the engine falls back
to). Prints and writes (argv[1]) the relative difference of each loss and of
each network's gradients, with the gradient penalty's share of D's gradient as
the scale a missing double-backward term would show at.

    python scripts/gpu/compile_check.py $OUT/compile_check.json
"""

import copy
import json
import sys

import torch

from gamutlib.bench.train import BenchStarGAN, build_networks, make_pool


def grads(net):
    return torch.cat([p.grad.flatten() for p in net.parameters() if p.grad is not None])


def step(G, D, pool, phase, seed, term="loss"):
    for p in [*G.parameters(), *D.parameters()]:
        p.grad = None
    method = BenchStarGAN(G, D, pool)
    torch.manual_seed(seed)
    batch = {"image": pool[0][0], "label": pool[0][1].to(pool[0][0].device)}
    out = (method.d_phase if phase == "D" else method.g_phase)(batch, 0)
    out[term].backward()
    net = D if phase == "D" else G
    return {k: float(v.detach()) for k, v in out.items()}, grads(net)


def rel(a, b):
    return float((a - b).norm() / b.norm().clamp_min(1e-12))


def main(path):
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False  # fp32 both sides
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    G, D = build_networks(128, 64, 0)
    G, D = G.to(dev), D.to(dev)
    pool = make_pool(16, 128, dev, 0)
    report = {"device": torch.cuda.get_device_name() if dev.type == "cuda" else "cpu", "torch": torch.__version__}
    _, gp = step(G, D, pool, "D", 1, term="loss_gp")
    _, total = step(G, D, pool, "D", 1)
    report["gp_share_of_d_grad"] = float(10 * gp.norm() / total.norm())
    for setting, nets in (("G_and_D_compiled", "GD"), ("G_compiled_D_eager", "G")):
        Gc, Dc = copy.deepcopy(G), copy.deepcopy(D)
        if "G" in nets:
            Gc.compile()
        if "D" in nets:
            Dc.compile()
        result = {}
        for phase in ("D", "G"):
            losses_e, g_e = step(G, D, pool, phase, 1)
            try:
                losses_c, g_c = step(Gc, Dc, pool, phase, 1)
            except Exception as err:  # AOTAutograd refusing a double backward lands here
                result[phase] = {"error": f"{type(err).__name__}: {str(err).splitlines()[0][:200]}"}
                continue
            result[phase] = {
                "loss_rel_diff": {k: abs(losses_c[k] - losses_e[k]) / max(abs(losses_e[k]), 1e-12) for k in losses_e},
                "grad_rel_diff": rel(g_c, g_e),
            }
        report[setting] = result
    print(json.dumps(report, indent=1))
    with open(path, "w") as f:
        json.dump(report, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "compile_check.json")
