"""GANimation on action units: the FineGrained series' baseline (Ling et al. 2020, Sec. 4.1).

The same GANimation as the GANmut series' (gamutlib/models/ganimation.py: one
generator, one critic, one method class), built with AU conditioning:
``conditioning = "absolute"`` is GANimation as its authors trained it (G sees
the target AUs), ``"relative"`` is the paper's "GANimation w/ v_rel" (Table 1,
Table 3). The FineGrained authors ran GANimation's released code "with default
hyper-parameters", so the defaults here are that code's:

- L_cond: lambda_D_cond = 4000 on an MSE that the code also divides by the
  batch size (25 by default): 4000 / 25 = 160 on our batch-size-free mean;
- lambda_A (its lambda_mask) = 0.1, lambda_tv (lambda_mask_smooth) = 1e-5,
  lambda_cyc = 10, lambda_gp = 10, five D steps per G step;
- targets: another face's AUs plus uniform noise of +-0.1 (in [0, 1] units).

Sizes: batch 16 and a 64-wide critic as the house's; G is 16 wide (0.53 M
parameters, 1.1 MB in fp16) instead of the GANmut series' 32 (4.2 MB): the
FineGrained G is 0.82 M parameters, and the tree has room for a few MB of
new weights only.
"""

from __future__ import annotations

from dataclasses import dataclass

from gamutlib.contract.registry import register_method
from gamutlib.models.ganimation import N_AUS, GANimation, GANimationConfig


@dataclass
class GANimationAUConfig(GANimationConfig):
    c_dim: int = N_AUS
    g_conv_dim: int = 16
    conditioning: str = "absolute"
    lambda_A: float = 0.1


@register_method("ganimation_au")
class GANimationAU(GANimation):
    """GANimation conditioned on absolute or relative AUs (the shared model; see ganimation.py)."""

    name = "ganimation_au"
    config_cls = GANimationAUConfig

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        if self.cfg.conditioning == "categorical":
            raise ValueError("ganimation_au conditions on AUs: conditioning must be 'absolute' or 'relative' "
                             "(the categorical GANimation is the method 'ganimation')")
