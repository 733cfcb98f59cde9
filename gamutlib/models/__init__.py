"""The generators and discriminators of the study, one file per method.

GANmut series: ``stargan`` (backbone and baseline), ``ganimation`` (categorical
baseline), ``ganmut`` (linear learned space), ``gganmut`` (Gaussian modes).
FineGrained series: ``finegrained`` (relative AUs, U-Net with MSF modules,
msf.py) and ``ganimation_au`` (the same GANimation conditioned on AUs);
au_condition.py holds what they share about AU conditioning.
Each file holds its networks, its config dataclass, its Method (the trainer's
interface, registered under the file's name) and, for the GANmut models, the
editor used by the widget and ``gamut edit``.
"""

from gamutlib.models.ganimation import GANimation, GANimationConfig
from gamutlib.models.ganmut import GANmut, GANmutConfig, GANmutEditor, LinearConditionSpace
from gamutlib.models.gganmut import GaussianConditionSpace, GGANmut, GGANmutConfig, GGANmutEditor
from gamutlib.models.stargan import StarGAN, StarGANConfig

__all__ = [
    "GANimation",
    "GANimationConfig",
    "GANmut",
    "GANmutConfig",
    "GANmutEditor",
    "GGANmut",
    "GGANmutConfig",
    "GGANmutEditor",
    "GaussianConditionSpace",
    "LinearConditionSpace",
    "StarGAN",
    "StarGANConfig",
]
