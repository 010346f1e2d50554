r"""One streaming pass over an official NAS-Bench-101 ``.tfrecord`` file into a :class:`Table`.

Each record's payload is the JSON list ``[module_hash, epochs, raw_adjacency,
raw_operations, raw_metrics]``; ``raw_metrics`` is base64 of a ``ModelMetrics`` protobuf
(schema :file:`nasbench/model_metrics.proto`). Records written by the official generator
(``json.dumps`` default separators, no escapes) are matched by one compiled regular
expression, which only accepts text that ``json.loads`` would decode to the same values;
anything else goes through ``json.loads`` and full type checks. Adjacency strings and op
lists repeat a lot across models, so each distinct one is decoded and validated once.
Per-run metrics are scattered into ``(field, model, budget, repeat)`` arrays one chunk at a
time, so memory is the output plus one chunk.
"""
from __future__ import annotations

import binascii
import json
import math
import os
import re
import time
from collections.abc import Callable
from operator import attrgetter
from typing import Any

import numpy as np
from google.protobuf.message import DecodeError

from ._proto import model_metrics_class
from ._table import FIELDS, WIDTH, Table
from .errors import NASBenchFormatError
from .spec import OP_LABELS, PAD_LABEL
from .tfrecord import DEFAULT_CHUNK_BYTES, RecordBatch, iter_batches

__all__ = ["parse_file"]

_FAST = re.compile(
    rb'\["([0-9a-f]{32})", ([1-9][0-9]{0,8}), "([01]{1,64})", "([a-z0-9,\-]{1,200})", '
    rb'"([A-Za-z0-9+/]*={0,2})"\]')
_HEX = re.compile(r"[0-9a-f]{32}")
_EVAL = attrgetter("training_time", "train_accuracy", "validation_accuracy", "test_accuracy")
_F = len(FIELDS)
#: Lower triangle (diagonal included) of a V x V matrix, for V <= WIDTH; read-only constants.
_LOWER = {v: ~np.triu(np.ones((v, v), dtype=bool), 1) for v in range(1, WIDTH + 1)}  # halfway x4, final x4, total_time


def _grow(arr: np.ndarray, axis: int, size: int, fill: Any) -> np.ndarray:
    if arr.shape[axis] >= size:
        return arr
    shape = list(arr.shape)
    shape[axis] = size
    out = np.full(shape, fill, dtype=arr.dtype)
    out[tuple(slice(0, s) for s in arr.shape)] = arr
    return out


class _Builder:
    """Accumulates records into columnar arrays (see :class:`nasbench._table.Table`)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.mm = model_metrics_class()
        self.h2i: dict[bytes, int] = {}
        self.hash_list: list[bytes] = []
        self.model_adj: list[int] = []  # id into adj_mats
        self.model_ops: list[int] = []  # id into ops_labels
        self.adj_ids: dict[bytes, int] = {}
        self.adj_mats: list[np.ndarray] = []
        self.adj_nv: list[int] = []
        self.ops_ids: dict[bytes, int] = {}
        self.ops_labels: list[np.ndarray] = []
        self.ops_nv: list[int] = []
        self.epoch_col: dict[int, int] = {}
        self.cap = 0
        self.counts = np.zeros((0, 1), dtype=np.int32)
        self.params = np.zeros(0, dtype=np.int64)
        self.metrics = np.full((_F, 0, 1, 1), np.nan)
        self.records = 0

    # ------------------------------------------------------------------ errors
    def _err(self, msg: str, batch: RecordBatch, j: int) -> NASBenchFormatError:
        return NASBenchFormatError(msg, record=batch.first_record + j, offset=batch.header_offset(j),
                                   path=self.path)

    # ------------------------------------------------------------------ decoding
    def _slow(self, payload: bytes, batch: RecordBatch, j: int) -> tuple[bytes, int, bytes, bytes, bytes]:
        try:
            obj = json.loads(payload)
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
            raise self._err(f"bad JSON payload ({exc}); payload starts {payload[:60]!r}", batch, j) from None
        if not isinstance(obj, list) or len(obj) != 5:
            raise self._err("expected a JSON list [module_hash, epochs, raw_adjacency, raw_operations, "
                            f"raw_metrics], got {type(obj).__name__} {str(obj)[:60]}", batch, j)
        h, ep, adj, ops, b64 = obj
        if not isinstance(h, str) or not _HEX.fullmatch(h):
            raise self._err(f"module_hash must be 32 lowercase hex characters, got {h!r}", batch, j)
        if not isinstance(ep, int) or isinstance(ep, bool) or not 0 < ep < 2**31:
            raise self._err(f"epochs must be a positive integer, got {ep!r}", batch, j)
        for name, val in (("raw_adjacency", adj), ("raw_operations", ops), ("raw_metrics", b64)):
            if not isinstance(val, str):
                raise self._err(f"{name} must be a string, got {type(val).__name__}", batch, j)
        if not adj or set(adj) - {"0", "1"}:
            raise self._err(f"raw_adjacency must be a non-empty string of 0/1, got {adj[:60]!r}", batch, j)
        try:
            return h.encode(), ep, adj.encode(), ops.encode("ascii"), b64.encode("ascii")
        except UnicodeEncodeError:
            raise self._err(f"raw_operations / raw_metrics must be ASCII: {ops[:40]!r} {b64[:40]!r}",
                            batch, j) from None

    def _adjacency(self, adj: bytes, batch: RecordBatch, j: int) -> int:
        n = len(adj)
        v = math.isqrt(n)
        if v * v != n or not 2 <= v <= WIDTH:
            raise self._err(f"raw_adjacency has {n} entries; expected V*V with 2 <= V <= {WIDTH}", batch, j)
        m = (np.frombuffer(adj, dtype=np.uint8) - ord("0")).reshape(v, v)
        if m[_LOWER[v]].any():
            raise self._err(f"raw_adjacency is not strictly upper-triangular: {adj.decode()}", batch, j)
        full = np.zeros((WIDTH, WIDTH), dtype=np.uint8)
        full[:v, :v] = m
        self.adj_mats.append(full)
        self.adj_nv.append(v)
        self.adj_ids[adj] = len(self.adj_mats) - 1
        return len(self.adj_mats) - 1

    def _operations(self, ops: bytes, batch: RecordBatch, j: int) -> int:
        names = ops.decode().split(",")
        labels = []
        for name in names:
            lab = OP_LABELS.get(name)
            if lab is None:
                raise self._err(f"unknown operation name {name!r} in raw_operations {ops.decode()!r}; "
                                f"expected one of {sorted(OP_LABELS)}", batch, j)
            labels.append(lab)
        v = len(labels)
        if v > WIDTH:
            raise self._err(f"raw_operations lists {v} operations, more than {WIDTH}", batch, j)
        if labels[0] != -1 or labels[-1] != -2 or -1 in labels[1:] or -2 in labels[:-1]:
            raise self._err(f"raw_operations must start with 'input', end with 'output' and use them "
                            f"nowhere else: {ops.decode()!r}", batch, j)
        row = np.full(WIDTH, PAD_LABEL, dtype=np.int8)
        row[:v] = labels
        self.ops_labels.append(row)
        self.ops_nv.append(v)
        self.ops_ids[ops] = len(self.ops_labels) - 1
        return len(self.ops_labels) - 1

    # ------------------------------------------------------------------ one chunk
    def add(self, batch: RecordBatch) -> None:
        buf = batch.buf
        starts = batch.starts.tolist()
        lengths = batch.lengths.tolist()
        k = len(starts)
        fullmatch = _FAST.fullmatch
        h2i, adj_ids, ops_ids = self.h2i, self.adj_ids, self.ops_ids
        model_adj, model_ops = self.model_adj, self.model_ops
        epoch_col = self.epoch_col
        a2b = binascii.a2b_base64
        parse = self.mm.FromString
        midx = [0] * k
        ecol = [0] * k
        params = [-1] * k
        vals: list[float] = []
        extend = vals.extend
        append = vals.append
        for j in range(k):
            s = starts[j]
            m = fullmatch(buf, s, s + lengths[j])
            if m is not None:
                h, ep_b, adj, ops, b64 = m.groups()
                ep = int(ep_b)
            else:
                h, ep, adj, ops, b64 = self._slow(buf[s:s + lengths[j]], batch, j)
            a_id = adj_ids.get(adj)
            if a_id is None:
                a_id = self._adjacency(adj, batch, j)
            o_id = ops_ids.get(ops)
            if o_id is None:
                o_id = self._operations(ops, batch, j)
            i = h2i.get(h)
            if i is None:
                if self.adj_nv[a_id] != self.ops_nv[o_id]:
                    raise self._err(f"raw_adjacency has {self.adj_nv[a_id]} vertices but raw_operations "
                                    f"lists {self.ops_nv[o_id]}", batch, j)
                i = h2i[h] = len(self.hash_list)
                self.hash_list.append(h)
                model_adj.append(a_id)
                model_ops.append(o_id)
            elif model_adj[i] != a_id or model_ops[i] != o_id:
                raise self._err(f"module {h.decode()} appears with a different adjacency / operations "
                                "than in its first record", batch, j)
            c = epoch_col.get(ep)
            if c is None:
                c = epoch_col[ep] = len(epoch_col)
            try:
                msg = parse(a2b(b64, strict_mode=True))
            except binascii.Error as exc:
                raise self._err(f"bad base64 in raw_metrics ({exc})", batch, j) from None
            except DecodeError as exc:
                raise self._err(f"raw_metrics is not a valid ModelMetrics protobuf ({exc})", batch, j) from None
            ev = msg.evaluation_data
            if len(ev) < 3:
                raise self._err(f"ModelMetrics has {len(ev)} evaluation_data entries, expected 3 "
                                "(initial, halfway, final)", batch, j)
            extend(_EVAL(ev[1]))
            extend(_EVAL(ev[2]))
            append(msg.total_time)
            if msg.HasField("trainable_parameters"):
                p = msg.trainable_parameters
                if p < 0:
                    raise self._err(f"negative trainable_parameters {p}", batch, j)
                params[j] = p
            midx[j] = i
            ecol[j] = c
        self._scatter(np.array(midx, dtype=np.int64), np.array(ecol, dtype=np.int64),
                      np.array(params, dtype=np.int64), np.array(vals, dtype=np.float64).reshape(k, _F))
        self.records += k

    def _scatter(self, m: np.ndarray, e: np.ndarray, p: np.ndarray, vals: np.ndarray) -> None:
        n_models = len(self.hash_list)
        n_epochs = len(self.epoch_col)
        if n_models > self.cap or n_epochs > self.counts.shape[1]:
            self.cap = max(n_models, 2 * self.cap, 1024)
            ecap = max(n_epochs, self.counts.shape[1])
            self.counts = _grow(_grow(self.counts, 0, self.cap, 0), 1, ecap, 0)
            self.params = _grow(self.params, 0, self.cap, -1)
            self.metrics = _grow(_grow(self.metrics, 1, self.cap, np.nan), 2, ecap, np.nan)
        ecap = self.counts.shape[1]
        key = m * ecap + e
        order = np.argsort(key, kind="stable")
        sk = key[order]
        first = np.ones(sk.size, dtype=bool)
        first[1:] = sk[1:] != sk[:-1]
        pos = np.arange(sk.size)
        rank = np.empty(sk.size, dtype=np.int64)
        rank[order] = pos - np.maximum.accumulate(np.where(first, pos, 0))
        rep = self.counts[m, e] + rank
        uk, cnt = np.unique(key, return_counts=True)
        self.counts.reshape(-1)[uk] += cnt.astype(np.int32)
        if rep.size and int(rep.max()) >= self.metrics.shape[3]:
            self.metrics = _grow(self.metrics, 3, int(rep.max()) + 1, np.nan)
        self.metrics[:, m, e, rep] = vals.T
        # trainable_parameters: the first known value per model wins.
        known = p >= 0
        if known.any():
            tmp = np.full(self.cap, -1, dtype=np.int64)
            tmp[m[known][::-1]] = p[known][::-1]
            fill = (self.params == -1) & (tmp >= 0)
            self.params[fill] = tmp[fill]

    # ------------------------------------------------------------------ result
    def table(self, meta: dict[str, Any]) -> Table:
        n = len(self.hash_list)
        if n == 0:
            raise NASBenchFormatError("the file holds no records", path=self.path)
        epochs = np.array(sorted(self.epoch_col), dtype=np.int64)
        cols = np.array([self.epoch_col[int(x)] for x in epochs], dtype=np.int64)
        counts = self.counts[:n][:, cols]
        r = int(counts.max())
        metrics = {}
        for f, name in enumerate(FIELDS):
            arr = self.metrics[f, :n][:, cols, :r]
            if not np.isnan(arr).all():
                metrics[name] = np.ascontiguousarray(arr)
        adj_ids = np.array(self.model_adj, dtype=np.int64)
        ops_ids = np.array(self.model_ops, dtype=np.int64)
        return Table(
            hashes=np.array(self.hash_list, dtype="S32").astype("<U32"),
            matrices=np.stack(self.adj_mats)[adj_ids],
            num_vertices=np.array(self.adj_nv, dtype=np.int8)[adj_ids],
            op_labels=np.stack(self.ops_labels)[ops_ids],
            params=self.params[:n].copy(),
            epochs=epochs,
            num_repeats=counts.astype(np.uint8),
            metrics=metrics,
            meta=meta,
        )


def parse_file(path: str | os.PathLike, *, verify_crc: bool = True,
               chunk_bytes: int = DEFAULT_CHUNK_BYTES,
               progress: Callable[[int, int], None] | None = None) -> Table:
    r"""Parse an official NAS-Bench-101 ``.tfrecord`` file into a :class:`Table`.

    Args:
        path: ``nasbench_only108.tfrecord``, ``nasbench_full.tfrecord`` or a file in their layout.
        verify_crc: check the CRC-32C of every length field and payload.
        chunk_bytes: bytes read per chunk (memory bound).
        progress: optional callback ``progress(bytes_done, bytes_total)`` after each chunk.

    Returns:
        The table; ``table.meta`` holds ``records``, ``models``, ``seconds``,
        ``records_per_s``, ``bytes`` and ``crc_verified``.

    Raises:
        NASBenchFormatError: for any defect of the file (see :mod:`nasbench.errors`).
    """
    path = os.fspath(path)
    size = os.path.getsize(path)
    t0 = time.perf_counter()
    builder = _Builder(path)
    for batch in iter_batches(path, verify_crc=verify_crc, chunk_bytes=chunk_bytes):
        builder.add(batch)
        if progress is not None:
            progress(batch.file_offset + int(batch.starts[-1] + batch.lengths[-1]) + 4, size)
    seconds = time.perf_counter() - t0
    meta = {
        "records": builder.records, "models": len(builder.hash_list), "seconds": seconds,
        "records_per_s": builder.records / seconds if seconds > 0 else float("inf"),
        "bytes": size, "crc_verified": bool(verify_crc),
    }
    table = builder.table(meta)
    table.validate()
    return table
