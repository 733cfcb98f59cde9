"""AU error, ED, ACD, verification, landmark NME, inference time and the registry."""

import time

import numpy as np
import pytest
import torch
from scipy.stats import pearsonr
from sklearn.metrics import roc_auc_score

from gamutlib.constants import AU_NAMES
from gamutlib.metrics.au_error import au_mse_pcc_judged, au_mse_pcc_truth
from gamutlib.metrics.inference_time import inference_time
from gamutlib.metrics import (
    acd,
    au_mse_pcc,
    best_threshold,
    ed,
    expression_distance,
    identity_verification,
    landmark_nme,
    nme_per_face,
    verification_accuracy,
    verification_roc,
)


def _aus(n, seed):
    return torch.rand(n, 17, generator=torch.Generator().manual_seed(seed)) * 5


def test_au_mse_pcc_match_numpy_and_scipy():
    target = _aus(40, 0)
    predicted = (target + torch.randn(40, 17, generator=torch.Generator().manual_seed(1))).clamp(0, 5)
    out = au_mse_pcc(predicted, target)
    p, t = predicted.double().numpy(), target.double().numpy()
    for j, name in enumerate(AU_NAMES):
        assert out["mse"][name] == pytest.approx(((p[:, j] - t[:, j]) ** 2).mean(), rel=1e-9)
        assert out["pcc"][name] == pytest.approx(pearsonr(p[:, j], t[:, j]).statistic, abs=1e-9)
    assert out["mse_avg"] == pytest.approx(((p - t) ** 2).mean(), rel=1e-9)
    assert out["pcc_undefined"] == []


def test_au_pcc_of_a_constant_au_is_undefined_not_zero():
    target = _aus(10, 2)
    target[:, 16] = 0.0  # AU45 never moves
    out = au_mse_pcc(target.clone(), target)
    assert out["pcc_undefined"] == ["AU45"] and np.isnan(out["pcc"]["AU45"])
    assert out["pcc_avg"] == pytest.approx(1.0) and out["mse_avg"] == 0.0


def test_au_protocols_judge_images():
    # An AU "judge" that reads intensities from the first 17 pixels of a row.
    def au_judge(x):
        return (x[:, 0, 0, :17] + 1) * 2.5

    def render(aus):
        x = torch.zeros(len(aus), 3, 4, 17)
        x[:, 0, 0, :] = aus / 2.5 - 1
        return x

    target = _aus(12, 3)
    generated = render((target + 0.5).clamp(0, 5))
    judged = au_mse_pcc_judged(au_judge, generated, render(target))
    truth = au_mse_pcc_truth(au_judge, generated, target)
    assert judged["mse_avg"] == pytest.approx(truth["mse_avg"], rel=1e-5)
    assert 0 < truth["mse_avg"] <= 0.25 + 1e-6
    ed_value = ed(au_judge, generated, target)["ed"]
    assert ed_value == pytest.approx(float(expression_distance(au_judge(generated), target).mean()), rel=1e-6)


def test_expression_distance_by_hand_and_bad_aus():
    a = torch.zeros(2, 17)
    b = torch.zeros(2, 17)
    b[0, 0], b[1, :2] = 5.0, 2.5  # [0, 1] scale: distance 1 and sqrt(0.5^2 * 2)
    assert expression_distance(a, b).tolist() == pytest.approx([1.0, np.sqrt(0.5)])
    with pytest.raises(ValueError, match=r"\[0, 5\]"):
        expression_distance(a, b * 3)
    with pytest.raises(ValueError, match="NaN"):
        expression_distance(a, b.clone().fill_(float("nan")))
    with pytest.raises(ValueError, match=r"\(N, 17\)"):
        expression_distance(torch.zeros(2, 12), torch.zeros(2, 12))


def _embedder(x):
    return torch.nn.functional.normalize(x.mean((2, 3)), dim=1)


def test_acd_and_identity_verification():
    g = torch.Generator().manual_seed(4)
    source = torch.rand(20, 3, 8, 8, generator=g) * 2 - 1
    assert acd(_embedder, source, source)["acd"] == pytest.approx(0.0, abs=1e-6)
    other = source.flip(0)
    expected = (_embedder(source) - _embedder(other)).norm(dim=1).mean()
    assert acd(_embedder, source, other)["acd"] == pytest.approx(float(expected), rel=1e-5)
    same = identity_verification(_embedder, source, source, threshold=0.99)
    assert same["accuracy"] == 100.0
    never = identity_verification(_embedder, source, source, threshold=1.5)
    assert never["accuracy"] == 0.0


def test_verification_threshold_and_roc():
    g = torch.Generator().manual_seed(5)
    same = torch.tensor([1] * 50 + [0] * 50)
    sim = torch.cat([0.8 + 0.1 * torch.rand(50, generator=g), 0.2 + 0.5 * torch.rand(50, generator=g)])
    threshold, acc = best_threshold(sim, same)
    assert acc == 100.0 and 0.7 <= threshold <= 0.8
    assert verification_accuracy(sim, same, threshold) == 100.0
    noisy = sim.clone()
    noisy[0] = 0.1  # one genuine pair now looks like an impostor
    roc = verification_roc(noisy, same)
    assert roc["auc"] == pytest.approx(roc_auc_score(same.numpy(), noisy.numpy()))
    assert roc["accuracy"] == pytest.approx(99.0)
    with pytest.raises(ValueError, match="both"):
        best_threshold(sim[:50], same[:50])


def test_landmark_nme():
    g = torch.Generator().manual_seed(6)
    target = torch.rand(3, 68, 2, generator=g) * 64
    target[:, 36] = torch.tensor([20.0, 30.0])
    target[:, 45] = torch.tensor([44.0, 30.0])  # inter-ocular distance 24 px
    shifted = target + torch.tensor([3.0, 4.0])  # every point 5 px off
    assert nme_per_face(shifted, target).tolist() == pytest.approx([5 / 24] * 3)
    out = landmark_nme(target.clone(), target)
    assert out["nme"] == 0.0 and out["under_10pct"] == 100.0
    with pytest.raises(ValueError, match=r"\(N, 68, 2\)"):
        nme_per_face(torch.zeros(3, 5, 2), torch.zeros(3, 5, 2))


def test_inference_time_measures_the_call():
    out = inference_time(lambda x: time.sleep(0.01), (torch.zeros(4, 3, 8, 8),), repeats=3, warmup=1)
    assert out["median_s"] >= 0.009 and out["per_image_s"] == pytest.approx(out["median_s"] / 4)
    assert out["device"] == "cpu"


