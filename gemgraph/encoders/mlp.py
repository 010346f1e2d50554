r"""The default encoder: an MLP on the flattened adjacency (the paper's choice)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from .base import CellBatch, Encoder, register
from ..errors import InputError


def _tree_sum_rows(t: torch.Tensor, *, inplace: bool = False) -> torch.Tensor:
    r"""Sum the rows of ``t`` (M, N) -> (N,) in an order fixed by M alone.

    Pairwise: row ``i + M // 2`` is added to row ``i`` (an odd last row is carried to the next
    round), until one row is left. Every step is one elementwise addition (each output element
    is one IEEE addition of two given numbers, however PyTorch splits the elements among
    threads), so the result is the same bits on any thread count; no reduction kernel and no
    BLAS call is involved.

    Args:
        t: (M, N) tensor.
        inplace: use ``t`` as the work space (its rows are overwritten) instead of a copy.

    Returns:
        (N,) tensor of ``t``'s dtype (zeros for M = 0).
    """
    if t.shape[0] == 0:
        return t.new_zeros(t.shape[1:])
    if not inplace:
        t = t.clone()
    m = t.shape[0]
    while m > 1:
        half = m // 2
        t[:half].add_(t[half:2 * half])
        if m % 2:  # carry the odd row into the slot just consumed
            t[half].copy_(t[2 * half])
            half += 1
        m = half
    return t[0].clone()


class _LayerNormFn(torch.autograd.Function):
    """``layer_norm`` whose backward is PyTorch's on one thread and thread-count invariant on more
    (see :class:`ThreadStableLayerNorm`)."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, weight: torch.Tensor | None, bias: torch.Tensor | None,
                shape: list[int], eps: float) -> torch.Tensor:
        out, mean, rstd = torch.ops.aten.native_layer_norm(x, shape, weight, bias, eps)
        ctx.save_for_backward(x, weight, bias, mean, rstd)
        ctx.shape = shape
        return out

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[Any, ...]:
        x, weight, bias, mean, rstd = ctx.saved_tensors
        want_w = weight is not None and ctx.needs_input_grad[1]
        want_b = bias is not None and ctx.needs_input_grad[2]
        grad = grad.contiguous()
        if torch.get_num_threads() == 1:
            # one intra-op thread (the library's trainings run so, scoped): PyTorch's own kernel,
            # whose batch sums then run in one fixed order
            mask = [ctx.needs_input_grad[0], want_w, want_b]
            gx, gw, gb = torch.ops.aten.native_layer_norm_backward(grad, x, ctx.shape, mean, rstd, weight, bias, mask)
            return gx, gw, gb, None, None
        gx = gw = gb = None
        if ctx.needs_input_grad[0]:
            # the input gradient of row i is computed from row i alone (PyTorch's kernel splits
            # rows, not sums, among threads): PyTorch's own numbers on any thread count
            gx = torch.ops.aten.native_layer_norm_backward(grad, x, ctx.shape, mean, rstd, weight, bias,
                                                           [True, False, False])[0]
        if want_w or want_b:
            n = 1
            for s in ctx.shape:
                n *= int(s)
            g64 = grad.reshape(-1, n).to(torch.float64, copy=True)  # a work space of our own
            if want_w:
                assert weight is not None
                # grad * xhat, xhat = (x - mean) * rstd: elementwise, in one float64 work space
                work = x.reshape(-1, n).to(torch.float64, copy=True)
                work.sub_(mean.reshape(-1, 1)).mul_(rstd.reshape(-1, 1)).mul_(g64)
                gw = _tree_sum_rows(work, inplace=True).to(weight.dtype).reshape(weight.shape)
            if want_b:
                assert bias is not None
                gb = _tree_sum_rows(g64, inplace=True).to(bias.dtype).reshape(bias.shape)
        return gx, gw, gb, None, None


class ThreadStableLayerNorm(nn.LayerNorm):
    r"""``nn.LayerNorm`` that never changes the thread setting, with PyTorch's own gradients on
    one CPU thread and gradients that do not depend on the thread count on more.

    PyTorch's CPU LayerNorm backward sums the weight and bias gradients over the batch in
    per-thread partial sums, so a 1- and a 2-thread run of the same training drift apart (by
    about 1e-9 per step, then chaotically). Here the forward is PyTorch's own (the same bits).
    On one intra-op thread, the backward is PyTorch's own too: its batch sums then run in one
    order, and this is what the library's trainings compute (:func:`~gemgraph.embedding.train_encoder`
    and :meth:`Encoder.embed` run on one thread, scoped, then restored, because the ``Linear``
    layers around this one are not thread-count invariant either). On more threads, the input gradient is
    PyTorch's own (each row's is computed from that row alone, so the thread count does not
    enter), and the weight and bias gradients ``sum_i grad_i * xhat_i`` and ``sum_i grad_i``
    over the batch are computed without any reduction kernel: the products in float64
    (elementwise), then a pairwise sum whose order is fixed by the batch size alone
    (:func:`_tree_sum_rows`: each step is one elementwise addition), then one rounding to the
    parameter's dtype. Elementwise IEEE operations give the same bits however their elements
    are split among threads, so the result is the same on any thread count above one (within
    a float32 rounding of the one-thread result: both are within about one rounding of the
    exact sums); no BLAS product is used. ``torch.get_num_threads()`` is never changed, so
    hooks and other threads see the user's setting during the backward. Same parameters and
    state dict as ``nn.LayerNorm``.

    Shapes:
        (..., normalized_shape) -> the same.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        needs_grad = x.requires_grad or (self.weight is not None and self.weight.requires_grad)
        if not torch.is_grad_enabled() or not needs_grad:
            return super().forward(x)
        return _LayerNormFn.apply(x, self.weight, self.bias, list(self.normalized_shape), self.eps)


@register("mlp")
class MLPEncoder(Encoder):
    r"""MLP on the flattened strictly-upper-triangular adjacency (plus one-hot ops).

    Args:
        num_nodes: N (smaller cells are zero-padded).
        dim: embedding dimension.
        ops: op names to one-hot encode, or None (adjacency only).
        hidden: widths of the hidden layers (each Linear -> LayerNorm -> ReLU).

    Shapes:
        input (n, N(N-1)/2 [+ N len(ops)]) -> (n, dim).
    """

    hidden_option_kind = "widths"

    def __init__(
        self, num_nodes: int, dim: int = 128, ops: Sequence[str] | None = None, hidden: Sequence[int] = (1024, 512)
    ) -> None:
        super().__init__(num_nodes, dim, ops)
        hidden = [int(h) for h in hidden]
        if any(h < 1 for h in hidden):
            raise InputError(f"hidden: expected positive layer widths, got {hidden}")
        self.hidden = tuple(hidden)
        layers: list[nn.Module] = []
        width = self.flat_dim
        for h in hidden:
            layers += [nn.Linear(width, h), ThreadStableLayerNorm(h), nn.ReLU()]
            width = h
        layers.append(nn.Linear(width, dim))
        self.net = nn.Sequential(*layers)

    @property
    def config(self) -> dict[str, Any]:
        return {**super().config, "hidden": list(self.hidden)}

    def forward(self, batch: CellBatch) -> torch.Tensor:
        return self.net(self.flat_input(batch))
