"""How big each shipped generator is: parameters and fp16 safetensors bytes.

What a method ships is its ``export()`` (normally G, plus GANmut's condition
space), built through the paper registry at the requested width, so every
method of every paper is measured the same way. The GANmut series shares
StarGAN's generator, so its four methods differ only by their heads and
condition spaces. The bytes are those of the exact file
``gamutlib.weights.export_weights`` would write (tensors and header),
computed in memory.
"""

from __future__ import annotations

import torch
from safetensors.torch import save as st_save_bytes
from torch import nn


def shipped_modules(method: str, g_conv_dim: int = 32, g_repeat_num: int = 6) -> dict[str, nn.Module]:
    """What ``method`` exports at this width and depth (its discriminator is built too, then dropped)."""
    from gamutlib.papers import get_method

    with torch.no_grad():
        return get_method(method, {"g_conv_dim": g_conv_dim, "g_repeat_num": g_repeat_num}).export()


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
    modules = shipped_modules(method, g_conv_dim, g_repeat_num)
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
