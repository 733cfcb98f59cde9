"""The editors of EGGAN, FineGrained and PortraitGAN keep what depends on the
source face alone (E(x), the U-Net's encoder features, the judged AUs, the
rasterised landmarks) between edits: an edit must give exactly what the whole
network gives, and the kept part must be computed again when the face, the
speed variant or the weights change."""

from __future__ import annotations

import torch
from torch import nn

from gamutlib.models.editor import SourceCache, run_generator
from gamutlib.models.eggan import EGGAN, EGGANEditor
from gamutlib.models.finegrained import FineGrained, FineGrainedEditor
from gamutlib.models.portraitgan import PortraitGAN, landmark_map
from gamutlib.models.portraitgan_editor import PortraitGANEditor

SIZE = 32


def faces(n: int = 2, seed: int = 0, size: int = SIZE) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [torch.rand(1, 3, size, size, generator=g) * 2 - 1 for _ in range(n)]


def count_calls(module: nn.Module) -> list[int]:
    calls = [0]
    module.register_forward_hook(lambda *_: calls.__setitem__(0, calls[0] + 1))
    return calls


def eggan_editor() -> EGGANEditor:
    torch.manual_seed(0)
    return EGGANEditor.from_method(EGGAN(image_size=SIZE, latent_dim=16, e_conv_dim=4, g_conv_dim=4, g_blocks=3,
                                         d_conv_dim=4, d_repeat_num=3, c_conv_dim=4, n_identities=8,
                                         feature_weights=""))


def finegrained_editor(**kwargs) -> FineGrainedEditor:
    torch.manual_seed(0)
    return FineGrainedEditor.from_method(FineGrained(image_size=SIZE, g_conv_dim=4, d_conv_dim=8, d_repeat_num=3),
                                         **kwargs)


def test_eggan_edits_equal_the_whole_network_and_encode_each_face_once():
    editor = eggan_editor()
    encodes = count_calls(editor.G.E)
    a, b = faces()
    for x in (a, b):
        for values in editor.example_values:
            whole = run_generator(editor.G, x, editor.code_of(editor.resolve(values)))  # G(E(x), u) in one pass
            torch.testing.assert_close(editor.edit_values(x, values), whole, atol=1e-6, rtol=0)
    # 4 whole passes + one E(x) per face for the editor's 8 edits
    assert encodes[0] == 2 * 4 + 2
    aus = torch.stack([editor.code_of(editor.resolve(v))[0] for v in editor.example_values[:2]])
    pair = torch.cat([a, a])
    torch.testing.assert_close(editor.edit_aus(pair, aus), run_generator(editor.G, pair, aus), atol=1e-6, rtol=0)


def test_eggan_encodes_again_after_the_weights_or_the_face_change():
    editor = eggan_editor()
    x, _ = faces()
    values = editor.example_values[0]
    before = editor.edit_values(x, values)
    with torch.no_grad():
        editor.G.E.fc.bias.add_(0.5)  # as an optimiser step or load_state_dict would
    after = editor.edit_values(x, values)
    assert not torch.equal(before, after)
    torch.testing.assert_close(after, run_generator(editor.G, x, editor.code_of(editor.resolve(values))),
                               atol=1e-6, rtol=0)
    x2 = x.clone()
    x2[..., 0, 0] = -x2[..., 0, 0]  # the same tensor shape, another face
    torch.testing.assert_close(editor.edit_values(x2, values),
                               run_generator(editor.G, x2, editor.code_of(editor.resolve(values))), atol=1e-6, rtol=0)


def test_finegrained_edits_equal_the_whole_unet_and_encode_each_face_once():
    editor = finegrained_editor()
    stems = count_calls(editor.G.stem)
    a, b = faces()
    for variant in ("fp32", "channels_last"):
        editor.use_variant(variant)
        for x in (a, b):
            for values in editor.example_values:
                whole = run_generator(editor.G, x, editor.code_of(editor.check(values)), variant)
                torch.testing.assert_close(editor.edit_values(x, values), whole, atol=1e-6, rtol=0)
    assert stems[0] == 2 * 2 * 4 + 2 * 2  # whole passes + one encoding per face and variant


def test_finegrained_reads_a_face_with_the_judge_once():
    class Judge(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.scale = nn.Parameter(torch.tensor(2.0))
            self.calls = 0

        def aus(self, x: torch.Tensor) -> torch.Tensor:
            self.calls += 1
            return (x.mean((1, 2, 3))[:, None] + 1) * self.scale * torch.ones(1, 17)

    judge = Judge()
    editor = finegrained_editor(au_judge=judge.aus)
    x, y = faces()
    first = editor.source_aus(x)
    assert torch.equal(editor.source_aus(x), first) and judge.calls == 1
    editor.clip_to_range(x, {"AU12": 5})
    assert judge.calls == 1
    editor.source_aus(y)
    assert judge.calls == 2
    with torch.no_grad():
        judge.scale.mul_(0.5)  # new weights: read again
        want = judge.aus(y).clamp(0, 5)
    torch.testing.assert_close(editor.source_aus(y), want)
    assert judge.calls == 4


def test_a_finegrained_stand_in_without_encode_runs_whole():
    class Shift(nn.Module):
        def forward(self, x, v):
            return x + v.mean(1)[:, None, None, None]

    editor = FineGrainedEditor(Shift(), image_size=SIZE)
    x, _ = faces()
    out = editor.edit_values(x, {"AU12": 2.5})
    torch.testing.assert_close(out, (x + 0.5 / 17).clamp(-1, 1))


def test_portraitgan_keeps_the_face_and_modality_shares_and_the_last_landmark_map():
    torch.manual_seed(0)
    size = 64  # PortraitGAN's critics need at least 24 px at half resolution
    editor = PortraitGANEditor.from_method(PortraitGAN({"image_size": size, "g_conv_dim": 8, "g_max_dim": 16,
                                                        "g_repeat_num": 1, "d_conv_dim": 8}))
    parts: list[str] = []
    editor._share.register_forward_hook(lambda module, args, out: parts.append(args[0]))
    x, y = faces(size=size)
    for face in (x, y):
        for values in editor.example_values:
            checked = editor.check(values)
            points = editor.target_landmarks(checked)
            with torch.inference_mode():  # the whole G in one pass
                whole = editor.G(face, landmark_map(points, size, editor.cfg.landmark_width),
                                 editor.modality_code(checked["modality"])).clamp(-1, 1)
            # the stem's convolution summed from its shares: float rounding apart, the same image
            torch.testing.assert_close(editor.edit(face, values), whole, atol=1e-5, rtol=0)
    # per face: its share once, the landmarks' share per edit, the modality's when it changes
    assert parts.count("image") == 2 and parts.count("landmarks") == 6 and parts.count("modality") == 6
    kept = editor.landmark_map(editor.target_landmarks({"mouth_open": 0.5}))
    assert editor.landmark_map(editor.target_landmarks({"mouth_open": 0.5})) is kept  # a new modality redraws nothing
    assert not torch.equal(editor.landmark_map(editor.target_landmarks({"mouth_open": 1.0})), kept)
    with torch.no_grad():
        editor.G.stem[0].weight.mul_(2)  # new weights: the kept shares are computed again
    editor.edit(y, editor.example_values[0])
    assert parts.count("image") == 3


def test_the_source_cache_keys_on_the_variant_and_the_batch():
    net = nn.Linear(2, 2)
    cache, calls = SourceCache(net), [0]

    def compute(x):
        calls[0] += 1
        return net(x)

    x = torch.ones(1, 2)
    cache.get(x, "fp32", compute), cache.get(x.clone(), "fp32", compute)
    assert calls[0] == 1
    cache.get(x, "channels_last", compute)
    cache.get(torch.ones(2, 2), "channels_last", compute)
    assert calls[0] == 3
    cache.clear()
    cache.get(torch.ones(2, 2), "channels_last", compute)
    assert calls[0] == 4
