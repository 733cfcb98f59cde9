"""Benchmark faces with their AU intensities and identity class: what EGGAN, HGAN
and the feature network learn from (a closed pool of training identities)."""

from __future__ import annotations

from typing import Any

import torch


class IdentityBatches:
    """Batches of image, AUs and identity class; resumable (the stream's state is forwarded)."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def __iter__(self) -> "IdentityBatches":
        return self

    def __next__(self) -> dict[str, torch.Tensor]:
        b = next(self.stream)
        return {"image": b["image"], "aus": b["aus"], "identity": b["identity"].long()}

    def state_dict(self) -> dict[str, Any]:
        return self.stream.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.stream.load_state_dict(state)


def identity_batches(batch_size: int, image_size: int, n_identities: int, device: torch.device, seed: int,
                     **stream_options: Any) -> IdentityBatches:
    """Training faces drawn from ``n_identities`` identities; ``stream_options`` go to FaceStream (e.g. ``style``)."""
    from gamutlib.data import FaceStream

    return IdentityBatches(FaceStream(batch_size, size=image_size, split="train", seed=seed, device=device,
                                      identity_pool=n_identities, **stream_options))
