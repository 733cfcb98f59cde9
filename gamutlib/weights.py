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

Packed files: what git tracks under ``weights/`` is ``<name>.safetensors.xz``,
an exact, lossless transform of the safetensors bytes; the plain
``<name>.safetensors`` beside it is ignored by git and made on demand. The
whole tracked tree travels to the GPU machine, which takes at most 48 MB, and
the weights are most of it. In an fp16 value the high byte (sign, exponent,
top of the mantissa) repeats far more than the low byte, but interleaved the
two hide each other's patterns from the compressor: split into byte planes
(every low byte, then every high byte) the shipped files shrink by ~16% under
lzma, against ~11% for the file as it is. The format is one ordinary ``.xz``
stream (``xz -l`` reads it) whose content is ``PACK_MAGIC``, the file's 8-byte
header length and JSON header as they are, then the data section's bytes at
even offsets, then those at odd offsets (an odd-length section's last byte
stays last). Unpacking gives back the original bytes exactly, so the sha256 in
the registry (of the plain file) is checked after unpacking, before anything
is written. Every reader asks `weights_file` for the plain path, which unpacks
first where the plain file is missing or stale; `has_weights` says whether
either form is there. Exporting into ``weights/`` packs the new file at once;
``gamut weights pack`` packs what arrived otherwise (files copied in), and
``gamut weights unpack`` unpacks everything (a fresh clone). Files anywhere
else (run folders) simply stay plain, though the same functions work there.

torch is imported only by the functions that move tensors, so the packing,
the registry and the ``gamut weights`` command start without it.

No pickle is involved anywhere: safetensors stores raw tensors only.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import lzma
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from gamutlib.atomic import atomic_write_bytes

if TYPE_CHECKING:
    import torch
    from torch import nn

    StateDicts = dict[str, dict[str, torch.Tensor]]

#: The largest shipped file: the GPU machine returns files of at most 16 MB.
MAX_BYTES = 15 * 1000 * 1000

PACKAGE_DIR = Path(__file__).resolve().parent
#: The registry of the shipped files (repository ``weights/``).
SHIPPED_REGISTRY = PACKAGE_DIR / "weights_registry.json"
#: Where the shipped files live in a checkout.
SHIPPED_ROOT = PACKAGE_DIR.parent / "weights"

#: How a packed file's content begins; the number is the format's version.
PACK_MAGIC = b"gamut packed weights v1\n"
_MAGIC_STEM = PACK_MAGIC[: PACK_MAGIC.rindex(b"v") + 1]
#: A packed file is ``<name>.safetensors`` + this.
PACKED_SUFFIX = ".xz"
#: lzma's strongest preset: ~1.5 s to pack a 4 MB file on one core, ~0.1 s to unpack it.
PACK_PRESET = 9 | lzma.PRESET_EXTREME


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


def lay_in(source: str | os.PathLike[str], names: Iterable[str] | None = None,
           root: str | os.PathLike[str] | None = None) -> list[str]:
    """Copy exports of another folder (``<source>/<name>.safetensors`` with its
    ``registry.json``, e.g. record-only generators kept from an earlier gpu
    session) into ``root`` (default: the shipped weights/), each with its
    registry entry. ``names`` None: every name of the source registry. A name
    whose file is absent is skipped; a file that does not match its entry is
    a ValueError, before anything is copied. Returns the names laid in."""
    source = Path(source)
    root = Path(root) if root is not None else SHIPPED_ROOT
    entries = read_registry(registry_path(source))
    todo = []
    for name in (list(entries) if names is None else list(names)):
        file = plain_path(source, name)
        if not file.exists():
            continue
        if name not in entries:
            raise ValueError(f"{file}: {name} is not recorded in {registry_path(source)}")
        if sha256_file(file) != entries[name].get("sha256"):
            raise ValueError(f"{file}: its bytes do not match its entry in {registry_path(source)}")
        todo.append(name)
    target = read_registry(registry_path(root))
    for name in todo:
        shutil.copyfile(plain_path(source, name), plain_path(root, name))
        target[name] = entries[name]
    if todo:
        _write_registry(registry_path(root), target)
    return todo


def _gamut_version() -> str:
    from gamutlib import __version__

    return __version__


def export_weights(
    name: str,
    modules: Mapping[str, nn.Module],
    config: Mapping[str, Any],
    root: str | os.PathLike[str] = "weights",
    dtype: torch.dtype | None = None,
    method: str | None = None,
) -> Path:
    """Write ``<root>/<name>.safetensors`` and record its sha256; into the shipped
    ``weights/``, write its packed form too (the file git tracks).

    ``modules`` maps a network name ("G") to the network; ``config`` is the
    JSON-serialisable config that rebuilds the architecture (it is checked on
    load). ``method`` defaults to ``config["method"]``. Floating tensors are
    cast to ``dtype`` (default float16); integer buffers keep theirs. Raises
    ValueError for a file over 15 MB (ship a narrower network) or a config that
    is not JSON.
    """
    import torch
    from safetensors.torch import save as st_save_bytes
    from torch import nn

    dtype = torch.float16 if dtype is None else dtype
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
    if reg_path == SHIPPED_REGISTRY:
        pack_weights(root, name)  # git tracks the packed file: a stale one would not match the registry
    return path


def resolve_weights_path(name_or_path: str | os.PathLike[str], root: str | os.PathLike[str] = "weights") -> Path:
    """A bare name means ``<root>/<name>.safetensors``; anything with a suffix or
    a folder is taken as a path. A ``.safetensors`` path (or its packed
    ``.safetensors.xz``) comes back as the plain file, unpacked where need be
    (`weights_file`)."""
    text = str(name_or_path)
    if text.endswith((".safetensors", ".safetensors" + PACKED_SUFFIX)) or os.sep in text or "/" in text:
        path = Path(text)
    else:
        path = plain_path(root, text)
    stem = path.name.removesuffix(PACKED_SUFFIX)
    if stem.endswith(".safetensors"):
        return weights_file(path.parent, stem.removesuffix(".safetensors"))
    if not path.exists():
        raise FileNotFoundError(f"no weights file at {path}")
    return path


def read_metadata(path: str | os.PathLike[str]) -> dict[str, str]:
    """The safetensors metadata of a weights file (its packed form is unpacked first)."""
    from safetensors import safe_open

    with safe_open(str(resolve_weights_path(path)), framework="pt") as f:
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
    from safetensors import safe_open
    from safetensors.torch import load as st_load_bytes

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
            again = f", or delete it to unpack {packed_path(path).name} again" if packed_path(path).exists() else ""
            raise ValueError(
                f"{path} does not match its registry entry in {reg_path}: sha256 {digest[:16]}... "
                f"!= {entry['sha256'][:16]}... (the file changed or is corrupt; re-export or re-download it{again})"
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


# ------------------------------------------------------------------ packed files (see the module docstring)


def plain_path(root: str | os.PathLike[str], name: str) -> Path:
    """``<root>/<name>.safetensors``, whether or not it exists."""
    return Path(root) / f"{name}.safetensors"


def packed_path(plain: str | os.PathLike[str]) -> Path:
    """The packed form of a plain weights file: ``<name>.safetensors.xz`` beside it."""
    plain = Path(plain)
    return plain.with_name(plain.name + PACKED_SUFFIX)


def has_weights(root: str | os.PathLike[str], name: str) -> bool:
    """Whether ``<root>`` holds weights ``name``, plain or packed."""
    plain = plain_path(root, name)
    return plain.exists() or packed_path(plain).exists()


def weights_file(root: str | os.PathLike[str], name: str) -> Path:
    """The plain ``<root>/<name>.safetensors`` to read, unpacked from its packed
    form first where it is missing or stale (see `_is_stale`).

    Raises FileNotFoundError naming both paths where neither exists, and
    ValueError where the packed file is foreign, corrupt or does not unpack to
    the sha256 its registry records (then nothing is written).
    """
    plain = plain_path(root, name)
    packed = packed_path(plain)
    if not packed.exists():
        if plain.exists():
            return plain
        raise FileNotFoundError(f"no weights file at {plain} (nor its packed form {packed})")
    if plain.exists() and not _is_stale(plain, packed, root, name):
        return plain
    return unpack_weights(root, name)


def _is_stale(plain: Path, packed: Path, root: str | os.PathLike[str], name: str) -> bool:
    """A plain file is replaced from its packed one only where it is older than
    the packed file (a pull or a checkout changed the packed file since it was
    unpacked) and no longer matches the registry. A newer plain file is a fresh
    export, or this very unpacking: never replaced, so an export a reader
    happens to look at between its file and its registry entry is not lost."""
    if plain.stat().st_mtime_ns > packed.stat().st_mtime_ns:
        return False
    entry = read_registry(registry_path(root)).get(name)
    return entry is not None and sha256_file(plain) != entry["sha256"]


def unpack_weights(root: str | os.PathLike[str], name: str) -> Path:
    """Write ``<root>/<name>.safetensors`` (atomically) from its packed form, once
    its bytes match the registry's sha256; returns the plain path."""
    plain = plain_path(root, name)
    packed = packed_path(plain)
    data = unpack_bytes(packed.read_bytes(), source=packed)
    _check_registered(data, root, name, source=packed)
    return atomic_write_bytes(plain, data)


def pack_weights(root: str | os.PathLike[str], name: str) -> tuple[Path, bool]:
    """Write ``<root>/<name>.safetensors.xz`` (atomically) from the plain file,
    which must match its registry entry; the packed bytes are unpacked and
    compared with the original before they are written. Returns the packed path
    and whether it was written (False: it already held exactly these bytes, or
    there is only a packed file and it matches the registry)."""
    plain = plain_path(root, name)
    packed = packed_path(plain)
    if not plain.exists():
        if not packed.exists():
            raise FileNotFoundError(f"no weights file at {plain} (nor its packed form {packed})")
        _check_registered(unpack_bytes(packed.read_bytes(), source=packed), root, name, source=packed)
        return packed, False
    data = plain.read_bytes()
    _check_registered(data, root, name, source=plain)
    if packed.exists() and _unpacks_to(packed, data):
        return packed, False
    blob = pack_bytes(data, source=plain)
    if unpack_bytes(blob, source=packed) != data:  # lossless by construction; checked all the same
        raise RuntimeError(f"packing {plain} did not round-trip; nothing written")
    atomic_write_bytes(packed, blob)
    return packed, True


def _unpacks_to(packed: Path, data: bytes) -> bool:
    try:
        return unpack_bytes(packed.read_bytes(), source=packed) == data
    except ValueError:
        return False


def _check_registered(data: bytes, root: str | os.PathLike[str], name: str, source: Path) -> None:
    """ValueError unless ``data`` (the plain bytes of ``source``) has the sha256 the registry of ``root`` records."""
    reg_path = registry_path(root)
    entry = read_registry(reg_path).get(name)
    if entry is None:
        raise ValueError(f"{source}: {name} is not recorded in {reg_path}, so its bytes cannot be checked; "
                         "export it with gamutlib.weights.export_weights")
    digest = hashlib.sha256(data).hexdigest()
    if digest != entry["sha256"]:
        raise ValueError(
            f"{source} does not match its registry entry in {reg_path}: sha256 {digest[:16]}... "
            f"!= {entry['sha256'][:16]}... (stale or corrupt: re-export it, or pack it again from the exported file)"
        )


def pack_bytes(data: bytes, source: object = "weights") -> bytes:
    """The packed form of a safetensors file's bytes (see the module docstring)."""
    start = _data_start(data, source)
    return lzma.compress(PACK_MAGIC + data[:start] + _split_planes(data[start:]), preset=PACK_PRESET)


def unpack_bytes(packed: bytes, source: object = "packed weights") -> bytes:
    """The safetensors bytes ``pack_bytes`` packed, exactly; ValueError for
    anything that is not a packed weights file of this format."""
    content = _decompress(packed, source)
    start = _data_start(content, source)
    return content[:start] + _join_planes(content[start:])


def _data_start(data: bytes, source: object) -> int:
    """Where a safetensors file's data section begins: 8 + the header's length."""
    if len(data) < 8:
        raise ValueError(f"{source} is not a safetensors file: {len(data)} bytes, shorter than the header length")
    start = 8 + int.from_bytes(data[:8], "little")
    if start > len(data):
        raise ValueError(f"{source} is not a safetensors file: its header of {start - 8} bytes runs past its {len(data)} bytes")
    return start


def _split_planes(section: bytes) -> bytes:
    """Bytes at even offsets, then at odd offsets; an odd length's last byte stays last."""
    even = len(section) - len(section) % 2
    return section[0:even:2] + section[1:even:2] + section[even:]


def _join_planes(planes: bytes) -> bytes:
    """The inverse of `_split_planes`."""
    even = len(planes) - len(planes) % 2
    section = bytearray(len(planes))
    section[0:even:2] = planes[: even // 2]
    section[1:even:2] = planes[even // 2 : even]
    section[even:] = planes[even:]
    return bytes(section)


def _decompress(packed: bytes, source: object) -> bytes:
    """The content after ``PACK_MAGIC``; the magic is read first, so a foreign
    ``.xz`` is refused before it is decompressed."""
    decompressor = lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
    try:
        magic = decompressor.decompress(packed, max_length=len(PACK_MAGIC))
        if magic != PACK_MAGIC:
            raise ValueError(_not_packed(source, magic))
        content = decompressor.decompress(b"")
    except lzma.LZMAError as err:
        raise ValueError(f"{source} is not a packed weights file, or it is corrupt (lzma: {err})") from None
    if not decompressor.eof:
        raise ValueError(f"{source} is truncated: its xz stream ends early")
    if decompressor.unused_data:
        raise ValueError(f"{source} has {len(decompressor.unused_data)} bytes after its xz stream")
    return content


def _not_packed(source: object, magic: bytes) -> str:
    if magic.startswith(_MAGIC_STEM):
        version = magic[len(_MAGIC_STEM) :].decode(errors="replace").strip()
        return (f"{source} is packed in format v{version}; this gamut reads v"
                f"{PACK_MAGIC[len(_MAGIC_STEM) :].decode().strip()} (update gamut)")
    return f"{source} is an xz file but not packed weights (it does not begin with {PACK_MAGIC!r})"
