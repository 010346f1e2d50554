r"""Build the bundled sample ``nasbench/data/nb101_dev_20k.npz`` from ``nb101_dev_20k.tfrecord``.

Usage::

    python -m nasbench._make_sample /path/to/nb101_dev_20k.tfrecord [out.npz]

The file is parsed with CRC checks, every model's hash is recomputed from its spec and
compared with its key, and the columnar table is written compressed (matrices packed to 21
bits). The source file's SHA-256 and the attribution go into the table's ``meta``.
"""
from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np

from ._reader import parse_file
from .hashing import hash_modules

ATTRIBUTION = (
    "NAS-Bench-101 (Ying, Klein, Real, Christiansen, Murphy, Hutter: 'NAS-Bench-101: Towards "
    "Reproducible Neural Architecture Search', ICML 2019; google-research/nasbench, code "
    "Apache-2.0, data licence not stated). 20,001 models (a uniform random ~5% of the 423,624) "
    "from GitHub tiga1231/nasbench-vis static/data/data-20k.json (commit "
    "b85bd62ed10fdf6bc085dcaec8928ca918aa451f), written in the official nasbench_full.tfrecord "
    "layout as nb101_dev_20k.tfrecord; one training run per model and budget; validation "
    "accuracies (4/12/36/108 epochs), 108-epoch training time and parameter counts only."
)


def main(src: str, out: str | None = None) -> Path:
    table = parse_file(src, verify_crc=True)
    got = hash_modules(table.matrices, table.op_labels, table.num_vertices)
    bad = np.flatnonzero(got != table.hashes)
    if bad.size:
        raise SystemExit(f"{bad.size} models do not hash to their key, e.g. {table.hashes[bad[0]]}")
    digest = hashlib.sha256(Path(src).read_bytes()).hexdigest()
    table.meta = {
        "records": table.meta["records"], "models": table.meta["models"], "crc_verified": True,
        "source_file": Path(src).name, "source_sha256": digest, "attribution": ATTRIBUTION,
    }
    dest = Path(out) if out else Path(__file__).with_name("data") / "nb101_dev_20k.npz"
    table.save(dest, compress=True)
    return dest


if __name__ == "__main__":
    path = main(*sys.argv[1:3])
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")
