r"""The FLOP counter: MACs and parameters of any ``nn.Module``, measured by running it once
under :class:`torch.utils.flop_counter.FlopCounterMode`. It sits beside the networks it
measures; :mod:`gemgraph.cost` (the closed-form cost of cells) falls back to it for an op
without a cost rule."""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from ..errors import InputError

__all__ = ["count", "count_params"]


def count_params(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters of ``model`` (shared parameters counted once)."""
    if not isinstance(model, nn.Module):
        raise InputError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def count(
    model: nn.Module,
    input_size: Sequence[int] = (3, 32, 32),
    device: str | torch.device | None = None,
) -> tuple[int, int]:
    r"""MACs of one forward pass and the parameter count of ``model``.

    Args:
        model: any ``nn.Module`` taking one image tensor.
        input_size: ``(C, H, W)`` for one image (MACs per image), or ``(B, C, H, W)`` for a
            batch of ``B`` (MACs of the whole batch).
        device: where to run the counting pass (default: the device of the model's first
            parameter, else CPU).

    Returns:
        ``(macs, params)`` as ints.

    The forward runs in eval mode under ``torch.no_grad()`` on a zero input; the training
    mode of the model is restored afterwards.

    Example:
        >>> import torchvision
        >>> count(torchvision.models.mobilenet_v2(), (3, 224, 224))   # doctest: +SKIP
        (300774272, 3504872)
    """
    if not isinstance(model, nn.Module):
        raise InputError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
    try:
        size = tuple(int(s) for s in input_size)
    except (TypeError, ValueError):
        raise InputError(f"input_size: expected (C, H, W) or (B, C, H, W) ints, got {input_size!r}") from None
    if len(size) not in (3, 4) or min(size) < 1:
        raise InputError(f"input_size: expected (C, H, W) or (B, C, H, W) with positive sizes, got {input_size!r}")
    if len(size) == 3:
        size = (1,) + size
    if device is None:
        p = next(model.parameters(), None)
        device = p.device if p is not None else torch.device("cpu")
    p = next(model.parameters(), None)
    dtype = p.dtype if p is not None and p.is_floating_point() else torch.float32
    x = torch.zeros(size, device=device, dtype=dtype)
    was_training = model.training
    model.eval()
    try:
        counter = FlopCounterMode(display=False)
        with torch.no_grad(), counter:
            model(x)
    finally:
        model.train(was_training)
    return int(counter.get_total_flops()) // 2, count_params(model)
