"""AU intensity error per AU: MSE and Pearson correlation (EGGAN Table 1).

EGGAN runs OpenFace on the target images and on the generated images and
reports, for each of the 17 AUs, the MSE and the PCC between the two over the
test pairs, plus their average. ``au_mse_pcc_judged`` is that protocol with
the AU judge in OpenFace's place. The benchmark also knows the AUs the target
face was rendered with, so ``au_mse_pcc_truth`` compares the judged AUs of the
generated faces with those exact intensities instead: the paper's number
without the judge's own error on the target side.
"""

from __future__ import annotations

import warnings

import torch
from torchmetrics.functional import pearson_corrcoef

from gamutlib.constants import AU_NAMES
from gamutlib.metrics.batched import Judge, map_batches
from gamutlib.metrics.checks import check_aus, check_images, check_same_length


def au_mse_pcc(predicted: torch.Tensor, target: torch.Tensor) -> dict[str, object]:
    """Per-AU MSE and PCC between two (N, 17) AU matrices, with their averages.

    The PCC of an AU that does not vary in either set is undefined: it is
    reported as NaN and left out of ``pcc_avg`` (``pcc_undefined`` lists it).
    """
    check_aus(predicted, "predicted AUs")
    check_aus(target, "target AUs")
    n = check_same_length(predicted=predicted, target=target)
    if n < 2:
        raise ValueError("PCC needs at least 2 pairs")
    p, t = predicted.double(), target.double()
    mse = (p - t).pow(2).mean(0)
    flat = (p.std(0) < 1e-8) | (t.std(0) < 1e-8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torchmetrics warns on constant columns; we mask them below
        pcc = pearson_corrcoef(p, t)
    pcc = torch.where(flat, torch.full_like(pcc, float("nan")), pcc)
    return {
        "mse": {name: float(v) for name, v in zip(AU_NAMES, mse)},
        "pcc": {name: float(v) for name, v in zip(AU_NAMES, pcc)},
        "mse_avg": float(mse.mean()),
        "pcc_avg": float(pcc.nanmean()),
        "pcc_undefined": [name for name, f in zip(AU_NAMES, flat) if f],
        "n_pairs": n,
    }


@torch.no_grad()
def au_mse_pcc_judged(
    au_judge: Judge,
    generated: torch.Tensor,
    target_images: torch.Tensor,
    batch_size: int = 512,
    device: torch.device | str | None = None,
) -> dict[str, object]:
    """EGGAN's protocol: judged AUs of generated faces vs judged AUs of the target faces."""
    check_images(generated, "generated")
    check_images(target_images, "target_images")
    check_same_length(generated=generated, target_images=target_images)
    return au_mse_pcc(map_batches(au_judge, generated, batch_size, device), map_batches(au_judge, target_images, batch_size, device))


@torch.no_grad()
def au_mse_pcc_truth(
    au_judge: Judge,
    generated: torch.Tensor,
    target_aus: torch.Tensor,
    batch_size: int = 512,
    device: torch.device | str | None = None,
) -> dict[str, object]:
    """Judged AUs of generated faces vs the AUs the target faces were rendered with."""
    check_images(generated, "generated")
    check_same_length(generated=generated, target_aus=target_aus)
    judged = map_batches(au_judge, generated, batch_size, device)
    return au_mse_pcc(judged, target_aus.to(judged.device))
