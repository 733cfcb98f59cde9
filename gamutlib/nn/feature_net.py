"""The benchmark's own feature network, for perceptual and texture losses.

EGGAN's perceptual loss (its Eq. 5) compares activations of an ImageNet VGG19.
Here the features come from ``BenchmarkFeatures``, trained on the benchmark's
renders by its own method (``feature_net``: identity classification over a
closed pool of training identities plus AU-intensity regression; see
gamutlib/models/feature_net.py). It is deliberately **not** one of the
scoring judges (gamutlib/judges): a generator trained against the network
that later scores it learns to please that network, and its score stops
measuring the edit. So this module never imports gamutlib.judges, and
``load_benchmark_features`` refuses any weights file that is not a
``feature_net`` export. It also differs from the judges in architecture
(residual stages with group norm and GELU), objective and seed.

``BenchmarkFeatures(x)`` takes images in [-1, 1], NCHW, and returns a list of
four feature maps at strides 2, 4, 8 and 16. Any loss that wants features
(``gamutlib.losses.perceptual.perceptual_loss``, a Gram texture loss) takes
a callable with exactly that interface.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

FEATURE_METHOD = "feature_net"


class _Stage(nn.Module):
    """A stride-2 conv, then a residual pair of 3x3 convs (group norm, GELU)."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.down = nn.Sequential(nn.Conv2d(c_in, c_out, 3, 2, 1), nn.GroupNorm(min(8, c_out), c_out), nn.GELU())
        self.body = nn.Sequential(
            nn.Conv2d(c_out, c_out, 3, 1, 1), nn.GroupNorm(min(8, c_out), c_out), nn.GELU(),
            nn.Conv2d(c_out, c_out, 3, 1, 1), nn.GroupNorm(min(8, c_out), c_out),
        )
        self.act = nn.GELU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.down(x)
        return self.act(h + self.body(h))


class BenchmarkFeatures(nn.Module):
    """x (N, 3, H, W) in [-1, 1] -> [f1, f2, f3, f4] at H/2, H/4, H/8, H/16."""

    def __init__(self, width: int = 24) -> None:
        super().__init__()
        self.width = width
        widths = (width, 2 * width, 4 * width, 8 * width)
        self.stages = nn.ModuleList(_Stage(c_in, c_out) for c_in, c_out in zip((3, *widths[:-1]), widths))
        self.channels = widths

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f"BenchmarkFeatures expects (N, 3, H, W) images in [-1, 1]; got {tuple(x.shape)}")
        feats = []
        h = x
        for stage in self.stages:
            h = stage(h)
            feats.append(h)
        return feats


def frozen(features: nn.Module) -> nn.Module:
    """The network in eval mode with no trainable parameters (a loss's fixed feature map)."""
    features.eval()
    for p in features.parameters():
        p.requires_grad_(False)
    return features


def load_benchmark_features(name_or_path: str = FEATURE_METHOD, root: str = "weights", verify: bool = True) -> BenchmarkFeatures:
    """A trained, frozen ``BenchmarkFeatures`` from a ``feature_net`` export.

    ``name_or_path`` is a name under ``root`` or a .safetensors path. Files of
    any other method (a judge above all) are refused: see the module docstring.
    """
    from gamutlib.weights import load_into, load_weights, read_metadata, resolve_weights_path

    try:
        path = resolve_weights_path(name_or_path, root)
    except FileNotFoundError:
        raise FileNotFoundError(
            f"no feature network {name_or_path!r} under {root}: train it with `gamut train feature_net --export feature_net` "
            "(scripts/gpu/train_eggan.sh does it first)"
        ) from None
    method = read_metadata(path).get("method")
    if method != FEATURE_METHOD:
        raise ValueError(f"{path} holds {method!r} weights; the perceptual loss only uses a {FEATURE_METHOD!r} export "
                         "(a scoring judge must never be a training loss)")
    _, config = load_weights(path.stem, expected={"method": FEATURE_METHOD}, root=str(Path(path).parent), verify=verify)
    net = BenchmarkFeatures(int(config.get("width", 24)))
    load_into({"F": net}, path.stem, expected={"method": FEATURE_METHOD}, root=str(Path(path).parent), verify=verify)
    return frozen(net)  # type: ignore[return-value]
