"""The face an edit starts from: a benchmark face or an image file.

Shared by the explorers and ``gamut edit``, so both accept the same inputs
and refuse the same ones with the same messages:

- a benchmark face: a neutral, frontal, photo-style face of a *test* identity
  (never seen in training), chosen by a seed and rendered at the editor's size;
- an image file of exactly the editor's size: taken as an aligned face crop;
- any other image file: a photo, aligned with dlib (the ``real`` extra) onto the
  frame the generators were trained on (`gamutlib.data.photo.align_photo`);
  the edited crop can then be pasted back into the photo through the face's
  feathered landmark hull, as `gamut edit` pastes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import torch

from gamutlib.constants import EMOTIONS

if TYPE_CHECKING:
    from gamutlib.data.photo import PhotoFace

Align = Literal["auto", "always", "never"]


@dataclass
class FaceSource:
    """A face ready for editing and the way back to where it came from."""

    face: torch.Tensor  # (1, 3, S, S) in [-1, 1], S = the editor's image size
    description: str  # "benchmark face 3", "me.jpg (aligned)"
    aligned: PhotoFace | None = None  # the photo the face was aligned from, and how

    @property
    def photo(self) -> torch.Tensor | None:
        """(1, 3, H, W) in [-1, 1]: the whole photo, when the face was aligned from one."""
        if self.aligned is None:
            return None
        from gamutlib.data.images import image_from_array

        return image_from_array(self.aligned.photo)

    @property
    def transform(self) -> torch.Tensor | None:
        """(1, 2, 3) photo pixels -> face pixels, when the face was aligned from a photo."""
        return None if self.aligned is None else self.aligned.transform

    def paste(self, edited: torch.Tensor) -> torch.Tensor:
        """The edited face in its photo, or the face itself.

        Pasted as `gamut edit` pastes (`gamutlib.data.photo.PhotoFace.paste`):
        through the convex hull of the face's 68 landmarks, feathered inwards,
        so every pixel outside the face is the photo's own. (1, 3, H, W) in [-1, 1].
        """
        if self.aligned is None:
            return edited
        from gamutlib.data.images import image_from_array

        return image_from_array(self.aligned.paste(edited))


def benchmark_face(seed: int, size: int, split: str = "test") -> FaceSource:
    """A neutral frontal photo-style face of identity ``seed`` of ``split``."""
    from gamutlib.faces import random_faces, sample_identities

    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"the face seed must be an integer >= 0; got {seed!r}")
    generator = torch.Generator().manual_seed(seed)
    identity = sample_identities(1, split, generator=generator)
    neutral = torch.zeros(1, len(EMOTIONS))
    neutral[0, EMOTIONS.index("neutral")] = 1.0
    batch = random_faces(
        1, size, split, identity=identity, emotion=neutral, intensity=torch.zeros(1),
        au_jitter=0.0, pose_scale=0.0, generator=generator,
    )
    return FaceSource(face=batch["image"], description=f"benchmark face {seed} ({split})")


def load_face(path: str | Path, size: int, align: Align = "auto") -> FaceSource:
    """Read an image file as a face of ``size`` px (see the module docstring).

    ``align``: "auto" aligns any image that is not ``size`` x ``size``,
    "always" aligns every image, "never" refuses an image of another size.
    Every failure is one ValueError naming the file and what to do.
    """
    import numpy as np

    from gamutlib.data.images import image_from_array, open_rgb

    if align not in ("auto", "always", "never"):
        raise ValueError(f"align must be 'auto', 'always' or 'never'; got {align!r}")
    path = Path(path)
    image = open_rgb(path)  # FileNotFoundError / ValueError name the file
    w, h = image.size
    if (h, w) == (size, size) and align != "always":
        return FaceSource(face=image_from_array(np.asarray(image), source=str(path)), description=f"{path.name}")
    wrong = f"{path} is {w}x{h} px, not the {size}x{size} aligned face this generator edits"
    if align == "never":
        raise ValueError(f"{wrong}; give a {size}x{size} face crop")
    if min(h, w) < size:
        raise ValueError(f"{wrong}, and too small to align a face from; give a {size}x{size} face crop or a larger photo")
    try:
        from gamutlib.data.align import require_dlib

        require_dlib()
    except ImportError:
        raise ValueError(
            f"{wrong}; aligning a photo needs dlib: pip install 'gamut[real]', or give a {size}x{size} face crop"
        ) from None
    from gamutlib.data.photo import align_photo

    try:
        aligned = align_photo(image, size, name=str(path))
    except ValueError as err:
        raise ValueError(f"{wrong}, and it could not be aligned: {err}") from None
    return FaceSource(face=aligned.face, description=aligned.description, aligned=aligned)


def tensor_face(image: torch.Tensor, size: int) -> FaceSource:
    """An image tensor (3, S, S) or (1, 3, S, S) in [-1, 1] as a face of ``size`` px."""
    from gamutlib.models.editor import check_image

    face = check_image(image, size)
    if face.shape[0] != 1:
        raise ValueError(f"give one face, not a batch of {face.shape[0]}")
    return FaceSource(face=face.detach().float().cpu(), description="image tensor")


def face_source(source: int | str | Path | torch.Tensor | FaceSource, size: int, align: Align = "auto") -> FaceSource:
    """Any of the accepted sources: a seed, a file path, a tensor, a FaceSource."""
    if isinstance(source, FaceSource):
        tensor_face(source.face, size)  # the face must fit this editor
        return source
    if isinstance(source, torch.Tensor):
        return tensor_face(source, size)
    if isinstance(source, (str, Path)):
        return load_face(source, size, align)
    if isinstance(source, int) and not isinstance(source, bool):
        return benchmark_face(source, size)
    raise TypeError(f"a source face is a benchmark seed (int), an image path or a tensor; got {type(source).__name__}")
