r"""Cells as PyTorch modules: node operations, :class:`CellModule`, and the networks stacked
from a cell (:class:`CifarNet` for the CIFAR-10 proxy, :class:`MobileNet` for the GEMNet
ImageNet setting)."""
from .cell_module import CellModule
from .networks import MOBILENET_STAGES, CifarNet, MobileNet
from .ops import OP_BUILDERS, ConvBNReLU, PoolBN, SepConvBNReLU, build_op, make_divisible

__all__ = [
    "CellModule",
    "CifarNet",
    "MobileNet",
    "MOBILENET_STAGES",
    "ConvBNReLU",
    "SepConvBNReLU",
    "PoolBN",
    "OP_BUILDERS",
    "build_op",
    "make_divisible",
]
