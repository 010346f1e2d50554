r"""Node operations of a cell, each a Conv-BN-ReLU triplet.

Every operation maps the (possibly concatenated) input of a node, ``in_channels`` wide, to
``out_channels`` channels at the same resolution (or half of it with ``stride=2``):

======================  ==========================================================================
``"conv1x1"``           1x1 conv -> BN -> ReLU
``"sepconv3x3"``        depthwise 3x3 conv (on all ``in_channels``) -> pointwise 1x1 conv
                        (``in_channels -> out_channels``) -> BN -> ReLU. The depthwise-separable
                        conv is *one* linear map, so the node stays a single Conv-BN-ReLU triplet
                        as in the paper (Xception-style: no BN / ReLU between depthwise and
                        pointwise).
``"conv3x3"``           3x3 conv -> BN -> ReLU (NAS-Bench-101 cells)
``"maxpool3x3"``        (1x1 conv -> BN -> ReLU when ``in_channels != out_channels``) -> 3x3 max
                        pool (NAS-Bench-101 cells)
======================  ==========================================================================

Convolutions have no bias (BN follows). Operations are picked by name through
:func:`build_op`; :data:`OP_BUILDERS` is the registry.
"""
from __future__ import annotations

from collections.abc import Callable

from torch import nn

from ..cell import canonical_op

__all__ = ["ConvBNReLU", "SepConvBNReLU", "PoolBN", "OP_BUILDERS", "build_op"]


class ConvBNReLU(nn.Sequential):
    r"""``kernel_size`` x ``kernel_size`` conv -> BatchNorm -> ReLU (``relu=False``: no ReLU).

    Args:
        in_channels: input channels.
        out_channels: output channels.
        kernel_size: odd kernel size; padding keeps the resolution (divided by ``stride``).
        stride: 1 or 2.
        groups: conv groups.
        relu: append the ReLU.

    Shapes: (B, in_channels, H, W) -> (B, out_channels, H / stride, W / stride)
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 1,
        stride: int = 1,
        groups: int = 1,
        relu: bool = True,
    ) -> None:
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, out_channels, kernel_size, stride, kernel_size // 2, groups=groups, bias=False),
            nn.BatchNorm2d(out_channels),
        ]
        if relu:
            layers.append(nn.ReLU(inplace=True))
        super().__init__(*layers)


class SepConvBNReLU(nn.Sequential):
    r"""Depthwise 3x3 conv -> pointwise 1x1 conv -> BatchNorm -> ReLU.

    Args:
        in_channels: input channels (the depthwise conv has one filter per input channel).
        out_channels: output channels of the pointwise conv.
        stride: stride of the depthwise conv, 1 or 2.
        relu: append the ReLU.

    Shapes: (B, in_channels, H, W) -> (B, out_channels, H / stride, W / stride)
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, relu: bool = True) -> None:
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, in_channels, 3, stride, 1, groups=in_channels, bias=False),
            nn.Conv2d(in_channels, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
        ]
        if relu:
            layers.append(nn.ReLU(inplace=True))
        super().__init__(*layers)


class PoolBN(nn.Sequential):
    r"""3x3 max pool (padding 1), preceded by a 1x1 Conv-BN-ReLU projection when the channel
    count changes.

    Shapes: (B, in_channels, H, W) -> (B, out_channels, H / stride, W / stride)
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        layers: list[nn.Module] = []
        if in_channels != out_channels:
            layers.append(ConvBNReLU(in_channels, out_channels, 1))
        layers.append(nn.MaxPool2d(3, stride, 1))
        super().__init__(*layers)


#: Registry: canonical op name -> ``builder(in_channels, out_channels, stride) -> nn.Module``.
OP_BUILDERS: dict[str, Callable[[int, int, int], nn.Module]] = {
    "conv1x1": lambda i, o, s: ConvBNReLU(i, o, 1, s),
    "sepconv3x3": lambda i, o, s: SepConvBNReLU(i, o, s),
    "conv3x3": lambda i, o, s: ConvBNReLU(i, o, 3, s),
    "maxpool3x3": lambda i, o, s: PoolBN(i, o, s),
}


def build_op(name: str, in_channels: int, out_channels: int, stride: int = 1) -> nn.Module:
    r"""Build the operation ``name`` (a key of :data:`OP_BUILDERS`, or an alias accepted by
    :func:`gemgraph.cell.canonical_op`).

    Raises:
        ValueError: for an unknown name, or ``"input"`` / ``"output"`` (structural, no op).
    """
    name = canonical_op(name, argument="op")
    if name not in OP_BUILDERS:
        raise ValueError(f"op: {name!r} is structural and has no module; expected one of {sorted(OP_BUILDERS)}")
    if stride not in (1, 2):
        raise ValueError(f"stride: expected 1 or 2, got {stride!r}")
    return OP_BUILDERS[name](int(in_channels), int(out_channels), int(stride))


def make_divisible(value: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Round ``value`` to the nearest multiple of ``divisor`` (never below 90% of it), as in
    MobileNetV2 / torchvision."""
    min_value = divisor if min_value is None else min_value
    new = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if new < 0.9 * value:
        new += divisor
    return new

