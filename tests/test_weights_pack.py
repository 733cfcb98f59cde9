"""Packed weights: <name>.safetensors.xz (fp16 byte planes under xz), unpacked on demand."""

import hashlib
import json
import lzma
import multiprocessing as mp
import os
import subprocess
import sys

import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import save as st_save_bytes
from test_weights import small_net

from gamutlib import weights
from gamutlib.cli import main
from gamutlib.weights import (
    PACK_MAGIC,
    export_weights,
    has_weights,
    load_weights,
    pack_bytes,
    pack_weights,
    packed_path,
    plain_path,
    registry_path,
    unpack_bytes,
    weights_file,
)


def exported(root, name="tiny"):
    """An exported fp16 file under ``root`` and its bytes."""
    path = export_weights(name, {"G": small_net()}, {"method": "stargan"}, root=root)
    return path, path.read_bytes()


def packed_only(root, name="tiny"):
    """An exported file packed, its plain form removed (a fresh clone); returns the plain bytes."""
    path, data = exported(root, name)
    pack_weights(root, name)
    path.unlink()
    return data


def set_registered_sha(root, name, sha):
    reg = registry_path(root)
    registry = json.loads(reg.read_text())
    registry[name]["sha256"] = sha
    reg.write_text(json.dumps(registry))


def files_in(folder):
    return sorted(p.name for p in folder.iterdir())


# ------------------------------------------------------------------ the format


def test_round_trip_is_exact_and_the_file_is_plain_xz(tmp_path):
    _, data = exported(tmp_path)
    blob = pack_bytes(data)
    assert unpack_bytes(blob) == data
    assert lzma.decompress(blob).startswith(PACK_MAGIC)  # any xz tool reads it


def test_layout_keeps_the_header_and_splits_an_odd_data_section_into_planes():
    # 3 + 4 bytes of data: an odd-length section
    data = st_save_bytes({"a": torch.tensor([1, 2, 3], dtype=torch.uint8), "b": torch.tensor([1.5, -2.0], dtype=torch.float16)})
    start = 8 + int.from_bytes(data[:8], "little")
    section = data[start:]
    assert len(section) % 2 == 1
    content = lzma.decompress(pack_bytes(data))
    assert content == PACK_MAGIC + data[:start] + section[0:-1:2] + section[1:-1:2] + section[-1:]
    assert unpack_bytes(pack_bytes(data)) == data


def test_round_trip_of_even_and_empty_data_sections():
    for tensors in ({"x": torch.randn(5, 3).half()}, {}):
        data = st_save_bytes(tensors)
        assert unpack_bytes(pack_bytes(data)) == data


@pytest.mark.parametrize("blob, message", [
    (b"not xz at all", "not a packed weights file, or it is corrupt"),
    (lzma.compress(b"some other archive's content"), "an xz file but not packed weights"),
    (lzma.compress(b"gamut packed weights v2\n" + bytes(16)), "packed in format v2; this gamut reads v1"),
], ids=["not-xz", "foreign-xz", "newer-format"])
def test_a_foreign_file_is_refused_clearly(blob, message):
    with pytest.raises(ValueError, match=message):
        unpack_bytes(blob, source="w.safetensors.xz")


def test_a_corrupt_or_truncated_file_is_refused_clearly(tmp_path):
    _, data = exported(tmp_path)
    blob = pack_bytes(data)
    flipped = bytearray(blob)
    flipped[len(blob) // 2] ^= 0xFF
    with pytest.raises(ValueError, match="corrupt"):
        unpack_bytes(bytes(flipped))
    with pytest.raises(ValueError, match="truncated"):
        unpack_bytes(blob[: len(blob) // 2])
    with pytest.raises(ValueError, match="bytes after its xz stream"):
        unpack_bytes(blob + b"extra")
    with pytest.raises(ValueError, match="not a safetensors file"):
        pack_bytes(b"\xff" * 12)


# ------------------------------------------------------------------ files: unpacked on demand


def test_weights_file_unpacks_on_demand_and_loads(tmp_path, monkeypatch):
    data = packed_only(tmp_path)
    assert has_weights(tmp_path, "tiny") and not plain_path(tmp_path, "tiny").exists()
    path = weights_file(tmp_path, "tiny")
    assert path == tmp_path / "tiny.safetensors" and path.read_bytes() == data
    # every way of naming the file reaches it, the packed name too
    os.unlink(path)
    state, config = load_weights("tiny", root=tmp_path)
    assert set(state) == {"G"} and config["method"] == "stargan"
    monkeypatch.chdir(tmp_path)
    for name in (tmp_path / "tiny.safetensors", tmp_path / "tiny.safetensors.xz", "tiny.safetensors.xz"):
        assert weights.read_metadata(name)["method"] == "stargan"
        load_weights(name)


def test_neither_form_names_both_paths(tmp_path):
    assert not has_weights(tmp_path, "none")
    with pytest.raises(FileNotFoundError) as err:
        weights_file(tmp_path, "none")
    assert str(tmp_path / "none.safetensors") in str(err.value)
    assert str(tmp_path / "none.safetensors.xz") in str(err.value)


def test_a_second_call_finds_the_plain_file_and_leaves_it(tmp_path):
    packed_only(tmp_path)
    first = weights_file(tmp_path, "tiny").stat()
    again = weights_file(tmp_path, "tiny").stat()
    assert (again.st_ino, again.st_mtime_ns) == (first.st_ino, first.st_mtime_ns)


def _read_in_child(root, queue):
    queue.put(hashlib.sha256(weights_file(root, "tiny").read_bytes()).hexdigest())


def test_readers_unpacking_at_once_all_get_the_file(tmp_path):
    data = packed_only(tmp_path)
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    children = [ctx.Process(target=_read_in_child, args=(tmp_path, queue)) for _ in range(4)]
    for child in children:
        child.start()
    digests = [queue.get(timeout=60) for _ in children]
    for child in children:
        child.join(60)
        assert child.exitcode == 0
    assert set(digests) == {hashlib.sha256(data).hexdigest()}
    assert files_in(tmp_path) == ["registry.json", "registry.json.lock", "tiny.safetensors", "tiny.safetensors.xz"]


def test_a_registry_mismatch_is_one_clear_error_and_writes_nothing(tmp_path):
    packed_only(tmp_path)
    set_registered_sha(tmp_path, "tiny", "0" * 64)
    before = files_in(tmp_path)
    with pytest.raises(ValueError, match=r"tiny\.safetensors\.xz does not match its registry entry"):
        weights_file(tmp_path, "tiny")
    assert files_in(tmp_path) == before  # no plain file, no temporary file


def test_an_unregistered_packed_file_is_not_unpacked(tmp_path):
    packed_only(tmp_path)
    registry_path(tmp_path).write_text("{}")
    with pytest.raises(ValueError, match="not recorded"):
        weights_file(tmp_path, "tiny")
    assert not plain_path(tmp_path, "tiny").exists()


def test_a_corrupt_packed_file_writes_nothing(tmp_path):
    packed_only(tmp_path)
    packed = packed_path(plain_path(tmp_path, "tiny"))
    packed.write_bytes(lzma.compress(b"an unrelated archive"))
    with pytest.raises(ValueError, match="not packed weights"):
        weights_file(tmp_path, "tiny")
    assert not plain_path(tmp_path, "tiny").exists()


def test_a_stale_plain_file_is_replaced_a_fresh_one_kept(tmp_path):
    data = packed_only(tmp_path)
    plain = weights_file(tmp_path, "tiny")
    packed = packed_path(plain)
    # Older than its packed file and not what the registry records (a pull changed the
    # packed file since it was unpacked): unpacked again.
    plain.write_bytes(b"stale")
    os.utime(plain, ns=(packed.stat().st_mtime_ns - 10**9,) * 2)
    assert weights_file(tmp_path, "tiny").read_bytes() == data
    # Newer than its packed file: someone's export, never overwritten; the load names the way out.
    plain.write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))
    os.utime(plain, ns=(packed.stat().st_mtime_ns + 10**9,) * 2)
    assert weights_file(tmp_path, "tiny").read_bytes() != data
    with pytest.raises(ValueError, match="delete it to unpack tiny.safetensors.xz again"):
        load_weights("tiny", root=tmp_path)


def test_pack_checks_the_registry_and_skips_what_is_current(tmp_path):
    path, data = exported(tmp_path)
    packed, written = pack_weights(tmp_path, "tiny")
    assert written and unpack_bytes(packed.read_bytes()) == data
    assert pack_weights(tmp_path, "tiny") == (packed, False)
    path.unlink()
    assert pack_weights(tmp_path, "tiny") == (packed, False)  # only the packed file, and it matches
    path.write_bytes(data[:-1] + b"\x00")
    with pytest.raises(ValueError, match=r"tiny\.safetensors does not match its registry entry"):
        pack_weights(tmp_path, "tiny")


def test_exporting_into_the_shipped_folder_packs_at_once(tmp_path, monkeypatch):
    shipped = tmp_path / "weights"
    monkeypatch.setattr(weights, "SHIPPED_ROOT", shipped.resolve())
    monkeypatch.setattr(weights, "SHIPPED_REGISTRY", tmp_path / "weights_registry.json")
    path, data = exported(shipped)
    assert unpack_bytes(packed_path(path).read_bytes()) == data
    assert not (tmp_path / "elsewhere").exists()
    exported(tmp_path / "elsewhere")  # a run folder stays plain
    assert files_in(tmp_path / "elsewhere") == ["registry.json", "registry.json.lock", "tiny.safetensors"]


def test_the_packing_and_its_command_start_without_torch():
    code = "import sys, gamutlib.weights, gamutlib.commands.weights; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


# ------------------------------------------------------------------ the shipped files


def test_every_shipped_file_is_packed_and_matches_the_registry():
    """Git tracks the packed files: each must unpack to the bytes the registry records."""
    registry = weights.read_registry(weights.SHIPPED_REGISTRY)
    assert registry
    for name, entry in registry.items():
        packed = packed_path(plain_path(weights.SHIPPED_ROOT, name))
        assert packed.exists(), f"{packed} is missing: run `gamut weights pack {name}`"
        data = unpack_bytes(packed.read_bytes(), source=packed)
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], f"{packed} is stale: run `gamut weights pack {name}`"


# ------------------------------------------------------------------ `gamut weights`


def gamut(*args):
    return CliRunner().invoke(main, ["weights", *map(str, args)])


def test_cli_pack_unpack_and_list(tmp_path):
    _, data = exported(tmp_path, "a")
    exported(tmp_path, "b")
    result = gamut("pack", "--root", tmp_path)
    assert result.exit_code == 0, result.output
    assert "2 packed, 0 up to date" in result.output
    assert packed_path(tmp_path / "a.safetensors").exists() and packed_path(tmp_path / "b.safetensors").exists()
    assert "0 packed, 1 up to date" in gamut("pack", "b", "--root", tmp_path).output

    (tmp_path / "a.safetensors").unlink()
    result = gamut("unpack", "--root", tmp_path)
    assert result.exit_code == 0, result.output
    assert "1 unpacked, 1 up to date" in result.output
    assert (tmp_path / "a.safetensors").read_bytes() == data

    (tmp_path / "b.safetensors").unlink()
    result = gamut("list", "--root", tmp_path)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:3] == ["name", "plain", "bytes"]
    row_a = next(line for line in lines if line.startswith("a "))
    assert f"{len(data):,}" in row_a and f"{packed_path(tmp_path / 'a.safetensors').stat().st_size:,}" in row_a
    assert row_a.endswith("packed + plain")
    assert next(line for line in lines if line.startswith("b ")).endswith("packed")
    assert lines[-1].startswith("total")


def test_cli_errors_are_one_line(tmp_path):
    exported(tmp_path, "a")
    result = gamut("pack", "nope", "--root", tmp_path)
    assert result.exit_code == 2 and "nope not recorded in" in result.output
    (tmp_path / "a.safetensors").write_bytes(b"changed")
    result = gamut("pack", "--root", tmp_path)
    assert result.exit_code == 1 and "does not match its registry entry" in result.output
    assert "Traceback" not in result.output


# ------------------------------------------------------------------ laying kept exports in


def test_lay_in_copies_files_with_their_entries_and_checks_them_first(tmp_path):
    kept, target = tmp_path / "kept", tmp_path / "weights"
    _, data_a = exported(kept, "ablation_a")
    exported(kept, "ablation_b")
    exported(target, "shipped")
    assert weights.lay_in(kept, ["ablation_a", "not_here"], root=target) == ["ablation_a"]  # an absent file is skipped
    assert (target / "ablation_a.safetensors").read_bytes() == data_a
    registry = json.loads(registry_path(target).read_text())
    assert sorted(registry) == ["ablation_a", "shipped"]
    assert registry["ablation_a"] == json.loads(registry_path(kept).read_text())["ablation_a"]
    # the CLI, every name of the source registry by default
    result = CliRunner().invoke(main, ["weights", "lay-in", str(kept), "--root", str(target)])
    assert result.exit_code == 0 and "ablation_a ablation_b" in result.output
    # a file that does not match its entry: one clear error, nothing copied
    set_registered_sha(kept, "ablation_b", "0" * 64)
    (target / "ablation_b.safetensors").unlink()
    before = registry_path(target).read_text()
    result = CliRunner().invoke(main, ["weights", "lay-in", str(kept), "--root", str(target)])
    assert result.exit_code != 0 and "do not match" in result.output
    assert not (target / "ablation_b.safetensors").exists() and registry_path(target).read_text() == before
