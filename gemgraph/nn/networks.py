r"""Networks stacked from one cell: :class:`CifarNet` (the proxy network, 32x32 inputs) and
:class:`MobileNet` (the GEMNet setting, 224x224 ImageNet inputs).

Every block is a :class:`~gemgraph.nn.CellModule` of the same cell; downsampling uses the
cell's reduction form (``stride=2``). Both networks work with ``torch.compile`` and
``channels_last`` (``model.to(memory_format=torch.channels_last)``).
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from ..cell import Cell
from ..utils import check_int
from .cell_module import CellModule
from .flops import count
from .ops import ConvBNReLU, make_divisible
from ..errors import InputError

__all__ = ["CifarNet", "MobileNet", "MOBILENET_STAGES"]


def _init_weights(module: nn.Module) -> None:
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01)
            nn.init.zeros_(m.bias)


class CifarNet(nn.Module):
    r"""The proxy network for 32x32 images (CIFAR-10): stem, three stages, two reductions.

    Layout (``w`` = ``width``, ``n`` = ``cells_per_stage``)::

        stem   3x3 Conv-BN-ReLU, 3 -> w                        32x32
        stage1 n x CellModule(w -> w)                          32x32
        reduce CellModule(w -> 2w, stride=2)                   16x16
        stage2 n x CellModule(2w -> 2w)                        16x16
        reduce CellModule(2w -> 4w, stride=2)                   8x8
        stage3 n x CellModule(4w -> 4w)                         8x8
        head   global average pool -> dropout -> Linear(4w, num_classes)

    This is the NAS-Bench-101 macro-skeleton (stem + 3 stacks, width doubling at each
    downsampling). NAS-Bench-101 uses ``width=128, cells_per_stage=3``; the defaults here
    (``width=16, cells_per_stage=1``) are the proxy setting of :class:`~gemgraph.evaluate.
    ProxyTrainer`, small enough to train a 30-node cell on 5,000 images on a CPU in minutes.

    Args:
        cell: the cell every block executes.
        num_classes: classifier outputs.
        width: channels of stage 1 (doubled at each reduction).
        cells_per_stage: normal cells per stage (>= 1).
        in_channels: image channels.
        dropout: dropout probability before the classifier.
        residual: passed to :class:`CellModule`.

    Shapes: (B, in_channels, H, W) -> (B, num_classes)
    """

    def __init__(
        self,
        cell: Cell,
        num_classes: int = 10,
        width: int = 16,
        cells_per_stage: int = 1,
        in_channels: int = 3,
        dropout: float = 0.0,
        residual: bool = True,
    ) -> None:
        super().__init__()
        num_classes = check_int(num_classes, "num_classes", 1)
        width = check_int(width, "width", 1)
        cells_per_stage = check_int(cells_per_stage, "cells_per_stage", 1)
        in_channels = check_int(in_channels, "in_channels", 1)
        if not 0.0 <= float(dropout) < 1.0:
            raise InputError(f"dropout: expected a probability in [0, 1), got {dropout!r}")
        self.num_classes, self.width, self.cells_per_stage = num_classes, width, cells_per_stage
        self.stem = ConvBNReLU(in_channels, width, 3)
        blocks: list[nn.Module] = []
        c = width
        for stage in range(3):
            if stage > 0:
                blocks.append(CellModule(cell, c, 2 * c, stride=2, residual=residual))
                c *= 2
            blocks.extend(CellModule(cell, c, c, residual=residual) for _ in range(cells_per_stage))
        self.cells = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(c, num_classes)
        self.cell = blocks[0].cell
        _init_weights(self)

    def forward(self, x: Tensor) -> Tensor:
        x = self.cells(self.stem(x))
        return self.classifier(self.dropout(torch.flatten(self.pool(x), 1)))

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(op_nodes={self.cells[0].num_op_nodes}, width={self.width}, "
            f"cells_per_stage={self.cells_per_stage}, num_classes={self.num_classes})"
        )


#: MobileNetV2's body as ``(out_channels, num_cells, stride)`` per stage (its expansion factor
#: is replaced by the cell); see :class:`MobileNet`.
MOBILENET_STAGES: tuple[tuple[int, int, int], ...] = (
    (16, 1, 1),
    (24, 2, 2),
    (32, 3, 2),
    (64, 4, 2),
    (96, 3, 1),
    (160, 3, 2),
    (320, 1, 1),
)


class MobileNet(nn.Module):
    r"""The GEMNet setting: the searched cell in MobileNetV2's macro-architecture, 224x224 input.

    Layout: 3x3 stride-2 Conv-BN-ReLU stem (``stem_channels``), then for every stage
    ``(c, n, s)`` of ``stages`` ``n`` :class:`CellModule` blocks with output width
    ``make_divisible(c * width)``, the first with stride ``s`` (reduction form when 2);
    a 1x1 Conv-BN-ReLU to ``head_channels``, global average pool, dropout, linear classifier.
    Each block's operation nodes are ``round(expansion * c * width)`` wide (MobileNetV2's
    hidden width is ``6 c``; a cell with many nodes needs far less).

    Args:
        cell: the cell every block executes.
        num_classes: classifier outputs.
        width: width multiplier on every stage (MobileNetV2's ``width_mult``).
        expansion: node width of a block relative to its output width.
        stages: ``(out_channels, num_cells, stride)`` per stage.
        stem_channels: stem output channels (scaled by ``width``).
        head_channels: channels of the last 1x1 conv (scaled by ``width`` when > 1).
        dropout: dropout before the classifier.
        residual: passed to :class:`CellModule`.

    Shapes: (B, 3, 224, 224) -> (B, num_classes) (any size divisible by 32 works)

    Size: params and MACs depend on the cell, so :meth:`for_macs` picks the width multiplier
    that meets a MAC budget. Measured at 224x224 (``gemgraph.cost.count``), cells from
    ``SearchSpace(num_nodes=30, max_concat=8).sample(4, seed=0)``, beside the paper's Table 1:

    ==============================  ==========================  ==========  ========
    network                         setting                     params      MACs
    ==============================  ==========================  ==========  ========
    GEMNet-A (paper)                                            4.3M        463M
    GEMNet-B (paper)                                            4.5M        563M
    torchvision MobileNetV2                                     3.50M       301M
    cell 1 (23 nodes, 52 edges)     width 0.50, expansion 1     4.81M       461M
    cell 1                          width 0.97, expansion 0.5   5.09M       461M
    cell 1                          width 1.11, expansion 0.5   6.23M       531M
    cell 3 (15 nodes, 16 edges)     width 0.74, expansion 1     4.71M       439M
    cell 3                          width 1.32, expansion 0.5   5.63M       468M
    cell 0 (9 nodes, 10 edges)      width 1.66, expansion 0.5   6.43M       463M
    ==============================  ==========================  ==========  ========

    So ``MobileNet.for_macs(cell, 463e6, expansion=1.0)`` (width about 0.5 for a 20-30 node
    cell) lands in the GEMNet regime; small cells need wider networks and carry more
    parameters per MAC (the 1280-channel head and classifier alone hold 1.6M).
    """

    def __init__(
        self,
        cell: Cell,
        num_classes: int = 1000,
        width: float = 1.0,
        expansion: float = 1.0,
        stages: Sequence[tuple[int, int, int]] = MOBILENET_STAGES,
        stem_channels: int = 32,
        head_channels: int = 1280,
        dropout: float = 0.2,
        residual: bool = True,
    ) -> None:
        super().__init__()
        num_classes = check_int(num_classes, "num_classes", 1)
        if not float(width) > 0:
            raise InputError(f"width: expected a positive multiplier, got {width!r}")
        if not float(expansion) > 0:
            raise InputError(f"expansion: expected a positive factor, got {expansion!r}")
        if not 0.0 <= float(dropout) < 1.0:
            raise InputError(f"dropout: expected a probability in [0, 1), got {dropout!r}")
        stages = [tuple(int(v) for v in s) for s in stages]
        for k, (c, n, s) in enumerate(stages):
            if c < 1 or n < 1 or s not in (1, 2):
                raise InputError(f"stages[{k}]: expected (channels >= 1, num_cells >= 1, stride 1 or 2), "
                                 f"got {(c, n, s)}")
        self.num_classes, self.width, self.expansion = num_classes, float(width), float(expansion)
        c_in = make_divisible(stem_channels * width)
        self.stem = ConvBNReLU(3, c_in, 3, stride=2)
        blocks: list[nn.Module] = []
        for c, n, s in stages:
            c_out = make_divisible(c * width)
            hidden = max(1, round(expansion * c_out))
            for i in range(n):
                blocks.append(
                    CellModule(cell, c_in, hidden, stride=s if i == 0 else 1, out_channels=c_out, residual=residual)
                )
                c_in = c_out
        self.cells = nn.Sequential(*blocks)
        c_head = make_divisible(head_channels * max(1.0, width))
        self.head = ConvBNReLU(c_in, c_head, 1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(c_head, num_classes)
        self.cell = blocks[0].cell
        _init_weights(self)

    @classmethod
    def for_macs(
        cls,
        cell: Cell,
        macs: float = 463e6,
        expansion: float = 0.5,
        input_size: int = 224,
        max_iter: int = 12,
        **kwargs,
    ) -> "MobileNet":
        r"""The :class:`MobileNet` of ``cell`` whose ``width`` multiplier brings its MACs (at
        ``input_size`` x ``input_size``) closest to ``macs``, found by bisection.

        Use ``macs=463e6`` (GEMNet-A) or ``563e6`` (GEMNet-B) to land in the paper's Table 1
        regime; the parameter count then depends on the cell. The chosen multiplier is
        ``model.width``. Other keyword arguments go to the constructor.
        """
        if not float(macs) > 0:
            raise InputError(f"macs: expected a positive MAC budget, got {macs!r}")
        lo, hi = 0.05, 4.0
        best: tuple[float, MobileNet] | None = None
        for _ in range(max_iter):
            mid = (lo * hi) ** 0.5
            model = cls(cell, width=mid, expansion=expansion, **kwargs)
            m = count(model, (3, input_size, input_size))[0]
            if best is None or abs(m - macs) < best[0]:
                best = (abs(m - macs), model)
            lo, hi = (mid, hi) if m < macs else (lo, mid)
        return best[1]

    def forward(self, x: Tensor) -> Tensor:
        x = self.head(self.cells(self.stem(x)))
        return self.classifier(self.dropout(torch.flatten(self.pool(x), 1)))

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(op_nodes={self.cells[0].num_op_nodes}, width={self.width}, "
            f"expansion={self.expansion}, blocks={len(self.cells)}, num_classes={self.num_classes})"
        )
