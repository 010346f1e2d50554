r"""Training throughput (images/s) of a 30-node-cell CifarNet vs torchvision's MobileNetV2.

Both networks train on random 32x32 batches (SGD step included) in the same process; the
measurements are *interleaved* (a few steps of one, then of the other, repeated), so a
machine whose load changes during the run slows both alike. Reported per network: median
images/s over the rounds, MACs per image (gemgraph.cost.count), and GMAC/s = images/s x
MACs; the per-MAC ratio is torchvision's GMAC/s over ours (target: <= 1.5).

The torchvision baseline is ``mobilenet_v2(width_mult=w, num_classes=10)`` with ``w``
chosen (bisection) so that its MACs at 32x32 match ours. ``--mbv2-stem-stride 1`` (default)
uses the usual CIFAR adaptation (stem stride 1, 4x4 final feature map); ``2`` keeps the
ImageNet stem (1x1 final feature map, very wide layers).

``--table`` instead prints MobileNet (224x224, GEMNet setting) params / MACs for a few sampled
cells, with the width fitted to a MAC budget (``MobileNet.for_macs``), beside the paper's Table 1
(GEMNet-A 4.3M / 463M, GEMNet-B 4.5M / 563M).

``--compile`` also times ``torch.compile`` of our network (compile seconds, then images/s).

Usage::

    python benchmarks/train_throughput.py                     # 2 threads, batch 64
    python benchmarks/train_throughput.py --threads 1 --batch-size 128 --rounds 5
    python benchmarks/train_throughput.py --table
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import torch
import torchvision

try:
    import gemgraph  # noqa: F401
except ImportError:  # run from a checkout without installing: use the repository root
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gemgraph import SearchSpace
from gemgraph.cost import count
from gemgraph.nn import CifarNet, MobileNet


def mobilenet_v2_cifar(width_mult: float, stem_stride: int = 1) -> torch.nn.Module:
    m = torchvision.models.mobilenet_v2(width_mult=width_mult, num_classes=10)
    m.features[0][0].stride = (stem_stride, stem_stride)
    return m


def match_width(target_macs: int, stem_stride: int) -> tuple[float, int]:
    lo, hi = 0.1, 16.0
    for _ in range(20):
        mid = (lo * hi) ** 0.5
        macs = count(mobilenet_v2_cifar(mid, stem_stride), (3, 32, 32))[0]
        lo, hi = (mid, hi) if macs < target_macs else (lo, mid)
    w = (lo * hi) ** 0.5
    return w, count(mobilenet_v2_cifar(w, stem_stride), (3, 32, 32))[0]


class Runner:
    def __init__(self, name: str, model: torch.nn.Module, batch_size: int, channels_last: bool, seed: int = 0):
        fmt = torch.channels_last if channels_last else torch.contiguous_format
        self.name, self.fmt = name, fmt
        self.model = model.to(memory_format=fmt).train()
        self.macs = count(model, (3, 32, 32))[0]
        self.opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True,
                                   weight_decay=5e-4, foreach=True)
        g = torch.Generator().manual_seed(seed)
        self.x = torch.randn(batch_size, 3, 32, 32, generator=g).contiguous(memory_format=fmt)
        self.y = torch.randint(0, 10, (batch_size,), generator=g)
        self.rates: list[float] = []

    def step(self, model=None) -> None:
        loss = torch.nn.functional.cross_entropy((self.model if model is None else model)(self.x), self.y)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()

    def timed(self, steps: int) -> None:
        t = time.perf_counter()
        for _ in range(steps):
            self.step()
        self.rates.append(steps * len(self.x) / (time.perf_counter() - t))


def throughput(args: argparse.Namespace) -> None:
    torch.set_num_threads(args.threads)
    cell = SearchSpace(num_nodes=30).sample(1, seed=args.cell_seed)[0]
    pruned = cell.prune()
    print(f"cell (SearchSpace(30).sample(1, seed={args.cell_seed})): {pruned.num_nodes} kept nodes, "
          f"{pruned.num_edges} edges, {pruned.num_concat} concatenations")
    print(f"threads={args.threads} batch={args.batch_size} channels_last={args.channels_last} "
          f"load average at start: {os.getloadavg()[0]:.2f}")
    torch.manual_seed(0)
    ours = Runner("ours: CifarNet(width=%d, cells_per_stage=%d)" % (args.width, args.cells_per_stage),
                  CifarNet(cell, width=args.width, cells_per_stage=args.cells_per_stage),
                  args.batch_size, args.channels_last)
    w, _ = match_width(ours.macs, args.mbv2_stem_stride)
    tv = Runner(f"torchvision mobilenet_v2(width_mult={w:.2f}, stem stride {args.mbv2_stem_stride})",
                mobilenet_v2_cifar(w, args.mbv2_stem_stride), args.batch_size, args.channels_last)
    for r in (ours, tv):  # warm-up
        r.step()
    for _ in range(args.rounds):
        ours.timed(args.steps)
        tv.timed(args.steps)
    print(f"{'network':62s} {'MMACs':>8s} {'img/s':>8s} {'GMAC/s':>8s}"
          f"   (median of {args.rounds} rounds x {args.steps} steps)")
    for r in (ours, tv):
        ips = statistics.median(r.rates)
        print(f"{r.name:62s} {r.macs / 1e6:8.1f} {ips:8.1f} {ips * r.macs / 1e9:8.2f}   rounds: "
              + " ".join(f"{v:.1f}" for v in r.rates))
    ratios = [(b * tv.macs) / (a * ours.macs) for a, b in zip(ours.rates, tv.rates)]
    print(f"per-MAC throughput ratio torchvision / ours: median {statistics.median(ratios):.2f} "
          f"(per round: {' '.join(f'{v:.2f}' for v in ratios)}); target <= 1.5")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    if args.compile:
        t = time.perf_counter()
        compiled = torch.compile(ours.model)
        ours.step(compiled)
        print(f"torch.compile (CPU, inductor): first step incl. compilation {time.perf_counter() - t:.1f} s")
        rates = []
        for _ in range(args.rounds):
            t = time.perf_counter()
            for _ in range(args.steps):
                ours.step(compiled)
            rates.append(args.steps * args.batch_size / (time.perf_counter() - t))
        print(f"compiled ours: {statistics.median(rates):.1f} img/s (rounds: {' '.join(f'{v:.1f}' for v in rates)})")


def table() -> None:
    torch.set_num_threads(1)
    print("MobileNet (224x224, GEMNet setting) vs paper Table 1: GEMNet-A 4.3M params / 463M MACs, "
          "GEMNet-B 4.5M / 563M; torchvision MobileNetV2 3.50M / 301M")
    print(f"{'cell':>4s} {'nodes':>5s} {'edges':>5s} {'target':>7s} {'expansion':>9s} {'width':>6s} "
          f"{'params (M)':>10s} {'MACs (M)':>9s}")
    cells = SearchSpace(num_nodes=30, max_concat=8).sample(4, seed=0)
    for k, cell in enumerate(cells):
        p = cell.prune()
        for target, expansion in ((463e6, 1.0), (463e6, 0.5), (563e6, 1.0)):
            m = MobileNet.for_macs(cell, target, expansion=expansion)
            macs, params = count(m, (3, 224, 224))
            print(f"{k:4d} {p.num_nodes:5d} {p.num_edges:5d} {target / 1e6:6.0f}M {expansion:9.2f} {m.width:6.3f} "
                  f"{params / 1e6:10.2f} {macs / 1e6:9.0f}", flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--cells-per-stage", type=int, default=1)
    p.add_argument("--cell-seed", type=int, default=0)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--steps", type=int, default=2)
    p.add_argument("--channels-last", action=argparse.BooleanOptionalAction, default=False)
    p.add_argument("--mbv2-stem-stride", type=int, default=1, choices=(1, 2))
    p.add_argument("--compile", action="store_true")
    p.add_argument("--table", action="store_true", help="print the MobileNet size table and exit")
    args = p.parse_args()
    if args.table:
        table()
    else:
        throughput(args)


if __name__ == "__main__":
    main()
