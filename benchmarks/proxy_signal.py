r"""Does a proxy rank 30-node cells like the reference training does?

Samples ``--cells`` cells of a preset's computation regime (a fixed seed, not the search's
draws), trains each under the reference protocol (:data:`gemgraph.validate.REFERENCE`: the
20,000 / 5,000-image CIFAR-10 reference set, ``--ref-seeds`` seeded repeats) and under each
proxy named in ``--proxies`` (a preset's trainer, or a variant of it, ``--proxy-seeds``
seeds), then prints for each proxy the Spearman rank correlation of its accuracy (and of its
score) with the reference accuracy over the cells, with a 95% bootstrap CI (cells resampled),
and the seconds per training.

Every trained proxy network is also measured on the other evaluation sets at hand (the proxy
set's val and test splits, 1,000 images each, and the reference set's 5,000 eval images), so
that one training tells how much a larger evaluation set would help: ``quick@ref-eval`` is the
quick proxy's training measured on 5,000 images.

Each training is appended to ``OUT/results.jsonl`` as it finishes; a rerun with the same
``--out`` skips what is there (an interrupted study resumes; adding a proxy or cells adds only
their trainings). ``--workers`` processes train in parallel, one thread each.

Usage::

    python benchmarks/proxy_signal.py --data /work/shared/data --out out/proxy_signal --cells 24
    python benchmarks/proxy_signal.py --data ... --out out/proxy_signal --summarise   # no training

Figures and their load: ``benchmarks/README.md``.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

try:
    import gemgraph  # noqa: F401
except ImportError:  # run from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gemgraph.config import PRESETS

#: Proxy variants: a base preset's trainer section with overrides.
PROXIES: dict[str, tuple[str, dict[str, Any]]] = {
    "quick": ("quick", {}),
    "quick-e4": ("quick", {"epochs": 4}),
    "default": ("default", {}),
}


def _cells(preset: str, n: int, seed: int):
    from gemgraph.app.runs import make_space

    return make_space(PRESETS[preset].to_dict()).sample(n, seed=seed)


_DATA: dict[str, Any] = {}


def _datasets(root: str, resolution: int) -> dict[str, Any]:
    key = f"{root}@{resolution}"
    if key not in _DATA:
        from gemgraph.datasets import cifar10_proxy, cifar10_reference

        tr, val, test = cifar10_proxy(root, split=("train", "val", "test"), resolution=resolution)
        rtr, rev = cifar10_reference(root, resolution=resolution)
        _DATA[key] = {"train": tr, "val": val, "test": test, "ref-train": rtr, "ref-eval": rev}
    return _DATA[key]


def _accuracy(model, ds, batch_size: int = 256) -> float:
    import torch

    correct = 0
    with torch.no_grad():
        for s in range(0, len(ds), batch_size):
            xb, yb = ds.batch(torch.arange(s, min(s + batch_size, len(ds))), augment=False)
            correct += int((model(xb).argmax(1) == yb).sum())
    return correct / len(ds)


def _job(args: tuple) -> dict[str, Any]:
    import torch

    from gemgraph.cell import Cell
    from gemgraph.evaluate import ProxyTrainer
    from gemgraph.validate import REFERENCE

    index, cell_json, setting, seed, root = args
    torch.set_num_threads(1)
    cell = Cell(np.array(cell_json["adj"], dtype=np.uint8), cell_json["ops"])
    if setting == "reference":
        trainer = REFERENCE.trainer(seed=seed, root=root, num_threads=1)
        evals = {}
    else:
        preset, over = PROXIES[setting]
        t = {**PRESETS[preset].to_dict()["trainer"], **over}
        res = t.get("resolution") or 32
        d = _datasets(root, res)
        ev = d[t["split"]]
        trainer = ProxyTrainer(epochs=t["epochs"], batch_size=t["batch_size"], lr=t["lr"], width=t["width"],
                               cells_per_stage=t["cells_per_stage"], max_train_images=t["max_train_images"],
                               train_data=d["train"], eval_data=ev, device="cpu", seed=seed, num_threads=1,
                               max_eval_images=t.get("max_eval_images"))
        evals = {k: d[k] for k in ("val", "test", "ref-eval")}
    t0 = time.perf_counter()
    result, model = trainer.fit(cell)
    out = {"cell": index, "setting": setting, "seed": seed, "accuracy": result.accuracy, "macs": result.macs,
           "status": result.status, "error": result.error, "train_seconds": result.train_seconds,
           "seconds": time.perf_counter() - t0}
    if model is not None:
        out["eval"] = {k: _accuracy(model, ds) for k, ds in evals.items()}
    return out


def _spearman_ci(a, b, n_resamples: int = 10_000, seed: int = 0) -> tuple[float, float, float]:
    from scipy import stats

    a, b = np.asarray(a, float), np.asarray(b, float)
    rho = float(stats.spearmanr(a, b)[0])
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(a), size=(n_resamples, len(a)))
    ra = np.argsort(np.argsort(a[idx], axis=1), axis=1).astype(float)
    rb = np.argsort(np.argsort(b[idx], axis=1), axis=1).astype(float)
    ra -= ra.mean(1, keepdims=True)
    rb -= rb.mean(1, keepdims=True)
    den = np.sqrt((ra ** 2).sum(1) * (rb ** 2).sum(1))
    r = np.where(den > 0, (ra * rb).sum(1) / np.where(den > 0, den, 1), np.nan)
    lo, hi = np.nanpercentile(r, [2.5, 97.5])
    return rho, float(lo), float(hi)


def summarise(rows: list[dict[str, Any]], cells, lam: float = 0.1) -> str:
    from gemgraph.cost import CellCost

    macs16 = CellCost("cifarnet", width=16).macs(cells).numpy().astype(float)
    by: dict[tuple[str, str], dict[int, list[float]]] = {}
    secs: dict[str, list[float]] = {}
    for r in rows:
        if r["status"] != "ok":
            continue
        by.setdefault((r["setting"], "own"), {}).setdefault(r["cell"], []).append(r["accuracy"])
        for k, v in (r.get("eval") or {}).items():
            by.setdefault((r["setting"], k), {}).setdefault(r["cell"], []).append(v)
        secs.setdefault(r["setting"], []).append(r["seconds"])
    ref = by.get(("reference", "own"), {})
    lines = []
    if ref:
        sd = [np.std(v, ddof=1) for v in ref.values() if len(v) > 1]
        means = np.array([np.mean(v) for v in ref.values()])
        lines.append(f"reference: {len(ref)} cells, accuracy mean {means.mean():.4f} (min {means.min():.4f}, "
                     f"max {means.max():.4f}, std across cells {means.std(ddof=1):.4f}); seed-to-seed std "
                     f"{np.mean(sd) if sd else float('nan'):.4f}; {np.mean(secs['reference']):.0f} s per training")
        common = sorted(ref)
        rho, lo, hi = _spearman_ci(np.log(macs16[common]), [np.mean(ref[i]) for i in common])
        lines.append("  reference accuracy vs ln MACs (CifarNet-16 at 32x32): "
                     f"Spearman {rho:+.3f} [{lo:+.3f}, {hi:+.3f}]")
        if sd:
            two = [i for i in common if len(ref[i]) > 1]
            rho, lo, hi = _spearman_ci([ref[i][0] for i in two], [ref[i][1] for i in two])
            lines.append(f"  reference seed 0 vs seed 1 (its reliability): Spearman {rho:+.3f} [{lo:+.3f}, {hi:+.3f}]")
    for (setting, ev), vals in sorted(by.items()):
        if setting == "reference":
            continue
        common = sorted(set(vals) & set(ref))
        if len(common) < 4:
            continue
        pa = np.array([np.mean(vals[i]) for i in common])
        ra = np.array([np.mean(ref[i]) for i in common])
        rho, lo, hi = _spearman_ci(pa, ra)
        ps = pa - lam * np.log(macs16[common] / 1e6)
        rs = ra - lam * np.log(macs16[common] / 1e6)
        srho, slo, shi = _spearman_ci(ps, rs)
        nseeds = np.mean([len(vals[i]) for i in common])
        lines.append(f"{setting}@{ev}: {len(common)} cells x {nseeds:.1f} seeds, acc mean {pa.mean():.4f} "
                     f"std {pa.std(ddof=1):.4f}; accuracy Spearman {rho:+.3f} [{lo:+.3f}, {hi:+.3f}], "
                     f"score Spearman {srho:+.3f} [{slo:+.3f}, {shi:+.3f}]; "
                     f"{np.mean(secs[setting]):.1f} s per training")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default=os.environ.get("GEMGRAPH_DATA"), help="data root (cifar10-proxy, cifar10-ref)")
    p.add_argument("--out", required=True)
    p.add_argument("--preset", default="quick", help="the regime the cells are drawn from")
    p.add_argument("--cells", type=int, default=24)
    p.add_argument("--seed", type=int, default=2024, help="seed of the cell draw")
    p.add_argument("--proxies", default="quick")
    p.add_argument("--proxy-seeds", type=int, default=1)
    p.add_argument("--ref-seeds", type=int, default=2)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--summarise", action="store_true", help="print the summary of what is stored, train nothing")
    a = p.parse_args(argv)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    cells = _cells(a.preset, a.cells, a.seed)
    res_file = out / "results.jsonl"
    rows = [json.loads(line) for line in res_file.read_text().splitlines()] if res_file.exists() else []
    done = {(r["cell"], r["setting"], r["seed"]) for r in rows}
    jobs = []
    if not a.summarise:
        settings = [s.strip() for s in a.proxies.split(",") if s.strip()]
        for s in settings:
            if s not in PROXIES:
                p.error(f"--proxies: unknown proxy {s!r}; known: {sorted(PROXIES)}")
        # seed-major order: a partial study already covers every cell once
        for seed in range(max(a.ref_seeds, a.proxy_seeds)):
            for i, c in enumerate(cells):
                cj = {"adj": c.adjacency.tolist(), "ops": list(c.ops) if c.ops else None}
                for s in settings:
                    if seed < a.proxy_seeds and (i, s, seed) not in done:
                        jobs.append((i, cj, s, seed, a.data))
                if seed < a.ref_seeds and (i, "reference", seed) not in done:
                    jobs.append((i, cj, "reference", seed, a.data))
    print(f"{len(rows)} trainings stored, {len(jobs)} to run", flush=True)
    if jobs:
        ctx = mp.get_context("spawn")
        with ctx.Pool(a.workers) as pool, res_file.open("a") as f:
            for r in pool.imap_unordered(_job, jobs):
                f.write(json.dumps(r) + "\n")
                f.flush()
                rows.append(r)
                print(f"cell {r['cell']:3d} {r['setting']:>10s} seed {r['seed']} acc {r['accuracy']:.4f} "
                      f"{r['seconds']:.0f} s {r.get('eval', '')}", flush=True)
    print(summarise(rows, cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
