r"""Cost of the run store's integrity checks: opening and reading a 200-candidate run.

Usage::

    python benchmarks/store_open.py [--candidates 200] [--repeat 30]

A run store like a finished ``default``-preset search is written once: ``--candidates``
evaluated 30-node cells and one predictor checkpoint per iteration (the state of an
``EfficiencyPredictor(hidden=128)`` fitted on 128-d embeddings, as the search saves it). Then,
in this process, alternately (so that machine load hits both alike), the time of

* ``open``: ``RunStore(path, readonly=True)`` then ``close()``;
* ``open+read``: open, ``candidates()``, ``summary()``, ``latest_predictor()``, close (what
  ``gemgraph report`` / ``bootstrap`` do),

with ``verify=True`` (the default: ``PRAGMA quick_check`` on open, a BLAKE2b checksum per row
and checkpoint read) and with ``verify=False`` (the same code without the checks, the
reference). Figures are medians over ``--repeat`` rounds, wall clock, warm page cache.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

import numpy as np  # noqa: E402


def make_run(path: Path, n: int, seed: int = 0) -> int:
    """Write an ``n``-candidate store at ``path``; returns the file size in bytes."""
    from gemgraph import SearchSpace
    from gemgraph.predictor import EfficiencyPredictor
    from gemgraph.runs import build_config
    from gemgraph.store import RunStore

    rng = np.random.default_rng(seed)
    cells = SearchSpace(30, max_concat=8).sample(n, seed=seed)
    pred = EfficiencyPredictor(hidden=128, max_epochs=2, seed=seed).fit(rng.random((16, 128)), rng.random(16))
    state = pred.state_dict()
    with RunStore(path, create=True, config=build_config("default")) as st:
        for t, cell in enumerate(cells):
            st.add_candidate(t, cell, macs=float(rng.uniform(1e6, 5e7)), params=int(rng.integers(1e4, 1e6)),
                             accuracy=float(rng.uniform(0.3, 0.7)), score=float(rng.uniform(-1, 0.5)),
                             seconds=float(rng.uniform(10, 60)), status="ok",
                             extra={"loss": float(rng.uniform(0.5, 2)), "epochs": 5, "num_train": 5000})
            st.save_predictor(t, state)
        st.set_pick({"best": None, "top": [], "num_samples": 50000, "seed": seed})
    return path.stat().st_size


def time_once(path: Path, verify: bool, read: bool) -> float:
    from gemgraph.store import RunStore

    t0 = time.perf_counter()
    st = RunStore(path, readonly=True, verify=verify)
    if read:
        st.candidates()
        st.summary()
        st.latest_predictor()
    st.close()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--candidates", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=30)
    args = ap.parse_args()
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} (1/5/15 min), "
          f"{os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "run.sqlite"
        t0 = time.perf_counter()
        size = make_run(path, args.candidates)
        print(f"store: {args.candidates} candidates + {args.candidates} predictor checkpoints, "
              f"{size / 1e6:.1f} MB (written in {time.perf_counter() - t0:.1f} s)")
        for read in (False, True):
            time_once(path, True, read), time_once(path, False, read)  # warm up
            on, off = [], []
            for _ in range(args.repeat):
                on.append(time_once(path, True, read))
                off.append(time_once(path, False, read))
            a, b = statistics.median(on), statistics.median(off)
            what = "open+read" if read else "open"
            print(f"{what:>10}: verify=True {1e3 * a:7.2f} ms   verify=False {1e3 * b:7.2f} ms   "
                  f"checks cost {1e3 * (a - b):+7.2f} ms ({a / b:.2f}x)")


if __name__ == "__main__":
    main()
