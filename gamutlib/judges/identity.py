"""The identity judge as a trainable method (``gamut train judge_identity``).

The benchmark has 100,000 training identities, too many for a classification
head to see each one often in a short run, and the judge must work on
identities it never saw. So it is trained as a metric embedding: every batch
holds P identities x V views (different expression, pose, light, background,
style), and a supervised contrastive loss (Khosla et al. 2020) pulls the
L2-normalised embeddings of one identity together and pushes the others
apart, over all pairs of the batch at once.

The cosine threshold for "same person" is fixed when the judge is exported,
on pairs of held-out *test* identities from the calibration range (see
``calibrate_threshold``), and saved inside the weights file as a buffer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Mapping

import torch
from torch import nn

from gamutlib.judges.judge_method import JudgeMethod
from gamutlib.contract.method import build_config
from gamutlib.judges.networks import IdentityJudge
from gamutlib.contract.method import Phase
from gamutlib.contract.registry import register_method


@dataclass
class IdentityJudgeConfig:
    image_size: int = 128
    width: int = 32
    embedding_dim: int = 128
    identities_per_batch: int = 128
    views: int = 2
    temperature: float = 0.1
    lr: float = 2e-3
    weight_decay: float = 0.05
    #: Same/different pairs of held-out identities that fix the threshold at export.
    calibration_pairs: int = 2000


ARCHITECTURE_KEYS = ("image_size", "width", "embedding_dim")


def supervised_contrastive_loss(embeddings: torch.Tensor, identity: torch.Tensor, temperature: float) -> torch.Tensor:
    """SupCon: for each anchor, -mean log-softmax similarity of its positives.

    ``embeddings`` (N, D) are L2-normalised; ``identity`` (N,) labels who each
    row shows; an anchor is never its own positive or negative.
    """
    n = embeddings.shape[0]
    logits = embeddings @ embeddings.T / temperature
    self_mask = torch.eye(n, dtype=torch.bool, device=embeddings.device)
    logits = logits.masked_fill(self_mask, float("-inf"))
    log_prob = logits.log_softmax(1).masked_fill(self_mask, 0.0)
    positives = (identity[:, None] == identity[None, :]) & ~self_mask
    n_pos = positives.sum(1).clamp_min(1)
    return -((log_prob * positives).sum(1) / n_pos).mean()


@register_method("judge_identity")
class JudgeIdentity(JudgeMethod):
    """Supervised contrastive training of the identity embedder."""

    name = "judge_identity"
    key = "judge"

    def __init__(self, config: IdentityJudgeConfig | Mapping[str, Any] | None = None, **overrides: Any) -> None:
        self.cfg = build_config(IdentityJudgeConfig, config, overrides)
        c = self.cfg
        self.net = IdentityJudge(c.image_size, c.width, c.embedding_dim)

    def phases(self) -> list[Phase]:
        return [Phase("contrast", (self.key,), self.contrast, capturable=True)]

    def contrast(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, torch.Tensor]:
        e = self.net.embed(batch["image"])
        loss = supervised_contrastive_loss(e, batch["identity"], self.cfg.temperature)
        views = self.cfg.views
        sim = (e.view(-1, views, e.shape[1])[:, 0] * e.view(-1, views, e.shape[1])[:, 1]).sum(1)
        return {"loss": loss, "sim_same": sim.mean(), "sim_other": (e[::views] @ e[::views].T).mean()}

    def data(self, device: torch.device, seed: int) -> Iterator[dict[str, torch.Tensor]]:
        from gamutlib.judges.judge_data import identity_view_batches

        c = self.cfg
        return identity_view_batches(c.identities_per_batch, c.views, c.image_size, device, seed)

    @torch.no_grad()
    def samples(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return batch["image"][:16]

    def export(self) -> dict[str, nn.Module]:
        """The embedder, with its threshold fixed on held-out identities first."""
        calibrate_threshold(self.net, self.cfg.calibration_pairs)
        return {self.key: self.net}


# Held-out identities are split in two disjoint ranges: the threshold is
# calibrated on the upper half of the test ids, the judge report and every
# evaluation use the lower half (gamutlib.judges.report).
CALIBRATION_ID_START = 5000


@torch.no_grad()
def calibration_pairs(n_pairs: int, size: int, device: torch.device | str, seed: int = 0, style: str = "random") -> dict[str, torch.Tensor]:
    """``n_pairs`` same-identity and ``n_pairs`` different-identity face pairs of
    the calibration identities: keys ``a``, ``b`` (images) and ``same`` (bool)."""
    from gamutlib.faces import identities_from_ids, random_faces, split_ids
    from gamutlib.faces.identity import N_TEST_IDENTITIES

    g = torch.Generator().manual_seed(seed)
    pool = N_TEST_IDENTITIES - CALIBRATION_ID_START
    first = CALIBRATION_ID_START + torch.randint(pool, (2 * n_pairs,), generator=g)
    other = CALIBRATION_ID_START + (first - CALIBRATION_ID_START + torch.randint(1, pool, (2 * n_pairs,), generator=g)) % pool
    same = torch.arange(2 * n_pairs) < n_pairs
    second = torch.where(same, first, other)
    ids_a = identities_from_ids(split_ids("test", first))
    ids_b = identities_from_ids(split_ids("test", second))
    a = random_faces(2 * n_pairs, size=size, split="test", device=device, style=style, generator=g, identity=ids_a)
    b = random_faces(2 * n_pairs, size=size, split="test", device=device, style=style, generator=g, identity=ids_b)
    return {"a": a["image"], "b": b["image"], "same": same.to(device)}


@torch.no_grad()
def calibrate_threshold(net: IdentityJudge, n_pairs: int, seed: int = 0) -> float:
    """Set ``net.threshold`` to the best-accuracy cosine cut on calibration pairs; return it."""
    from gamutlib.metrics.verification import best_threshold, pair_similarity

    device = next(net.parameters()).device
    was_training = net.training
    net.eval()
    pairs = calibration_pairs(n_pairs, net.trunk.size, device, seed)
    sim = pair_similarity(net.embed, pairs["a"], pairs["b"], batch_size=256)
    threshold, _ = best_threshold(sim, pairs["same"])
    net.threshold.fill_(threshold)
    net.train(was_training)
    return threshold
