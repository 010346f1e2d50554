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
:func:`build_op` from the op registry (:data:`OP_REGISTRY`, name -> :class:`OpSpec`;
:data:`OP_BUILDERS` is its name -> builder view). A space with its own op names registers them
with :func:`register_op` (a builder, and optionally a closed-form cost rule); no library edit.

Cost rules
----------
:class:`~gemgraph.cost.CellCost` computes MACs and parameters in closed form from per-node
coefficients. A node reading ``k`` times the node width ``c`` (``k`` inputs concatenated)
contributes, per output pixel, ``a2 c^2 + 9 a9 c`` MACs and ``a2 c^2 + 9 a9 c + 2 c bn``
parameters, where the rule ``cost(k) -> (a2, a9, bn)`` gives three integer tensors of ``k``'s
shape (``conv1x1``: ``(k, 0, 1)``; ``sepconv3x3``: ``(k, k, 1)``; ``conv3x3``: ``(9 k, 0, 1)``;
``maxpool3x3``: ``(k, 0, 1)`` when it projects, ``k != 1``, else ``(0, 0, 0)``). An op
registered without a rule is counted by torch's FLOP counter on the built network
(:func:`gemgraph.cost.count`), never as zero.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from ..vocab import DEFAULT_VOCAB
from ..errors import InputError

__all__ = ["ConvBNReLU", "SepConvBNReLU", "PoolBN", "OP_BUILDERS", "OP_REGISTRY", "OpSpec", "build_op",
           "register_op", "op_spec"]


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


Builder = Callable[[int, int, int], nn.Module]
CostRule = Callable[[torch.Tensor], "tuple[torch.Tensor, torch.Tensor, torch.Tensor]"]


@dataclass(frozen=True)
class OpSpec:
    r"""A registered node operation.

    Attributes:
        name: the op name (as the cells' vocabulary spells it).
        builder: ``builder(in_channels, out_channels, stride) -> nn.Module`` (stride 1 or 2),
            mapping (B, in_channels, H, W) to (B, out_channels, H / stride, W / stride).
        cost: optional closed-form rule ``cost(k) -> (a2, a9, bn)`` (module docs, "Cost
            rules"), or None: the FLOP counter measures networks with this op.
    """

    name: str
    builder: Builder
    cost: CostRule | None = None


def _z(k: torch.Tensor) -> torch.Tensor:
    return torch.zeros_like(k)


def _pool_cost(k: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    proj = (k != 1).to(k.dtype)
    return k * proj, _z(k), proj


#: The op registry: name -> :class:`OpSpec` (the supernet's and NAS-Bench-101's ops built in).
OP_REGISTRY: dict[str, OpSpec] = {
    "conv1x1": OpSpec("conv1x1", lambda i, o, s: ConvBNReLU(i, o, 1, s), lambda k: (k, _z(k), torch.ones_like(k))),
    "sepconv3x3": OpSpec("sepconv3x3", lambda i, o, s: SepConvBNReLU(i, o, s), lambda k: (k, k, torch.ones_like(k))),
    "conv3x3": OpSpec("conv3x3", lambda i, o, s: ConvBNReLU(i, o, 3, s), lambda k: (9 * k, _z(k), torch.ones_like(k))),
    "maxpool3x3": OpSpec("maxpool3x3", lambda i, o, s: PoolBN(i, o, s), _pool_cost),
}

#: Name -> ``builder(in_channels, out_channels, stride) -> nn.Module``: the builders of
#: :data:`OP_REGISTRY` (kept in step by :func:`register_op`).
OP_BUILDERS: dict[str, Builder] = {k: v.builder for k, v in OP_REGISTRY.items()}


def register_op(name: str, builder: Builder, cost: CostRule | None = None, *, replace: bool = False) -> OpSpec:
    r"""Register a node operation so that :func:`build_op`, :class:`~gemgraph.nn.CellModule`
    and the networks can build cells that use it.

    Args:
        name: the op name, as the cells' :class:`~gemgraph.vocab.OpVocabulary` spells it.
        builder: ``builder(in_channels, out_channels, stride) -> nn.Module``.
        cost: optional closed-form cost rule (module docs); None: networks with this op are
            measured by the FLOP counter.
        replace: allow replacing an op registered before (never a built-in one).

    Returns:
        the :class:`OpSpec`.

    Raises:
        ValueError: for a bad name or builder, a name already registered (without
            ``replace``), a built-in op, or a structural marker (``"input"`` / ``"output"``).
    """
    if not isinstance(name, str) or not name:
        raise InputError(f"name: expected a non-empty op name (str), got {name!r}")
    if name in (DEFAULT_VOCAB.input, DEFAULT_VOCAB.output):
        raise InputError(f"name: {name!r} is a structural marker, not an operation")
    if not callable(builder):
        raise InputError(f"builder: expected a callable (in_channels, out_channels, stride) -> nn.Module, "
                         f"got {type(builder).__name__}")
    if cost is not None and not callable(cost):
        raise InputError(f"cost: expected None or a callable k -> (a2, a9, bn), got {type(cost).__name__}")
    if name in _BUILTIN:
        raise InputError(f"name: {name!r} is a built-in op and cannot be replaced")
    if name in OP_REGISTRY and not replace:
        raise InputError(f"name: op {name!r} is already registered (pass replace=True to replace it)")
    spec = OpSpec(name, builder, cost)
    OP_REGISTRY[name] = spec
    OP_BUILDERS[name] = builder
    return spec


def _resolve(name: str) -> str:
    """Canonical spelling: the supernet's aliases resolved; any other name as it is."""
    return DEFAULT_VOCAB.canonical(name) if name in DEFAULT_VOCAB else name


def op_spec(name: str, *, argument: str = "op") -> OpSpec:
    """The :class:`OpSpec` of ``name`` (aliases of the supernet's ops resolved).

    Raises:
        ValueError: naming ``argument``, for a structural marker or an unregistered name.
    """
    if not isinstance(name, str):
        raise InputError(f"{argument}: expected an op name (str), got {type(name).__name__} {name!r}")
    key = _resolve(name)
    spec = OP_REGISTRY.get(key)
    if spec is None:
        if key in (DEFAULT_VOCAB.input, DEFAULT_VOCAB.output):
            raise InputError(f"{argument}: {key!r} is structural and has no module; "
                             f"expected one of {sorted(OP_BUILDERS)}")
        raise InputError(f"{argument}: unknown operation {name!r}; expected one of {sorted(OP_BUILDERS)} "
                         "(register a new op with gemgraph.nn.register_op)")
    return spec


def build_op(name: str, in_channels: int, out_channels: int, stride: int = 1) -> nn.Module:
    r"""Build the operation ``name`` (a key of :data:`OP_REGISTRY`, or an alias of the supernet's
    ops accepted by :func:`gemgraph.cell.canonical_op`).

    Raises:
        ValueError: for an unknown name, or ``"input"`` / ``"output"`` (structural, no op).
    """
    spec = op_spec(name)
    if stride not in (1, 2):
        raise InputError(f"stride: expected 1 or 2, got {stride!r}")
    return spec.builder(int(in_channels), int(out_channels), int(stride))


_BUILTIN = frozenset(OP_REGISTRY)


def make_divisible(value: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Round ``value`` to the nearest multiple of ``divisor`` (never below 90% of it), as in
    MobileNetV2 / torchvision."""
    min_value = divisor if min_value is None else min_value
    new = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if new < 0.9 * value:
        new += divisor
    return new

