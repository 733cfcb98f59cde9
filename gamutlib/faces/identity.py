"""Identities of the built-in benchmark: one face per integer id.

Every parameter of a face is a pure function of its id (a counter-based hash,
see `hash_uniform`), so identity ``i`` of a split is the same face on every
machine, on CPU and GPU, in every process, without storing a table. The train
split uses ids ``[0, N_TRAIN_IDENTITIES)``, the test split the disjoint range
``[TEST_ID_OFFSET, TEST_ID_OFFSET + N_TEST_IDENTITIES)``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import torch

N_TRAIN_IDENTITIES = 100_000
N_TEST_IDENTITIES = 10_000
TEST_ID_OFFSET = 1_000_000

HAIR_STYLES = ("cropped", "short", "medium", "long")

# Palettes (RGB in [0, 1]); a face picks one entry and jitters it.
_SKIN_LIGHT = (0.96, 0.80, 0.68)
_SKIN_DARK = (0.40, 0.26, 0.18)
_HAIR_COLOURS = (
    (0.08, 0.06, 0.05),  # black
    (0.22, 0.14, 0.08),  # dark brown
    (0.42, 0.28, 0.15),  # brown
    (0.78, 0.62, 0.38),  # blond
    (0.55, 0.22, 0.10),  # red
    (0.62, 0.60, 0.58),  # grey
)
_EYE_COLOURS = (
    (0.30, 0.18, 0.08),  # brown
    (0.40, 0.32, 0.14),  # hazel
    (0.25, 0.42, 0.62),  # blue
    (0.28, 0.45, 0.30),  # green
    (0.42, 0.46, 0.50),  # grey
)


def hash_uniform(ids: torch.Tensor, slot: int) -> torch.Tensor:
    """Uniform [0, 1) numbers that depend only on (id, slot).

    A 32-bit integer mix (the "lowbias32" finaliser) done in int64 with masks,
    so it never overflows and gives bit-identical values on CPU and CUDA.
    """
    mask = 0xFFFFFFFF
    x = (ids.long() * 0x9E3779B1 + (slot + 1) * 0x85EBCA77) & mask
    for _ in range(2):
        x = x ^ (x >> 16)
        x = (x * 0x7FEB352D) & mask
        x = x ^ (x >> 15)
        x = (x * 0x846CA68B) & mask
        x = x ^ (x >> 16)
    return x.double().div(2.0**32).float()


@dataclass
class Identity:
    """Per-face identity parameters, each a tensor with the batch as first dim.

    Lengths are in face units: the face is about 2 units wide (cheek to
    cheek), x to the image right, y down, origin near the eye line.
    """

    id: torch.Tensor  # (N,) long
    face_halfwidth: torch.Tensor
    skull_height: torch.Tensor
    jaw_length: torch.Tensor
    jaw_squareness: torch.Tensor  # superellipse exponent of the jaw (2 = round)
    eye_x: torch.Tensor
    eye_y: torch.Tensor
    eye_halfwidth: torch.Tensor
    eye_upper: torch.Tensor  # upper lid height above the corner line
    eye_lower: torch.Tensor  # lower lid depth below it
    eye_tilt: torch.Tensor  # canthal tilt (outer corner up when > 0)
    iris_radius: torch.Tensor
    brow_height: torch.Tensor  # inner brow end above the eye line
    brow_inner: torch.Tensor  # |x| of the inner brow end
    brow_outer: torch.Tensor
    brow_arch: torch.Tensor
    brow_thickness: torch.Tensor
    nose_length: torch.Tensor
    nose_width: torch.Tensor
    mouth_y: torch.Tensor
    mouth_halfwidth: torch.Tensor
    lip_upper: torch.Tensor
    lip_lower: torch.Tensor
    hairline: torch.Tensor
    hair_style: torch.Tensor  # (N,) long into HAIR_STYLES
    skin: torch.Tensor  # (N, 3)
    lips: torch.Tensor  # (N, 3)
    hair: torch.Tensor  # (N, 3)
    iris: torch.Tensor  # (N, 3)
    glasses: torch.Tensor  # (N,) 0/1
    beard: torch.Tensor  # (N,) 0..1 density
    au_gain: torch.Tensor  # (N, 17) idiosyncratic gain of each AU in emotions
    au_bias: torch.Tensor  # (N, 17) idiosyncratic resting activity

    def __len__(self) -> int:
        return int(self.id.shape[0])

    def to(self, device: torch.device | str) -> "Identity":
        return Identity(**{f.name: getattr(self, f.name).to(device) for f in fields(self)})

    def __getitem__(self, index) -> "Identity":
        return Identity(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    @property
    def device(self) -> torch.device:
        return self.id.device

    @staticmethod
    def cat(items: list["Identity"]) -> "Identity":
        return Identity(
            **{f.name: torch.cat([getattr(i, f.name) for i in items]) for f in fields(Identity)}
        )


def _lerp(lo: float, hi: float, u: torch.Tensor) -> torch.Tensor:
    return lo + (hi - lo) * u


def identities_from_ids(ids: torch.Tensor) -> Identity:
    """The faces with these ids (a pure function of the ids)."""
    ids = torch.as_tensor(ids).long().reshape(-1)
    if (ids < 0).any():
        raise ValueError("identity ids must be >= 0")
    slot = iter(range(1000))

    def u() -> torch.Tensor:
        return hash_uniform(ids, next(slot))

    def pick(palette, jitter: float) -> torch.Tensor:
        table = torch.tensor(palette, device=ids.device)
        idx = (u() * len(palette)).long().clamp_max(len(palette) - 1)
        colour = table[idx]
        noise = torch.stack([u(), u(), u()], 1) - 0.5
        return (colour + jitter * noise).clamp(0, 1)

    n = ids.shape[0]
    light, dark = torch.tensor(_SKIN_LIGHT, device=ids.device), torch.tensor(_SKIN_DARK, device=ids.device)
    tone = u() ** 1.3
    skin = light + (dark - light) * tone[:, None]
    skin = (skin + 0.05 * (torch.stack([u(), u(), u()], 1) - 0.5)).clamp(0, 1)
    lips = (skin * torch.tensor([0.92, 0.62, 0.62], device=ids.device) + torch.tensor([0.06, 0.0, 0.02], device=ids.device)).clamp(0, 1)
    hair = pick(_HAIR_COLOURS, 0.08)
    # Darker skins get darker hair more often, as in most populations.
    hair = torch.where((tone > 0.6)[:, None] & (u() < 0.7)[:, None], hair * 0.35, hair)
    iris = pick(_EYE_COLOURS, 0.08)
    iris = torch.where((tone > 0.5)[:, None], iris * 0.7 + torch.tensor([0.3, 0.18, 0.08], device=ids.device) * 0.3, iris)
    glasses = (u() < 0.12).float()
    beard = torch.where(u() < 0.18, _lerp(0.4, 1.0, u()), torch.zeros(n, device=ids.device))
    au_gain = torch.stack([_lerp(0.75, 1.25, u()) for _ in range(17)], 1)
    au_bias = torch.stack([0.25 * u() ** 3 for _ in range(17)], 1)

    return Identity(
        id=ids,
        face_halfwidth=_lerp(0.80, 0.90, u()),
        skull_height=_lerp(1.28, 1.45, u()),
        jaw_length=_lerp(1.30, 1.48, u()),
        jaw_squareness=_lerp(2.3, 3.1, u()),
        eye_x=_lerp(0.39, 0.45, u()),
        eye_y=_lerp(-0.08, 0.0, u()),
        eye_halfwidth=_lerp(0.19, 0.22, u()),
        eye_upper=_lerp(0.075, 0.10, u()),
        eye_lower=_lerp(0.045, 0.062, u()),
        eye_tilt=_lerp(-0.01, 0.025, u()),
        iris_radius=_lerp(0.078, 0.088, u()),
        brow_height=_lerp(0.16, 0.21, u()),
        brow_inner=_lerp(0.09, 0.15, u()),
        brow_outer=_lerp(0.64, 0.72, u()),
        brow_arch=_lerp(0.03, 0.08, u()),
        brow_thickness=_lerp(0.038, 0.055, u()),
        nose_length=_lerp(0.46, 0.56, u()),
        nose_width=_lerp(0.15, 0.2, u()),
        mouth_y=_lerp(0.80, 0.90, u()),
        mouth_halfwidth=_lerp(0.30, 0.36, u()),
        lip_upper=_lerp(0.055, 0.08, u()),
        lip_lower=_lerp(0.075, 0.10, u()),
        hairline=_lerp(-0.95, -0.75, u()),
        hair_style=(u() * len(HAIR_STYLES)).long().clamp_max(len(HAIR_STYLES) - 1),
        skin=skin,
        lips=lips,
        hair=hair,
        iris=iris,
        glasses=glasses,
        beard=beard,
        au_gain=au_gain,
        au_bias=au_bias,
    )


def split_ids(split: str, index: torch.Tensor) -> torch.Tensor:
    """Global id of identity ``index`` of ``split`` ("train" or "test")."""
    index = torch.as_tensor(index).long()
    if split == "train":
        if (index < 0).any() or (index >= N_TRAIN_IDENTITIES).any():
            raise ValueError(f"train identity index must be in [0, {N_TRAIN_IDENTITIES})")
        return index
    if split == "test":
        if (index < 0).any() or (index >= N_TEST_IDENTITIES).any():
            raise ValueError(f"test identity index must be in [0, {N_TEST_IDENTITIES})")
        return index + TEST_ID_OFFSET
    raise ValueError(f"split must be 'train' or 'test', got {split!r}")


def sample_identities(
    n: int,
    split: str = "train",
    seed: int = 0,
    device: torch.device | str = "cpu",
    generator: torch.Generator | None = None,
) -> Identity:
    """``n`` identities drawn (with replacement) from ``split``, seeded."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    pool = N_TRAIN_IDENTITIES if split == "train" else N_TEST_IDENTITIES
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    g = generator if generator is not None else torch.Generator().manual_seed(seed)
    index = torch.randint(pool, (n,), generator=g)
    return identities_from_ids(split_ids(split, index).to(device))
