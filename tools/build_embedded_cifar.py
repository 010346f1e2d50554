r"""Build ``gemgraph/cifar/data/cifar10_proxy16.npz`` (the embedded CIFAR-10 subset).

Reads the 1/10 proxy set in the ``cifar10_proxy.npz`` layout (5,000 class-balanced train
images, 1,000 class-balanced val images; see ``gemgraph.cifar``), average-pools every
image to 16x16 with :func:`gemgraph.datasets.downsample` (exact integer rounding) and writes the
train and val splits with ``numpy.savez_compressed`` (HWC uint8 images, uint8 labels, the class
names and the indices into the official training set). The loader checks the result against
the same pooling of the source when the source is at hand (``tests/test_datasets.py``).

Usage::

    python tools/build_embedded_cifar.py /work/shared/data/cifar10-proxy/cifar10_proxy.npz
"""
from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gemgraph.cifar.constants import CIFAR10_CLASSES, EMBEDDED_PATH, EMBEDDED_RESOLUTION
from gemgraph.cifar import downsample  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("source", help="cifar10_proxy.npz (32x32)")
    p.add_argument("--out", default=str(EMBEDDED_PATH))
    args = p.parse_args()
    out = {"classes": np.array(CIFAR10_CLASSES)}
    with np.load(args.source, allow_pickle=False) as z:
        for s in ("train", "val"):
            x = np.ascontiguousarray(z[f"x_{s}"].transpose(0, 3, 1, 2))
            out[f"x_{s}"] = np.ascontiguousarray(downsample(x, EMBEDDED_RESOLUTION).transpose(0, 2, 3, 1))
            out[f"y_{s}"] = z[f"y_{s}"].astype(np.uint8)
            out[f"{s}_index"] = z[f"{s}_index"].astype(np.int32)
    np.savez_compressed(args.out, **out)
    data = Path(args.out).read_bytes()
    print(f"wrote {args.out}: {len(data) / 1e6:.2f} MB, sha256 {hashlib.sha256(data).hexdigest()}")


if __name__ == "__main__":
    main()
