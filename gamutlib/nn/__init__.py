"""Layers shared by the models of the study."""

from gamutlib.nn.aligned import AlignedConv2d
from gamutlib.nn.conditioning import tile_condition
from gamutlib.nn.critic_conv import CriticConv2d
from gamutlib.nn.norm import instance_norm
from gamutlib.nn.patchgan import PatchDiscriminator
from gamutlib.nn.residual import ResidualBlock
from gamutlib.nn.trunk import DiscriminatorTrunk, GeneratorTrunk

__all__ = ["AlignedConv2d", "CriticConv2d", "DiscriminatorTrunk", "GeneratorTrunk", "PatchDiscriminator", "ResidualBlock", "instance_norm", "tile_condition"]
