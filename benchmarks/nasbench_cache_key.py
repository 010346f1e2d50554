r"""Cost of the NAS-Bench-101 cache key: full-content BLAKE2b vs the old first+last MiB hash.

Usage::

    python benchmarks/nasbench_cache_key.py [--path FILE] [--repeat 5]

``--path`` defaults to ``$GEMGRAPH_DATA/nasbench101/nb101_dev_20k.tfrecord``. Printed, best of
``--repeat`` (wall clock, warm page cache, one process): the old key (SHA-256 of the first and
last MiB), :func:`nasbench._cache.content_hash` (BLAKE2b of the whole file, what a cache
check costs when the file's inode / ctime changed), SHA-256 of the whole file for comparison,
:func:`nasbench._cache.source_stat` (what an ordinary reload costs), a reload from the cache
and a parse without cache, for scale. Whole-file figures are projected linearly to the 499 MB
official ``nasbench_only108.tfrecord`` (a cold page cache adds the disk's read time).
"""
from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from nasbench import NASBench101  # noqa: E402
from nasbench._cache import content_hash, source_stat  # noqa: E402

OFFICIAL_BYTES = 499_000_000


def old_edges_key(path: str) -> str:
    """The previous key's hash: SHA-256 of the first and last MiB."""
    edge = 1 << 20
    size = os.path.getsize(path)
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read(edge))
        if size > edge:
            f.seek(max(size - edge, edge))
            h.update(f.read(edge))
    return h.hexdigest()


def best(fn, repeat: int) -> float:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return min(out)


def main() -> None:
    default = Path(os.environ.get("GEMGRAPH_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--path", default=str(default / "nasbench101" / "nb101_dev_20k.tfrecord"))
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    size = os.path.getsize(args.path)
    print(f"load: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (1/5/15 min), {os.cpu_count()} CPUs; "
          f"file {args.path}, {size / 1e6:.1f} MB")

    def sha256_full() -> None:
        with open(args.path, "rb") as f:
            hashlib.file_digest(f, "sha256")

    rows = [("old key (first+last MiB, SHA-256)", best(lambda: old_edges_key(args.path), args.repeat), False),
            ("full BLAKE2b (content_hash)", best(lambda: content_hash(args.path), args.repeat), True),
            ("full SHA-256 (for comparison)", best(sha256_full, args.repeat), True),
            ("stat only (source_stat)", best(lambda: source_stat(args.path), args.repeat), False)]
    with tempfile.TemporaryDirectory() as tmp:
        NASBench101(args.path, cache=tmp)
        rows.append(("reload from the cache (NASBench101)",
                     best(lambda: NASBench101(args.path, cache=tmp), args.repeat),
                     True))
        rows.append(("parse, no cache (NASBench101)", best(lambda: NASBench101(args.path, cache=False), 1), True))
    for name, secs, scales in rows:
        proj = f"   499 MB: {secs * OFFICIAL_BYTES / size:7.2f} s" if scales else ""
        rate = f" ({size / secs / 1e6:6.0f} MB/s)" if scales else ""
        print(f"{name:>38}: {1e3 * secs:9.3f} ms{rate}{proj}")


if __name__ == "__main__":
    main()
