"""The README's and the book's opening figure: two held-out benchmark faces
edited by the shipped GANmut generator along its six learned directions at rho = 1.

    python scripts/readme_figure.py [book/figures/ganmut_edits.png]
"""

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from gamutlib.constants import EMOTIONS  # noqa: E402
from gamutlib.data import FaceTestSet  # noqa: E402
from gamutlib.evaluation import ganmut as ev  # noqa: E402
from gamutlib.viz.image_grid import to_uint8  # noqa: E402


def main(path: str = "book/figures/ganmut_edits.png") -> None:
    model = ev.load_conditioned("ganmut")
    faces = FaceTestSet(2, size=128, seed=ev.TEST_SEED).data["image"]
    codes = model.class_codes()[list(ev.EMOTION_CLASSES)]
    fig, axes = plt.subplots(2, 7, figsize=(10.5, 3.3), constrained_layout=True)
    for row, face in enumerate(faces):
        with torch.no_grad():
            edits = ev.generate(model, face[None].expand(len(codes), -1, -1, -1), codes)
        for col, image in enumerate([face, *edits]):
            ax = axes[row, col]
            ax.imshow(to_uint8(image))
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title("input" if col == 0 else EMOTIONS[ev.EMOTION_CLASSES[col - 1]], fontsize=10)
    fig.savefig(path, dpi=72)
    from PIL import Image

    Image.open(path).convert("RGB").quantize(colors=128).save(path, optimize=True)  # the figure travels with every clone
    print("wrote", path)


if __name__ == "__main__":
    main(*sys.argv[1:])
