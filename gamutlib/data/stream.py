"""Benchmark faces as datasets: an endless on-device training stream and a
fixed, seeded test set of held-out identities.

Both draw every random choice from one CPU ``torch.Generator`` and render on
``device``, so a seed gives the same faces on CPU and GPU and nothing touches
the disk. The stream's ``state_dict`` is the generator state plus the number
of batches drawn, so a resumed training run sees exactly the batches that the
uninterrupted run would have seen.
"""

from __future__ import annotations

from typing import Any, Iterator

import torch

from gamutlib.faces import random_faces


class FaceStream:
    """Endless batches of training faces with every key of the batch contract.

    ``style`` is a name of STYLES or "random" (one per face); ``kwargs`` go to
    `random_faces` (for instance ``au_jitter`` or ``pose_scale``).
    """

    def __init__(
        self,
        batch_size: int,
        size: int = 128,
        split: str = "train",
        seed: int = 0,
        device: torch.device | str = "cpu",
        style: str = "photo",
        **kwargs: Any,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.batch_size, self.size, self.split, self.style = batch_size, size, split, style
        self.device = torch.device(device)
        self.kwargs = kwargs
        self.generator = torch.Generator().manual_seed(seed)
        self.batches_drawn = 0

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        return self

    def __next__(self) -> dict[str, torch.Tensor]:
        batch = random_faces(
            self.batch_size, size=self.size, split=self.split, device=self.device,
            style=self.style, generator=self.generator, **self.kwargs,
        )
        self.batches_drawn += 1
        return batch

    def state_dict(self) -> dict[str, Any]:
        return {"generator": self.generator.get_state(), "batches_drawn": self.batches_drawn}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator.set_state(state["generator"])
        self.batches_drawn = int(state["batches_drawn"])


class FaceTestSet:
    """``n`` fixed faces of held-out (test) identities, rendered once in chunks.

    Indexing gives one face's dict; ``batches(batch_size)`` walks the set in
    order. The same ``(n, size, seed, style)`` always gives the same faces.
    """

    def __init__(
        self,
        n: int = 2000,
        size: int = 128,
        seed: int = 1234,
        device: torch.device | str = "cpu",
        style: str = "photo",
        chunk: int = 256,
        **kwargs: Any,
    ) -> None:
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        g = torch.Generator().manual_seed(seed)
        parts = [
            random_faces(min(chunk, n - start), size=size, split="test", device=device, style=style, generator=g, **kwargs)
            for start in range(0, n, chunk)
        ]
        self.data = {key: torch.cat([p[key] for p in parts]) for key in parts[0]}
        self.n, self.size, self.seed, self.style = n, size, seed, style

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return {key: value[index] for key, value in self.data.items()}

    def batches(self, batch_size: int) -> Iterator[dict[str, torch.Tensor]]:
        for start in range(0, self.n, batch_size):
            yield {key: value[start : start + batch_size] for key, value in self.data.items()}
