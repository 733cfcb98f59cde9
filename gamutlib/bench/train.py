"""`gamut bench train`: the engine against a reference-style StarGAN loop.

Both sides train the same StarGAN-size networks (gamutlib.models.stargan,
conv_dim 64, 6 residual blocks, 128 px) with the same losses (WGAN-GP,
lambda_gp 10, lambda_cls 1, lambda_rec 10, n_critic 5, Adam 1e-4 (0.5, 0.999)),
from the same initial weights, in the same process on the same GPU.

* reference: a plain eager fp32 loop written the way the official StarGAN
  solver (yunjey/stargan, solver.py ``train``) writes it: labels permuted and
  one-hot encoded on the CPU and copied over, the GP interpolation weight drawn
  on the CPU, ``reset_grad`` of both optimizers, default Adam, ``.item()``
  of every loss each iteration for its logger, and plain ``nn.Conv2d`` layers.
* engine: the same maths as a Method driven by gamutlib.training.Trainer with
  its defaults on CUDA: bf16 autocast (each weight cast once per phase),
  torch.compile of G (D, differentiated twice, stays eager), CUDA-graph-captured
  phases, channels_last for D, fused Adam, cudnn benchmark; D's real, fake
  and interpolated batches in one forward (``critic_with_gp``); D's convs
  ``CriticConv2d`` (the penalty's double backward on cuDNN's regular kernels)
  and the odd-channel convs padded to 8 (``AlignedConv2d``).

Images/s counts training images per second: one iteration is one D step on a
batch, with a G step every n_critic iterations (how the reference counts).
Data comes from a pre-made pool on the device for both, so loading is not timed.
"""

from __future__ import annotations

import json
import math
import time
import warnings
from pathlib import Path
from typing import Any, Callable, Iterator

import torch
import torch.nn.functional as F
from torch import nn

from gamutlib.devices import device_name, resolve_device, synchronize
from gamutlib.losses.gradient_penalty import critic_with_gp
from gamutlib.nn.aligned import AlignedConv2d
from gamutlib.training.config import TrainConfig
from gamutlib.contract.method import Phase
from gamutlib.training.trainer import Trainer

LAMBDA_CLS, LAMBDA_REC, LAMBDA_GP = 1.0, 10.0, 10.0
N_CRITIC = 5
C_DIM = 7
POOL = 8  # batches in the data pool


def build_networks(image_size: int, conv_dim: int, seed: int) -> tuple[nn.Module, nn.Module]:
    from gamutlib.models.stargan import Discriminator, Generator

    repeat_d = int(math.log2(image_size)) - 1  # 6 at 128 px, as in StarGAN
    torch.manual_seed(seed)
    G = Generator(conv_dim=conv_dim, c_dim=C_DIM, repeat_num=6)
    D = Discriminator(image_size=image_size, conv_dim=conv_dim, c_dim=C_DIM, repeat_num=repeat_d)
    return G, D


def plain_convs(net: nn.Module, to: type[nn.Conv2d] = nn.Conv2d) -> nn.Module:
    """Turn gamut's conv subclasses (AlignedConv2d, CriticConv2d) in ``net`` back
    into ``to`` (same parameters): the reference loop uses plain layers, and
    variants switch one optimisation off."""
    for module in net.modules():
        if isinstance(module, nn.Conv2d) and issubclass(type(module), to) and type(module) is not to:
            module.__class__ = to
    return net


def make_pool(batch: int, image_size: int, device: torch.device, seed: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    gen = torch.Generator().manual_seed(seed)
    return [
        ((torch.rand(batch, 3, image_size, image_size, generator=gen) * 2 - 1).to(device),
         torch.randint(0, C_DIM, (batch,), generator=gen))
        for _ in range(POOL)
    ]


# ---------------------------------------------------------------- reference
def label2onehot(labels: torch.Tensor, dim: int) -> torch.Tensor:
    """As the reference solver: a CPU zeros tensor filled by index."""
    out = torch.zeros(labels.size(0), dim)
    out[torch.arange(labels.size(0)), labels.long()] = 1
    return out


def reference_loop(G: nn.Module, D: nn.Module, pool: list, device: torch.device) -> Callable[[int], None]:
    """Returns ``run(i)`` doing iteration i of the reference solver's train loop."""
    g_optimizer = torch.optim.Adam(G.parameters(), 1e-4, (0.5, 0.999))
    d_optimizer = torch.optim.Adam(D.parameters(), 1e-4, (0.5, 0.999))

    def reset_grad() -> None:
        g_optimizer.zero_grad()
        d_optimizer.zero_grad()

    def gradient_penalty(y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        weight = torch.ones(y.size()).to(device)
        dydx = torch.autograd.grad(outputs=y, inputs=x, grad_outputs=weight,
                                   retain_graph=True, create_graph=True, only_inputs=True)[0]
        dydx = dydx.view(dydx.size(0), -1)
        dydx_l2norm = torch.sqrt(torch.sum(dydx**2, dim=1))
        return torch.mean((dydx_l2norm - 1) ** 2)

    def run(i: int) -> None:
        x_real, label_org = pool[i % len(pool)]
        rand_idx = torch.randperm(label_org.size(0))
        label_trg = label_org[rand_idx]
        c_org = label2onehot(label_org, C_DIM)
        c_trg = label2onehot(label_trg, C_DIM)
        x_real = x_real.to(device)
        c_org = c_org.to(device)
        c_trg = c_trg.to(device)
        label_org = label_org.to(device)
        label_trg = label_trg.to(device)

        out_src, out_cls = D(x_real)
        d_loss_real = -torch.mean(out_src)
        d_loss_cls = F.cross_entropy(out_cls, label_org)
        x_fake = G(x_real, c_trg)
        out_src, out_cls = D(x_fake.detach())
        d_loss_fake = torch.mean(out_src)
        alpha = torch.rand(x_real.size(0), 1, 1, 1).to(device)
        x_hat = (alpha * x_real.data + (1 - alpha) * x_fake.data).requires_grad_(True)
        out_src, _ = D(x_hat)
        d_loss_gp = gradient_penalty(out_src, x_hat)
        d_loss = d_loss_real + d_loss_fake + LAMBDA_CLS * d_loss_cls + LAMBDA_GP * d_loss_gp
        reset_grad()
        d_loss.backward()
        d_optimizer.step()
        loss = {"D/loss_real": d_loss_real.item(), "D/loss_fake": d_loss_fake.item(),
                "D/loss_cls": d_loss_cls.item(), "D/loss_gp": d_loss_gp.item()}

        if (i + 1) % N_CRITIC == 0:
            x_fake = G(x_real, c_trg)
            out_src, out_cls = D(x_fake)
            g_loss_fake = -torch.mean(out_src)
            g_loss_cls = F.cross_entropy(out_cls, label_trg)
            x_reconst = G(x_fake, c_org)
            g_loss_rec = torch.mean(torch.abs(x_real - x_reconst))
            g_loss = g_loss_fake + LAMBDA_REC * g_loss_rec + LAMBDA_CLS * g_loss_cls
            reset_grad()
            g_loss.backward()
            g_optimizer.step()
            loss.update({"G/loss_fake": g_loss_fake.item(), "G/loss_rec": g_loss_rec.item(),
                         "G/loss_cls": g_loss_cls.item()})
        if not all(math.isfinite(v) for v in loss.values()):
            raise FloatingPointError(f"reference loop: non-finite loss at iteration {i}: {loss}")

    return run


# ---------------------------------------------------------------- engine
def one_hot(label: torch.Tensor, n: int) -> torch.Tensor:
    """Scatter-based one-hot: no host sync, so the phase can be graph-captured."""
    return torch.zeros(label.shape[0], n, device=label.device).scatter_(1, label[:, None].long(), 1.0)


def random_permutation(label: torch.Tensor) -> torch.Tensor:
    """A uniform random permutation (argsort of uniform keys), drawn on the device."""
    return torch.rand(label.shape[0], device=label.device).argsort()


class BenchStarGAN:
    """The reference loop's maths as an engine Method (graph-safe phases)."""

    name = "bench_stargan"

    def __init__(self, G: nn.Module, D: nn.Module, pool: list, critic_batching: str = "all") -> None:
        self.G, self.D, self.pool = G, D, pool
        self.critic_batching = critic_batching
        self.config = {"lambda_cls": LAMBDA_CLS, "lambda_rec": LAMBDA_REC, "lambda_gp": LAMBDA_GP, "n_critic": N_CRITIC}

    def networks(self) -> dict[str, nn.Module]:
        return {"G": self.G, "D": self.D}

    def optim_groups(self) -> dict[str, dict[str, Any]]:
        return {n: {"lr": 1e-4, "betas": (0.5, 0.999)} for n in ("G", "D")}

    def data(self, device: torch.device, seed: int) -> Iterator[dict[str, torch.Tensor]]:
        pool = [(x.to(device), y.to(device)) for x, y in self.pool]
        i = 0
        while True:
            x, y = pool[i % len(pool)]
            i += 1
            yield {"image": x, "label": y}

    def d_phase(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, torch.Tensor]:
        x, label = batch["image"], batch["label"]
        c_trg = one_hot(label[random_permutation(label)], C_DIM)
        with torch.no_grad():
            x_fake = self.G(x, c_trg)
        (src_real, cls_real), (src_fake, _), loss_gp = critic_with_gp(self.D, x, x_fake, self.critic_batching)
        loss_real, loss_fake = -src_real.float().mean(), src_fake.float().mean()
        loss_cls = F.cross_entropy(cls_real.float(), label)
        loss = loss_real + loss_fake + LAMBDA_CLS * loss_cls + LAMBDA_GP * loss_gp
        return {"loss": loss, "loss_real": loss_real, "loss_fake": loss_fake, "loss_cls": loss_cls, "loss_gp": loss_gp}

    def g_phase(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, torch.Tensor]:
        x, label = batch["image"], batch["label"]
        label_trg = label[random_permutation(label)]
        x_fake = self.G(x, one_hot(label_trg, C_DIM))
        src_fake, cls_fake = self.D(x_fake)
        x_rec = self.G(x_fake, one_hot(label, C_DIM))
        loss_fake = -src_fake.float().mean()
        loss_cls = F.cross_entropy(cls_fake.float(), label_trg)
        loss_rec = (x.float() - x_rec.float()).abs().mean()
        loss = loss_fake + LAMBDA_REC * loss_rec + LAMBDA_CLS * loss_cls
        return {"loss": loss, "loss_fake": loss_fake, "loss_cls": loss_cls, "loss_rec": loss_rec}

    def phases(self) -> list[Phase]:
        return [Phase("D", ("D",), self.d_phase, capturable=True, double_backward=True),
                Phase("G", ("G",), self.g_phase, every=N_CRITIC, capturable=True)]

    def samples(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return batch["image"][:4]

    def export(self) -> dict[str, nn.Module]:
        return {"G": self.G}


# ---------------------------------------------------------------- timing
def time_iterations(run: Callable[[int], None], device: torch.device, warmup: int, iters: int) -> float:
    """Seconds for ``iters`` iterations after ``warmup`` (both multiples of n_critic)."""
    for i in range(warmup):
        run(i)
    synchronize(device)
    start = time.perf_counter()
    for i in range(warmup, warmup + iters):
        run(i)
    synchronize(device)
    return time.perf_counter() - start


#: Engine variants the benchmark can time: each switches one setting of the
#: engine's defaults off (TrainConfig overrides, plus three keys for the method
#: and networks: "critic", critic_with_gp's batching; "align": False, no channel
#: padding in AlignedConv2d layers; "critic_conv": False, D's CriticConv2d
#: layers back to AlignedConv2d). "engine" is the defaults.
VARIANTS: dict[str, dict[str, Any]] = {
    "engine": {},
    "engine_no_compile": {"compile": False},
    "engine_no_graphs": {"cuda_graphs": False},
    "engine_no_critic_conv": {"critic_conv": False},
    "engine_critic_pair": {"critic": "pair"},
    "engine_critic_separate": {"critic": "separate"},
    "engine_no_autocast_cache": {"autocast_cache": False},
    "engine_channels_last_all": {"channels_last": True},
    "engine_unaligned": {"align": False},
    "engine_fp32": {"precision": "fp32"},
    # bf16, CUDA graphs, channels_last everywhere and fused Adam only: the engine before
    # compile, the critic's batching and convolution, and the weight-cast cache
    "engine_graphs_only": {"compile": False, "autocast_cache": False, "channels_last": True, "critic": "separate",
                           "critic_conv": False},
    "engine_fp32_eager": {"precision": "fp32", "channels_last": False, "cuda_graphs": False, "fused_adam": False,
                          "compile": False, "critic": "separate", "critic_conv": False},
}

#: What each variant changes, in words (for tables and plots).
VARIANT_LABELS: dict[str, str] = {
    "engine": "engine defaults",
    "engine_no_compile": "without torch.compile of G",
    "engine_no_graphs": "without CUDA graphs",
    "engine_no_critic_conv": "D without CriticConv2d",
    "engine_critic_pair": "critic: real+fake, then interpolates",
    "engine_critic_separate": "critic: three forwards",
    "engine_no_autocast_cache": "without the weight-cast cache",
    "engine_channels_last_all": "channels_last for G too",
    "engine_unaligned": "without 8-channel padding",
    "engine_fp32": "fp32 instead of bf16",
    "engine_graphs_only": "bf16 + graphs + channels_last only",
    "engine_fp32_eager": "fp32, eager, plain Adam",
}


def engine_runner(G: nn.Module, D: nn.Module, pool: list, device: torch.device, overrides: dict[str, Any]) -> tuple[Callable[[int], None], Trainer]:
    overrides = dict(overrides)
    critic = overrides.pop("critic", "all")
    if not overrides.pop("critic_conv", True):
        plain_convs(D, AlignedConv2d)
    if not overrides.pop("align", True):
        for net in (G, D):
            for module in net.modules():
                if isinstance(module, AlignedConv2d):
                    module.align = False
    method = BenchStarGAN(G, D, pool, critic)
    config = TrainConfig(steps=10**9, device=str(device), progress=False, **overrides)
    trainer = Trainer(method, config)

    def run(i: int) -> None:
        trainer.train_step()

    return run, trainer


def bench_train(
    batches: tuple[int, ...] = (16, 64),
    image_size: int = 128,
    conv_dim: int = 64,
    warmup: int = 20,
    iters: int = 50,
    variants: tuple[str, ...] = ("engine",),
    device: str = "auto",
    out: str | Path | None = "book/results/engine/train_speed.json",
    seed: int = 0,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Time the reference loop and the engine variants; write and return the table."""
    dev = resolve_device(device)
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown:
        raise ValueError(f"unknown variants {unknown}; known: {sorted(VARIANTS)}")
    if warmup % N_CRITIC or iters % N_CRITIC:
        raise ValueError(f"warmup and iters must be multiples of n_critic={N_CRITIC}; got {warmup}, {iters}")
    if "engine" not in variants:
        variants = ("engine", *variants)
    rows = []
    for batch in batches:
        pool = make_pool(batch, image_size, dev, seed)
        G, D = build_networks(image_size, conv_dim, seed)
        init = (G.state_dict(), D.state_dict())
        plain_convs(G), plain_convs(D)  # the reference's layers: nn.Conv2d
        G.to(dev), D.to(dev)
        torch.backends.cudnn.benchmark = True
        seconds = time_iterations(reference_loop(G, D, pool, dev), dev, warmup, iters)
        row: dict[str, Any] = {"batch": batch, "reference_img_s": round(batch * iters / seconds, 1)}
        log(f"batch {batch}: reference {row['reference_img_s']} img/s")
        del G, D
        for name in variants:
            G, D = build_networks(image_size, conv_dim, seed)
            G.load_state_dict(init[0]), D.load_state_dict(init[1])
            try:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    run, trainer = engine_runner(G, D, pool, dev, VARIANTS[name])
                    seconds = time_iterations(run, dev, warmup, iters)
                    losses = trainer.flush_log()  # raises on a NaN/inf loss
                notes = sorted({str(w.message).splitlines()[0][:240] for w in caught if "gamutlib" in w.filename})
                if notes:
                    row[f"{name}_notes"] = notes
            except Exception as err:  # a variant that does not run is reported, and the others still run
                if isinstance(err, ValueError) and name == "engine":
                    raise
                row[f"{name}_error"] = f"{type(err).__name__}: {str(err)[:300]}"
                log(f"batch {batch}: {name} failed: {row[f'{name}_error']}")
                continue
            img_s = round(batch * iters / seconds, 1)
            key = "engine_img_s" if name == "engine" else f"{name}_img_s"
            row[key] = img_s
            if name == "engine":
                row["ratio"] = round(img_s / row["reference_img_s"], 2)
                row["engine_precision"] = str(trainer.autocast_dtype or torch.float32).removeprefix("torch.")
            else:
                row[f"{name}_ratio"] = round(img_s / row["reference_img_s"], 2)
            # What actually ran (a phase may fall back from a graph or from compile) and where the loss got to.
            row[f"{name}_graphs"] = sorted(trainer._graphs)
            row[f"{name}_compiled"] = sorted(trainer._compiled)
            if trainer._compile_skipped:
                row[f"{name}_compile_skipped"] = trainer._compile_skipped
            row[f"{name}_d_loss"] = round(losses.get("D/loss", float("nan")), 4)
            log(f"batch {batch}: {name} {img_s} img/s")
            del run, trainer, G, D
            if dev.type == "cuda":
                torch.cuda.empty_cache()
        rows.append(row)
    result = {
        "rows": rows,
        "protocol": (
            f"StarGAN G/D (conv_dim {conv_dim}, 6 res blocks) at {image_size} px, WGAN-GP, n_critic {N_CRITIC}; "
            f"img/s over {iters} iterations after {warmup} warm-up; reference = eager fp32 loop in the style of "
            "yunjey/stargan solver.py; engine = gamutlib.training.Trainer defaults with the critic's three batches "
            "in one forward; variants switch one default off; same process, same GPU"
        ),
        "paper": {"official_stargan_h100_img_s": {"16": 488, "64": 1040}, "target_ratio_batch16": 3.0},
        "device": device_name(dev),
        "torch": torch.__version__,
        "seeds": [seed],
        "complete": all("engine_img_s" in r for r in rows),
    }
    write_result(result, out)
    return result


def write_result(result: dict[str, Any], out: str | Path | None) -> None:
    if out is not None:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n")


def merge_parts(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """One table from several ``bench_train`` runs (a GPU command is limited in
    time, so the variants are timed in parts). Per batch, the first part gives
    ``reference_img_s``/``engine_img_s``/``ratio``; every part adds its
    variants (with their ratio to that part's own reference) and its own
    reference and engine speeds under ``parts``, which show the run-to-run spread."""
    if not parts:
        raise ValueError("no benchmark parts to merge")
    rows: dict[int, dict[str, Any]] = {}
    for part in parts:
        for row in part["rows"]:
            merged = rows.setdefault(row["batch"], {})
            merged.update({k: v for k, v in row.items() if k not in merged})
            variants = sorted({k[: -len("_img_s")] for k in row if k.endswith("_img_s")} - {"reference", "engine"})
            merged.setdefault("parts", []).append({"reference_img_s": row["reference_img_s"],
                                                   "engine_img_s": row.get("engine_img_s"), "variants": variants})
    devices = sorted({p.get("device", "?") for p in parts})
    return {**parts[0], "rows": [rows[b] for b in sorted(rows)], "devices": devices,
            "complete": all("engine_img_s" in r for r in rows.values())}
