r"""The columnar in-memory form of a NAS-Bench-101 file, and its on-disk (cache) format.

One row per model (unique module hash, in order of first appearance in the file):

================  ===================  ===================================================
name              shape / dtype        meaning
================  ===================  ===================================================
hashes            (n,) <U32            module hash
matrices          (n, 7, 7) uint8      pruned adjacency, zero-padded (output stays at V-1)
num_vertices      (n,) int8            V
op_labels         (n, 7) int8          -1 input, -2 output, 0/1/2 ops, -3 padding
params            (n,) int64           trainable parameters, -1 = unknown
epochs            (E,) int64           training budgets present in the file, ascending
num_repeats       (n, E) uint8         records (repeats) per model and budget
metrics[f]        (n, E, R) float64    per-repeat value of field f, NaN = unknown / absent
================  ===================  ===================================================

Fields f are :data:`FIELDS`; a field that is unknown everywhere is not stored at all.
The cache is an ``.npz`` archive (uncompressed for speed; the bundled sample is compressed)
with the hashes as ``S32`` bytes and a JSON ``meta`` entry (format version, source key).
"""
from __future__ import annotations

import json
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import NASBenchFormatError

__all__ = ["FIELDS", "Table", "FORMAT_VERSION"]

#: Per-run metric fields: the official ``computed_statistics`` keys plus ``total_time``.
FIELDS: tuple[str, ...] = (
    "halfway_training_time", "halfway_train_accuracy", "halfway_validation_accuracy",
    "halfway_test_accuracy", "final_training_time", "final_train_accuracy",
    "final_validation_accuracy", "final_test_accuracy", "total_time",
)
FORMAT_VERSION = 1
WIDTH = 7


@dataclass
class Table:
    """Columnar NB101 data (see the module docstring for the arrays)."""

    hashes: np.ndarray
    matrices: np.ndarray
    num_vertices: np.ndarray
    op_labels: np.ndarray
    params: np.ndarray
    epochs: np.ndarray
    num_repeats: np.ndarray
    metrics: dict[str, np.ndarray]
    meta: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.hashes.shape[0])

    def __repr__(self) -> str:
        return (f"Table(models={len(self)}, epochs={self.epochs.tolist()}, max_repeats={self.max_repeats}, "
                f"fields={sorted(self.metrics)})")

    @property
    def max_repeats(self) -> int:
        return int(self.num_repeats.max(initial=0))

    # ------------------------------------------------------------------ checks
    def validate(self) -> None:
        """Check shapes and dtypes; raise :class:`NASBenchFormatError` if inconsistent."""
        n = len(self)
        e = self.epochs.shape[0] if self.epochs.ndim == 1 else -1
        expect = {
            "hashes": (self.hashes, (n,)),
            "matrices": (self.matrices, (n, WIDTH, WIDTH)),
            "num_vertices": (self.num_vertices, (n,)),
            "op_labels": (self.op_labels, (n, WIDTH)),
            "params": (self.params, (n,)),
            "num_repeats": (self.num_repeats, (n, e)),
        }
        for name, (arr, shape) in expect.items():
            if arr.shape != shape:
                raise NASBenchFormatError(f"table: {name} has shape {arr.shape}, expected {shape}")
        r = self.max_repeats
        for name, arr in self.metrics.items():
            if name not in FIELDS:
                raise NASBenchFormatError(f"table: unknown metric field {name!r}")
            if arr.shape != (n, e, r) or arr.dtype != np.float64:
                raise NASBenchFormatError(f"table: metric {name} has shape {arr.shape} / {arr.dtype}, "
                                          f"expected {(n, e, r)} float64")
        if n and ((self.num_vertices < 2) | (self.num_vertices > WIDTH)).any():
            raise NASBenchFormatError("table: num_vertices outside [2, 7]")

    # ------------------------------------------------------------------ disk
    def save(self, path: str | os.PathLike, *, compress: bool = False) -> None:
        """Write the table atomically (temporary file in the same folder, then ``os.replace``)."""
        path = os.fspath(path)
        arrays: dict[str, np.ndarray] = {
            "hashes": self.hashes.astype("S32"),
            "matrices": self.matrices.astype(np.uint8),
            "num_vertices": self.num_vertices.astype(np.int8),
            "op_labels": self.op_labels.astype(np.int8),
            "params": self.params.astype(np.int64),
            "epochs": self.epochs.astype(np.int64),
            "num_repeats": self.num_repeats.astype(np.uint8),
        }
        if compress:  # smaller: matrices as 21 upper-triangle bits
            iu = np.triu_indices(WIDTH, 1)
            bits = self.matrices[:, iu[0], iu[1]].astype(np.uint32)
            arrays["matrices"] = (bits << np.arange(bits.shape[1], dtype=np.uint32)).sum(axis=1, dtype=np.uint32)
        for name, arr in self.metrics.items():
            arrays[f"metric.{name}"] = arr.astype(np.float64)
        meta = dict(self.meta, format_version=FORMAT_VERSION, packed_matrices=bool(compress))
        arrays["meta"] = np.frombuffer(json.dumps(meta, sort_keys=True).encode(), dtype=np.uint8)
        folder = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=folder)
        try:
            with os.fdopen(fd, "wb") as f:
                (np.savez_compressed if compress else np.savez)(f, **arrays)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.remove(tmp)
            raise

    @classmethod
    def load(cls, path: str | os.PathLike) -> Table:
        """Read a table written by :meth:`save`.

        Raises:
            NASBenchFormatError: if the file is not a readable table of this format version.
        """
        path = os.fspath(path)
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(bytes(z["meta"]).decode())
                if meta.get("format_version") != FORMAT_VERSION:
                    raise NASBenchFormatError(f"{path}: table format {meta.get('format_version')!r}, "
                                              f"expected {FORMAT_VERSION}")
                mats = z["matrices"]
                if meta.get("packed_matrices"):
                    iu = np.triu_indices(WIDTH, 1)
                    bits = (mats[:, None] >> np.arange(iu[0].size, dtype=np.uint32)) & 1
                    mats = np.zeros((mats.shape[0], WIDTH, WIDTH), dtype=np.uint8)
                    mats[:, iu[0], iu[1]] = bits
                metrics = {k[len("metric."):]: z[k] for k in z.files if k.startswith("metric.")}
                table = cls(
                    hashes=z["hashes"].astype("<U32"), matrices=mats,
                    num_vertices=z["num_vertices"], op_labels=z["op_labels"], params=z["params"],
                    epochs=z["epochs"], num_repeats=z["num_repeats"], metrics=metrics, meta=meta,
                )
        except NASBenchFormatError:
            raise
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, json.JSONDecodeError) as exc:
            raise NASBenchFormatError(
                f"{path}: not a readable NAS-Bench-101 table ({type(exc).__name__}: {exc})") from None
        table.validate()
        return table
