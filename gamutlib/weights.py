"""Shipped weights: ``weights/<name>.safetensors`` plus a sha256 registry.

A shipped file holds only the networks a reader needs (normally G), in fp16,
with keys prefixed by the network's name (``G.trunk.main.0.weight``) and the
method's config as JSON in the safetensors metadata, so a file can be checked
against the architecture it is loaded into before a single tensor is copied.

Integrity: every export records the file's sha256 in a registry and every load
checks it. Files under the repository's ``weights/`` are recorded in
``gamutlib/weights_registry.json`` (tracked, shipped with the package); files
written anywhere else (a run folder, a test's temporary directory) are recorded
in a ``registry.json`` next to them, so experiments never touch the shipped
registry.

No pickle is involved anywhere: safetensors stores raw tensors only.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from pathlib import Path
from typing import Any, Mapping

import torch
from safetensors import safe_open
from safetensors.torch import load as st_load_bytes
from safetensors.torch import save as st_save_bytes
from torch import nn

from gamutlib.atomic import atomic_write_bytes

#: The largest shipped file: the GPU machine returns files of at most 16 MB.
MAX_BYTES = 15 * 1000 * 1000

PACKAGE_DIR = Path(__file__).resolve().parent
#: The registry of the shipped files (repository ``weights/``).
SHIPPED_REGISTRY = PACKAGE_DIR / "weights_registry.json"
#: Where the shipped files live in a checkout.
SHIPPED_ROOT = PACKAGE_DIR.parent / "weights"

StateDicts = dict[str, dict[str, torch.Tensor]]


def registry_path(root: str | os.PathLike[str]) -> Path:
    """The registry that records the files under ``root`` (see module docstring)."""
    root = Path(root).resolve()
    return SHIPPED_REGISTRY if root == SHIPPED_ROOT else root / "registry.json"


def read_registry(path: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    path = Path(path)
    if not path.exists():
        return {}
    return json.loads(path.read_text())


def sha256_file(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _write_registry(path: Path, registry: Mapping[str, Any]) -> None:
    text = json.dumps(dict(sorted(registry.items())), indent=2, sort_keys=True) + "\n"
    atomic_write_bytes(path, text.encode())


def _gamut_version() -> str:
    from gamutlib import __version__

    return __version__


def export_weights(
    name: str,
    modules: Mapping[str, nn.Module],
    config: Mapping[str, Any],
    root: str | os.PathLike[str] = "weights",
    dtype: torch.dtype = torch.float16,
    method: str | None = None,
) -> Path:
    """Write ``<root>/<name>.safetensors`` and record its sha256.

    ``modules`` maps a network name ("G") to the network; ``config`` is the
    JSON-serialisable config that rebuilds the architecture (it is checked on
    load). ``method`` defaults to ``config["method"]``. Floating tensors are
    cast to ``dtype``; integer buffers keep theirs. Raises ValueError for a
    file over 15 MB (ship a narrower network) or a config that is not JSON.
    """
    if not name or "/" in name or name.endswith(".safetensors"):
        raise ValueError(f"weights name must be a bare name like 'ganmut_linear'; got {name!r}")
    if not modules:
        raise ValueError("export_weights needs at least one network, e.g. {'G': G}")
    tensors: dict[str, torch.Tensor] = {}
    for module_name, module in modules.items():
        if "." in module_name or not module_name:
            raise ValueError(f"network names may not be empty or contain '.'; got {module_name!r}")
        if not isinstance(module, nn.Module):
            raise TypeError(f"modules[{module_name!r}] is a {type(module).__name__}, not an nn.Module")
        for key, value in module.state_dict().items():
            value = value.detach().to("cpu")
            if value.is_floating_point():
                value = value.to(dtype)
            # clone: safetensors refuses tensors that share storage.
            tensors[f"{module_name}.{key}"] = value.contiguous().clone()
    try:
        config_json = json.dumps(dict(config), sort_keys=True)
    except TypeError as err:
        raise ValueError(f"weights config must be JSON-serialisable: {err}") from None
    method_name = method if method is not None else str(config.get("method", ""))
    metadata = {
        "config": config_json,
        "method": method_name,
        "modules": json.dumps(sorted(modules)),
        "gamut_version": _gamut_version(),
        "dtype": str(dtype).removeprefix("torch."),
    }
    data = st_save_bytes(tensors, metadata=metadata)
    if len(data) > MAX_BYTES:
        raise ValueError(
            f"{name}.safetensors would be {len(data) / 1e6:.1f} MB, over the {MAX_BYTES / 1e6:.0f} MB "
            "limit for shipped weights; ship a narrower network (see the README's 'Sizes') or export fewer networks"
        )
    path = Path(root) / f"{name}.safetensors"
    atomic_write_bytes(path, data)
    reg_path = registry_path(root)
    # Several runs may finish and export at once (the GPU scripts train methods
    # side by side): hold an exclusive lock over the registry's read-modify-write.
    reg_path.parent.mkdir(parents=True, exist_ok=True)
    with open(reg_path.with_name(reg_path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        registry = read_registry(reg_path)
        registry[name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data), "method": method_name}
        _write_registry(reg_path, registry)
    return path


def resolve_weights_path(name_or_path: str | os.PathLike[str], root: str | os.PathLike[str] = "weights") -> Path:
    """A bare name means ``<root>/<name>.safetensors``; anything with a suffix or
    a folder is taken as a path."""
    text = str(name_or_path)
    if text.endswith(".safetensors") or os.sep in text or "/" in text:
        path = Path(text)
    else:
        path = Path(root) / f"{text}.safetensors"
    if not path.exists():
        raise FileNotFoundError(f"no weights file at {path}")
    return path


def read_metadata(path: str | os.PathLike[str]) -> dict[str, str]:
    with safe_open(str(path), framework="pt") as f:
        return dict(f.metadata() or {})


def load_weights(
    name_or_path: str | os.PathLike[str],
    expected: Mapping[str, Any] | None = None,
    root: str | os.PathLike[str] = "weights",
    verify: bool = True,
) -> tuple[StateDicts, dict[str, Any]]:
    """Load a shipped file: ``({"G": state_dict, ...}, config)``, tensors in float32.

    The sha256 is checked against the registry of the file's folder (ValueError
    on a mismatch or an unregistered file; ``verify=False`` skips this for a
    file of your own). ``expected`` holds config entries the caller needs
    (``{"method": "stargan", "conv_dim": 32}``); every entry that differs from
    the file's config is named in one ValueError.
    """
    path = resolve_weights_path(name_or_path, root)
    name = path.name.removesuffix(".safetensors")
    data = path.read_bytes()
    if verify:
        reg_path = registry_path(path.parent)
        entry = read_registry(reg_path).get(name)
        if entry is None:
            raise ValueError(
                f"{path} is not recorded in {reg_path}; export it with gamutlib.weights.export_weights "
                "or load it with verify=False"
            )
        digest = hashlib.sha256(data).hexdigest()
        if digest != entry["sha256"]:
            raise ValueError(
                f"{path} does not match its registry entry in {reg_path}: sha256 {digest[:16]}... "
                f"!= {entry['sha256'][:16]}... (the file changed or is corrupt; re-export or re-download it)"
            )
    try:
        flat = st_load_bytes(data)
        with safe_open(str(path), framework="pt") as f:
            metadata = dict(f.metadata() or {})
    except Exception as err:  # safetensors raises its own error types for a bad header
        raise ValueError(f"{path} is not a readable safetensors file: {err}") from None
    config = json.loads(metadata.get("config", "{}"))
    method = metadata.get("method", "")
    config.setdefault("method", method)
    if expected:
        problems = []
        modules = "/".join(sorted({k.partition(".")[0] for k in flat}))
        for key, want in expected.items():
            if key == "method" and config.get("method") != want:
                problems.insert(0, f"holds a {config.get('method') or 'unnamed'} {modules}, not {want}")
            elif key not in config:
                problems.append(f"{key} is missing from the file's config (expected {want!r})")
            elif config[key] != want and not _json_equal(config[key], want):
                problems.append(f"{key} is {config[key]!r} in the file, {want!r} expected")
        if problems:
            if not problems[0].startswith("holds a "):
                problems.insert(0, "does not match the expected config")
            raise ValueError(f"{path} " + "; ".join(problems))
    state: StateDicts = {}
    for key, tensor in flat.items():
        module_name, _, param = key.partition(".")
        state.setdefault(module_name, {})[param] = tensor.float() if tensor.is_floating_point() else tensor
    return state, config


def _json_equal(a: Any, b: Any) -> bool:
    """Tuples become lists in JSON; compare the JSON forms."""
    try:
        return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    except TypeError:
        return False


def load_into(
    modules: Mapping[str, nn.Module],
    name_or_path: str | os.PathLike[str],
    expected: Mapping[str, Any] | None = None,
    root: str | os.PathLike[str] = "weights",
    verify: bool = True,
    loaded: tuple[StateDicts, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Copy a shipped file's tensors into ``modules`` (``{"G": G}``); return its config.

    Before copying anything, every network is checked: a network the file
    lacks, missing or unexpected keys, and shape mismatches are all named in one
    ValueError ("weights/x.safetensors holds a ganmut G, not stargan: ...").
    ``loaded``: what `load_weights` already returned for this file (not read twice).
    """
    state, config = loaded or load_weights(name_or_path, expected=expected, root=root, verify=verify)
    path = resolve_weights_path(name_or_path, root)
    method = config.get("method") or "unnamed"
    wanted = (expected or {}).get("method")
    problems = []
    for module_name, module in modules.items():
        if module_name not in state:
            problems.append(f"it holds no {module_name} (it holds {', '.join(sorted(state))})")
            continue
        got = state[module_name]
        own = module.state_dict()
        missing = sorted(set(own) - set(got))
        unexpected = sorted(set(got) - set(own))
        shapes = [
            f"{k} {tuple(got[k].shape)} in the file vs {tuple(own[k].shape)} here"
            for k in sorted(set(own) & set(got))
            if got[k].shape != own[k].shape
        ]
        if missing or unexpected or shapes:
            parts = []
            if missing:
                parts.append(f"missing keys {_short(missing)}")
            if unexpected:
                parts.append(f"unexpected keys {_short(unexpected)}")
            if shapes:
                parts.append(f"shape mismatches {_short(shapes)}")
            problems.append(
                f"its {module_name} does not fit this {type(module).__name__}: " + "; ".join(parts)
            )
    if problems:
        head = f"{path} holds a {method} {'/'.join(sorted(state))}"
        head += f", not {wanted}" if wanted and wanted != method else ""
        raise ValueError(head + ": " + "; ".join(problems))
    for module_name, module in modules.items():
        module.load_state_dict(state[module_name])
    return config


def _short(items: list[str], n: int = 4) -> str:
    shown = ", ".join(items[:n])
    return f"[{shown}{f', ... ({len(items) - n} more)' if len(items) > n else ''}]"
