"""`render`: identity + AUs (+ pose, light, style, background) -> image and landmarks."""

from __future__ import annotations

import torch

from gamutlib.constants import AU_IDS, AU_MAX, STYLES

from gamutlib.faces import geometry as geo
from gamutlib.faces.identity import Identity, hash_uniform
from gamutlib.faces.raster import Fields
from gamutlib.faces.styles import STYLE_PAINTERS

MIN_SIZE, MAX_SIZE = 32, 1024
MAX_POSE = 0.6  # radians; the layered geometry holds up to about 35 degrees
DEFAULT_LIGHT = (-0.35, -0.45, 1.0)


def style_index(style: str | int | torch.Tensor, n: int, device: torch.device) -> torch.Tensor:
    """(n,) long style ids from a name, an int, or a tensor of ids."""
    if isinstance(style, str):
        if style not in STYLES:
            raise ValueError(f"style must be one of {STYLES}, got {style!r}")
        return torch.full((n,), STYLES.index(style), dtype=torch.long, device=device)
    if isinstance(style, int):
        style = torch.full((n,), style, dtype=torch.long)
    if not isinstance(style, torch.Tensor) or style.dtype not in (torch.long, torch.int, torch.int32):
        raise TypeError("style must be a style name or an integer tensor of style ids")
    style = style.to(device).long().reshape(-1)
    if style.shape[0] != n:
        raise ValueError(f"style has {style.shape[0]} entries for {n} faces")
    if (style < 0).any() or (style >= len(STYLES)).any():
        raise ValueError(f"style ids must be in [0, {len(STYLES)})")
    return style


def _check_tensor(name: str, t: torch.Tensor, shape: tuple[int, int]) -> None:
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if tuple(t.shape) != shape:
        raise ValueError(f"{name} must have shape {shape}, got {tuple(t.shape)}")
    if not torch.isfinite(t).all():
        raise ValueError(f"{name} contains NaN or inf")


def check_aus(aus: torch.Tensor, n: int | None = None) -> None:
    """Raise a clear error unless ``aus`` is a finite (N, 17) tensor in [0, 5]."""
    if not isinstance(aus, torch.Tensor):
        raise TypeError(f"aus must be a torch.Tensor, got {type(aus).__name__}")
    if aus.ndim != 2 or aus.shape[1] != len(AU_IDS):
        raise ValueError(f"aus must be (N, {len(AU_IDS)}) in the order {AU_IDS}, got {tuple(aus.shape)}")
    if n is not None and aus.shape[0] != n:
        raise ValueError(f"aus has {aus.shape[0]} rows for {n} identities")
    if not torch.isfinite(aus).all():
        raise ValueError("aus contains NaN or inf")
    lo, hi = float(aus.min()), float(aus.max())
    if lo < 0 or hi > AU_MAX:
        raise ValueError(f"aus must be in [0, {AU_MAX}] (OpenFace scale), got values in [{lo:.3g}, {hi:.3g}]")


def default_background(identity: Identity) -> torch.Tensor:
    """A muted per-identity backdrop colour (deterministic in the id)."""
    u = torch.stack([hash_uniform(identity.id, 900 + k) for k in range(3)], 1)
    return 0.35 + 0.45 * u


def _paint(g: geo.Geometry, identity: Identity, size: int, light: torch.Tensor, seed: torch.Tensor,
           background: torch.Tensor, style: int) -> torch.Tensor:
    """(N, 3, size*size) image in [0, 1] of one style: the fields, then the painter."""
    fields = Fields(g, identity, size, light, seed)
    return STYLE_PAINTERS[style](fields, identity, background)


_compiled_paint = None


def _painter(compile: bool):
    """`_paint`, or its torch.compile'd version: the fields and painters are ~1,000
    elementwise ops over every pixel, which inductor fuses into a few kernels
    (about 6x faster on CPU, same pixels to float rounding). Compiling takes
    ~30 s once per process and size, so it is opt-in (long training runs, bench)."""
    global _compiled_paint
    if not compile:
        return _paint
    if _compiled_paint is None:
        # One graph per (size, style) pair, plus one when the batch size first
        # changes: 3 sizes x 3 styles exceed dynamo's default of 8 graphs per
        # function, after which it would silently fall back to eager.
        import torch._dynamo.config as dynamo_config

        for name in ("recompile_limit", "cache_size_limit"):
            if hasattr(dynamo_config, name):
                setattr(dynamo_config, name, max(getattr(dynamo_config, name), 32))
        _compiled_paint = torch.compile(_paint)
    return _compiled_paint


def render(
    identity: Identity,
    aus: torch.Tensor,
    pose: torch.Tensor | None = None,
    light: torch.Tensor | None = None,
    style: str | int | torch.Tensor = "photo",
    size: int = 128,
    background: torch.Tensor | None = None,
    noise_seed: torch.Tensor | None = None,
    compile: bool = False,
) -> dict[str, torch.Tensor]:
    """Draw faces.

    identity: an `Identity` of N faces. aus: (N, 17) in [0, 5], AU_IDS order.
    pose: (N, 3) yaw/pitch/roll radians (default frontal). light: (N, 3)
    direction towards the light in camera space (x right, y down, z to the
    viewer). style: a name of `STYLES` or an (N,) tensor of style ids.
    background: (N, 3) RGB in [0, 1]. noise_seed: (N,) long seed of the skin
    and paper grain (default: the identity id, so a face is reproducible).
    compile: paint through torch.compile (see `_painter`).

    Returns ``image`` (N, 3, size, size) in [-1, 1] and ``landmarks``
    (N, 68, 2) in pixels (x, y).
    """
    if not isinstance(identity, Identity):
        raise TypeError(f"identity must be a gamutlib.faces.Identity, got {type(identity).__name__}")
    n, device = len(identity), identity.device
    if not isinstance(size, int) or isinstance(size, bool) or not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"size must be an int in [{MIN_SIZE}, {MAX_SIZE}], got {size!r}")
    check_aus(aus, n)
    aus = aus.to(device=device, dtype=torch.float32)
    if pose is None:
        pose = torch.zeros(n, 3, device=device)
    _check_tensor("pose", pose, (n, 3))
    if pose.abs().max() > MAX_POSE:
        raise ValueError(f"pose angles must be within +-{MAX_POSE} rad, got {float(pose.abs().max()):.3g}")
    if light is None:
        light = torch.tensor(DEFAULT_LIGHT, device=device).expand(n, 3)
    _check_tensor("light", light, (n, 3))
    if background is None:
        background = default_background(identity)
    _check_tensor("background", background, (n, 3))
    if noise_seed is None:
        noise_seed = identity.id
    styles = style_index(style, n, device)
    pose, light, background = pose.to(device).float(), light.to(device).float(), background.to(device).float()

    g = geo.au_geometry(identity, aus, pose)
    marks = geo.landmarks(g, size)
    image = torch.empty(n, 3, size * size, device=device)
    present = styles.unique().tolist() if styles.numel() else []
    for s in present:  # at most len(STYLES) passes; faces inside a pass are batched
        if len(present) == 1:
            sub_g, sub_id, idx = g, identity, None
        else:
            idx = (styles == s).nonzero().squeeze(1)
            sub_g = geo.Geometry(
                p={k: v[idx] for k, v in g.p.items()},
                frames={k: (m[idx], o[idx]) for k, (m, o) in g.frames.items()},
                rotation=g.rotation[idx],
            )
            sub_id = identity[idx]
        sub_light = light if idx is None else light[idx]
        sub_bg = background if idx is None else background[idx]
        sub_seed = noise_seed if idx is None else noise_seed[idx]
        painted = _painter(compile)(sub_g, sub_id, size, sub_light, sub_seed.to(device), sub_bg, int(s))
        if idx is None:
            image = painted
        else:
            image[idx] = painted
    image = image.clamp(0, 1).view(n, 3, size, size) * 2 - 1
    return {"image": image, "landmarks": marks}
