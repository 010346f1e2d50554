r"""A cell as a ``torch.nn.Module``: the DAG executed by the paper's cell -> network rules.

The rules (the paper's cell -> network construction), and the choices this module adds:

1. **Prune.** The cell is pruned with :meth:`gemgraph.Cell.prune`: every node not on a path
   from the input is dropped.
2. **Input node.** Node 0 holds the cell input brought to ``channels`` channels: unchanged when
   ``in_channels == channels`` and ``stride == 1``; a 1x1 Conv-BN-ReLU when only the width
   changes; in the **reduction form** (``stride=2``) a stride-2 depthwise-separable
   Conv-BN-ReLU (:class:`~gemgraph.nn.ops.SepConvBNReLU`). Downsampling the input once, before
   the DAG, keeps every node of the cell at one resolution, so any node may concatenate any of
   its predecessors.
3. **Nodes.** A node with in-degree > 1 concatenates its inputs along channels (in node
   order); then applies its op (:mod:`gemgraph.nn.ops`), a Conv-BN-ReLU triplet producing
   ``channels`` channels. Widths stay bounded: a node with ``k`` inputs sees ``k * channels``
   channels and maps them back to ``channels``. A node whose op is ``"output"`` (NAS-Bench-101
   style cells) only concatenates its inputs. Cells without ops use ``default_op`` everywhere.
4. **Output.** The leaves (kept nodes with no kept successor) are concatenated and a 1x1 conv
   + BN (linear, no ReLU, as MobileNetV2's projection) maps them to ``out_channels``.
5. **Residual** (our addition, ``residual=True``): when ``stride == 1`` and
   ``in_channels == out_channels`` the cell input is added to the output, as in MobileNetV2's
   inverted residual block; it keeps stacks of deep 30-node cells trainable in a few epochs.

The schedule (which node reads which, and when an intermediate tensor can be released) is
computed once in ``__init__``; ``forward`` only walks it.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

from ..cell import Cell
from ..utils import check_int
from .ops import ConvBNReLU, SepConvBNReLU, build_op, op_spec
from ..errors import InputError

__all__ = ["CellModule"]


class CellModule(nn.Module):
    r"""Executes a :class:`~gemgraph.Cell` as a network block (rules in the module docs).

    Args:
        cell: the cell; any valid cell of any size (it is pruned first). Its ops pick each
            node's operation; ``"input"`` is node 0, ``"output"`` means "concatenate only".
        in_channels: channels of the block input.
        channels: channels produced by every operation node (and by the input node).
        stride: 1 (normal cell) or 2 (reduction form: the input is downsampled first).
        out_channels: channels of the block output (default: ``channels``).
        default_op: operation for every node when the cell has no ops.
        residual: add the input to the output when the shapes allow it (stride 1,
            ``in_channels == out_channels``).

    Shapes: (B, in_channels, H, W) -> (B, out_channels, H / stride, W / stride)

    Raises:
        ValueError: for a non-Cell ``cell``, a cell with nothing reachable from the input,
            non-positive widths or a stride other than 1 / 2.

    Example:
        >>> from gemgraph import SearchSpace
        >>> cell = SearchSpace(num_nodes=30).sample(1, seed=0)[0]
        >>> block = CellModule(cell, in_channels=16, channels=16)
        >>> block(torch.randn(2, 16, 32, 32)).shape
        torch.Size([2, 16, 32, 32])
    """

    def __init__(
        self,
        cell: Cell,
        in_channels: int,
        channels: int,
        stride: int = 1,
        out_channels: int | None = None,
        default_op: str = "sepconv3x3",
        residual: bool = True,
    ) -> None:
        super().__init__()
        if not isinstance(cell, Cell):
            raise InputError(f"cell: expected a gemgraph.Cell, got {type(cell).__name__}")
        in_channels = check_int(in_channels, "in_channels", 1)
        channels = check_int(channels, "channels", 1)
        out_channels = channels if out_channels is None else check_int(out_channels, "out_channels", 1)
        if stride not in (1, 2) or isinstance(stride, bool):
            raise InputError(f"stride: expected 1 or 2, got {stride!r}")
        if isinstance(default_op, str) and default_op in ("input", "output"):
            raise InputError(f"default_op: expected an operation, got the structural {default_op!r}")
        default_op = op_spec(default_op, argument="default_op").name

        pruned = cell.prune()
        adj = pruned.adjacency.astype(bool)
        n = pruned.num_nodes
        out_marker = pruned.vocab.output
        ops = pruned.ops if pruned.ops is not None else ("input",) + (default_op,) * (n - 1)

        self.cell = pruned
        self.in_channels, self.channels, self.out_channels = in_channels, channels, out_channels
        self.stride = stride

        if stride == 2:
            self.preprocess: nn.Module = SepConvBNReLU(in_channels, channels, stride=2)
        elif in_channels != channels:
            self.preprocess = ConvBNReLU(in_channels, channels, 1)
        else:
            self.preprocess = nn.Identity()

        leaves = pruned.leaves
        # last step (index into the schedule) at which each node's output is read
        last_use = {i: -1 for i in range(n)}
        widths = [channels] + [0] * (n - 1)
        nodes: list[nn.Module] = []
        sources: list[tuple[int, ...]] = []
        for j in range(1, n):
            src = tuple(int(i) for i in np.flatnonzero(adj[:, j]))
            for i in src:
                last_use[i] = j - 1
            width_in = sum(widths[i] for i in src)
            if out_marker is not None and ops[j] == out_marker:
                nodes.append(nn.Identity())
                widths[j] = width_in
            else:
                nodes.append(build_op(ops[j], width_in, channels))
                widths[j] = channels
            sources.append(src)
        free: list[list[int]] = [[] for _ in range(n - 1)]
        for i, step in last_use.items():
            if step >= 0 and i not in leaves:
                free[step].append(i)
        self.nodes = nn.ModuleList(nodes)
        self._schedule: tuple[tuple[tuple[int, ...], tuple[int, ...]], ...] = tuple(
            (sources[s], tuple(free[s])) for s in range(n - 1)
        )
        self._leaves: tuple[int, ...] = tuple(leaves)
        self.project = ConvBNReLU(sum(widths[i] for i in leaves), out_channels, 1, relu=False)
        self.residual = bool(residual) and stride == 1 and in_channels == out_channels

    @property
    def num_op_nodes(self) -> int:
        """Operation nodes after pruning (the input node excluded)."""
        return len(self.nodes)

    def forward(self, x: Tensor) -> Tensor:
        states: list[Tensor | None] = [self.preprocess(x)]
        for node, (src, free) in zip(self.nodes, self._schedule):
            h = states[src[0]] if len(src) == 1 else torch.cat([states[i] for i in src], dim=1)
            states.append(node(h))
            for i in free:
                states[i] = None
        if len(self._leaves) == 1:
            out = states[self._leaves[0]]
        else:
            out = torch.cat([states[i] for i in self._leaves], dim=1)
        out = self.project(out)
        return out + x if self.residual else out

    def extra_repr(self) -> str:
        return (
            f"op_nodes={self.num_op_nodes}, leaves={len(self._leaves)}, in_channels={self.in_channels}, "
            f"channels={self.channels}, out_channels={self.out_channels}, stride={self.stride}, "
            f"residual={self.residual}"
        )

    def __repr__(self) -> str:  # compact: the per-node modules would print hundreds of lines
        return f"{type(self).__name__}({self.extra_repr()})"
