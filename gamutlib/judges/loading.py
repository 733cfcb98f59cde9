"""One-call loading of the shipped judges.

``load_judges(device)`` returns the three judges ready for the metrics (eval
mode, no gradients); ``load_emotion_judge()``, ``load_au_judge()`` and
``load_identity_judge()`` load one. Each file is checked by the weights
registry (sha256) and rebuilt from the config stored in it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from gamutlib.judges.networks import AUJudge, EmotionJudge, IdentityJudge
from gamutlib.weights import SHIPPED_ROOT, has_weights, load_into, plain_path, read_metadata, weights_file

#: Shipped file name (weights/<name>.safetensors) of each judge = the method that trains it.
JUDGE_FILES = {"emotion": "judge_emotion", "au": "judge_au", "identity": "judge_identity"}


def judge_path(kind: str, root: str | os.PathLike[str] | None = None) -> Path:
    """The judge's plain file under ``root`` (default: the shipped weights/), unpacked
    from its packed form first where need be; it does not exist where neither does."""
    if kind not in JUDGE_FILES:
        raise ValueError(f"judge kind must be one of {sorted(JUDGE_FILES)}, got {kind!r}")
    folder, name = Path(root if root is not None else SHIPPED_ROOT), JUDGE_FILES[kind]
    return weights_file(folder, name) if has_weights(folder, name) else plain_path(folder, name)


def _load(kind: str, device: torch.device | str, root: str | os.PathLike[str] | None, verify: bool) -> tuple[nn.Module, dict[str, Any]]:
    from gamutlib.judges.au import JudgeAU
    from gamutlib.judges.emotion import JudgeEmotion
    from gamutlib.judges.identity import JudgeIdentity

    path = judge_path(kind, root)
    method = JUDGE_FILES[kind]
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: the {kind} judge has not been trained here. Make it with "
            f"`gamut train {method}` (then export it to weights/), or run scripts/gpu/train_judges.sh "
            "on a GPU machine, which trains and exports all three judges"
        )
    config = json.loads(read_metadata(path).get("config", "{}"))
    if config.get("method", method) != method:
        raise ValueError(f"{path} holds a {config.get('method')!r} network, not the {method} judge")
    builder = {"emotion": JudgeEmotion, "au": JudgeAU, "identity": JudgeIdentity}[kind]
    net = builder(config).net
    load_into({"judge": net}, path, expected={"method": method}, root=path.parent, verify=verify)
    net.to(device).eval().requires_grad_(False)
    return net, config


def load_emotion_judge(device: torch.device | str = "cpu", root: str | os.PathLike[str] | None = None, verify: bool = True) -> EmotionJudge:
    """The VGG emotion classifier (``features``, ``logits``, ``probs``)."""
    return _load("emotion", device, root, verify)[0]  # type: ignore[return-value]


def load_au_judge(device: torch.device | str = "cpu", root: str | os.PathLike[str] | None = None, verify: bool = True) -> AUJudge:
    """The AU intensity and landmark regressor (``aus``, ``landmarks``)."""
    return _load("au", device, root, verify)[0]  # type: ignore[return-value]


def load_identity_judge(device: torch.device | str = "cpu", root: str | os.PathLike[str] | None = None, verify: bool = True) -> IdentityJudge:
    """The identity embedder (``embed``, ``threshold``, ``same_person``)."""
    return _load("identity", device, root, verify)[0]  # type: ignore[return-value]


@dataclass
class Judges:
    emotion: EmotionJudge
    au: AUJudge
    identity: IdentityJudge


def load_judges(device: torch.device | str = "cpu", root: str | os.PathLike[str] | None = None, verify: bool = True) -> Judges:
    """All three shipped judges on ``device``."""
    return Judges(
        emotion=load_emotion_judge(device, root, verify),
        au=load_au_judge(device, root, verify),
        identity=load_identity_judge(device, root, verify),
    )
