"""Editing a face with PortraitGAN: named landmark controls, point offsets and a modality.

The paper's interactive interface lets a user drag facial landmarks and pick a
target modality (Fig. 7). Here the drag is declared once as named controls
(``gamutlib.contract.Control``), each moving a fixed set of the 68 iBUG points
by an amount proportional to its value, so ``gamut edit``'s flags, the range
checks, the explorers' sliders and the edit benchmark all come from one
declaration; a JSON of per-point offsets (``--landmarks offsets.json``) gives
full freedom on top. The moved points are rasterised with the benchmark's
landmark rasteriser and fed to G with the modality's one-hot code.

The face's own landmarks (L_A) are given by the caller (a benchmark face
carries them); otherwise the editor uses the benchmark's mean neutral frontal
landmarks, the frame every aligned crop is mapped to.

Displacements are fractions of the image side, so a control means the same at
64, 128 or 256 px; positive ``y`` is down (image coordinates).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from gamutlib.constants import N_LANDMARKS, STYLES
from gamutlib.contract.controls import Control, check_values
from gamutlib.contract.method import build_config
from gamutlib.models.editor import (NetPart, SourceCache, as_image, check_image, check_variant, prepare_generator,
                                    run_as)
from gamutlib.models.portraitgan import PortraitGAN, PortraitGANConfig, build_generator, landmark_map
from gamutlib.models.translation import one_hot

# control -> {point index: (dx, dy) per unit of the control, in fractions of the image side}
_LOWER_LIP = {55: 0.5, 56: 0.85, 57: 1.0, 58: 0.85, 59: 0.5, 65: 0.85, 66: 1.0, 67: 0.85}
_CHIN = {4: 0.15, 5: 0.3, 6: 0.45, 7: 0.55, 8: 0.6, 9: 0.55, 10: 0.45, 11: 0.3, 12: 0.15}
MOVES: dict[str, dict[int, tuple[float, float]]] = {
    # the lower lip and, half as far, the chin drop; the inner upper lip lifts a little
    "mouth_open": {**{i: (0.0, 0.09 * w) for i, w in _LOWER_LIP.items()},
                   **{i: (0.0, 0.045 * w) for i, w in _CHIN.items()},
                   **{i: (0.0, -0.01) for i in (61, 62, 63)}},
    # the mouth corners move apart (> 0) or together (< 0), their neighbours half as far
    "smile_width": {48: (-0.035, 0.0), 60: (-0.03, 0.0), 49: (-0.017, 0.0), 59: (-0.017, 0.0),
                    54: (0.035, 0.0), 64: (0.03, 0.0), 53: (0.017, 0.0), 55: (0.017, 0.0)},
    # the corners rise (> 0, a smile) or fall (< 0)
    "lip_corners": {**{i: (0.0, -0.03) for i in (48, 54, 60, 64)}, **{i: (0.0, -0.012) for i in (49, 53, 55, 59)}},
    "brow_raise": {i: (0.0, -0.04) for i in range(17, 27)},
    # upper lids up and lower lids down (> 0), or the eyes narrow (< 0)
    "eye_opening": {**{i: (0.0, -0.018) for i in (37, 38, 43, 44)}, **{i: (0.0, 0.008) for i in (40, 41, 46, 47)}},
}
#: jaw: every jaw point moves away from (> 0) or towards (< 0) the face's vertical axis by
#: this fraction of its distance to it (< 0 is the paper's face slimming, Fig. 7)
JAW_SCALE = 0.12

CONTROLS: tuple[Control, ...] = (
    Control("mouth_open", "how far the mouth opens (the lower lip and chin drop)", 0.0, 1.0, 0.0),
    Control("smile_width", "mouth corners apart (> 0) or together (< 0)", -1.0, 1.0, 0.0),
    Control("lip_corners", "mouth corners up (> 0, smiling) or down (< 0)", -1.0, 1.0, 0.0),
    Control("brow_raise", "brows up (> 0) or down (< 0)", -1.0, 1.0, 0.0),
    Control("eye_opening", "eyes wider (> 0) or narrower (< 0)", -1.0, 1.0, 0.0),
    Control("jaw", "jaw wider (> 0) or slimmer (< 0, the paper's face slimming)", -1.0, 1.0, 0.0),
    Control("modality", "the target modality", choices=STYLES, default="photo"),
)


def control_offsets(values: Mapping[str, Any], landmarks: torch.Tensor, size: int) -> torch.Tensor:
    """(N, 68, 2) pixel displacements of checked control ``values`` for faces with ``landmarks``."""
    offsets = torch.zeros_like(landmarks, dtype=torch.float32)
    for name, moves in MOVES.items():
        v = float(values.get(name, 0.0))
        if v:
            for i, (dx, dy) in moves.items():
                offsets[:, i, 0] += v * dx * size
                offsets[:, i, 1] += v * dy * size
    v = float(values.get("jaw", 0.0))
    if v:
        axis = landmarks[:, 27:31, 0].mean(1, keepdim=True)  # the nose bridge's x
        weight = torch.ones(17, device=landmarks.device)
        weight[[0, 16]], weight[[1, 15]] = 0.3, 0.6  # the top of the jaw line stays near the ears
        offsets[:, :17, 0] += v * JAW_SCALE * weight * (landmarks[:, :17, 0].float() - axis)
    return offsets


def read_offsets(path: str | Path) -> torch.Tensor:
    """(68, 2) pixel offsets from a JSON file: a list of 68 [dx, dy], or {"offsets": that list}.

    One ValueError naming the file and the problem: not JSON, not 68 points,
    a point that is not two numbers, a NaN or infinite value."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ValueError(f"landmark offsets: no file {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"landmark offsets: {path} is not readable JSON ({err})") from None
    if isinstance(data, dict):
        if "offsets" not in data:
            raise ValueError(f"landmark offsets: {path} holds an object without an 'offsets' list")
        data = data["offsets"]
    if not isinstance(data, list):
        raise ValueError(f"landmark offsets: {path} must hold a list of {N_LANDMARKS} [dx, dy] pairs")
    if len(data) != N_LANDMARKS:
        raise ValueError(f"landmark offsets: {path} holds {len(data)} points; give exactly {N_LANDMARKS} "
                         "[dx, dy] pairs in the iBUG 68-point order (0 for points that stay)")
    points = []
    for i, point in enumerate(data):
        if (not isinstance(point, (list, tuple)) or len(point) != 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in point)):
            raise ValueError(f"landmark offsets: point {i} in {path} is {point!r}, not a pair of numbers [dx, dy]")
        if not all(math.isfinite(v) for v in point):
            raise ValueError(f"landmark offsets: point {i} in {path} is {point!r}; offsets must be finite numbers")
        points.append([float(point[0]), float(point[1])])
    return torch.tensor(points, dtype=torch.float32)


def check_inside(points: torch.Tensor, size: int) -> None:
    """One ValueError naming every moved point outside the size x size image."""
    outside = ((points < 0) | (points > size - 1)).any(-1)  # (N, 68)
    if bool(outside.any()):
        idx = outside.nonzero()[:, -1].unique().tolist()
        first = points.reshape(-1, N_LANDMARKS, 2)[outside.nonzero()[0, 0], idx[0]].tolist()
        raise ValueError(f"landmarks: point{'s' if len(idx) > 1 else ''} {', '.join(map(str, idx))} would leave the "
                         f"{size}x{size} image (point {idx[0]} at ({first[0]:.1f}, {first[1]:.1f})); "
                         f"moved points must stay within [0, {size - 1}]")


_TEMPLATES: dict[int, torch.Tensor] = {}


def template_landmarks(size: int) -> torch.Tensor:
    """(1, 68, 2): the mean landmarks of 64 neutral, frontal held-out benchmark faces at ``size`` px."""
    if size not in _TEMPLATES:
        from gamutlib.faces import sample_identities
        from gamutlib.faces.geometry import au_geometry, landmarks

        identity = sample_identities(64, "test", generator=torch.Generator().manual_seed(0))
        g = au_geometry(identity, torch.zeros(64, 17), torch.zeros(64, 3))
        _TEMPLATES[size] = landmarks(g, size).float().mean(0, keepdim=True)
    return _TEMPLATES[size].clone()


class PortraitGANEditor:
    """Edit a face's landmarks and modality with a trained PortraitGAN generator."""

    method_cls = PortraitGAN
    controls: tuple[Control, ...] = CONTROLS
    shortcuts: tuple[Control, ...] = ()
    #: every control has a default (0: the face's own landmarks; photo), so any subset may be given
    controls_have_defaults = True
    #: file inputs of ``gamut edit`` (--NAME PATH), read by ``read_file_option`` before weights load
    file_options: tuple[tuple[str, str], ...] = (
        ("landmarks", "A JSON of 68 [dx, dy] per-point pixel offsets (iBUG order), added to the controls' moves."),
    )
    example_values: tuple[dict[str, Any], ...] = (
        {"mouth_open": 0.5, "modality": "sketch"},
        {"smile_width": 0.6, "lip_corners": 0.8, "modality": "photo"},
        {"brow_raise": 0.7, "eye_opening": 0.5, "jaw": -0.5, "modality": "cartoon"},
    )

    def __init__(self, G: nn.Module, config: PortraitGANConfig, variant: str = "fp32") -> None:
        self.G = G.eval()
        self.cfg = config
        self.image_size = config.image_size
        self.variant = prepare_generator(self.G, variant)
        self._compiled: nn.Module | None = None
        # G split at its stem convolution (PortraitGenerator.stem_share): the face's share is
        # kept per face, the modality's per modality; an edit convolves the moved landmarks only
        self._split = hasattr(self.G, "stem_share") and hasattr(self.G, "from_stem_conv")
        self._share, self._rest = NetPart(self.G, "stem_share"), NetPart(self.G, "from_stem_conv")
        self._face_share, self._modality_share = SourceCache(self.G), SourceCache(self.G)
        # the last rasterised target points and their map: a modality change alone redraws nothing
        self._last_map: tuple[torch.Tensor, torch.Tensor] | None = None

    @classmethod
    def from_method(cls, method: PortraitGAN) -> "PortraitGANEditor":
        return cls(method.G, method.cfg)

    @classmethod
    def from_weights(cls, name: str | None = None, root: str = "weights", verify: bool = True) -> "PortraitGANEditor":
        from gamutlib.weights import load_into, load_weights

        name = name or "portraitgan"
        expected = {"method": "portraitgan"}
        _, config = load_weights(name, expected=expected, root=root, verify=verify)
        cfg = build_config(PortraitGANConfig, config, {})
        G = build_generator(cfg)
        load_into({"G": G}, name, expected=expected, root=root, verify=verify)
        return cls(G, cfg)

    @staticmethod
    def read_file_option(name: str, path: str | Path) -> torch.Tensor:
        if name != "landmarks":
            raise ValueError(f"unknown file option {name!r}")
        return read_offsets(path)

    def use_variant(self, variant: str) -> None:
        self.variant = prepare_generator(self.G, check_variant(variant))

    def check(self, values: Mapping[str, Any]) -> dict[str, Any]:
        return check_values(self.controls, {k: v for k, v in values.items() if v is not None})

    def target_landmarks(self, values: Mapping[str, Any], landmarks: torch.Tensor | None = None,
                         offsets: torch.Tensor | None = None) -> torch.Tensor:
        """(1, 68, 2) moved points: the face's ``landmarks`` (default: the template) plus the
        checked controls' moves plus ``offsets`` (68, 2); every point checked inside the image."""
        size = self.image_size
        base = template_landmarks(size) if landmarks is None else landmarks.detach().float().cpu().reshape(1, N_LANDMARKS, 2)
        if not torch.isfinite(base).all():
            raise ValueError("landmarks: the face's landmarks contain NaN or infinite values")
        checked = self.check(values)
        moved = base + control_offsets(checked, base, size)
        if offsets is not None:
            if offsets.shape != (N_LANDMARKS, 2):
                raise ValueError(f"landmark offsets must be ({N_LANDMARKS}, 2); got {tuple(offsets.shape)}")
            moved = moved + offsets.float().cpu()
        check_inside(moved, size)
        return moved

    def modality_code(self, modality: str) -> torch.Tensor:
        if modality not in self.cfg.modalities:
            raise ValueError(f"modality must be one of {', '.join(self.cfg.modalities)} for these weights; got {modality!r}")
        return one_hot(torch.tensor([self.cfg.modalities.index(modality)]), len(self.cfg.modalities))

    def edit_values(self, x: torch.Tensor, values: Mapping[str, Any], landmarks: torch.Tensor | None = None) -> torch.Tensor:
        """G(x | moved landmarks, modality): ``values`` are controls by name; ``landmarks``
        (68, 2) pixel offsets from ``read_offsets`` (the CLI's --landmarks) are added."""
        return self.edit(x, values, offsets=landmarks)

    def edit(self, x: torch.Tensor, values: Mapping[str, Any], face_landmarks: torch.Tensor | None = None,
             offsets: torch.Tensor | None = None) -> torch.Tensor:
        """The edited face (1, 3, S, S) in [-1, 1]; ``face_landmarks`` are x's own points (else the template)."""
        x = check_image(x, self.image_size)
        if x.shape[0] != 1:
            raise ValueError(f"edit one face at a time; got a batch of {x.shape[0]}")
        checked = self.check(values)
        points = self.target_landmarks(checked, face_landmarks, offsets)
        return self.run(x, self.landmark_map(points), self.modality_code(checked["modality"]))

    def landmark_map(self, points: torch.Tensor) -> torch.Tensor:
        """(1, 1, S, S): the boundary map G is conditioned on, of the moved ``points`` (1, 68, 2);
        the last one is kept, so an edit that moves no point (a new modality) does not redraw it."""
        if self._last_map is None or not torch.equal(self._last_map[0], points):
            self._last_map = (points.clone(), landmark_map(points, self.image_size, self.cfg.landmark_width))
        return self._last_map[1]

    def run(self, x: torch.Tensor, lmap: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        """G as ``self.variant`` (see gamutlib.models.editor.SPEED_VARIANTS), float32 output clamped to [-1, 1].

        For one face, the stem convolution's shares of the face and the modality are
        kept (``G.stem_share``): equal to the whole pass up to float rounding (1e-6)."""
        lmap, code = lmap.to(x.device, x.dtype), code.to(x.device, x.dtype)
        if self._split and x.shape[0] == 1 and self.variant != "compiled":
            v = self.variant
            face = self._face_share.get(x, v, lambda t: run_as(self._share, v, "image", t))
            modality = self._modality_share.get(code, v, lambda t: run_as(self._share, v, "modality", t, x))
            h = face + modality + run_as(self._share, v, "landmarks", lmap)
            return as_image(run_as(self._rest, v, h))
        if "channels_last" in self.variant:
            x, lmap = x.contiguous(memory_format=torch.channels_last), lmap.contiguous(memory_format=torch.channels_last)
        net = self.G
        if self.variant == "compiled":
            if self._compiled is None:
                self._compiled = torch.compile(self.G, dynamic=False)
            net = self._compiled
        with torch.inference_mode(), torch.autocast(x.device.type, dtype=torch.bfloat16, enabled="bf16" in self.variant):
            out = net(x, lmap, code)
        return out.float().clamp(-1, 1).contiguous()

    def __deepcopy__(self, memo: dict) -> "PortraitGANEditor":
        import copy

        return PortraitGANEditor(copy.deepcopy(self.G, memo), self.cfg, self.variant)
