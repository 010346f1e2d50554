r"""The default encoder: an MLP on the flattened adjacency (the paper's choice)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from .base import CellBatch, Encoder, register
from ..errors import InputError


class _LayerNormFn(torch.autograd.Function):
    """``layer_norm`` whose backward runs on one intra-op thread (see :class:`ThreadStableLayerNorm`)."""

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
        mask = [ctx.needs_input_grad[0], weight is not None and ctx.needs_input_grad[1],
                bias is not None and ctx.needs_input_grad[2]]
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # the weight / bias gradients are sums over the batch
        try:
            gx, gw, gb = torch.ops.aten.native_layer_norm_backward(grad.contiguous(), x, ctx.shape, mean, rstd,
                                                                   weight, bias, mask)
        finally:
            torch.set_num_threads(threads)
        return gx, gw, gb, None, None


class ThreadStableLayerNorm(nn.LayerNorm):
    r"""``nn.LayerNorm`` whose gradients do not depend on the number of CPU threads.

    PyTorch's CPU LayerNorm backward sums the weight and bias gradients over the batch in
    per-thread partial sums, so a 1- and a 2-thread run of the same training drift apart (by
    about 1e-9 per step, then chaotically). Here the forward is PyTorch's own (the same bits) and
    the backward is PyTorch's own on one intra-op thread, i.e. exactly what a 1-thread run
    computes: any thread count trains the same encoder. The layers around it (``Linear``) are
    thread-count invariant already. Same parameters and state dict as ``nn.LayerNorm``.

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
