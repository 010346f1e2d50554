r"""Does the quick proxy learn, and does it rank cells like a costlier proxy?

Trains the candidates of the ``quick`` preset (cell ``t`` is exactly the one ``gemgraph search
--preset quick`` evaluates at iteration ``t``) with two proxies built by
:func:`gemgraph.runs.make_trainer`:

* ``cheap``: the quick preset's trainer (``--cheap KEY=VALUE ...`` overrides its
  ``trainer`` section, e.g. ``epochs=3 resolution=32``);
* ``ref``: the same with ``--ref`` overrides (default ``epochs=4x``, i.e. 4x the SGD steps).

Prints per cell the op nodes, MACs (32x32), accuracy, score and training seconds of both, then:
mean / min / max / std of the accuracy, mean seconds per candidate, and the Spearman rank
correlation of the two proxies' accuracies and scores over the cells with a 95% bootstrap CI
(paired resampling of cells, 10,000 resamples, percentile). ``--no-ref`` measures only the
cheap proxy (to choose its settings). Everything runs on one thread by default (as the quick
preset does); say the machine's load (``uptime``) when you quote a figure.

Usage::

    python benchmarks/proxy_rank.py --cells 8 --no-ref                     # the quick proxy alone
    python benchmarks/proxy_rank.py --cells 8 --no-ref --cheap epochs=3     # a variant
    python benchmarks/proxy_rank.py --cells 16 --json proxy_rank.json       # rank agreement
    python benchmarks/proxy_rank.py --summarise proxy_rank.json             # summary of a partial run
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

try:
    import gemgraph  # noqa: F401
except ImportError:  # run from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gemgraph.runs import build_config, make_space, make_trainer
from gemgraph.search import derive_seed


def _parse(items: list[str], base: dict) -> dict:
    out = dict(base)
    for item in items:
        key, _, value = item.partition("=")
        if key not in out:
            raise SystemExit(f"unknown trainer setting {key!r}; known: {sorted(out)}")
        if value.endswith("x") and isinstance(base[key], int):
            out[key] = int(float(value[:-1]) * base[key])
        else:
            out[key] = None if value == "None" else json.loads(value)
    return out


def _spearman_ci(a: np.ndarray, b: np.ndarray, n_resamples: int = 10_000, seed: int = 0) -> tuple[float, float, float]:
    from scipy import stats

    rho = float(stats.spearmanr(a, b).statistic)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(a), (n_resamples, len(a)))
    rs = []
    for i in idx:
        if len(np.unique(i)) < 3:
            continue
        r = stats.spearmanr(a[i], b[i]).statistic
        if np.isfinite(r):
            rs.append(r)
    lo, hi = np.percentile(rs, [2.5, 97.5])
    return rho, float(lo), float(hi)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cells", type=int, default=16, help="candidates t = 0 .. cells-1 of the quick run")
    p.add_argument("--first", type=int, default=0, help="first candidate index")
    p.add_argument("--seed", type=int, default=0, help="run seed (cells and training)")
    p.add_argument("--cheap", nargs="*", default=[], metavar="KEY=VALUE", help="overrides of the quick trainer")
    p.add_argument("--ref", nargs="*", default=["epochs=4x"], metavar="KEY=VALUE",
                   help="overrides of the cheap trainer for the reference proxy (default epochs=4x)")
    p.add_argument("--no-ref", action="store_true", help="only the cheap proxy")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--data", default=None, help="data root (default $GEMGRAPH_DATA, else the embedded subset)")
    p.add_argument("--json", default=None, help="write the per-cell results here (after every cell)")
    p.add_argument("--summarise", default=None, metavar="JSON",
                   help="only print the summary of a (possibly partial) --json file of an earlier run")
    args = p.parse_args()
    if args.summarise:
        saved = json.loads(Path(args.summarise).read_text())
        print(f"{args.summarise}: {len(saved['rows'])} cells; load average at its start {saved['load']}")
        for name, rep in saved["trainers"].items():
            print(f"{name}: {rep}")
        _summary(saved["rows"], list(saved["trainers"]))
        return

    cfg = build_config("quick", seed=args.seed)
    cheap_t = _parse(args.cheap, {"resolution": None, "max_eval_images": None, **cfg["trainer"],
                                  "num_threads": args.threads})
    trainers = {"cheap": make_trainer({**cfg, "trainer": cheap_t}, device="cpu", data_root=args.data)}
    if not args.no_ref:
        ref_t = _parse(args.ref, cheap_t)
        trainers["ref"] = make_trainer({**cfg, "trainer": ref_t}, device="cpu", data_root=args.data)
    space = make_space(cfg)
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {os.cpu_count()} CPUs; threads {args.threads}")
    for name, t in trainers.items():
        print(f"{name}: {t!r}")
    rows = []
    for t in range(args.first, args.first + args.cells):
        cell = space.sample(1, seed=derive_seed(args.seed, "candidate", t))[0]
        pruned = cell.prune()
        row = {"t": t, "op_nodes": pruned.num_nodes - 1, "edges": pruned.num_edges}
        for name, trainer in trainers.items():
            t0 = time.perf_counter()
            r = trainer.evaluate(cell)
            row[name] = {**r.to_dict(), "wall_seconds": time.perf_counter() - t0}
            row["mmacs"] = r.macs / 1e6
        rows.append(row)
        line = f"t={t:3d} op nodes {row['op_nodes']:2d} MMACs {row['mmacs']:6.1f}"
        for name in trainers:
            r = row[name]
            line += f" | {name} acc {r['accuracy']:.3f} score {r['score']:+.4f} train {r['train_seconds']:5.1f} s"
        print(line, flush=True)
        if args.json:
            Path(args.json).write_text(json.dumps({"args": vars(args), "load": load, "trainers":
                                                   {k: repr(v) for k, v in trainers.items()}, "rows": rows}, indent=1))
    _summary(rows, list(trainers))


def _summary(rows: list[dict], names: list[str]) -> None:
    print()
    for name in names:
        acc = np.array([r[name]["accuracy"] for r in rows])
        secs = np.array([r[name]["wall_seconds"] for r in rows])
        print(f"{name}: accuracy mean {np.nanmean(acc):.3f} min {np.nanmin(acc):.3f} max {np.nanmax(acc):.3f} "
              f"std {np.nanstd(acc):.3f} over {len(acc)} cells; seconds per candidate mean {secs.mean():.1f} "
              f"max {secs.max():.1f} (training + eval + MAC count)")
    if "ref" in names and len(rows) >= 4:
        for key in ("accuracy", "score"):
            a = np.array([r["cheap"][key] for r in rows])
            b = np.array([r["ref"][key] for r in rows])
            ok = np.isfinite(a) & np.isfinite(b)
            rho, lo, hi = _spearman_ci(a[ok], b[ok])
            print(f"Spearman(cheap, ref) of {key} over {ok.sum()} cells: {rho:.3f} [95% CI {lo:.3f}, {hi:.3f}]")
        ratio = np.mean([r["ref"]["wall_seconds"] for r in rows]) / np.mean([r["cheap"]["wall_seconds"] for r in rows])
        print(f"ref / cheap time ratio: {ratio:.2f}")
    load_end = os.getloadavg()
    print(f"load average at the end {load_end[0]:.2f} {load_end[1]:.2f} {load_end[2]:.2f}")

if __name__ == "__main__":
    main()
