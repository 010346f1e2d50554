r"""Cost of a network: multiply-accumulates (MACs) and parameters.

MACs come from PyTorch's own FLOP counter (:class:`torch.utils.flop_counter.FlopCounterMode`),
which counts the matrix products of convolutions (grouped and depthwise included), linear
layers, matmuls and attention, at 2 FLOPs per multiply-accumulate; ``MACs = FLOPs / 2``.
Element-wise work (BatchNorm, ReLU, pooling, additions, concatenation) is not counted: the
usual convention of MAC tables (torchvision's MobileNetV2: 300M MACs at 224x224).

:class:`CellCost` gives the same two figures for the networks of :mod:`gemgraph.nn`
(:class:`~gemgraph.nn.CifarNet`, :class:`~gemgraph.nn.MobileNet`) in closed form, from four
integers per cell (:func:`cell_stats`), vectorised over a batch of cells: exact, and fast
enough to filter the 50,000 samples of a bootstrap by a MAC window
(:class:`~gemgraph.SearchSpace`'s ``macs=``).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from .batch import CellBatch
from .cell import OP_INDEX, Cell, alive_mask
from .nn import MOBILENET_STAGES, CifarNet, MobileNet, make_divisible
from .nn.flops import count, count_params
from .nn.ops import OP_REGISTRY, op_spec
from .utils import check_int
from .vocab import DEFAULT_VOCAB, OpVocabulary, as_vocab
from .errors import InputError

__all__ = ["count", "count_params", "cell_stats", "stats_chunk", "CellCost", "STAT_NAMES", "NoCostRule"]


class NoCostRule(InputError):
    """An op of a cell has no closed-form cost rule (:func:`gemgraph.nn.register_op`):
    :class:`CellCost` measures such cells with the FLOP counter instead."""


# ---------------------------------------------------------------------- closed form
#: Names of the per-cell structure statistics of :func:`cell_stats`, in column order.
STAT_NAMES: tuple[str, ...] = ("c2", "c9", "bn", "leaves")

_NETWORKS = ("cifarnet", "mobilenet")
_NETWORK_ALIASES = {"cifar": "cifarnet", "cifarnet": "cifarnet", "mobilenet": "mobilenet", "imagenet": "mobilenet"}
_CIFAR_KEYS = {"num_classes", "width", "cells_per_stage", "in_channels", "dropout", "residual"}
_MOBILENET_KEYS = {"num_classes", "width", "expansion", "stages", "stem_channels", "head_channels", "dropout",
                   "residual"}


def _as_cell_tensors(cells: Any, vocab: OpVocabulary | None = None
                     ) -> tuple[torch.Tensor, torch.Tensor | None, OpVocabulary]:
    """``(adj bool (n, N, N), ops long (n, N) or None, vocab)`` from cells, a CellBatch or tensors
    (``vocab``: what tensors' ops index; a batch's and cells' own vocabulary otherwise)."""
    voc = as_vocab(vocab)
    if isinstance(cells, tuple) and len(cells) == 2 and isinstance(cells[0], torch.Tensor):
        adj, ops = cells
    elif hasattr(cells, "adj") and hasattr(cells, "sizes"):  # a CellBatch
        adj, ops = cells.adj, cells.ops
        voc = getattr(cells, "vocab", voc)
    elif isinstance(cells, torch.Tensor):
        adj, ops = cells, None
    elif isinstance(cells, Cell):
        raise InputError("cells: expected a sequence of cells, got a single Cell (wrap it in a list)")
    else:
        cells = list(cells)
        if not cells:
            raise InputError("cells: expected at least one cell")
        for k, c in enumerate(cells):
            if not isinstance(c, Cell):
                raise InputError(f"cells[{k}]: expected a gemgraph.Cell, got {type(c).__name__}")
        N = max(c.num_nodes for c in cells)
        a = np.zeros((len(cells), N, N), dtype=bool)
        o = np.full((len(cells), N), -1, dtype=np.int64)
        with_ops = all(c.ops is not None for c in cells)
        if not with_ops and any(c.ops is not None for c in cells):
            raise InputError("cells: expected all cells with ops or all without, got a mix")
        voc = cells[0].vocab if vocab is None else voc
        for k, c in enumerate(cells):  # zero-padded (padding nodes are isolated, never kept)
            a[k, : c.num_nodes, : c.num_nodes] = c.adjacency
            if with_ops and c.ops is not None:
                o[k, : c.num_nodes] = c.op_indices if c.vocab == voc else voc.indices(c.ops, argument=f"cells[{k}]")
        adj, ops = torch.from_numpy(a), torch.from_numpy(o) if with_ops else None
    adj = torch.as_tensor(adj)
    if adj.dim() != 3 or adj.shape[1] != adj.shape[2]:
        raise InputError(f"adj: expected shape (n, N, N), got {tuple(adj.shape)}")
    if ops is not None:
        ops = torch.as_tensor(ops)
        if ops.shape != adj.shape[:2]:
            raise InputError(f"ops: expected shape {tuple(adj.shape[:2])}, got {tuple(ops.shape)}")
    return adj.bool(), None if ops is None else ops.long(), voc


def cell_stats(cells: Any, default_op: str = "sepconv3x3", chunk: int = 8192,
               vocab: OpVocabulary | None = None) -> torch.Tensor:
    r"""The four integers of a cell that fix the MACs and parameters of every network built
    from it (:class:`CellCost`), vectorised over a batch.

    With the cell pruned as :class:`~gemgraph.nn.CellModule` prunes it, every kept node ``j``
    reads ``k_j`` times the block's node width ``c`` (the sum of its inputs' widths, in units
    of ``c``: 1 for an operation node, the sum of its own inputs for an ``"output"`` node).
    A node's cost is then linear in ``k_j``: ``conv1x1`` costs ``k c^2`` MACs per pixel,
    ``sepconv3x3`` ``9 k c + k c^2``, ``conv3x3`` ``9 k c^2``, ``maxpool3x3`` ``k c^2`` (its
    1x1 projection, only when ``k != 1``), and the output projection ``L c c_out`` with ``L``
    the width of the concatenated leaves. So per cell:

    ==========  ======================================================================
    ``c2``      sum of ``k_j`` over conv1x1, sepconv3x3 and projecting maxpool nodes,
                plus ``9 k_j`` over conv3x3 nodes (the coefficient of ``c^2``)
    ``c9``      sum of ``k_j`` over sepconv3x3 nodes (the depthwise part: ``9 c`` each)
    ``bn``      number of nodes with a BatchNorm (every op node but a non-projecting maxpool)
    ``leaves``  ``L``, width of the cell output in units of ``c``
    ==========  ======================================================================

    Args:
        cells: a :class:`~gemgraph.encoders.CellBatch`, an ``(adj (n, N, N), ops (n, N))``
            tuple as :meth:`SearchSpace.sample_tensors` returns (``ops`` may be None), an
            adjacency tensor, or a list of :class:`~gemgraph.Cell`. Isolated / unreachable
            nodes and padding (op ``-1``) are allowed.
        default_op: operation of every node when the cells carry no ops (as
            :class:`~gemgraph.nn.CellModule`).
        chunk: cells per vectorised step (bounds memory).
        vocab: the :class:`~gemgraph.vocab.OpVocabulary` an ``(adj, ops)`` tuple's ops index
            (default the supernet's); a CellBatch and cells carry their own. Every op of
            another vocabulary is costed by its registered rule (:func:`gemgraph.nn.register_op`).

    Returns:
        int64 tensor (n, 4), columns :data:`STAT_NAMES`.

    Shapes: adj (n, N, N), ops (n, N) -> (n, 4)

    Raises:
        ValueError: for a cell with no operation node reachable from the input, an
            unreachable ``"output"`` node, or a reachable node with op ``"input"`` or padding.
        NoCostRule: (a ValueError) for a reachable op without a closed-form cost rule (the
            message names it); :class:`CellCost` counts such cells' FLOPs instead.
    """
    stats, missing = _cell_stats(cells, default_op, chunk, vocab)
    if bool(missing.any()):
        k = int(missing.nonzero()[0])
        raise NoCostRule(f"cells[{k}]: {_missing_names(cells, k, vocab)} has no closed-form cost rule "
                         "(register one with gemgraph.nn.register_op(..., cost=...)); CellCost counts its FLOPs")
    return stats


def _missing_names(cells: Any, k: int, vocab: OpVocabulary | None) -> str:
    _, ops, voc = _as_cell_tensors(cells, vocab)
    if ops is None:
        return "an op"
    names = sorted({voc.names[i] for i in ops[k].tolist() if i >= 0 and voc.names[i] not in _markers(voc)
                    and _rule(voc.names[i]) is None})
    return "op " + ", ".join(repr(x) for x in names)


def _markers(voc: OpVocabulary) -> set[str]:
    """The input / output markers of ``voc`` (structural: no cost rule needed)."""
    return {voc.input} | ({voc.output} if voc.output is not None else set())


def _rule(name: str) -> Any:
    spec = OP_REGISTRY.get(DEFAULT_VOCAB.canonical(name) if name in DEFAULT_VOCAB else name)
    return None if spec is None else spec.cost


def _cell_stats(cells: Any, default_op: str, chunk: int, vocab: OpVocabulary | None
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`cell_stats` and a (n,) bool mask of the cells with an op lacking a cost rule
    (their rows are not meaningful)."""
    adj, ops, voc = _as_cell_tensors(cells, vocab)
    if isinstance(default_op, str) and default_op in ("input", "output"):
        raise InputError(f"default_op: expected an operation, got the structural {default_op!r}")
    default_name = op_spec(default_op, argument="default_op").name
    if ops is None:  # the default op everywhere: index it in the supernet's vocabulary when it is there
        voc = DEFAULT_VOCAB if default_name in DEFAULT_VOCAB else OpVocabulary(("input", default_name))
    default = voc.index(default_name) if default_name in voc else -1
    general = voc != DEFAULT_VOCAB
    I_OUT = voc.index(voc.output) if voc.output is not None else -2
    I_IN = voc.index(voc.input)
    n, N, _ = adj.shape
    out = torch.zeros((n, 4), dtype=torch.int64)
    missing = torch.zeros(n, dtype=torch.bool)
    upper = torch.ones(N, N, dtype=torch.bool).triu(1)
    if bool((adj & ~upper).any()):
        k = int((adj & ~upper).flatten(1).any(1).nonzero()[0])
        raise InputError(f"cells[{k}]: adjacency is not strictly upper-triangular")
    node = torch.arange(N)
    for lo in range(0, n, chunk):
        a = adj[lo : lo + chunk]
        alive = alive_mask(a)  # (m, N)
        nonempty = alive[:, 1:].any(1)
        if not bool(nonempty.all()):
            k = lo + int((~nonempty).nonzero()[0])
            raise InputError(f"cells[{k}]: no node is reachable from the input; the pruned cell would be empty")
        if ops is None:
            o = torch.full(alive.shape, default, dtype=torch.long)
        else:
            o = ops[lo : lo + chunk]
            last = o[:, -1] == I_OUT
            if bool((last & ~alive[:, -1]).any()):
                k = lo + int((last & ~alive[:, -1]).nonzero()[0])
                raise InputError(f"cells[{k}]: the 'output' node is not reachable from the input")
            bad = alive & (node > 0) & ((o < 0) | (o >= len(voc)) | (o == I_IN))
            if bool(bad.any()):
                k, j = (int(v) for v in bad.nonzero()[0])
                raise InputError(f"cells[{lo + k}]: node {j} is reachable but has op index {int(o[k, j])}, "
                                 "not an operation")
        if general:
            st, miss = _general_stats(a, o, alive, voc)
            out[lo : lo + chunk] = st
            missing[lo : lo + chunk] = miss
        else:
            out[lo : lo + chunk] = stats_chunk(a, o, alive)
    return out, missing


def _widths(a: torch.Tensor, o: torch.Tensor, alive: torch.Tensor, i_out: int
            ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor, torch.Tensor]:
    """``(k_in, w, live, is_out)``: inputs of every node in units of the node width, the widths
    (None when no ``output`` node passes widths on), edges from kept nodes, output-marker nodes."""
    N = a.shape[1]
    live = a & alive[:, :, None]
    is_out = alive & (o == i_out)
    if bool(is_out.any()):
        w = torch.ones(alive.shape, dtype=torch.int64)
        lf = live.to(torch.int64)
        for j in range(1, N):
            if bool(is_out[:, j].any()):
                w[:, j] = torch.where(is_out[:, j], (lf[:, :, j] * w).sum(1), w[:, j])
        return (lf * w[:, :, None]).sum(1), w, live, is_out
    return live.to(torch.float32).sum(1).long(), None, live, is_out


def _general_stats(a: torch.Tensor, o: torch.Tensor, alive: torch.Tensor, voc: OpVocabulary
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`stats_chunk` for any vocabulary, through the registered cost rules; also the (m,)
    mask of cells with a kept op that has no rule."""
    N = a.shape[1]
    node = torch.arange(N)
    i_out = voc.index(voc.output) if voc.output is not None else -2
    k_in, w, live, is_out = _widths(a, o, alive, i_out)
    op_node = alive & (node > 0) & ~is_out
    c2 = torch.zeros(a.shape[0], dtype=torch.int64)
    c9 = torch.zeros_like(c2)
    bn = torch.zeros_like(c2)
    missing = torch.zeros(a.shape[0], dtype=torch.bool)
    free = _markers(voc)
    for i, name in enumerate(voc.names):
        if name in free:
            continue
        sel = op_node & (o == i)
        if not bool(sel.any()):
            continue
        rule = _rule(name)
        if rule is None:
            missing |= sel.any(1)
            continue
        a2, a9, b = (torch.as_tensor(t, dtype=torch.int64) for t in rule(k_in))
        c2 += (a2 * sel).sum(1)
        c9 += (a9 * sel).sum(1)
        bn += (b * sel).sum(1)
    leaf = alive & (node > 0) & ~live.any(2)
    leaves = leaf.sum(1) if w is None else (w * leaf).sum(1)
    return torch.stack([c2, c9, bn, leaves], 1), missing


def stats_chunk(a: torch.Tensor, o: torch.Tensor, alive: torch.Tensor) -> torch.Tensor:
    """:func:`cell_stats` of valid cells of the supernet's vocabulary, no checks: adj (m, N, N)
    bool, ops (m, N) long, ``alive = alive_mask(adj)`` -> (m, 4) int64."""
    N = a.shape[1]
    node = torch.arange(N)
    I_OUT = OP_INDEX["output"]
    I_1, I_S, I_3, I_P = (OP_INDEX[x] for x in ("conv1x1", "sepconv3x3", "conv3x3", "maxpool3x3"))
    live = a & alive[:, :, None]  # edges from kept nodes (a kept node only feeds kept nodes)
    is_out = alive & (o == I_OUT)
    if bool(is_out.any()):  # "output" nodes pass their concatenated inputs on: widths vary
        w = torch.ones(alive.shape, dtype=torch.int64)
        lf = live.to(torch.int64)
        for j in range(1, N):
            if bool(is_out[:, j].any()):
                w[:, j] = torch.where(is_out[:, j], (lf[:, :, j] * w).sum(1), w[:, j])
        k_in = (lf * w[:, :, None]).sum(1)
    else:
        w = None
        k_in = live.to(torch.float32).sum(1).long()  # (m, N) in-degree from kept nodes (exact, faster than bool)
    op_node = alive & (node > 0) & ~is_out
    proj_pool = op_node & (o == I_P) & (k_in != 1)
    mult = ((o == I_1) | (o == I_S) | proj_pool).to(torch.int64) + 9 * (o == I_3).to(torch.int64)
    c2 = (k_in * mult * op_node).sum(1)
    c9 = (k_in * ((o == I_S) & op_node)).sum(1)
    bn = (op_node & ((o == I_1) | (o == I_S) | (o == I_3) | proj_pool)).sum(1)
    leaf = alive & (node > 0) & ~live.any(2)
    leaves = leaf.sum(1) if w is None else (w * leaf).sum(1)
    return torch.stack([c2, c9, bn, leaves], 1)


def _conv_out(size: int, stride: int) -> int:
    """Output size of a ``k``-odd conv with padding ``k // 2`` (3x3 pad 1 or 1x1 pad 0)."""
    return (size - 1) // stride + 1


class CellCost:
    r"""Exact MACs and parameters of a network stacked from a cell, in closed form.

    The network's layout (stem, every :class:`~gemgraph.nn.CellModule` block with its input,
    node and output widths, stride and resolution, head, classifier) is walked once, in
    ``__init__``; the cost of any cell is then a dot product of its four structure statistics
    (:func:`cell_stats`) with per-network coefficients, plus a constant. The figures equal
    :func:`count` (torch's FLOP counter) on the module built from the cell, to the last MAC
    (``tests/test_cost.py``, ``benchmarks/closed_form_macs.py``), at a fraction of a
    microsecond per cell instead of a forward pass.

    Args:
        network: ``"cifarnet"`` (alias ``"cifar"``; :class:`~gemgraph.nn.CifarNet`) or
            ``"mobilenet"`` (alias ``"imagenet"``; :class:`~gemgraph.nn.MobileNet`).
        input_size: image height and width, an int or ``(H, W)`` (default 32 for cifarnet,
            224 for mobilenet). MACs are per image.
        **options: the network's constructor arguments (``width``, ``cells_per_stage``,
            ``num_classes``, ``in_channels`` for cifarnet; ``width``, ``expansion``,
            ``stages``, ``stem_channels``, ``head_channels``, ``num_classes`` for mobilenet;
            ``dropout`` and ``residual`` are accepted and change nothing). Defaults are the
            constructor's.

    Example:
        >>> cost = CellCost("cifarnet", width=16)
        >>> adj, ops = SearchSpace(30, max_concat=8).sample_tensors(50_000, seed=0)
        >>> macs = cost.macs((adj, ops))          # (50000,) int64
        >>> macs, params = cost((adj, ops))
    """

    def __init__(self, network: str = "cifarnet", input_size: int | Sequence[int] | None = None,
                 **options: Any) -> None:
        key = _NETWORK_ALIASES.get(str(network).lower()) if isinstance(network, str) else None
        if key is None:
            raise InputError(f"network: expected one of {list(_NETWORKS)} (or 'cifar' / 'imagenet'), got {network!r}")
        allowed = _CIFAR_KEYS if key == "cifarnet" else _MOBILENET_KEYS
        unknown = sorted(set(options) - allowed)
        if unknown:
            raise InputError(f"options: unknown {key} option(s) {unknown}; expected some of {sorted(allowed)}")
        if input_size is None:
            input_size = 32 if key == "cifarnet" else 224
        if isinstance(input_size, (int, np.integer)) and not isinstance(input_size, bool):
            hw = (int(input_size), int(input_size))
        else:
            try:
                hw = tuple(int(s) for s in input_size)  # type: ignore[union-attr]
            except (TypeError, ValueError):
                hw = ()
        if len(hw) != 2 or min(hw) < 1:
            raise InputError(f"input_size: expected an int or (H, W) with positive sizes, got {input_size!r}")
        self.network, self.input_size, self.options = key, hw, dict(options)

        def pos_int(name: str, default: int) -> int:
            return check_int(options.get(name, default), name, 1)

        def pos_float(name: str, default: float) -> float:
            v = options.get(name, default)
            try:
                ok = float(v) > 0 and math.isfinite(float(v))
            except (TypeError, ValueError):
                ok = False
            if not ok or isinstance(v, bool):
                raise InputError(f"{name}: expected a positive number, got {v!r}")
            return float(v)

        H, W = hw
        # blocks: (in_channels, node channels c, out_channels, stride, H_out, W_out)
        blocks: list[tuple[int, int, int, int, int, int]] = []
        const_m = const_p = 0
        num_classes = pos_int("num_classes", 10 if key == "cifarnet" else 1000)
        if key == "cifarnet":
            width = pos_int("width", 16)
            per_stage = pos_int("cells_per_stage", 1)
            c_img = pos_int("in_channels", 3)
            const_m += 9 * c_img * width * H * W  # stem: 3x3 conv, stride 1
            const_p += 9 * c_img * width + 2 * width
            c = width
            for stage in range(3):
                if stage > 0:
                    H, W = _conv_out(H, 2), _conv_out(W, 2)
                    blocks.append((c, 2 * c, 2 * c, 2, H, W))
                    c *= 2
                blocks.extend((c, c, c, 1, H, W) for _ in range(per_stage))
            const_m += c * num_classes
            const_p += c * num_classes + num_classes
        else:
            width = pos_float("width", 1.0)
            expansion = pos_float("expansion", 1.0)
            stem = pos_int("stem_channels", 32)
            head = pos_int("head_channels", 1280)
            stages = options.get("stages", MOBILENET_STAGES)
            try:
                stages = [tuple(int(v) for v in s) for s in stages]
            except (TypeError, ValueError):
                raise InputError(f"stages: expected (out_channels, num_cells, stride) triples, "
                                 f"got {stages!r}") from None
            for k, st in enumerate(stages):
                if len(st) != 3 or st[0] < 1 or st[1] < 1 or st[2] not in (1, 2):
                    raise InputError(f"stages[{k}]: expected (channels >= 1, num_cells >= 1, stride 1 or 2), got {st}")
            c_in = make_divisible(stem * width)
            H, W = _conv_out(H, 2), _conv_out(W, 2)
            const_m += 9 * 3 * c_in * H * W  # stem: 3x3 conv, stride 2
            const_p += 9 * 3 * c_in + 2 * c_in
            for c_out_base, n_cells, s in stages:
                c_out = make_divisible(c_out_base * width)
                hidden = max(1, round(expansion * c_out))
                for i in range(n_cells):
                    stride = s if i == 0 else 1
                    if stride == 2:
                        H, W = _conv_out(H, 2), _conv_out(W, 2)
                    blocks.append((c_in, hidden, c_out, stride, H, W))
                    c_in = c_out
            c_head = make_divisible(head * max(1.0, width))
            const_m += c_in * c_head * H * W + c_head * num_classes
            const_p += c_in * c_head + 2 * c_head + c_head * num_classes + num_classes
        coef_m = [0, 0, 0, 0]
        coef_p = [0, 0, 0, 0]
        for c_in, c, c_out, stride, h, w in blocks:
            hw_ = h * w
            if stride == 2:  # reduction form: stride-2 depthwise-separable conv c_in -> c
                const_m += (9 * c_in + c_in * c) * hw_
                const_p += 9 * c_in + c_in * c + 2 * c
            elif c_in != c:  # 1x1 Conv-BN-ReLU to the node width
                const_m += c_in * c * hw_
                const_p += c_in * c + 2 * c
            coef_m[0] += c * c * hw_
            coef_m[1] += 9 * c * hw_
            coef_m[3] += c * c_out * hw_
            coef_p[0] += c * c
            coef_p[1] += 9 * c
            coef_p[2] += 2 * c
            coef_p[3] += c * c_out
            const_p += 2 * c_out  # BN of the output projection
        self.blocks = tuple(blocks)
        self._coef = torch.tensor([coef_m, coef_p], dtype=torch.int64)  # (2, 4)
        self._const = torch.tensor([const_m, const_p], dtype=torch.int64)

    def __repr__(self) -> str:
        opts = "".join(f", {k}={v!r}" for k, v in self.options.items())
        return f"CellCost(network={self.network!r}, input_size={self.input_size}{opts}, blocks={len(self.blocks)})"

    @property
    def config(self) -> dict[str, Any]:
        """Plain-value arguments that recreate this cost model: ``CellCost(**cost.config)``."""
        return {"network": self.network, "input_size": list(self.input_size), **self.options}

    def build(self, cell: Any) -> nn.Module:
        """The module whose cost this describes (for checking against :func:`count`)."""
        return (CifarNet if self.network == "cifarnet" else MobileNet)(cell, **self.options)

    def from_stats(self, stats: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(macs, params)``, each int64 (n,), from :func:`cell_stats` output (n, 4)."""
        s = torch.as_tensor(stats, dtype=torch.int64)
        return (s * self._coef[0]).sum(1) + self._const[0], (s * self._coef[1]).sum(1) + self._const[1]

    def __call__(self, cells: Any, vocab: OpVocabulary | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        r"""``(macs, params)`` of the network of every cell, int64 tensors (n,).

        Cells with an op that has no closed-form cost rule (an op registered with
        :func:`gemgraph.nn.register_op` without ``cost``) are built and measured by the FLOP
        counter (:func:`count`): slower, never zero.

        Args:
            cells: as :func:`cell_stats` takes them.
            vocab: what an ``(adj, ops)`` tuple's ops index (see :func:`cell_stats`).

        Shapes: adj (n, N, N), ops (n, N) -> (n,), (n,)
        """
        stats, missing = _cell_stats(cells, "sepconv3x3", 8192, vocab)
        macs, params = self.from_stats(stats)
        if bool(missing.any()):
            adj, ops, voc = _as_cell_tensors(cells, vocab)

            idx = missing.nonzero().flatten()
            sub = CellBatch.from_tensors(adj[idx], None if ops is None else ops[idx], vocab=voc).to_cells()
            c_img = int(self.options.get("in_channels", 3)) if self.network == "cifarnet" else 3
            for k, cell in zip(idx.tolist(), sub):
                m, p = count(self.build(cell), (c_img, *self.input_size))
                macs[k], params[k] = m, p
        return macs, params

    def macs(self, cells: Any, vocab: OpVocabulary | None = None) -> torch.Tensor:
        """MACs per image of the network of every cell, int64 (n,)."""
        return self(cells, vocab)[0]

    def params(self, cells: Any, vocab: OpVocabulary | None = None) -> torch.Tensor:
        """Parameters of the network of every cell, int64 (n,)."""
        return self(cells, vocab)[1]
