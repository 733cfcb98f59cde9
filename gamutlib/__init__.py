"""gamut: a reproducible, teachable study of continuous facial-expression
manipulation with GANs (GANmut, EGGAN, FineGrained, PortraitGAN and their
baselines), on a built-in face benchmark with exact ground truth."""

from gamutlib.constants import AU_IDS, AU_NAMES, EMOTIONS, STYLES

__version__ = "0.1.0"
__all__ = ["AU_IDS", "AU_NAMES", "EMOTIONS", "STYLES", "__version__"]
