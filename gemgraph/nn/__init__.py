r"""Cells as PyTorch modules: node operations, :class:`CellModule`, and the networks stacked
from a cell (:class:`CifarNet` for the CIFAR-10 proxy, :class:`MobileNet` for the GEMNet
ImageNet setting), and the FLOP counter that measures them (:mod:`gemgraph.nn.flops`)."""
from .cell_module import CellModule
from .flops import count, count_params
from .networks import MOBILENET_STAGES, CifarNet, MobileNet
from .ops import (OP_BUILDERS, OP_REGISTRY, ConvBNReLU, OpSpec, PoolBN, SepConvBNReLU, build_op, make_divisible,
                  op_spec, register_op)

__all__ = [
    "CellModule",
    "CifarNet",
    "MobileNet",
    "MOBILENET_STAGES",
    "ConvBNReLU",
    "SepConvBNReLU",
    "PoolBN",
    "OP_BUILDERS",
    "OP_REGISTRY",
    "OpSpec",
    "build_op",
    "op_spec",
    "register_op",
    "make_divisible",
    "count",
    "count_params",
]
