"""What the four image-to-image methods of the GANmut series share.

StarGAN, GANimation, GANmut and GGANmut all train one G against one WGAN-GP
critic D with a classification head, on categorical labels only, with Adam
(lr 1e-4, betas 0.5/0.999), five D steps per G step and batches of 16 (StarGAN's
training strategy, which GANmut adopts: paper Sec. 5, supp. Sec. 3). This
module holds that common ground; each model file adds its networks and the
loss terms its paper invents.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Iterator

import torch
from torch import nn

from gamutlib.constants import EMOTIONS
from gamutlib.losses import critic_with_gp
from gamutlib.contract.method import Phase

N_EMOTIONS = len(EMOTIONS)
NEUTRAL = EMOTIONS.index("neutral")



def one_hot(label: torch.Tensor, n: int = N_EMOTIONS) -> torch.Tensor:
    """(N,) long -> (N, n) float one-hot, the condition StarGAN feeds G.

    Values are checked on CPU only: on a GPU the check would wait for the
    device at every step and forbid CUDA-graph capture of the phase."""
    if label.dim() != 1:
        raise ValueError(f"labels must be (N,); got {tuple(label.shape)}")
    if label.device.type == "cpu" and label.numel() and (int(label.min()) < 0 or int(label.max()) >= n):
        raise ValueError(f"labels must lie in [0, {n - 1}]; got values in [{int(label.min())}, {int(label.max())}]")
    out = torch.zeros(label.shape[0], n, device=label.device)
    return out.scatter_(1, label.long()[:, None], 1.0)


def shuffled_labels(label: torch.Tensor) -> torch.Tensor:
    """Target labels drawn as StarGAN draws them: a permutation of the batch's
    own labels, so targets follow the label distribution (the paper's c =d c').

    The permutation is the argsort of uniform noise rather than ``randperm``:
    ``rand`` advances the device generator the way a captured CUDA graph
    replays, so every replay draws a new permutation."""
    return label[torch.rand(label.shape[0], device=label.device).argsort()]


def adam_groups(config: Any, nets: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """Adam with the StarGAN settings for every network named."""
    return {name: {"lr": config.lr, "betas": tuple(config.betas)} for name in nets}


def random_flip(image: torch.Tensor) -> torch.Tensor:
    """Mirror each image left-right with probability 1/2: StarGAN's only
    augmentation, which the GANmut supplement (Sec. 3) keeps. An emotion label
    survives the mirror."""
    flip = torch.rand(image.shape[0], 1, 1, 1, device=image.device) < 0.5
    return torch.where(flip, image.flip(-1), image)


@dataclass
class TranslationConfig:
    """What every StarGAN-family method of the study shares: image and network
    sizes, the WGAN-GP critic, Adam and the batch (StarGAN's official defaults,
    which GANimation and GANmut kept). ``g_conv_dim`` 32 is the shipped width
    (the paper's 64 is 16.8 MB in fp16, over the 15 MB file limit, and too
    slow for a live slider); D is not shipped and keeps the paper's 64. Each
    method's config adds its own loss weights."""

    image_size: int = 128
    g_conv_dim: int = 32
    g_repeat_num: int = 6
    d_conv_dim: int = 64
    d_repeat_num: int = 6
    lambda_gp: float = 10.0
    lr: float = 1e-4
    betas: tuple[float, float] = (0.5, 0.999)
    n_critic: int = 5
    batch_size: int = 16


class FaceBatches:
    """Training batches of the built-in benchmark, mirrored at random
    (``random_flip``). Only ``image`` and the categorical ``label`` are passed
    on, as the paper trains on AffectNet's labels alone. The stream's own
    ``state_dict`` is forwarded so the trainer can resume it exactly; the flips
    use the global generator, which the trainer's checkpoints restore."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self._iter: Iterator[dict[str, torch.Tensor]] | None = None

    def __iter__(self) -> "FaceBatches":
        return self

    def __next__(self) -> dict[str, torch.Tensor]:
        if self._iter is None:
            self._iter = iter(self.stream)
        batch = next(self._iter)
        return {"image": random_flip(batch["image"]), "label": batch["label"]}

    def __getattr__(self, name: str) -> Any:
        # state_dict / load_state_dict of a resumable stream, and nothing else
        if name in ("state_dict", "load_state_dict"):
            return getattr(self.stream, name)
        raise AttributeError(name)


def face_batches(config: Any, device: torch.device, seed: int) -> FaceBatches:
    from gamutlib.data import FaceStream

    return FaceBatches(FaceStream(config.batch_size, size=config.image_size, split="train", seed=seed, device=device))


def grid(rows: list[torch.Tensor]) -> torch.Tensor:
    """Tile equally shaped (R, 3, H, W) columns into one (1, 3, R*H, C*W) image,
    one input per row, one edit per column."""
    cols = torch.stack([r.detach().float().clamp(-1, 1) for r in rows], dim=1)  # (R, C, 3, H, W)
    R, C, ch, H, W = cols.shape
    return cols.permute(2, 0, 3, 1, 4).reshape(1, ch, R * H, C * W)


class TranslationMethod:
    """What StarGAN, GANimation, GANmut and GGANmut share as trainer methods:
    generator-side networks ``generator_nets`` (G, plus GANmut's learned
    condition space) against a critic ``D``, Adam at StarGAN's settings for
    each, ``n_critic`` D steps per G step, the benchmark's categorical batches.
    A subclass builds ``cfg``, the networks, and writes ``d_phase``/``g_phase``."""

    name: str
    cfg: Any
    D: nn.Module
    generator_nets: tuple[str, ...] = ("G",)

    @property
    def config(self) -> dict[str, Any]:
        return {"method": self.name, **asdict(self.cfg)}

    def networks(self) -> dict[str, nn.Module]:
        return {name: getattr(self, name) for name in (*self.generator_nets, "D")}

    def optim_groups(self) -> dict[str, dict[str, Any]]:
        return adam_groups(self.cfg, (*self.generator_nets, "D"))

    def phases(self) -> list[Phase]:
        return [
            Phase("D", ("D",), self.d_phase, every=1, capturable=True, double_backward=True),
            Phase("G", self.generator_nets, self.g_phase, every=self.cfg.n_critic, capturable=True),
        ]

    def data(self, device: torch.device, seed: int) -> Iterator[dict[str, torch.Tensor]]:
        return face_batches(self.cfg, device, seed)

    def critic(self, x: torch.Tensor, x_fake: torch.Tensor) -> tuple[tuple[torch.Tensor, ...], tuple[torch.Tensor, ...], torch.Tensor]:
        """D's outputs on the real and the fake batch and the WGAN-GP between
        them, from one forward of D over both and their interpolates (D has no
        batch-coupled layers, so this is the same as three separate forwards;
        see ``critic_with_gp``)."""
        return critic_with_gp(self.D, x, x_fake)

    def d_phase(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def g_phase(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, torch.Tensor]:
        raise NotImplementedError
