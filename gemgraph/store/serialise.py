r"""Serialisation shared by the run store, the run reports and the exporters.

* :func:`cell_to_json` / :func:`cell_from_json`: a :class:`~gemgraph.Cell` as the JSON dict
  ``{"n": N, "edges": [[i, j], ...], "ops": [...] | null}`` (the form of the store's rows and the
  search's picks), plus ``"vocab"`` (:meth:`~gemgraph.vocab.OpVocabulary.to_dict`) for a cell
  of a space with its own op vocabulary (never for the supernet's, so rows written before
  vocabularies existed read back unchanged);
* :func:`cell_hash`: a stable SHA-1 of a cell (equal cells, equal hashes, on every platform);
* :func:`to_plain`: a JSON-ready copy of any nested value (numpy -> Python, NaN/inf -> None);
* :func:`dumps`: canonical JSON text (sorted keys, no NaN) with an error naming what failed;
* :func:`to_tensors`: a state dict made ``torch.load(weights_only=True)``-safe;
* :func:`utc_now`: the store's timestamp (ISO 8601, UTC, milliseconds).
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from ..cell import Cell
from ..vocab import DEFAULT_VOCAB, OpVocabulary, as_vocab
from ..errors import InputError

__all__ = ["cell_from_json", "cell_hash", "cell_to_json", "dumps", "to_plain", "to_tensors", "utc_now"]


# ---------------------------------------------------------------------- cells <-> JSON
def cell_to_json(cell: Cell) -> dict[str, Any]:
    """``{"n": N, "edges": [[i, j], ...], "ops": [...] | None}`` for ``cell`` (edges row-major),
    with ``"vocab"`` when the cell has ops of a vocabulary other than the supernet's."""
    edges = np.argwhere(cell.adjacency).tolist()
    out: dict[str, Any] = {"n": cell.num_nodes, "edges": edges, "ops": None if cell.ops is None else list(cell.ops)}
    if cell.ops is not None and cell.vocab != DEFAULT_VOCAB:
        out["vocab"] = cell.vocab.to_dict()
    return out


def cell_from_json(d: Mapping[str, Any], vocab: OpVocabulary | None = None) -> Cell:
    """Inverse of :func:`cell_to_json` (validates the cell).

    Args:
        d: the dict.
        vocab: the vocabulary of a dict without ``"vocab"`` (default the supernet's); a dict
            with one uses its own.
    """
    try:
        n = int(d["n"])
        adj = np.zeros((n, n), dtype=np.uint8)
        edges = np.asarray(d["edges"], dtype=np.int64).reshape(-1, 2)
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"cell: expected {{'n', 'edges', 'ops'}}, got {d!r} ({exc})") from None
    if edges.size and (edges.min() < 0 or edges.max() >= n):
        raise InputError(f"cell: edge index out of range [0, {n}) in {d!r}")
    adj[edges[:, 0], edges[:, 1]] = 1
    voc = as_vocab(d["vocab"], "cell.vocab") if d.get("vocab") is not None else as_vocab(vocab)
    return Cell(adj, d.get("ops"), voc)


def cell_hash(cell: Cell) -> str:
    """A stable hex digest (SHA-1) of a cell: its size, adjacency bytes (uint8, row-major) and
    ops. Equal cells have equal hashes, on every platform and Python version."""
    h = hashlib.sha1()
    h.update(f"cell:{cell.num_nodes}:".encode())
    h.update(np.ascontiguousarray(cell.adjacency, dtype=np.uint8).tobytes())
    h.update(b"|ops:" + (b"-" if cell.ops is None else ",".join(cell.ops).encode()))
    return h.hexdigest()



# ---------------------------------------------------------------------- generic values
def utc_now() -> str:
    """The current time as ISO 8601 in UTC, to the millisecond (the store's ``created_at``)."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")


def to_plain(x: Any) -> Any:
    """JSON-ready copy of ``x``: numpy scalars/arrays -> Python, tuples -> lists, NaN/inf -> None,
    paths -> str, non-str dict keys -> str. Anything else is returned as it is."""
    if isinstance(x, dict):
        return {(k if isinstance(k, str) else str(k)): to_plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [to_plain(v) for v in x]
    if isinstance(x, np.ndarray):
        return to_plain(x.tolist())
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, (float, np.floating)):
        x = float(x)
        return x if math.isfinite(x) else None
    if isinstance(x, os.PathLike):
        return os.fspath(x)
    return x


def dumps(x: Any, what: str) -> str:
    """Canonical JSON of :func:`to_plain` ``(x)`` (sorted keys, compact, no NaN).

    Raises:
        ValueError: naming ``what``, for a value JSON cannot hold.
    """
    try:
        return json.dumps(to_plain(x), allow_nan=False, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise InputError(f"{what}: expected a JSON-serialisable value, {exc}") from None


def to_tensors(x: Any) -> Any:
    """Make a state dict ``torch.load(weights_only=True)``-safe: numpy -> tensors / Python."""
    if isinstance(x, dict):
        return {k: to_tensors(v) for k, v in x.items()}
    if isinstance(x, list):
        return [to_tensors(v) for v in x]
    if isinstance(x, tuple):
        return tuple(to_tensors(v) for v in x)
    if isinstance(x, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(x))
    if isinstance(x, np.bool_):
        return bool(x)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating):
        return float(x)
    if isinstance(x, torch.Tensor):
        return x.detach().cpu()
    return x
