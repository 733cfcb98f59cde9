"""How big each shipped generator is: parameters and fp16 safetensors bytes.

DESIGN.md's size table holds for every method of the GANmut series because
they share StarGAN's generator; the heads and the condition spaces add little.
The bytes are those of the exact file ``gamutlib.weights.export_weights`` would
write (tensors and header), computed in memory.
"""

from __future__ import annotations

from typing import Callable

import torch
from safetensors.torch import save as st_save_bytes
from torch import nn

from gamutlib.models import ganimation, stargan
from gamutlib.models.ganmut import Z_DIM, LinearConditionSpace
from gamutlib.models.gganmut import GaussianConditionSpace
from gamutlib.models.translation import N_EMOTIONS

#: What each method ships (its ``export()``), built without the discriminator.
SHIPPED: dict[str, Callable[[int, int], dict[str, nn.Module]]] = {
    "stargan": lambda width, blocks: {"G": stargan.Generator(width, N_EMOTIONS, blocks)},
    "ganimation": lambda width, blocks: {"G": ganimation.Generator(width, N_EMOTIONS, blocks)},
    "ganmut": lambda width, blocks: {"G": stargan.Generator(width, Z_DIM, blocks), "space": LinearConditionSpace()},
    "gganmut": lambda width, blocks: {"G": stargan.Generator(width, Z_DIM, blocks), "space": GaussianConditionSpace()},
}


def fp16_file_bytes(modules: dict[str, nn.Module]) -> int:
    """Bytes of a safetensors file holding ``modules`` in fp16 (keys ``<name>.<param>``)."""
    tensors = {
        f"{name}.{key}": (v.detach().half() if v.is_floating_point() else v.detach()).contiguous()
        for name, module in modules.items()
        for key, v in module.state_dict().items()
    }
    return len(st_save_bytes(tensors))


def generator_footprint(method: str, g_conv_dim: int = 32, g_repeat_num: int = 6) -> dict[str, float | int | str]:
    """One row: the method, its G width and depth, parameters of what ships
    (G plus the condition space) and the fp16 file size in MB (10^6 bytes)."""
    if method not in SHIPPED:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(SHIPPED)}")
    with torch.no_grad():
        modules = SHIPPED[method](g_conv_dim, g_repeat_num)
    params = sum(p.numel() for m in modules.values() for p in m.parameters())
    space = sum(p.numel() for name, m in modules.items() if name == "space" for p in m.parameters())
    return {
        "method": method,
        "g_conv_dim": g_conv_dim,
        "res_blocks": g_repeat_num,
        "params_M": round(params / 1e6, 3),
        "space_params": space,
        "fp16_MB": round(fp16_file_bytes(modules) / 1e6, 2),
    }
