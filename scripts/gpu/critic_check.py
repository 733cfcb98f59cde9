"""Does the engine's critic step give the reference's gradients on a GPU?

    python3 scripts/gpu/critic_check.py OUT.json

One WGAN-GP critic step of the StarGAN D (conv_dim 64, 128 px, batch 16):
loss = -D(real) + D(fake) + CE(cls(real)) + 10 GP, and its gradients in D's
weights, computed with plain nn.Conv2d layers and three separate forwards (the
reference) and with the engine's CriticConv2d and/or joined forwards
(critic_with_gp "pair"/"all"); in fp32 (TF32 off) and under bf16 autocast.
Reports each one's relative difference from the reference of the same
precision, and the bf16 reference's own difference from fp32 for scale.
"""

import json
import sys

import torch
import torch.nn.functional as F

from gamutlib.losses.gradient_penalty import critic_with_gp
from gamutlib.bench.train import build_networks, plain_convs


def critic_step(D, real, fake, label, batching, precision):
    D.zero_grad(set_to_none=True)
    torch.manual_seed(7)  # the same interpolation weights for every setting
    with torch.autocast("cuda", dtype=torch.bfloat16, enabled=precision == "bf16"):
        (src_r, cls_r), (src_f, _), gp = critic_with_gp(D, real, fake, batching)
        loss = -src_r.float().mean() + src_f.float().mean() + F.cross_entropy(cls_r.float(), label) + 10 * gp
    loss.backward()
    return loss.detach().double(), torch.cat([p.grad.flatten().double() for p in D.parameters()])


def main():
    out = sys.argv[1]
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    dev = torch.device("cuda")
    _, D = build_networks(128, 64, 0)
    init = {k: v.clone() for k, v in D.state_dict().items()}
    gen = torch.Generator().manual_seed(0)
    real = (torch.rand(16, 3, 128, 128, generator=gen) * 2 - 1).to(dev)
    fake = (torch.rand(16, 3, 128, 128, generator=gen) * 2 - 1).to(dev)
    label = torch.randint(0, 7, (16,), generator=gen).to(dev)
    settings = {"plain_separate": (torch.nn.Conv2d, "separate"), "critic_conv_separate": (None, "separate"),
                "critic_conv_pair": (None, "pair"), "critic_conv_all": (None, "all"), "plain_all": (torch.nn.Conv2d, "all")}
    results, refs = {}, {}
    for precision in ("fp32", "bf16"):
        for name, (conv, batching) in settings.items():
            _, D = build_networks(128, 64, 0)
            D.load_state_dict(init)
            if conv is not None:
                plain_convs(D, conv)
            D.to(dev).to(memory_format=torch.channels_last)
            loss, grad = critic_step(D, real, fake, label, batching, precision)
            if name == "plain_separate":
                refs[precision] = (loss, grad)
            ref_loss, ref_grad = refs[precision]
            results[f"{precision} {name}"] = {
                "loss": loss.item(),
                "loss_rel_diff": abs((loss - ref_loss) / ref_loss).item(),
                "grad_rel_diff": ((grad - ref_grad).norm() / ref_grad.norm()).item(),
            }
            print(precision, name, results[f"{precision} {name}"], flush=True)
    scale = ((refs["bf16"][1] - refs["fp32"][1]).norm() / refs["fp32"][1].norm()).item()
    results["bf16_reference_vs_fp32_grad_rel_diff"] = scale
    print("bf16 reference vs fp32 reference, grad rel diff:", scale)
    json.dump({"device": torch.cuda.get_device_name(), "torch": torch.__version__, "results": results}, open(out, "w"), indent=1)


if __name__ == "__main__":
    main()
