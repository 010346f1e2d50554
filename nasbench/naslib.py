r"""NASLib bridge: NAS-Bench-101 in the pickle layout NASLib loads, written without TensorFlow.

NASLib (automl/NASLib) reads NAS-Bench-101 through
``naslib.utils.get_dataset_api(search_space="nasbench101", dataset="cifar10")``, which opens
``<naslib package>/data/nasbench_only108.pkl`` with ``naslib.utils.nb101_api.NASBench``: a
pickled dict ``{module_hash: (fixed_statistics, computed_statistics)}`` in the official API's
layout (``fixed``: ``module_adjacency`` int8 array, ``module_operations``,
``trainable_parameters``; ``computed``: ``{epochs: [one dict per repeat]}`` with the eight
``halfway_`` / ``final_`` keys). NASLib distributes that file as a download made from the
official tfrecord with TensorFlow; :func:`export_naslib` writes it from any official-layout
file (or the bundled sample) directly::

    import nasbench, naslib, os
    nasbench.export_naslib(os.path.join(os.path.dirname(naslib.__file__), "data"),
                           source="nasbench_only108.tfrecord")
    # then, in NASLib:  dataset_api = get_dataset_api("nasbench101", "cifar10")

Unknown values are NaN (``trainable_parameters``: None), as in :mod:`nasbench.api`.
Arrays are pickled as ``numpy.array(nested list, dtype)`` rather than numpy's internal
reconstructor, so the file loads under numpy 1.x and 2.x alike, and :func:`read_naslib` can
load it with a restricted unpickler (no code other than ``numpy.array`` is ever called).
"""
from __future__ import annotations

import os
import pickle
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from .api import ComputedStatistics, FixedStatistics, NASBench
from .bench import NASBench101

__all__ = ["NASLIB_FILE", "export_naslib", "read_naslib"]

#: The file name NASLib's ``get_nasbench101_api`` opens in its ``data`` folder.
NASLIB_FILE = "nasbench_only108.pkl"
#: Globals a NASLib NB101 pickle may reference: ours use only ``numpy.array``; NASLib's own
#: download uses numpy's array reconstructor.
_ALLOWED = {("numpy", "array"), ("numpy", "ndarray"), ("numpy", "dtype"),
            ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct")}


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, np.ndarray):
            return np.array, (obj.tolist(), obj.dtype.str)
        return NotImplemented


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"path: a NASLib NB101 pickle may not reference {module}.{name}")
        return super().find_class(module, name)


def _bench(source: Any) -> NASBench101:
    if source is None:
        return NASBench101.sample_dataset()
    if isinstance(source, NASBench101):
        return source
    if isinstance(source, NASBench):
        return source.bench
    if isinstance(source, (str, os.PathLike)):
        return NASBench101(source)
    raise ValueError(f"source: expected None (bundled sample), a .tfrecord path, a NASBench101 or an "
                     f"api.NASBench, got {type(source).__name__}")


def export_naslib(path: str | os.PathLike, source: Any = None, *,
                  epochs: Iterable[int] | None = (108,)) -> Path:
    r"""Write NAS-Bench-101 as the pickle NASLib's ``get_dataset_api("nasbench101", ...)`` loads.

    Args:
        path: the ``.pkl`` file, or a folder (NASLib's ``naslib/data``) to write
            ``nasbench_only108.pkl`` into.
        source: an official-layout ``.tfrecord`` path, a :class:`nasbench.NASBench101`, an
            :class:`nasbench.api.NASBench`, or None for the bundled 20k-model sample.
        epochs: budgets to include (default ``(108,)``, what NASLib's file holds); None: all
            budgets in the data. NASLib takes its ``valid_epochs`` from what it finds.

    Returns:
        The file written.

    Raises:
        ValueError: for a bad ``source`` or budgets the data does not hold.
    """
    bench = _bench(source)
    keep = set(bench.epochs) if epochs is None else {int(e) for e in epochs}
    missing = keep - set(bench.epochs)
    if missing or not keep:
        raise ValueError(f"epochs: expected budgets among {list(bench.epochs)}, got {sorted(keep) or epochs!r}")
    fixed, computed = FixedStatistics(bench), ComputedStatistics(bench)
    data: dict[str, tuple[dict[str, Any], dict[int, list[dict[str, float]]]]] = {}
    for h in bench.hashes.tolist():
        comp = {e: runs for e, runs in computed[h].items() if e in keep}
        if comp:
            data[h] = (fixed[h], comp)
    out = Path(path)
    if out.is_dir():
        out = out / NASLIB_FILE
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with open(tmp, "wb") as f:
        _Pickler(f, protocol=4).dump(data)
    os.replace(tmp, out)
    return out


def read_naslib(path: str | os.PathLike) -> dict[str, tuple[dict[str, Any], dict[int, list[dict[str, float]]]]]:
    r"""Load a NASLib NB101 pickle with a restricted unpickler (only numpy's array builders).

    Raises:
        FileNotFoundError: if there is no such file.
        pickle.UnpicklingError: if the file references anything else.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path: no NASLib pickle at {path}")
    with open(path, "rb") as f:
        return _Unpickler(f).load()
