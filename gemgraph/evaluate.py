r"""Proxy evaluation: train a cell's network briefly on the CIFAR-10 proxy set, measure it.

:class:`ProxyTrainer` turns a :class:`~gemgraph.Cell` into a :class:`~gemgraph.nn.CifarNet`,
counts its MACs and parameters (:func:`gemgraph.cost.count`), trains it on the proxy train
split (5,000 images), measures accuracy on a held-out split and returns a :class:`Result`
with the score of the run's objective: the efficiency score ``accuracy - lam * ln(MACs / 1e6)``
(:func:`gemgraph.score.efficiency`, the paper's) or the accuracy inside a regime
(:func:`gemgraph.score.objective_score`).

Settings. The paper trains every candidate briefly on 1/10 of CIFAR-10 (5,000 images); the
exact schedule (epochs, width, optimiser) is not given in the material this implementation
follows, so the defaults are ours: ``width=16, cells_per_stage=1, epochs=5``, batch 128, SGD
(Nesterov, lr 0.1, weight decay 5e-4) with a linear warm-up over 15% of the steps then
cosine decay, accuracy on the 1,000-image ``val`` split after BatchNorm recalibration.
The cost of one evaluation is linear in images x epochs x MACs; for the default candidate
``SearchSpace(num_nodes=30).sample(1, seed=0)[0]`` (30 nodes, 139 edges, 205M MACs at width
16) ``benchmarks/proxy_eval.py`` measures it on GPU and CPU (figures in
``benchmarks/README.md``): a GPU evaluates it in seconds, one CPU thread in tens of minutes.

For a search on CPU, shrink the proxy by resolution, not by images or steps: the ``quick``
preset trains ``resolution=16`` (inputs average-pooled to 16x16, a quarter of the MACs per
step), ``width=8``, all 5,000 images, 2 epochs of batch 64 (156 SGD steps), lr 0.1, on one
thread; its candidates learn (val accuracy well above chance), where 1 epoch of 500
images (7 steps) left every candidate at chance. Figures and their cost:
``benchmarks/proxy_rank.py`` (``benchmarks/README.md``). The NAS-Bench-101-sized network is ``width=128,
cells_per_stage=3`` (GPU only).

Data path. The uint8 images stay in one tensor on the training device; each batch is
gathered, augmented (random crop with 4-pixel padding, horizontal flip) and normalised
vectorised, with a ``torch.Generator`` seeded from ``seed`` (no per-sample Python work, no
``DataLoader``). On CUDA the forward/backward runs under AMP (bfloat16 where supported, else
float16 with a gradient scaler) and in ``channels_last``.

Determinism. Model initialisation, data order and augmentation all derive from ``seed``
(global RNG state is forked and restored, never reseeded for the caller): on CPU the same
seed gives the same accuracy, bit for bit, in the same environment.

Failures. A non-finite training loss, a loss above ``max_loss`` (divergence) or an error
while building / training the network (out of memory, say) does not raise: the
:class:`Result` has ``status="failed"`` and ``error`` says why.
"""
from __future__ import annotations

import math
import os
import time
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from .cell import Cell
from .cifar import CifarTensorDataset, balanced_indices, cifar10_proxy, downsample
from .protocols import Result
from .cost import count
from .nn import CifarNet
from .score import check_objective, objective_score
from .utils import check_int, intra_op_threads, resolve_device, warmup_cosine
from .errors import InputError

__all__ = ["ProxyTrainer", "Result", "resolve_device"]


class _Diverged(RuntimeError):
    pass


def _warmup_cosine(total: int, warmup: float = 0.15):
    """LR factor per step: linear warm-up over ``warmup`` of the steps (reaching 1 on its last
    step), then cosine to 0; see :func:`gemgraph.utils.warmup_cosine`."""
    warm = max(1, int(warmup * total))

    def factor(step: int) -> float:
        return warmup_cosine(step, total, warm, offset=1)

    return factor


def _check_float(value: Any, name: str, low: float = 0.0, strict: bool = True) -> float:
    ok = isinstance(value, (int, float, np.floating)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or (value <= low if strict else value < low):
        raise InputError(f"{name}: expected a finite number {'>' if strict else '>='} {low}, got {value!r}")
    return float(value)


class ProxyTrainer:
    r"""Brief training of a cell's :class:`~gemgraph.nn.CifarNet` on the CIFAR-10 proxy set.

    Args:
        epochs: passes over the training images.
        batch_size: training batch size.
        lr: peak learning rate (SGD, Nesterov momentum 0.9; linear warm-up over the first 15%
            of the steps, then cosine decay to 0).
        weight_decay: L2 weight decay.
        width: stage-1 width of :class:`~gemgraph.nn.CifarNet`.
        cells_per_stage: normal cells per stage.
        max_train_images: train on a class-balanced subset of this many images (drawn with
            ``seed``); None = all of the train split.
        max_eval_images: measure accuracy on a class-balanced subset of this many images of
            the evaluation split (drawn with ``seed``); None = all of it.
        split: evaluation split, ``"val"`` (1,000 held-out training images, default) or
            ``"test"``.
        root: data root for :func:`gemgraph.cifar.cifar10_proxy` (default
            ``$GEMGRAPH_DATA``).
        train_data, eval_data: datasets to use instead of :func:`cifar10_proxy`; objects like
            :class:`~gemgraph.cifar.CifarTensorDataset` (``.data`` uint8 (N, C, H, W),
            ``.targets``, ``.batch``).
        device: ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"``, ``"cuda:1"`` ...
        seed: seeds model init, data order, augmentation and the train subset.
        lam: cost weight of the efficiency score.
        objective: ``"efficiency"`` (S = ACC - lam ln MMACs, the paper's) or ``"regime"`` (S = ACC;
            the space keeps the cells inside the MAC window), :data:`gemgraph.score.OBJECTIVES`.
        max_loss: a training loss above this counts as divergence.
        amp: mixed precision on CUDA (ignored on CPU).
        channels_last: memory format; None = on CUDA only.
        compile: ``torch.compile`` the network (pays compilation time per candidate).
        num_threads: CPU threads for the duration of :meth:`evaluate` / :meth:`fit`
            (``torch.set_num_threads`` through :class:`gemgraph.utils.intra_op_threads`: the
            process setting, put back on every way out, an exception or ``KeyboardInterrupt``
            included; during the call, code it runs sees this count); None = leave as is. On a
            shared or oversubscribed machine ``num_threads=1`` can be many times faster than
            two contended threads.
        recalibrate_bn: before measuring accuracy, replace the BatchNorm running statistics by
            exact averages over this many training images (not augmented, drawn with ``seed``);
            0 keeps the running averages. After a short run (one epoch of 1,000 images, say)
            the running averages still carry their initial values and the network predicts
            one class; recalibrated, it is measured as it is. Its time counts in
            ``eval_seconds``.
        resolution: train and measure on images average-pooled to this side
            (:func:`gemgraph.cifar.downsample`; 16 = a quarter of the pixels of CIFAR-10's
            32, and of the MACs per step); None = as the data come. The MACs of the
            :class:`Result` stay those of the network at the data's own resolution (32x32 for
            CIFAR-10), whatever ``resolution`` the proxy trains at.
        download: fetch full CIFAR-10 through torchvision into ``root`` when it is absent
            (:func:`gemgraph.cifar.cifar10_proxy`).
        progress: show a tqdm bar.

    Example:
        >>> trainer = ProxyTrainer(epochs=1, width=8, max_train_images=1000)
        >>> result = trainer.evaluate(cell)
        >>> result.accuracy, result.macs, result.score, result.status
    """

    def __init__(
        self,
        epochs: int = 5,
        batch_size: int = 128,
        lr: float = 0.1,
        weight_decay: float = 5e-4,
        width: int = 16,
        cells_per_stage: int = 1,
        max_train_images: int | None = None,
        max_eval_images: int | None = None,
        split: str = "val",
        root: str | os.PathLike | None = None,
        train_data: Any = None,
        eval_data: Any = None,
        device: str | torch.device = "auto",
        seed: int = 0,
        lam: float = 0.1,
        objective: str = "efficiency",
        max_loss: float = 20.0,
        amp: bool = True,
        channels_last: bool | None = None,
        compile: bool = False,
        num_threads: int | None = None,
        recalibrate_bn: int = 1000,
        resolution: int | None = None,
        download: bool = False,
        progress: bool = False,
    ) -> None:
        self.epochs = check_int(epochs, "epochs", 1)
        self.batch_size = check_int(batch_size, "batch_size", 1)
        self.lr = _check_float(lr, "lr")
        self.weight_decay = _check_float(weight_decay, "weight_decay", strict=False)
        self.width = check_int(width, "width", 1)
        self.cells_per_stage = check_int(cells_per_stage, "cells_per_stage", 1)
        self.max_train_images = None if max_train_images is None else check_int(max_train_images, "max_train_images", 1)
        self.max_eval_images = None if max_eval_images is None else check_int(max_eval_images, "max_eval_images", 1)
        if split not in ("val", "test"):
            raise InputError(f"split: expected 'val' or 'test', got {split!r}")
        self.split = split
        self.root = root
        for name, ds in (("train_data", train_data), ("eval_data", eval_data)):
            if ds is not None and not (hasattr(ds, "data") and hasattr(ds, "targets") and hasattr(ds, "batch")):
                raise InputError(f"{name}: expected a CifarTensorDataset-like object (.data, .targets, .batch), "
                                 f"got {type(ds).__name__}")
        if (train_data is None) != (eval_data is None):
            raise InputError("train_data/eval_data: give both or neither")
        self.train_data, self.eval_data = train_data, eval_data
        self.device = resolve_device(device)
        self.seed = check_int(seed, "seed", 0)
        self.lam = _check_float(lam, "lam", strict=False)
        self.objective = check_objective(objective)
        self.max_loss = _check_float(max_loss, "max_loss")
        self.amp = bool(amp)
        self.channels_last = channels_last
        self.compile = bool(compile)
        self.num_threads = None if num_threads is None else check_int(num_threads, "num_threads", 1)
        self.recalibrate_bn = check_int(recalibrate_bn, "recalibrate_bn", 0)
        self.resolution = None if resolution is None else check_int(resolution, "resolution", 1)
        self.download = bool(download)
        self.progress = bool(progress)
        self._cache: dict[str, Any] = {}

    def __repr__(self) -> str:
        return (
            f"ProxyTrainer(epochs={self.epochs}, batch_size={self.batch_size}, lr={self.lr}, "
            f"width={self.width}, cells_per_stage={self.cells_per_stage}, "
            f"max_train_images={self.max_train_images}, max_eval_images={self.max_eval_images}, "
            f"split={self.split!r}, " + (f"resolution={self.resolution}, " if self.resolution else "") +
            f"device={str(self.device)!r}, seed={self.seed})"
        )

    # ------------------------------------------------------------------ data
    def check_data(self) -> None:
        r"""Load (and, with ``download``, fetch) the proxy data once and drop it: a missing or
        malformed data set fails here, before anything costly runs, not at the first candidate.

        Raises:
            FileNotFoundError, ValueError: as :func:`gemgraph.cifar.cifar10_proxy`.
        """
        if self.train_data is None and "train" not in self._cache:
            cifar10_proxy(self.root, split=("train", self.split), resolution=self.resolution or 32,
                          download=self.download)

    def _data(self) -> tuple[Any, torch.Tensor, torch.Tensor, Any, torch.Tensor]:
        """(train dataset, train indices, train images on device, eval dataset, eval images on device)."""
        if "train" not in self._cache:
            if self.train_data is None:
                train, ev = cifar10_proxy(self.root, split=("train", self.split), resolution=self.resolution or 32,
                                          download=self.download)
                native = 32
            else:
                train, ev = self.train_data, self.eval_data
                native = int(train.data.shape[-1])
                if self.resolution is not None and self.resolution != native:
                    if not all(isinstance(d, CifarTensorDataset) for d in (train, ev)):
                        raise InputError(f"resolution: {self.resolution} needs CifarTensorDataset train_data/eval_data "
                                         f"to pool, got {type(train).__name__}")
                    train, ev = (CifarTensorDataset(downsample(d.data, self.resolution), d.targets, train=d.train,
                                                    classes=d.classes, mean=d.mean.tolist(), std=d.std.tolist(),
                                                    padding=max(1, d.padding * self.resolution // native),
                                                    split=d.split) for d in (train, ev))
            self._cache["macs_input"] = (int(train.data.shape[1]), native, native)
            if self.max_train_images is None or self.max_train_images >= len(train):
                idx = torch.arange(len(train))
            else:
                idx = torch.from_numpy(balanced_indices(train.targets, self.max_train_images, seed=self.seed))
            if self.max_eval_images is None or self.max_eval_images >= len(ev):
                eval_idx = torch.arange(len(ev))
            else:
                eval_idx = torch.from_numpy(balanced_indices(ev.targets, self.max_eval_images, seed=self.seed))
            self._cache.update(
                train=train, eval=ev, idx=idx, eval_idx=eval_idx,
                train_x=train.data.to(self.device), eval_x=ev.data.to(self.device),
            )
        c = self._cache
        return c["train"], c["idx"], c["train_x"], c["eval"], c["eval_x"]

    # ------------------------------------------------------------------ model
    def build_model(self, cell: Cell, num_classes: int = 10, in_channels: int = 3) -> nn.Module:
        """The (untrained, CPU) network for ``cell``, initialised from ``seed``."""
        with torch.random.fork_rng(devices=[]):  # built on the CPU: only the CPU generator is used
            torch.default_generator.manual_seed(self.seed)
            return CifarNet(cell, num_classes=num_classes, width=self.width,
                            cells_per_stage=self.cells_per_stage, in_channels=in_channels)

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, cell: Cell) -> Result:
        r"""Build, count, train and test the network of ``cell``.

        Returns:
            A :class:`Result`; failures (NaN / divergent loss, out of memory, an invalid cell)
            come back as ``status="failed"`` with the reason in ``error``, never raised.

        Raises:
            ValueError: if ``cell`` is not a :class:`~gemgraph.Cell`.
            FileNotFoundError: if the proxy data cannot be found (a setup error, not a
                property of the candidate).
        """
        return self.fit(cell)[0]

    def fit(self, cell: Cell) -> tuple[Result, nn.Module | None]:
        r"""As :meth:`evaluate`, and also return the trained network (on the CPU, eval mode;
        None when the evaluation failed), e.g. to save it with :func:`gemgraph.save_gemnet`."""
        if not isinstance(cell, Cell):
            raise InputError(f"cell: expected a gemgraph.Cell, got {type(cell).__name__}")
        if self.num_threads is None:
            return self._evaluate(cell)
        with intra_op_threads(self.num_threads):  # scoped: restored on every way out
            return self._evaluate(cell)

    def _evaluate(self, cell: Cell) -> tuple[Result, nn.Module | None]:
        train, idx, train_x, ev, eval_x = self._data()
        num_classes = max(len(getattr(train, "classes", ())), int(train.targets.max()) + 1)
        macs = params = 0
        res = dict(train_seconds=0.0, loss=math.nan, eval_seconds=0.0, num_train=len(idx), epochs=0)
        try:
            model = self.build_model(cell, num_classes, in_channels=train_x.shape[1])
            macs, params = count(model, self._cache["macs_input"])
            self._train(model, train, idx, train_x, res)
            acc = self._accuracy(model, ev, eval_x, res, train, idx, train_x)
        except (_Diverged, RuntimeError, ValueError, MemoryError) as exc:
            if self.device.type == "cuda":
                torch.cuda.empty_cache()
            msg = str(exc) if isinstance(exc, _Diverged) else f"{type(exc).__name__}: {exc}"
            return Result(math.nan, macs, params, math.nan, status="failed", error=msg, **res), None
        model = model.to("cpu", memory_format=torch.contiguous_format).eval()
        return Result(acc, macs, params, objective_score(acc, macs, self.objective, self.lam), **res), model

    def _train(self, model: nn.Module, train: Any, idx: torch.Tensor, data: torch.Tensor, res: dict) -> None:
        dev = self.device
        cuda = dev.type == "cuda"
        cl = cuda if self.channels_last is None else self.channels_last
        fmt = torch.channels_last if cl else torch.contiguous_format
        model = model.to(dev, memory_format=fmt)
        amp_dtype = None
        if cuda and self.amp:
            amp_dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        scaler = torch.amp.GradScaler("cuda", enabled=amp_dtype == torch.float16)
        step_model = torch.compile(model) if self.compile else model

        n = len(idx)
        bs = min(self.batch_size, n)
        steps_per_epoch = n // bs  # drop the last partial batch: constant shapes
        total = steps_per_epoch * self.epochs
        opt = torch.optim.SGD(model.parameters(), lr=self.lr, momentum=0.9, nesterov=True,
                              weight_decay=self.weight_decay, foreach=True)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, _warmup_cosine(total))
        gen = torch.Generator().manual_seed(self.seed)
        check_every = 1 if not cuda else 20
        bar = tqdm(total=total, desc="proxy train", disable=not self.progress, leave=False)
        model.train()
        t0 = time.perf_counter()
        cuda_index = (dev.index if dev.index is not None else torch.cuda.current_device()) if cuda else None
        # layers drawing from the global RNG (dropout) see a seeded stream; the caller's state is restored
        with torch.random.fork_rng(devices=[] if cuda_index is None else [cuda_index]):
            torch.default_generator.manual_seed(self.seed)
            if cuda_index is not None:
                with torch.cuda.device(cuda_index):
                    torch.cuda.manual_seed(self.seed)
            for epoch in range(self.epochs):
                perm = idx[torch.randperm(n, generator=gen)]
                pending: list[torch.Tensor] = []
                loss_sum, loss_n = 0.0, 0
                for s in range(steps_per_epoch):
                    xb, yb = train.batch(perm[s * bs : (s + 1) * bs], gen, augment=True, data=data)
                    xb = xb.contiguous(memory_format=fmt)
                    with torch.autocast(dev.type, dtype=amp_dtype or torch.float32, enabled=amp_dtype is not None):
                        loss = nn.functional.cross_entropy(step_model(xb), yb)
                    opt.zero_grad(set_to_none=True)
                    scaler.scale(loss).backward()
                    scaler.step(opt)
                    scaler.update()
                    sched.step()
                    pending.append(loss.detach())
                    if len(pending) >= check_every or s == steps_per_epoch - 1:
                        vals = torch.stack(pending).float().cpu()
                        pending.clear()
                        where = f"epoch {epoch + 1}, step {s + 1}"
                        if not torch.isfinite(vals).all():
                            raise _Diverged(f"non-finite training loss at {where}")
                        if float(vals.max()) > self.max_loss:
                            raise _Diverged(f"diverged: training loss {float(vals.max()):.4g} > "
                                            f"max_loss={self.max_loss} at {where}")
                        loss_sum += float(vals.sum())
                        loss_n += len(vals)
                        bar.set_postfix(loss=f"{loss_sum / loss_n:.3f}", refresh=False)
                    bar.update(1)
                res["loss"] = loss_sum / max(loss_n, 1)
                res["epochs"] = epoch + 1
                if cuda:
                    torch.cuda.synchronize(dev)
                res["train_seconds"] = time.perf_counter() - t0
        bar.close()

    @torch.no_grad()
    def _accuracy(
        self, model: nn.Module, ev: Any, data: torch.Tensor, res: dict,
        train: Any = None, idx: torch.Tensor | None = None, train_x: torch.Tensor | None = None,
    ) -> float:
        dev = self.device
        cuda = dev.type == "cuda"
        cl = cuda if self.channels_last is None else self.channels_last
        fmt = torch.channels_last if cl else torch.contiguous_format
        amp = cuda and self.amp
        amp_dtype = torch.bfloat16 if amp and torch.cuda.is_bf16_supported() else torch.float16
        t0 = time.perf_counter()
        bs = 2 * self.batch_size
        if self.recalibrate_bn and train is not None:
            bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
            momenta = [m.momentum for m in bns]
            for m in bns:
                m.reset_running_stats()
                m.momentum = None  # cumulative average over the recalibration batches
            gen = torch.Generator().manual_seed(self.seed + 1)
            sub = idx[torch.randperm(len(idx), generator=gen)[: self.recalibrate_bn]]
            model.train()
            for s in range(0, len(sub), bs):
                xb, _ = train.batch(sub[s : s + bs], augment=False, data=train_x)
                with torch.autocast(dev.type, dtype=amp_dtype, enabled=amp):
                    model(xb.contiguous(memory_format=fmt))
            for m, mom in zip(bns, momenta):
                m.momentum = mom
        model.eval()
        correct = torch.zeros((), dtype=torch.long, device=dev)
        eval_idx = self._cache.get("eval_idx", torch.arange(len(data)))
        n = len(eval_idx)
        for s in range(0, n, bs):
            xb, yb = ev.batch(eval_idx[s : s + bs], augment=False, data=data)
            with torch.autocast(dev.type, dtype=amp_dtype, enabled=amp):
                logits = model(xb.contiguous(memory_format=fmt))
            correct += (logits.argmax(1) == yb).sum()
        acc = float(correct) / max(n, 1)
        res["eval_seconds"] = time.perf_counter() - t0
        return acc
