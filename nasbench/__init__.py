r"""nasbench: a TensorFlow-free NAS-Bench-101 adapter that reads the official files.

NAS-Bench-101 (Ying et al. 2019, "NAS-Bench-101: Towards Reproducible Neural Architecture
Search", google-research/nasbench) tabulates 423,624 unique cells trained on CIFAR-10.
This package reads its official ``nasbench_only108.tfrecord`` / ``nasbench_full.tfrecord``
files directly (TFRecord framing with CRC-32C, JSON, base64 ``ModelMetrics`` protobuf),
caches them in a columnar form, and offers the official query API plus vectorised arrays.

Example:
    >>> import nasbench
    >>> nb = nasbench.NASBench101.sample_dataset()      # bundled 20k-model sample
    >>> h, acc = nb.best("validation_accuracy", epochs=108)
    >>> nb.query(nb.spec(h))["validation_accuracy"] == acc
    True

For code written against the official google-research API, ``from nasbench import api`` gives
a drop-in ``api.NASBench`` (see :mod:`nasbench.api`).
"""
from . import api, space
from .bench import METRICS, NASBench101
from .errors import NASBenchFormatError
from .hashing import hash_module, hash_modules
from .naslib import export_naslib, read_naslib
from .spec import (AVAILABLE_OPS, CONV1X1, CONV3X3, INPUT, MAX_EDGES, MAX_VERTICES, MAXPOOL3X3, OP_LABELS,
                   OUTPUT, ModelSpec)

__all__ = [
    "NASBench101", "ModelSpec", "api", "export_naslib", "read_naslib", "hash_module", "hash_modules",
    "NASBenchFormatError", "space",
    "METRICS", "INPUT", "OUTPUT", "CONV3X3", "CONV1X1", "MAXPOOL3X3", "AVAILABLE_OPS",
    "OP_LABELS", "MAX_VERTICES", "MAX_EDGES",
]
