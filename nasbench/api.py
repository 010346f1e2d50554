r"""The official NAS-Bench-101 API, as a drop-in: ``from nasbench import api``.

Code written for google-research/nasbench (``nasbench/api.py``) runs unchanged::

    from nasbench import api

    nb = api.NASBench("nasbench_only108.tfrecord", seed=0)
    spec = api.ModelSpec(matrix=[[0, 1, 1], [0, 0, 1], [0, 0, 0]],
                         ops=["input", "conv3x3-bn-relu", "output"])
    if nb.is_valid(spec):
        data = nb.query(spec)                       # one sampled repeat, counted in the budget
        fixed, computed = nb.get_metrics_from_spec(spec)
    time_spent, epochs_spent = nb.get_budget_counters()
    for h in nb.hash_iterator():                    # a keys view: len(nb.hash_iterator()) works
        acc = nb.computed_statistics[h][108][0]["final_validation_accuracy"]

What is the same as the official class (names, arguments, return values and errors):

* ``NASBench(dataset_file, seed=None)``; attributes ``config`` (``module_vertices``,
  ``max_edges``, ``num_repeats``, ``available_ops``), ``valid_epochs`` (a set),
  ``fixed_statistics`` and ``computed_statistics`` (mappings hash -> stats: official code
  ``nb.computed_statistics[h][108][0]`` works), ``history``, ``training_time_spent`` and
  ``total_epochs_spent``.
* ``query(model_spec, epochs=108, stop_halfway=False)`` prunes the spec, raises
  :class:`OutOfDomainError` for a spec outside the space or an unknown ``epochs``, returns
  *one sampled repeat* with the keys ``module_adjacency``, ``module_operations``,
  ``trainable_parameters``, ``training_time``, ``train_accuracy``, ``validation_accuracy``,
  ``test_accuracy``, and adds to the budget counters (``training_time`` and ``epochs``, or
  half of them with ``stop_halfway``).
* ``is_valid``, ``get_budget_counters``, ``reset_budget_counters``, ``hash_iterator``,
  ``get_metrics_from_hash``, ``get_metrics_from_spec`` (neither touches the counters);
  ``computed_statistics[h]`` is ``{epochs: [repeat 0, repeat 1, ...]}`` with the eight official
  keys (``halfway_`` / ``final_`` ``training_time``, ``train_accuracy``,
  ``validation_accuracy``, ``test_accuracy``).

Where it differs, and why:

* **Seeding is per instance.** The official class calls ``random.seed(seed)`` on Python's
  global RNG; here each instance owns a ``numpy.random.Generator`` seeded with ``seed``, so two
  instances with the same seed return the same repeats for the same queries in the same order
  (the official promise) without touching anyone else's random state.
* **Repeats are drawn from the ones the file holds**, uniformly. The official class draws an
  index in ``[0, config['num_repeats'])`` (3) and fails on files with fewer repeats;
  ``config['num_repeats']`` here is the largest repeat count in the data.
* **Unknown values are NaN** (``trainable_parameters``: None), never a protobuf default of 0:
  on the 20k dev sample test accuracies are unknown, and so is ``training_time`` below 108
  epochs, which makes ``training_time_spent`` NaN after such a query (an unknown cost is not
  a zero cost).
* :class:`OutOfDomainError` also derives from ``ValueError`` (gemgraph's convention); a valid
  spec that is not in the data raises ``KeyError`` naming its hash, as the official dict does.
* ``evaluate`` (training from scratch with TensorFlow) is not available.
* Loading reads the file with :class:`nasbench.NASBench101` (CRC-checked, cached columnar, no
  TensorFlow); ``nb.bench`` is that object, for the vectorised API beside this one.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Iterator, KeysView, Mapping
from typing import Any

import numpy as np

from . import spec as _spec
from ._table import FIELDS
from .bench import METRICS, NASBench101
from .spec import (AVAILABLE_OPS, CONV1X1, CONV3X3, INPUT, MAX_EDGES, MAX_VERTICES, MAXPOOL3X3, OUTPUT,
                   LABEL_OPS)

__all__ = [
    "NASBench", "ModelSpec", "OutOfDomainError", "OFFICIAL_FIELDS", "FixedStatistics", "ComputedStatistics",
    "NASBench101", "METRICS", "INPUT", "OUTPUT", "CONV3X3", "CONV1X1", "MAXPOOL3X3",
]

log = logging.getLogger(__name__)

#: The official per-repeat keys of ``computed_statistics`` (``total_time`` is gemgraph's extra).
OFFICIAL_FIELDS: tuple[str, ...] = tuple(f for f in FIELDS if f != "total_time")


class OutOfDomainError(ValueError):
    """The requested graph (or number of epochs) is outside the NAS-Bench-101 search domain."""


class ModelSpec(_spec.ModelSpec):
    r"""The official ``api.ModelSpec(matrix, ops, data_format='channels_last')``.

    A :class:`nasbench.ModelSpec` (pruned on construction; ``matrix``, ``ops``,
    ``original_matrix``, ``original_ops``, ``valid_spec``, ``hash_spec(canonical_ops)``) that
    also accepts and keeps the official ``data_format`` argument (unused: nothing is trained).

    Args:
        matrix: (V, V) upper-triangular 0/1 adjacency (array or nested lists).
        ops: V operation names, ``input`` first and ``output`` last.
        data_format: ``"channels_last"`` or ``"channels_first"``.
    """

    def __init__(self, matrix: Any, ops: Any, data_format: str = "channels_last") -> None:
        if data_format not in ("channels_last", "channels_first"):
            raise ValueError(f"data_format: expected 'channels_last' or 'channels_first', got {data_format!r}")
        super().__init__(matrix, ops)
        self.data_format = data_format


class _Statistics(Mapping):
    """Read-only mapping module hash -> statistics, built on demand from the columnar table."""

    def __init__(self, bench: NASBench101) -> None:
        self._bench = bench

    def __len__(self) -> int:
        return len(self._bench)

    def __iter__(self) -> Iterator[str]:
        return iter(self._bench.hashes.tolist())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in self._bench

    def _row(self, key: object) -> int:
        if not isinstance(key, str):
            raise KeyError(key)
        return int(self._bench.index_of(key))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(models={len(self)})"


class FixedStatistics(_Statistics):
    r"""``fixed_statistics[hash]``: ``{"module_adjacency": (V, V) int8 array, "module_operations":
    [V op names], "trainable_parameters": int (None if unknown)}``, a fresh dict per lookup."""

    def __getitem__(self, key: str) -> dict[str, Any]:
        i = self._row(key)
        t = self._bench._t
        v = int(t.num_vertices[i])
        p = int(t.params[i])
        return {
            "module_adjacency": t.matrices[i, :v, :v].astype(np.int8),
            "module_operations": [LABEL_OPS[int(x)] for x in t.op_labels[i, :v]],
            "trainable_parameters": p if p >= 0 else None,
        }


class ComputedStatistics(_Statistics):
    r"""``computed_statistics[hash]``: ``{epochs: [one dict per repeat]}`` with the eight
    official keys (:data:`OFFICIAL_FIELDS`), NaN where the file does not hold the value;
    budgets without a record are left out. A fresh dict per lookup."""

    def __getitem__(self, key: str) -> dict[int, list[dict[str, float]]]:
        i = self._row(key)
        t = self._bench._t
        nan = float("nan")
        out: dict[int, list[dict[str, float]]] = {}
        for col, e in enumerate(self._bench.epochs):
            r = int(t.num_repeats[i, col])
            if r == 0:
                continue
            cols = {f: (t.metrics[f][i, col, :r].tolist() if f in t.metrics else [nan] * r) for f in OFFICIAL_FIELDS}
            out[e] = [{f: float(cols[f][k]) for f in OFFICIAL_FIELDS} for k in range(r)]
        return out


class NASBench:
    r"""The official ``nasbench.api.NASBench``, read without TensorFlow (see the module docs).

    Args:
        dataset_file: an official ``.tfrecord`` (``nasbench_only108.tfrecord``,
            ``nasbench_full.tfrecord`` or a file in their layout), or an already loaded
            :class:`nasbench.NASBench101`.
        seed: seed of this instance's repeat sampling (None: fresh entropy). Two instances
            with the same seed return the same data for the same queries in the same order.
        verify_crc, cache, progress: passed to :class:`nasbench.NASBench101` (keyword only).

    Attributes:
        bench: the underlying :class:`nasbench.NASBench101` (columnar, vectorised API).
        config: ``module_vertices`` (7), ``max_edges`` (9), ``num_repeats`` (largest repeat
            count in the data), ``available_ops``.
        valid_epochs: set of the training budgets in the data.
        fixed_statistics, computed_statistics: mappings hash -> statistics
            (:class:`FixedStatistics`, :class:`ComputedStatistics`).
        training_time_spent, total_epochs_spent: the budget counters.

    Example:
        >>> nb = NASBench.sample_dataset(seed=0)            # the bundled 20k-model sample
        >>> h = next(iter(nb.hash_iterator()))
        >>> fixed, computed = nb.get_metrics_from_hash(h)
        >>> spec = ModelSpec(fixed["module_adjacency"], fixed["module_operations"])
        >>> nb.query(spec)["validation_accuracy"] == computed[108][0]["final_validation_accuracy"]
        True
    """

    def __init__(self, dataset_file: str | os.PathLike | NASBench101, seed: int | None = None, *,
                 verify_crc: bool = True, cache: bool | str | os.PathLike = True, progress: bool = False) -> None:
        if isinstance(dataset_file, NASBench101):
            bench = dataset_file
        else:
            log.info("loading NAS-Bench-101 from %s", os.fspath(dataset_file))
            bench = NASBench101(dataset_file, verify_crc=verify_crc, cache=cache, progress=progress)
        self._setup(bench, seed)

    def _setup(self, bench: NASBench101, seed: int | None) -> None:
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
            raise ValueError(f"seed: expected an int or None, got {seed!r}")
        self.bench = bench
        self.seed = seed
        self._rng = np.random.default_rng(seed)
        self.config: dict[str, Any] = {
            "module_vertices": MAX_VERTICES,
            "max_edges": MAX_EDGES,
            "num_repeats": int(bench._t.max_repeats),
            "available_ops": list(AVAILABLE_OPS),
        }
        self.valid_epochs: set[int] = set(bench.epochs)
        self.fixed_statistics = FixedStatistics(bench)
        self.computed_statistics = ComputedStatistics(bench)
        self.history: dict[str, Any] = {}
        self.training_time_spent = 0.0
        self.total_epochs_spent = 0
        log.info("NAS-Bench-101 ready: %d models, epochs %s (%s, %.2f s)", len(bench), sorted(self.valid_epochs),
                 bench.load_info.get("source"), bench.load_info.get("seconds") or 0.0)

    @classmethod
    def sample_dataset(cls, seed: int | None = None) -> NASBench:
        """The bundled 20,001-model sample (:meth:`nasbench.NASBench101.sample_dataset`) behind the official API."""
        return cls(NASBench101.sample_dataset(), seed=seed)

    # ------------------------------------------------------------------ official methods
    def query(self, model_spec: _spec.ModelSpec, epochs: int = 108, stop_halfway: bool = False) -> dict[str, Any]:
        r"""One sampled repeat of ``model_spec`` trained for ``epochs``; adds to the budget counters.

        Args:
            model_spec: a :class:`ModelSpec` (pruned on construction).
            epochs: training budget, one of :attr:`valid_epochs`.
            stop_halfway: report the metrics at ``epochs / 2`` (and count half the budget).

        Returns:
            dict with ``module_adjacency``, ``module_operations``, ``trainable_parameters``,
            ``training_time``, ``train_accuracy``, ``validation_accuracy``, ``test_accuracy``.

        Raises:
            OutOfDomainError: if ``epochs`` is not in the data or the spec is outside the space.
            KeyError: if the spec is in the space but not in the data (the message names its hash).
        """
        if epochs not in self.valid_epochs:
            raise OutOfDomainError(f"invalid number of epochs, must be one of {sorted(self.valid_epochs)}, "
                                   f"got {epochs!r}")
        self._check_spec(model_spec)
        h = model_spec.module_hash
        i = self.bench.index_of(h)
        col = self.bench._col(epochs)
        t = self.bench._t
        r = int(t.num_repeats[i, col])
        if r == 0:
            raise KeyError(f"module hash {h!r} has no record at {epochs} epochs in this NAS-Bench-101 data")
        k = int(self._rng.integers(r))
        v = int(t.num_vertices[i])
        p = int(t.params[i])
        data: dict[str, Any] = {
            "module_adjacency": t.matrices[i, :v, :v].astype(np.int8),
            "module_operations": [LABEL_OPS[int(x)] for x in t.op_labels[i, :v]],
            "trainable_parameters": p if p >= 0 else None,
        }
        prefix = "halfway_" if stop_halfway else "final_"
        for key in ("training_time", "train_accuracy", "validation_accuracy", "test_accuracy"):
            arr = t.metrics.get(prefix + key)
            data[key] = float("nan") if arr is None else float(arr[i, col, k])
        self.training_time_spent += data["training_time"]
        self.total_epochs_spent += epochs // 2 if stop_halfway else epochs
        return data

    def is_valid(self, model_spec: _spec.ModelSpec) -> bool:
        """True if the (pruned) spec is inside the space; does not touch the budget counters."""
        try:
            self._check_spec(model_spec)
        except OutOfDomainError:
            return False
        return True

    def get_budget_counters(self) -> tuple[float, int]:
        """``(training_time_spent, total_epochs_spent)``."""
        return self.training_time_spent, self.total_epochs_spent

    def reset_budget_counters(self) -> None:
        """Set both budget counters back to zero."""
        self.training_time_spent = 0.0
        self.total_epochs_spent = 0

    def hash_iterator(self) -> KeysView:
        """All unique module hashes, as a keys view (iterable, ``len``, ``in``)."""
        return self.fixed_statistics.keys()

    def get_metrics_from_hash(self, module_hash: str) -> tuple[dict[str, Any], dict[int, list[dict[str, float]]]]:
        """``(fixed_statistics[h], computed_statistics[h])``, fresh copies; no budget counted.

        Raises:
            KeyError: if the hash is not in the data.
        """
        return self.fixed_statistics[module_hash], self.computed_statistics[module_hash]

    def get_metrics_from_spec(
        self, model_spec: _spec.ModelSpec
    ) -> tuple[dict[str, Any], dict[int, list[dict[str, float]]]]:
        """:meth:`get_metrics_from_hash` of the spec's hash; no budget counted.

        Raises:
            OutOfDomainError: if the spec is outside the space.
            KeyError: if it is in the space but not in the data.
        """
        self._check_spec(model_spec)
        return self.get_metrics_from_hash(self._hash_spec(model_spec))

    def evaluate(self, model_spec: _spec.ModelSpec, model_dir: str) -> dict[str, Any]:
        """Not available: training from scratch needs the official (TensorFlow) package."""
        raise NotImplementedError("evaluate: training a spec from scratch needs the official TensorFlow nasbench "
                                  "package; this drop-in only reads the tabulated results (use query)")

    def _check_spec(self, model_spec: _spec.ModelSpec) -> None:
        if not isinstance(model_spec, _spec.ModelSpec):
            raise TypeError(f"model_spec: expected a ModelSpec, got {type(model_spec).__name__}")
        why = model_spec.problem()
        if why is not None:
            raise OutOfDomainError(why)

    def _hash_spec(self, model_spec: _spec.ModelSpec) -> str:
        return model_spec.hash_spec(self.config["available_ops"])

    def __repr__(self) -> str:
        return (f"NASBench(models={len(self.bench)}, valid_epochs={sorted(self.valid_epochs)}, seed={self.seed}, "
                f"budget=({self.training_time_spent:.1f} s, {self.total_epochs_spent} epochs))")
