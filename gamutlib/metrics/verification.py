"""Identity verification (EGGAN Table 2) and the judge's own ROC.

EGGAN asks a face recogniser whether each source face and its edit show the
same person and reports the percentage of "yes". Here the recogniser is the
identity judge: cosine similarity of its L2-normalised embeddings against a
threshold fixed once, on held-out identities, where verification accuracy is
highest (``best_threshold``), and shipped with the judge. The "Real" row
(pairs of real faces of one identity) is ``identity_verification`` on two real
renders of each identity.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.metrics import roc_auc_score, roc_curve

from gamutlib.metrics.batched import Judge, map_batches
from gamutlib.metrics.checks import check_images, check_same_length


@torch.no_grad()
def pair_similarity(
    embed: Judge,
    a: torch.Tensor,
    b: torch.Tensor,
    batch_size: int = 512,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Cosine similarity of the embeddings of each pair (a_i, b_i), shape (N,)."""
    check_images(a, "first faces")
    check_images(b, "second faces")
    check_same_length(first=a, second=b)
    ea, eb = map_batches(embed, a, batch_size, device), map_batches(embed, b, batch_size, device)
    return torch.nn.functional.cosine_similarity(ea, eb, dim=1)


def _as_numpy(similarity: torch.Tensor | np.ndarray, same: torch.Tensor | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s = similarity.detach().cpu().double().numpy() if isinstance(similarity, torch.Tensor) else np.asarray(similarity, np.float64)
    y = same.detach().cpu().numpy() if isinstance(same, torch.Tensor) else np.asarray(same)
    if s.shape != y.shape or s.ndim != 1:
        raise ValueError(f"similarity and same must be equal-length vectors, got {s.shape} and {y.shape}")
    y = y.astype(bool)
    if y.all() or not y.any():
        raise ValueError("verification needs both same-identity and different-identity pairs")
    return s, y


def best_threshold(similarity: torch.Tensor | np.ndarray, same: torch.Tensor | np.ndarray) -> tuple[float, float]:
    """The similarity threshold with the highest verification accuracy, and that accuracy (%)."""
    s, y = _as_numpy(similarity, same)
    fpr, tpr, thresholds = roc_curve(y, s, drop_intermediate=False)
    n_pos, n_neg = y.sum(), (~y).sum()
    acc = (tpr * n_pos + (1 - fpr) * n_neg) / (n_pos + n_neg)
    i = int(np.argmax(acc))
    # roc_curve's thresholds are observed scores (the first is +inf); put the
    # cut halfway to the next lower score so that it does not sit on a sample.
    t = thresholds[i] if i + 1 == len(thresholds) else (min(thresholds[i], 1.0 + 1e-6) + thresholds[i + 1]) / 2
    return float(t), 100.0 * float(acc[i])


def verification_roc(similarity: torch.Tensor | np.ndarray, same: torch.Tensor | np.ndarray) -> dict[str, object]:
    """ROC curve (scikit-learn), its AUC, and the best-accuracy operating point."""
    s, y = _as_numpy(similarity, same)
    fpr, tpr, thresholds = roc_curve(y, s)
    threshold, accuracy = best_threshold(s, y)
    return {"fpr": fpr.tolist(), "tpr": tpr.tolist(), "auc": float(roc_auc_score(y, s)), "threshold": threshold, "accuracy": accuracy}


def verification_accuracy(similarity: torch.Tensor, same: torch.Tensor, threshold: float) -> float:
    """Accuracy (%) of deciding "same identity" when similarity >= threshold."""
    return 100.0 * float(((similarity >= threshold) == same.bool()).float().mean())


@torch.no_grad()
def identity_verification(
    embed: Judge,
    source: torch.Tensor,
    generated: torch.Tensor,
    threshold: float,
    batch_size: int = 512,
    device: torch.device | str | None = None,
) -> dict[str, float]:
    """EGGAN Table 2: % of (source, edit) pairs the identity judge accepts as the same person."""
    sim = pair_similarity(embed, source, generated, batch_size, device)
    return {
        "accuracy": 100.0 * float((sim >= threshold).float().mean()),
        "mean_similarity": float(sim.mean()),
        "threshold": float(threshold),
        "n_pairs": len(sim),
    }
