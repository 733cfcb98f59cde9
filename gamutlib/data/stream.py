"""Benchmark faces as datasets: an endless on-device training stream and a
fixed, seeded test set of held-out identities.

Both draw every random choice from one CPU ``torch.Generator`` and render on
``device``, so a seed gives the same faces on CPU and GPU and nothing touches
the disk. The stream's ``state_dict`` is the generator state plus the number
of batches drawn, so a resumed training run sees exactly the batches that the
uninterrupted run would have seen.
"""

from __future__ import annotations

import os
from typing import Any, Iterator

import torch

from gamutlib.faces import identities_from_ids, random_faces


RENDER_AHEAD_ENV = "GAMUT_RENDER_AHEAD"


def default_render_ahead(device: torch.device, batch_size: int) -> int:
    """How many faces a stream renders at once: 1024 on CUDA (fewer, larger
    launches), one batch on a CPU. ``GAMUT_RENDER_AHEAD=N`` sets it, for many
    training processes sharing one GPU: rendering 1024 faces at 128 px peaks at
    several GB per process."""
    value = os.environ.get(RENDER_AHEAD_ENV)
    if value is not None:
        if not value.isdigit() or int(value) < 1:
            raise ValueError(f"{RENDER_AHEAD_ENV} must be a whole number >= 1, got {value!r}")
        return int(value)
    return 1024 if device.type == "cuda" else batch_size


class FaceStream:
    """Endless batches of training faces with every key of the batch contract.

    ``style`` is a name of STYLES or "random" (one per face); ``kwargs`` go to
    `random_faces` (for instance ``au_jitter`` or ``pose_scale``).
    ``identity_pool`` N draws every face from the first N training identities
    (ids 0..N-1, the classes of an identity classifier); None (the default)
    draws from all of them, exactly as before the option existed.

    Faces are rendered ``render_ahead`` at a time and served ``batch_size`` at
    a time: the renderer is launch-bound at a GAN's batch of 16 (a few hundred
    faces/s on an H100) and fast at 1024 (10,000 faces/s), and every face is
    still used once. The default renders ahead 1024 faces on CUDA and one batch
    on the CPU.
    """

    def __init__(
        self,
        batch_size: int,
        size: int = 128,
        split: str = "train",
        seed: int = 0,
        device: torch.device | str = "cpu",
        style: str = "photo",
        render_ahead: int | None = None,
        identity_pool: int | None = None,
        **kwargs: Any,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.batch_size, self.size, self.split, self.style = batch_size, size, split, style
        self.device = torch.device(device)
        if render_ahead is None:
            render_ahead = default_render_ahead(self.device, batch_size)
        # A whole number of batches per rendered chunk.
        self.batches_per_chunk = max(1, render_ahead // batch_size)
        if identity_pool is not None and not (split == "train" and 1 <= identity_pool):
            raise ValueError(f"identity_pool needs the train split and a pool of >= 1 identities; got {identity_pool} ({split})")
        self.identity_pool = identity_pool
        self.kwargs = kwargs
        self.generator = torch.Generator().manual_seed(seed)
        self.batches_drawn = 0
        self._chunk: dict[str, torch.Tensor] | None = None
        self._chunk_state = self.generator.get_state()  # generator state before the current chunk

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        return self

    def _render_chunk(self) -> None:
        self._chunk_state = self.generator.get_state()
        n = self.batch_size * self.batches_per_chunk
        kwargs = dict(self.kwargs)
        if self.identity_pool is not None:
            # A classifier over identities (EGGAN's C_id, the feature network)
            # needs a closed set of classes: ids 0..pool-1 of the train split.
            # Drawn only when asked for, so a stream without a pool is unchanged.
            kwargs["identity"] = identities_from_ids(torch.randint(self.identity_pool, (n,), generator=self.generator))
        self._chunk = random_faces(
            n, size=self.size, split=self.split, device=self.device,
            style=self.style, generator=self.generator, **kwargs,
        )

    def __next__(self) -> dict[str, torch.Tensor]:
        position = self.batches_drawn % self.batches_per_chunk
        if position == 0 or self._chunk is None:
            self._render_chunk()
        start = position * self.batch_size
        batch = {key: value[start : start + self.batch_size] for key, value in self._chunk.items()}
        self.batches_drawn += 1
        return batch

    def state_dict(self) -> dict[str, Any]:
        """Where the stream stands: the generator before the current chunk and the batch count."""
        at_chunk_start = self.batches_drawn % self.batches_per_chunk == 0
        state = self.generator.get_state() if at_chunk_start else self._chunk_state
        return {"generator": state, "batches_drawn": self.batches_drawn, "batches_per_chunk": self.batches_per_chunk}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if int(state.get("batches_per_chunk", 1)) != self.batches_per_chunk:
            raise ValueError(
                f"stream state was saved with {state.get('batches_per_chunk')} batches per rendered chunk, "
                f"this stream renders {self.batches_per_chunk}; resume on the same kind of device or pass render_ahead"
            )
        self.generator.set_state(state["generator"])
        self.batches_drawn = int(state["batches_drawn"])
        self._chunk = None
        if self.batches_drawn % self.batches_per_chunk:
            self._render_chunk()  # re-render the chunk the saved stream was serving


class PairStream(FaceStream):
    """Endless batches of PortraitGAN's tuples (``landmark_modality_pairs``):
    I_A with its landmarks and modality, the target landmarks and modality of
    the same identity, and the exact target image I_B.

    Chunking, seeding and ``state_dict`` are FaceStream's (resumes exactly);
    only what a chunk renders differs, so FaceStream's own batches are
    untouched. ``kwargs`` go to ``landmark_modality_pairs`` (``modalities``,
    ``p_same_expression``, ``p_same_modality``, ``au_jitter``, ``pose_scale``).
    """

    def __init__(self, batch_size: int, size: int = 128, split: str = "train", seed: int = 0,
                 device: torch.device | str = "cpu", render_ahead: int | None = None, **kwargs: Any) -> None:
        super().__init__(batch_size, size=size, split=split, seed=seed, device=device, render_ahead=render_ahead, **kwargs)

    def _render_chunk(self) -> None:
        from gamutlib.data.pairs import landmark_modality_pairs

        self._chunk_state = self.generator.get_state()
        self._chunk = landmark_modality_pairs(
            self.batch_size * self.batches_per_chunk, size=self.size, split=self.split, device=self.device,
            generator=self.generator, **self.kwargs,
        )


class FaceTestSet:
    """``n`` fixed faces of held-out (test) identities, rendered once in chunks.

    Indexing gives one face's dict; ``batches(batch_size)`` walks the set in
    order. The same ``(n, size, seed, style, chunk)`` always gives the same
    faces (the generator is drawn from once per rendered chunk).
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
