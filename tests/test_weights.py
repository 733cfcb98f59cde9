"""Shipped weights: export, sha256 registry, config and architecture checks."""

import json

import pytest
import torch
from torch import nn

from gamutlib import weights
from gamutlib.weights import export_weights, load_into, load_weights, registry_path


def small_net(width: int = 4) -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, width, 3), nn.InstanceNorm2d(width, affine=True), nn.Conv2d(width, 3, 1))


def test_roundtrip_fp16_prefixed_keys_and_metadata(tmp_path):
    G = small_net()
    config = {"method": "stargan", "conv_dim": 4, "betas": (0.5, 0.999)}
    path = export_weights("tiny", {"G": G}, config, root=tmp_path)
    assert path == tmp_path / "tiny.safetensors"
    meta = weights.read_metadata(path)
    assert json.loads(meta["config"])["conv_dim"] == 4
    assert meta["method"] == "stargan" and meta["gamut_version"]
    state, cfg = load_weights("tiny", root=tmp_path)
    assert set(state) == {"G"}
    assert set(state["G"]) == set(G.state_dict())
    for key, value in G.state_dict().items():
        assert state["G"][key].dtype == torch.float32
        torch.testing.assert_close(state["G"][key], value.half().float())
    # tuples come back as lists, but the expected check compares JSON forms.
    load_weights(tmp_path / "tiny.safetensors", expected={"betas": (0.5, 0.999), "conv_dim": 4})
    assert cfg["method"] == "stargan"


def test_registry_sorted_stable_and_sha_checked(tmp_path):
    export_weights("b", {"G": small_net()}, {"method": "x"}, root=tmp_path)
    export_weights("a", {"G": small_net()}, {"method": "x"}, root=tmp_path)
    reg_file = registry_path(tmp_path)
    text = reg_file.read_text()
    assert list(json.loads(text)) == ["a", "b"]
    assert text.endswith("\n")
    assert json.loads(text)["a"]["sha256"] == weights.sha256_file(tmp_path / "a.safetensors")
    # Tamper with one byte of the payload: the load names the sha mismatch.
    path = tmp_path / "a.safetensors"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="does not match its registry entry"):
        load_weights("a", root=tmp_path)
    # An unregistered file is refused unless verification is turned off.
    (tmp_path / "c.safetensors").write_bytes((tmp_path / "b.safetensors").read_bytes())
    with pytest.raises(ValueError, match="not recorded"):
        load_weights("c", root=tmp_path)
    state, _ = load_weights("c", root=tmp_path, verify=False)
    assert "G" in state


def test_tests_never_touch_the_shipped_registry(tmp_path):
    assert registry_path(tmp_path) != weights.SHIPPED_REGISTRY
    assert registry_path(weights.SHIPPED_ROOT) == weights.SHIPPED_REGISTRY


def test_expected_config_names_every_mismatch(tmp_path):
    export_weights("m", {"G": small_net()}, {"method": "ganmut", "conv_dim": 32, "c_dim": 2}, root=tmp_path)
    with pytest.raises(ValueError) as err:
        load_weights("m", expected={"conv_dim": 64, "c_dim": 7, "repeat_num": 6}, root=tmp_path)
    msg = str(err.value)
    assert "conv_dim is 32 in the file, 64 expected" in msg
    assert "c_dim is 2 in the file, 7 expected" in msg
    assert "repeat_num is missing" in msg
    with pytest.raises(ValueError, match="holds a ganmut G, not stargan"):
        load_into({"G": small_net()}, tmp_path / "m.safetensors", expected={"method": "stargan"})


def test_load_into_names_missing_unexpected_and_shapes(tmp_path):
    export_weights("w", {"G": small_net(4)}, {"method": "ganmut"}, root=tmp_path)
    with pytest.raises(ValueError, match=r"0.weight \(4, 3, 3, 3\) in the file vs \(8, 3, 3, 3\) here"):
        load_into({"G": small_net(8)}, "w", root=tmp_path)
    other = nn.Sequential(nn.Conv2d(3, 4, 3), nn.InstanceNorm2d(4, affine=True))
    with pytest.raises(ValueError, match=r"unexpected keys \[2.bias, 2.weight\]"):
        load_into({"G": other}, "w", root=tmp_path)
    with pytest.raises(ValueError, match="holds no D"):
        load_into({"D": small_net(4)}, "w", root=tmp_path)


def test_load_into_copies_values(tmp_path):
    source = small_net()
    export_weights("v", {"G": source}, {"method": "x"}, root=tmp_path, dtype=torch.float32)
    target = small_net()
    assert not torch.equal(target[0].weight, source[0].weight)
    load_into({"G": target}, "v", root=tmp_path)
    assert torch.equal(target[0].weight, source[0].weight)


def test_refuses_files_over_15_mb(tmp_path):
    big = nn.Linear(2800, 2800)  # 7.8 M parameters, 15.7 MB in fp16
    with pytest.raises(ValueError, match="over the 15 MB limit"):
        export_weights("big", {"G": big}, {"method": "x"}, root=tmp_path)
    assert not (tmp_path / "big.safetensors").exists()
    assert not registry_path(tmp_path).exists()


def test_bad_inputs(tmp_path):
    with pytest.raises(ValueError, match="bare name"):
        export_weights("a/b", {"G": small_net()}, {}, root=tmp_path)
    with pytest.raises(TypeError, match="not an nn.Module"):
        export_weights("a", {"G": object()}, {}, root=tmp_path)
    with pytest.raises(ValueError, match="JSON"):
        export_weights("a", {"G": small_net()}, {"f": object()}, root=tmp_path)
    with pytest.raises(FileNotFoundError, match="no weights file"):
        load_weights("nope", root=tmp_path)
    (tmp_path / "junk.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(ValueError, match="not a readable safetensors file"):
        load_weights("junk", root=tmp_path, verify=False)


def _export_in_child(root: str, name: str) -> None:
    torch.manual_seed(len(name))
    export_weights(name, {"G": small_net()}, {"method": "stargan"}, root=root)


def test_simultaneous_exports_keep_every_registry_entry(tmp_path):
    # Training scripts run several methods side by side and each exports when it ends.
    import multiprocessing as mp

    names = [f"net{i}" for i in range(6)]
    ctx = mp.get_context("fork")
    children = [ctx.Process(target=_export_in_child, args=(str(tmp_path), name)) for name in names]
    for child in children:
        child.start()
    for child in children:
        child.join(60)
        assert child.exitcode == 0
    registry = json.loads(registry_path(tmp_path).read_text())
    assert sorted(registry) == names
    for name in names:
        load_weights(name, root=tmp_path)  # every file matches its sha256 entry
