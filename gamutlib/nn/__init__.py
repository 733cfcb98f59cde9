"""Layers shared by the models of the study."""

from gamutlib.nn.aligned import AlignedConv2d, InstanceNorm2d
from gamutlib.nn.conditioning import tile_condition
from gamutlib.nn.norm import instance_norm
from gamutlib.nn.residual import ResidualBlock
from gamutlib.nn.trunk import DiscriminatorTrunk, GeneratorTrunk

__all__ = ["AlignedConv2d", "DiscriminatorTrunk", "GeneratorTrunk", "InstanceNorm2d", "ResidualBlock", "instance_norm", "tile_condition"]
