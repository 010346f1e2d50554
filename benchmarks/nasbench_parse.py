r"""NAS-Bench-101 reader figures: parse throughput (with / without CRC), cache reload, space.

Usage::

    python benchmarks/nasbench_parse.py [--path FILE] [--repeat 3] [--space]

``--path`` defaults to ``$GEMGRAPH_DATA/nasbench101/nb101_dev_20k.tfrecord`` (or the shared
data folder next to the repository). Every figure is the best of ``--repeat`` runs, wall clock,
single process. The projection for the official files assumes the same per-record cost
(their records are a little longer: three evaluation points filled in instead of one).
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from nasbench import NASBench101, hash_modules, space
from nasbench._crc32c import BACKEND
from nasbench._reader import parse_file
from nasbench.tfrecord import iter_batches


def synthetic_only108(path: Path, models: int, seed: int = 0) -> int:
    """Write an only108-like file: ``models`` cells x 3 repeats, every field of the 3 evaluation
    points filled in (the official files' record shape). Specs come from the bundled sample;
    beyond its 20,001 models they repeat under distinct made-up keys (the reader does not
    re-hash), so every model has exactly 3 repeats as in the official file."""
    import base64
    import hashlib
    import json

    import numpy as np

    from nasbench._proto import model_metrics_class
    from nasbench.spec import LABEL_OPS
    from nasbench.tfrecord import write_records

    mm = model_metrics_class()
    nb = NASBench101.sample_dataset()
    rng = np.random.default_rng(seed)
    rows = np.arange(models) % len(nb)  # model k < 20,001 keeps its real key
    pays = []
    for k, i in enumerate(rows.tolist()):
        key = str(nb.hashes[i]) if k < len(nb) else hashlib.md5(f"synthetic-{k}".encode()).hexdigest()
        v = int(nb.num_vertices[i])
        adj = "".join(map(str, nb.matrices[i, :v, :v].ravel().tolist()))
        ops = ",".join(LABEL_OPS[int(x)] for x in nb.op_labels[i, :v])
        for _ in range(3):
            msg = mm(trainable_parameters=int(nb._t.params[i]), total_time=float(rng.uniform(1e3, 5e3)))
            for epoch in (0.0, 54.0, 108.0):
                e = msg.evaluation_data.add()
                e.current_epoch, e.training_time = epoch, float(rng.uniform(0, 4e3))
                e.train_accuracy, e.validation_accuracy, e.test_accuracy = rng.uniform(0, 1, 3).tolist()
            raw = base64.b64encode(msg.SerializeToString()).decode()
            pays.append(json.dumps([key, 108, adj, ops, raw]).encode())
    write_records(path, pays)
    return len(pays)


OFFICIAL = {"nasbench_only108.tfrecord": 423_624 * 3, "nasbench_full.tfrecord": 423_624 * 4 * 3}


def _default_path() -> Path:
    root = os.environ.get("GEMGRAPH_DATA") or str(Path(__file__).resolve().parents[2] / "shared" / "data")
    return Path(root) / "nasbench101" / "nb101_dev_20k.tfrecord"


def best_of(fn, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--path", type=Path, default=_default_path())
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--space", action="store_true", help="also time space.enumerate_cells() with hashes")
    ap.add_argument("--synthetic", type=int, default=20_000, metavar="MODELS",
                    help="also time an only108-like file of MODELS x 3 full records (0: skip)")
    args = ap.parse_args()
    path: Path = args.path
    size = path.stat().st_size
    print(f"file: {path} ({size / 1e6:.1f} MB)   python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, crc32c backend: {BACKEND}")

    parse_file(path, verify_crc=False)  # warm-up: proto class, CRC tables
    rows = []
    for verify in (True, False):
        t, table = best_of(lambda verify=verify: parse_file(path, verify_crc=verify), args.repeat)
        n = table.meta["records"]
        rows.append((verify, n, t))
        print(f"parse, CRC {'on ' if verify else 'off'}: {n:,} records, {len(table):,} models in {t:.3f} s "
              f"-> {n / t:,.0f} records/s, {size / t / 1e6:.1f} MB/s")
    for verify in (True, False):
        t, _ = best_of(lambda verify=verify: sum(len(b) for b in iter_batches(path, verify_crc=verify)), args.repeat)
        print(f"framing only, CRC {'on ' if verify else 'off'}: {t:.3f} s -> {size / t / 1e6:.0f} MB/s")
    # The previous default install had no google-crc32c (numpy CRC); now it is a default
    # dependency. Same file, same process, the three variants interleaved (the machine's load
    # drifts), 3 x --repeat runs each; min and median.
    import statistics

    from nasbench import _crc32c

    if _crc32c._gcrc is not None:
        times: dict[str, list[float]] = {"numpy": [], "google_crc32c": [], "no CRC": []}
        try:
            for _ in range(3 * args.repeat):
                for be in times:
                    _crc32c.BACKEND = "numpy" if be == "no CRC" else be
                    t0 = time.perf_counter()
                    parse_file(path, verify_crc=be != "no CRC")
                    times[be].append(time.perf_counter() - t0)
        finally:
            _crc32c.BACKEND = BACKEND
        for be, ts in times.items():
            print(f"parse, {be:>13}: min {min(ts):.3f} s, median {statistics.median(ts):.3f} s")
        ref = times["numpy"]
        for be in ("google_crc32c", "no CRC"):
            print(f"  {be} vs numpy CRC (previous default install): {min(ref) / min(times[be]):.2f}x (min), "
                  f"{statistics.median(ref) / statistics.median(times[be]):.2f}x (median)")
    else:
        print("google-crc32c (C extension) not installed: backend comparison skipped")
    rate_crc = rows[0][1] / rows[0][2]
    rate_nocrc = rows[1][1] / rows[1][2]
    for name, n in OFFICIAL.items():
        print(f"projected {name} ({n:,} records): {n / rate_crc:.0f} s with CRC, {n / rate_nocrc:.0f} s without")

    if args.synthetic:
        with tempfile.TemporaryDirectory() as tmp:
            syn = Path(tmp) / "only108_like.tfrecord"
            n = synthetic_only108(syn, args.synthetic)
            mb = syn.stat().st_size
            print(f"only108-like synthetic file: {n:,} records, {mb / n:.0f} bytes/record "
                  f"(official: 499 MB / 1,270,872 = 393)")
            for verify in (True, False):
                t, _ = best_of(lambda verify=verify: parse_file(syn, verify_crc=verify), args.repeat)
                print(f"  parse, CRC {'on ' if verify else 'off'}: {n / t:,.0f} records/s -> "
                      f"projected nasbench_only108.tfrecord: {OFFICIAL['nasbench_only108.tfrecord'] / (n / t):.0f} s")

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        NASBench101(path, cache=tmp)
        first = time.perf_counter() - t0
        t, nb = best_of(lambda: NASBench101(path, cache=tmp), args.repeat)
        cache_file = Path(nb.load_info["cache_path"])
        print(f"first load (parse + write cache): {first:.3f} s; cache reload: {t * 1e3:.1f} ms "
              f"({cache_file.stat().st_size / 1e6:.1f} MB cache)")
    t, sample = best_of(NASBench101.sample_dataset, args.repeat)
    print(f"bundled sample: {len(sample):,} models loaded in {t * 1e3:.1f} ms")
    t, _ = best_of(lambda: sample.metric_array("validation_accuracy", epochs=108), args.repeat)
    print(f"metric_array over {len(sample):,} models: {t * 1e3:.2f} ms")
    t, _ = best_of(lambda: hash_modules(sample.matrices, sample.op_labels, sample.num_vertices), 1)
    print(f"hash_modules: {len(sample) / t:,.0f} cells/s")

    space._patterns.cache_clear()
    space._label_table.cache_clear()
    t, c = best_of(space.count, 1)
    print(f"space.count() = {c:,} in {t:.2f} s (cold)")
    t, _ = best_of(lambda: space.sample_arrays(50_000, seed=0), args.repeat)
    print(f"space.sample_arrays(50,000): {t:.2f} s")
    if args.space:
        t, cells = best_of(lambda: space.enumerate_cells(n_jobs=os.cpu_count() or 1), 1)
        print(f"space.enumerate_cells() with hashes: {len(cells):,} cells, "
              f"{len(set(cells.hashes.tolist())):,} distinct hashes in {t:.1f} s")


if __name__ == "__main__":
    main()
