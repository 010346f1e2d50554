r"""One proxy evaluation of a default candidate: train images/s, eval seconds, accuracy.

Trains the CifarNet of ``SearchSpace(num_nodes=30).sample(1, seed=--cell-seed)[0]`` on the
CIFAR-10 proxy train split (5,000 images) with :class:`gemgraph.evaluate.ProxyTrainer` and
prints the Result (accuracy on the val split, MACs, params, score, seconds) plus training
images/s. Self-contained: needs only gemgraph, torch and the proxy data.

Usage::

    python benchmarks/proxy_eval.py                        # device auto (CUDA if present)
    python benchmarks/proxy_eval.py --device cuda --epochs 5
    python benchmarks/proxy_eval.py --device cpu --threads 2 --epochs 1
    python benchmarks/proxy_eval.py --root /path/to/data   # default $GEMGRAPH_DATA

The data root holds ``cifar10-proxy/cifar10_proxy.npz`` or ``cifar-10-batches-py``.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import torch

try:
    import gemgraph  # noqa: F401
except ImportError:  # run from a checkout without installing: use the repository root
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gemgraph import SearchSpace
from gemgraph.evaluate import ProxyTrainer


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="auto")
    p.add_argument("--root", default=None, help="data root (default $GEMGRAPH_DATA)")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--cells-per-stage", type=int, default=1)
    p.add_argument("--max-train-images", type=int, default=None)
    p.add_argument("--max-eval-images", type=int, default=None)
    p.add_argument("--recalibrate-bn", type=int, default=1000)
    p.add_argument("--split", default="val", choices=("val", "test"))
    p.add_argument("--cell-seed", type=int, default=0)
    p.add_argument("--num-cells", type=int, default=1, help="evaluate this many candidates (seeds cell-seed, +1, ...)")
    p.add_argument("--cell-seeds", type=int, nargs="+", default=None,
                   help="explicit cell seeds (overrides --cell-seed/--num-cells; repeat one to time a warm run)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: torch's)")
    p.add_argument("--compile", action="store_true")
    p.add_argument("--no-amp", action="store_true")
    p.add_argument("--progress", action="store_true")
    p.add_argument("--json", default=None, help="also write the results here")
    args = p.parse_args()

    trainer = ProxyTrainer(
        epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, width=args.width,
        cells_per_stage=args.cells_per_stage, max_train_images=args.max_train_images,
        max_eval_images=args.max_eval_images, recalibrate_bn=args.recalibrate_bn,
        split=args.split, root=args.root, device=args.device, seed=args.seed,
        amp=not args.no_amp, compile=args.compile, num_threads=args.threads, progress=args.progress,
    )
    dev = trainer.device
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else platform.processor() or "cpu"
    print(f"{trainer}\ndevice: {name}; torch {torch.__version__}; threads {args.threads or torch.get_num_threads()}")
    t = time.perf_counter()
    trainer._data()  # load once, outside the timed evaluations
    print(f"data loaded in {time.perf_counter() - t:.2f} s")
    out = []
    seeds = args.cell_seeds or [args.cell_seed + k for k in range(args.num_cells)]
    for cell_seed in seeds:
        cell = SearchSpace(num_nodes=30).sample(1, seed=cell_seed)[0]
        pruned = cell.prune()
        t = time.perf_counter()
        r = trainer.evaluate(cell)
        wall = time.perf_counter() - t
        ips = r.epochs * r.num_train / r.train_seconds if r.train_seconds > 0 else float("nan")
        print(
            f"cell seed {cell_seed}: {pruned.num_nodes} nodes / {pruned.num_edges} edges | "
            f"status {r.status}{' (' + r.error + ')' if r.error else ''} | accuracy {r.accuracy:.4f} | "
            f"MACs {r.macs / 1e6:.1f}M | params {r.params / 1e6:.3f}M | score {r.score:.4f} | "
            f"train {r.train_seconds:.1f} s ({ips:.0f} images/s) | eval {r.eval_seconds:.2f} s | "
            f"evaluation wall time {wall:.1f} s",
            flush=True,
        )
        out.append({"cell_seed": cell_seed, "images_per_s": ips, "wall_seconds": wall, **r.to_dict()})
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"device": name, "args": vars(args), "results": out}, f, indent=1)


if __name__ == "__main__":
    main()
