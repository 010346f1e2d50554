r"""The run store: one SQLite file holding everything a search has done, durably.

A NASGEM search (:mod:`gemgraph.search`) writes to a :class:`RunStore` at ``RUN/run.sqlite``:

* the run's **config** (a JSON dict, written once when the store is created, immutable);
* every **evaluated candidate**: iteration, cell, MACs, parameters, accuracy, score, seconds,
  status (``"ok"`` / ``"failed"``), error text and a free ``extra`` dict, each committed
  (fsynced) in its own transaction before :meth:`RunStore.add_candidate` returns;
* the **predictor checkpoints** (one per iteration, ``torch.save`` bytes);
* the final **pick** (the bootstrap's choice / top-k) and small **meta** values (encoder
  fidelity, timings, ``"status"``).

Durability and concurrency
--------------------------
The file uses SQLite's write-ahead log (``journal_mode=WAL``) with ``synchronous=FULL``: a
committed candidate survives the process being killed (``SIGKILL``) and the machine losing
power, so a killed search resumed with ``gemgraph search --resume RUN`` loses at most the
candidate it was evaluating. Every write is one ``BEGIN IMMEDIATE`` transaction and every
connection waits up to ``busy_timeout`` (30 s) for a lock, so several processes (or threads,
each with its own :class:`RunStore`) may read and write one store without corrupting it;
readers never block the writer. :class:`RunLock` additionally keeps two *searches* from
writing one run directory at the same time.

File format
-----------
``PRAGMA application_id`` = :data:`APPLICATION_ID` marks a gemgraph store;
``PRAGMA user_version`` and ``store_info.schema_version`` hold :attr:`RunStore.SCHEMA_VERSION`.
A file of another (older or newer) schema, any other SQLite database and a file that is not
SQLite at all are refused with a :class:`StoreError` that says which it is. Schema 1::

    store_info(key TEXT PRIMARY KEY, value TEXT)      -- application, schema_version, config,
                                                       -- created_at, gemgraph_version (immutable)
    candidates(id INTEGER PRIMARY KEY AUTOINCREMENT, iteration INTEGER UNIQUE, cell TEXT,
               cell_hash TEXT, num_nodes, num_edges, macs REAL, params INTEGER, accuracy REAL,
               score REAL, seconds REAL, status TEXT, error TEXT, extra TEXT, created_at TEXT)
    predictors(iteration INTEGER PRIMARY KEY, state BLOB, nbytes INTEGER, created_at TEXT)
    pick(id INTEGER PRIMARY KEY CHECK (id = 1), payload TEXT, created_at TEXT)
    meta(key TEXT PRIMARY KEY, value TEXT, updated_at TEXT)

A cell is stored as the JSON ``{"n": N, "edges": [[i, j], ...], "ops": [...] | null}`` (the
same form as the search's picks) plus :func:`cell_hash`, a stable SHA-1 of its adjacency bytes
and ops.
"""
from __future__ import annotations

import copy
import datetime as _dt
import hashlib
import io
import json
import math
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .cell import Cell
from .utils import check_int, finite_or_none

__all__ = ["APPLICATION_ID", "RunLock", "RunStore", "StoreError", "cell_from_json", "cell_hash", "cell_to_json"]

#: ``PRAGMA application_id`` of a gemgraph run store (the bytes ``b"GEMG"``).
APPLICATION_ID: int = 0x47454D47

_APPLICATION = "gemgraph.RunStore"
_STATUSES = ("ok", "failed")
_BUSY_TIMEOUT_S = 30.0


class StoreError(RuntimeError):
    """A run store or run lock that cannot be used: not a store, another schema, a config
    mismatch, a duplicate iteration, a run in use by another process, a closed store."""


# ---------------------------------------------------------------------- cells <-> JSON
def cell_to_json(cell: Cell) -> dict[str, Any]:
    """``{"n": N, "edges": [[i, j], ...], "ops": [...] | None}`` for ``cell`` (edges row-major)."""
    edges = np.argwhere(cell.adjacency).tolist()
    return {"n": cell.num_nodes, "edges": edges, "ops": None if cell.ops is None else list(cell.ops)}


def cell_from_json(d: Mapping[str, Any]) -> Cell:
    """Inverse of :func:`cell_to_json` (validates the cell)."""
    try:
        n = int(d["n"])
        adj = np.zeros((n, n), dtype=np.uint8)
        edges = np.asarray(d["edges"], dtype=np.int64).reshape(-1, 2)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"cell: expected {{'n', 'edges', 'ops'}}, got {d!r} ({exc})") from None
    if edges.size and (edges.min() < 0 or edges.max() >= n):
        raise ValueError(f"cell: edge index out of range [0, {n}) in {d!r}")
    adj[edges[:, 0], edges[:, 1]] = 1
    return Cell(adj, d.get("ops"))


def cell_hash(cell: Cell) -> str:
    """A stable hex digest (SHA-1) of a cell: its size, adjacency bytes (uint8, row-major) and
    ops. Equal cells have equal hashes, on every platform and Python version."""
    h = hashlib.sha1()
    h.update(f"cell:{cell.num_nodes}:".encode())
    h.update(np.ascontiguousarray(cell.adjacency, dtype=np.uint8).tobytes())
    h.update(b"|ops:" + (b"-" if cell.ops is None else ",".join(cell.ops).encode()))
    return h.hexdigest()


# ---------------------------------------------------------------------- small helpers
def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")


def _plain(x: Any) -> Any:
    """JSON-ready copy of ``x``: numpy scalars/arrays -> Python, tuples -> lists, NaN/inf -> None."""
    if isinstance(x, dict):
        return {(k if isinstance(k, str) else str(k)): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, np.ndarray):
        return _plain(x.tolist())
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


def _dumps(x: Any, what: str) -> str:
    try:
        return json.dumps(_plain(x), allow_nan=False, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what}: expected a JSON-serialisable value, {exc}") from None


def _tensors(x: Any) -> Any:
    """Make a state dict ``torch.load(weights_only=True)``-safe: numpy -> tensors / Python."""
    import torch

    if isinstance(x, dict):
        return {k: _tensors(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_tensors(v) for v in x]
    if isinstance(x, tuple):
        return tuple(_tensors(v) for v in x)
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


_SCHEMA = """
CREATE TABLE store_info (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TRIGGER store_info_no_update BEFORE UPDATE ON store_info
    BEGIN SELECT RAISE(ABORT, 'store_info is immutable'); END;
CREATE TRIGGER store_info_no_delete BEFORE DELETE ON store_info
    BEGIN SELECT RAISE(ABORT, 'store_info is immutable'); END;
CREATE TABLE candidates (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    iteration  INTEGER NOT NULL UNIQUE CHECK (iteration >= 0),
    cell       TEXT    NOT NULL,
    cell_hash  TEXT    NOT NULL,
    num_nodes  INTEGER NOT NULL,
    num_edges  INTEGER NOT NULL,
    macs       REAL,
    params     INTEGER CHECK (params IS NULL OR params >= 0),
    accuracy   REAL,
    score      REAL,
    seconds    REAL,
    status     TEXT    NOT NULL CHECK (status IN ('ok', 'failed')),
    error      TEXT,
    extra      TEXT    NOT NULL DEFAULT '{}',
    created_at TEXT    NOT NULL
);
CREATE INDEX candidates_cell_hash ON candidates (cell_hash);
CREATE INDEX candidates_score ON candidates (status, score);
CREATE TABLE predictors (
    iteration  INTEGER PRIMARY KEY CHECK (iteration >= 0),
    state      BLOB    NOT NULL,
    nbytes     INTEGER NOT NULL,
    created_at TEXT    NOT NULL
);
CREATE TABLE pick (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    payload    TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE meta (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL
) WITHOUT ROWID;
"""

_CANDIDATE_COLUMNS = ("id, iteration, cell, cell_hash, macs, params, accuracy, score, seconds, status, error, "
                      "extra, created_at")


# ---------------------------------------------------------------------- the store
class RunStore:
    r"""The durable SQLite store of one search run.

    Args:
        path: the SQLite file (a search uses ``RUN/run.sqlite``).
        create: make a new store holding ``config``. If ``path`` already is a store with an
            equal config, it is simply opened (so creating is idempotent and race-free between
            processes); with a different config a :class:`StoreError` is raised. An empty file
            (e.g. left by a process killed while creating the store) is initialised.
        config: the run's config, a JSON-serialisable dict (tuples become lists, numpy
            scalars Python numbers, NaN/inf ``None``). Required with ``create=True``; stored
            once and never changed. Given with ``create=False``, it is checked against the
            stored one.
        readonly: open with SQLite's ``mode=ro`` (no writes; safe while a search is running).
        timeout: seconds to wait for another connection's write lock (SQLite's busy timeout)
            before raising :class:`StoreError`.

    Raises:
        FileNotFoundError: ``create=False`` and ``path`` does not exist.
        StoreError: ``path`` is not a gemgraph run store (another SQLite database, a non-SQLite
            or corrupt file), it has another schema version than :attr:`SCHEMA_VERSION`, or
            the config differs from the stored one.
        ValueError: for bad arguments (no ``config`` with ``create=True``, ``create`` together
            with ``readonly``).

    Every write is committed (fsynced to the write-ahead log) before the method returns. A
    store may be used from several threads (calls are serialised by a lock); for parallel
    writers open one :class:`RunStore` per thread or process.

    Example::

        with RunStore("RUN/run.sqlite", create=True, config=cfg) as store:
            cid = store.add_candidate(0, cell, macs=4.2e6, params=12_000, accuracy=0.61,
                                      score=0.47, seconds=31.5, status="ok")
            store.candidates()[0]["cell"] == cell   # True
    """

    SCHEMA_VERSION: int = 1

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        create: bool = False,
        config: dict | None = None,
        readonly: bool = False,
        timeout: float = _BUSY_TIMEOUT_S,
    ) -> None:
        self.path = Path(path)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout >= 0:
            raise ValueError(f"timeout: expected seconds >= 0, got {timeout!r}")
        self.timeout = float(timeout)
        self.readonly = bool(readonly)
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        if create and readonly:
            raise ValueError("create, readonly: a store cannot be created read-only; pass one of them")
        if create and config is None:
            raise ValueError("config: required with create=True (the run's config, a JSON dict)")
        if config is not None and not isinstance(config, Mapping):
            raise ValueError(f"config: expected a dict, got {type(config).__name__}")
        new_config = None if config is None else _dumps(dict(config), "config")
        if self.path.is_dir():
            raise StoreError(f"{self.path}: is a directory, expected the store file (e.g. RUN/run.sqlite)")
        if not create and not self.path.exists():
            raise FileNotFoundError(f"run store {str(self.path)!r} does not exist"
                                    + ("" if readonly else " (pass create=True with a config to make one)"))
        try:
            self._conn = self._connect()
            kind = self._inspect()
            if kind == "empty":
                if not create:
                    raise StoreError(f"{self.path}: is an empty SQLite file, not a gemgraph run store")
                self._initialise(new_config)
            else:
                self._check_version()
            self._config_json = self._info("config")
            self._config = json.loads(self._config_json)
            if new_config is not None and json.loads(new_config) != self._config:
                raise StoreError(
                    f"{self.path}: already holds a run with another config; open it without a config "
                    f"(create=False) to resume it, or use another path. Stored: {self._config_json}; "
                    f"given: {new_config}"
                )
            if not self.readonly:
                mode = self._set_wal()
                if str(mode).lower() != "wal":
                    raise StoreError(f"{self.path}: could not switch to the WAL journal (got {mode!r}); "
                                     "is the file on a network file system?")
        except sqlite3.DatabaseError as exc:
            self.close()
            msg = str(exc)
            if "not a database" in msg or "malformed" in msg or "corrupt" in msg:
                raise StoreError(f"{self.path}: not a gemgraph run store: the file is not an SQLite database, "
                                 f"or a corrupt one ({msg})") from exc
            raise StoreError(f"{self.path}: cannot open the run store: {msg}") from exc
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ opening
    def _connect(self) -> sqlite3.Connection:
        if self.readonly:
            uri = self.path.absolute().as_uri() + "?mode=ro"
            conn = sqlite3.connect(uri, uri=True, timeout=self.timeout, isolation_level=None,
                                   check_same_thread=False)
        else:
            conn = sqlite3.connect(os.fspath(self.path), timeout=self.timeout, isolation_level=None,
                                   check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
        conn.execute("PRAGMA foreign_keys = ON")
        if self.readonly:
            conn.execute("PRAGMA query_only = ON")
        else:
            conn.execute("PRAGMA synchronous = FULL")
        return conn

    def _inspect(self) -> str:
        """``"store"`` (any schema version), ``"empty"`` or raise StoreError for a foreign db."""
        conn = self._conn
        # one read transaction: the header and the schema from the same snapshot (another
        # process may be committing a new store between two autocommit reads)
        own = not conn.in_transaction
        if own:
            conn.execute("BEGIN")
        try:
            app = conn.execute("PRAGMA application_id").fetchone()[0]
            tables = [r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        finally:
            if own and conn.in_transaction:
                conn.execute("COMMIT")
        if app == APPLICATION_ID:
            return "store"
        if app == 0 and not tables:
            return "empty"
        what = f"application_id {app:#x}" if app else f"tables {tables[:8]}"
        raise StoreError(f"{self.path}: is an SQLite database but not a gemgraph run store ({what}; "
                         f"a run store has application_id {APPLICATION_ID:#x})")

    def _set_wal(self) -> str:
        """Switch to the WAL journal; returns the resulting mode.

        Changing the journal mode needs an exclusive lock and SQLite does not wait for it with
        the busy handler, so several processes opening a new store at once can see "database
        is locked": retry with backoff until ``timeout``.
        """
        deadline = time.monotonic() + self.timeout
        delay = 0.002
        while True:
            try:
                return str(self._conn.execute("PRAGMA journal_mode=WAL").fetchone()[0])
            except sqlite3.OperationalError as exc:
                msg = str(exc).lower()
                if ("locked" not in msg and "busy" not in msg) or time.monotonic() >= deadline:
                    raise
            time.sleep(delay)
            delay = min(2 * delay, 0.1)

    def _initialise(self, config_json: str) -> None:
        """Create the schema in one transaction (re-checking under the write lock, so two
        processes creating the same store at once end with one store)."""
        conn = self._conn
        self._set_wal()
        conn.execute("BEGIN IMMEDIATE")
        try:
            if self._inspect() == "store":  # another process created it meanwhile
                conn.execute("ROLLBACK")
                self._check_version()
                return
            for stmt in _SCHEMA.split(";\n"):
                if stmt.strip():
                    conn.execute(stmt)
            try:
                from importlib.metadata import version

                gg_version = version("gemgraph")
            except Exception:  # pragma: no cover - not installed as a distribution
                gg_version = "unknown"
            conn.executemany("INSERT INTO store_info (key, value) VALUES (?, ?)", [
                ("application", _APPLICATION), ("schema_version", str(self.SCHEMA_VERSION)),
                ("config", config_json), ("created_at", _now()), ("gemgraph_version", gg_version),
            ])
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {self.SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _check_version(self) -> None:
        version = self._conn.execute("PRAGMA user_version").fetchone()[0]
        if version != self.SCHEMA_VERSION:
            if version > self.SCHEMA_VERSION:
                hint = "it was written by a newer gemgraph; upgrade gemgraph to read it"
            else:
                hint = "it was written by an older gemgraph; no migration to this schema exists"
            raise StoreError(f"{self.path}: run store schema version {version}, but this gemgraph reads schema "
                             f"version {self.SCHEMA_VERSION} ({hint})")
        try:
            stored = self._info("schema_version")
        except sqlite3.DatabaseError:
            stored = None
        if stored != str(self.SCHEMA_VERSION):
            raise StoreError(f"{self.path}: inconsistent run store: PRAGMA user_version says schema "
                             f"{version} but store_info says {stored!r}")

    def _info(self, key: str) -> str:
        row = self._conn.execute("SELECT value FROM store_info WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise StoreError(f"{self.path}: damaged run store: store_info has no {key!r}")
        return row[0]

    # ------------------------------------------------------------------ plumbing
    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError(f"RunStore({str(self.path)!r}) is closed")
        return self._conn

    def _write(self, sql: str, params: tuple = ()) -> sqlite3.Cursor:
        """Run one statement as its own committed ``BEGIN IMMEDIATE`` transaction."""
        if self.readonly:
            raise StoreError(f"RunStore({str(self.path)!r}) is open read-only")
        conn = self._db()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                cur = conn.execute(sql, params)
                conn.execute("COMMIT")
                return cur
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise StoreError(f"{self.path}: the store stayed locked by another connection for more than "
                                 f"{self.timeout:g} s ({exc})") from exc
            raise

    @property
    def config(self) -> dict:
        """The run's config (a copy; the stored config never changes)."""
        return copy.deepcopy(self._config)

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._conn is None

    def info(self) -> dict[str, str]:
        """The immutable ``store_info`` rows (application, schema_version, created_at, ...)."""
        with self._lock:
            return dict(self._db().execute("SELECT key, value FROM store_info WHERE key != 'config'").fetchall())

    # ------------------------------------------------------------------ candidates
    def add_candidate(
        self,
        iteration: int,
        cell: Cell,
        *,
        macs: float | None,
        params: int | None,
        accuracy: float | None,
        score: float | None,
        seconds: float | None,
        status: str,
        error: str | None = None,
        extra: dict | None = None,
    ) -> int:
        r"""Store one evaluated candidate, committed before returning.

        Args:
            iteration: the candidate's iteration ``t`` (an int >= 0, unique in the run).
            cell: the evaluated :class:`~gemgraph.Cell`.
            macs, params, accuracy, score, seconds: the evaluation (None when unknown; NaN and
                inf are stored as None).
            status: ``"ok"`` or ``"failed"``.
            error: the error text of a failed evaluation.
            extra: more JSON-serialisable values (loss, epochs, ...).

        Returns:
            The new candidate's id (unique, increasing, never reused).

        Raises:
            StoreError: if ``iteration`` is already stored (a resumed run skips done iterations).
            ValueError: for arguments of the wrong type or value.
        """
        iteration = check_int(iteration, "iteration", 0)
        if not isinstance(cell, Cell):
            raise ValueError(f"cell: expected a gemgraph.Cell, got {type(cell).__name__}")
        if status not in _STATUSES:
            raise ValueError(f"status: expected one of {list(_STATUSES)}, got {status!r}")
        if error is not None and not isinstance(error, str):
            error = str(error)
        if params is not None:
            if isinstance(params, (float, np.floating)) and float(params).is_integer():
                params = int(params)
            params = check_int(params, "params", 0)
        if extra is not None and not isinstance(extra, Mapping):
            raise ValueError(f"extra: expected a dict or None, got {type(extra).__name__}")
        row = (
            iteration, _dumps(cell_to_json(cell), "cell"), cell_hash(cell), cell.num_nodes, cell.num_edges,
            finite_or_none(macs, "macs"), params, finite_or_none(accuracy, "accuracy"), finite_or_none(score, "score"),
            finite_or_none(seconds, "seconds"), status, error, _dumps(dict(extra or {}), "extra"), _now(),
        )
        with self._lock:
            try:
                cur = self._write(
                    "INSERT INTO candidates (iteration, cell, cell_hash, num_nodes, num_edges, macs, params, "
                    "accuracy, score, seconds, status, error, extra, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
            except sqlite3.IntegrityError as exc:
                if "UNIQUE" in str(exc) and "iteration" in str(exc):
                    old = self._db().execute("SELECT id FROM candidates WHERE iteration = ?", (iteration,)).fetchone()
                    raise StoreError(f"{self.path}: iteration {iteration} is already stored (candidate id "
                                     f"{old[0] if old else '?'}); a resumed run must skip done_iterations()") from None
                raise StoreError(f"{self.path}: candidate {iteration} rejected by the store: {exc}") from exc
            return int(cur.lastrowid)

    def _row(self, r: tuple) -> dict[str, Any]:
        (cid, it, cell, h, macs, params, acc, score, secs, status, error, extra, created) = r
        return {
            "id": cid, "iteration": it, "cell": cell_from_json(json.loads(cell)), "cell_hash": h, "macs": macs,
            "params": params, "accuracy": acc, "score": score, "seconds": secs, "status": status,
            "error": error, "extra": json.loads(extra) if extra else {}, "created_at": created,
        }

    def candidates(self, status: str | None = None) -> list[dict[str, Any]]:
        r"""All stored candidates, ordered by iteration.

        Args:
            status: only those with this status (``"ok"`` or ``"failed"``); None = all.

        Returns:
            One dict per candidate: ``id, iteration, cell`` (a :class:`~gemgraph.Cell`),
            ``cell_hash, macs, params, accuracy, score, seconds, status, error, extra``
            (a dict) and ``created_at`` (ISO 8601, UTC).
        """
        if status is not None and status not in _STATUSES:
            raise ValueError(f"status: expected one of {list(_STATUSES)} or None, got {status!r}")
        where, args = ("", ()) if status is None else (" WHERE status = ?", (status,))
        with self._lock:
            rows = self._db().execute(
                f"SELECT {_CANDIDATE_COLUMNS} FROM candidates{where} ORDER BY iteration", args).fetchall()
        return [self._row(r) for r in rows]

    def candidate(self, iteration: int) -> dict[str, Any] | None:
        """The candidate of ``iteration`` (as in :meth:`candidates`), or None."""
        with self._lock:
            r = self._db().execute(f"SELECT {_CANDIDATE_COLUMNS} FROM candidates WHERE iteration = ?",
                                   (check_int(iteration, "iteration", 0),)).fetchone()
        return None if r is None else self._row(r)

    def done_iterations(self) -> set[int]:
        """Iterations already stored (``"ok"`` and ``"failed"``): a resumed run skips them."""
        with self._lock:
            return {r[0] for r in self._db().execute("SELECT iteration FROM candidates")}

    def __len__(self) -> int:
        with self._lock:
            return int(self._db().execute("SELECT COUNT(*) FROM candidates").fetchone()[0])

    # ------------------------------------------------------------------ predictor checkpoints
    def save_predictor(self, iteration: int, state: dict) -> None:
        r"""Store a predictor checkpoint for ``iteration`` (replacing one saved before for it).

        Args:
            iteration: the iteration after which the predictor was fitted.
            state: e.g. :meth:`EfficiencyPredictor.state_dict` (tensors, lists, numbers); numpy
                arrays and scalars are converted so that it loads with ``weights_only=True``.
        """
        import torch

        iteration = check_int(iteration, "iteration", 0)
        if not isinstance(state, Mapping):
            raise ValueError(f"state: expected a dict (a state_dict), got {type(state).__name__}")
        buf = io.BytesIO()
        torch.save(_tensors(dict(state)), buf)
        blob = buf.getvalue()
        with self._lock:
            self._write("INSERT OR REPLACE INTO predictors (iteration, state, nbytes, created_at) VALUES (?, ?, ?, ?)",
                        (iteration, sqlite3.Binary(blob), len(blob), _now()))

    def _load_state(self, iteration: int, blob: bytes) -> dict:
        import torch

        try:
            return torch.load(io.BytesIO(blob), map_location="cpu", weights_only=True)
        except Exception as exc:
            raise StoreError(f"{self.path}: predictor checkpoint of iteration {iteration} cannot be loaded: "
                             f"{exc}") from exc

    def latest_predictor(self) -> tuple[int, dict] | None:
        """``(iteration, state)`` of the newest checkpoint (highest iteration), or None."""
        with self._lock:
            r = self._db().execute("SELECT iteration, state FROM predictors ORDER BY iteration DESC LIMIT 1").fetchone()
        return None if r is None else (int(r[0]), self._load_state(r[0], r[1]))

    def predictor(self, iteration: int) -> dict | None:
        """The checkpoint saved for ``iteration``, or None."""
        with self._lock:
            r = self._db().execute("SELECT state FROM predictors WHERE iteration = ?",
                                   (check_int(iteration, "iteration", 0),)).fetchone()
        return None if r is None else self._load_state(iteration, r[0])

    def predictor_iterations(self) -> list[int]:
        """Iterations that have a predictor checkpoint, ascending."""
        with self._lock:
            return [r[0] for r in self._db().execute("SELECT iteration FROM predictors ORDER BY iteration")]

    # ------------------------------------------------------------------ pick and meta
    def set_pick(self, payload: dict) -> None:
        """Store the final pick (a JSON dict: best cell, top-k, ...), replacing a previous one."""
        if not isinstance(payload, Mapping):
            raise ValueError(f"payload: expected a dict, got {type(payload).__name__}")
        text = _dumps(dict(payload), "payload")
        with self._lock:
            self._write("INSERT OR REPLACE INTO pick (id, payload, created_at) VALUES (1, ?, ?)", (text, _now()))

    def pick(self) -> dict | None:
        """The stored pick, or None before :meth:`set_pick`."""
        with self._lock:
            r = self._db().execute("SELECT payload FROM pick WHERE id = 1").fetchone()
        return None if r is None else json.loads(r[0])

    def set_meta(self, key: str, value: Any) -> None:
        """Store a small JSON value under ``key`` (replacing the previous value)."""
        if not isinstance(key, str) or not key:
            raise ValueError(f"key: expected a non-empty str, got {key!r}")
        text = _dumps(value, f"meta {key!r}")
        with self._lock:
            self._write("INSERT OR REPLACE INTO meta (key, value, updated_at) VALUES (?, ?, ?)", (key, text, _now()))

    def get_meta(self, key: str, default: Any = None) -> Any:
        """The value stored under ``key``, or ``default``."""
        with self._lock:
            r = self._db().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if r is None else json.loads(r[0])

    def meta(self) -> dict[str, Any]:
        """All meta values as a dict."""
        with self._lock:
            rows = self._db().execute("SELECT key, value FROM meta ORDER BY key").fetchall()
        return {k: json.loads(v) for k, v in rows}

    # ------------------------------------------------------------------ overview
    def summary(self) -> dict[str, Any]:
        """``iterations_done``, ``n_ok``, ``n_failed``, ``best`` (the stored candidate with the
        highest score: ``id, iteration, score, accuracy, macs``; None without one),
        ``latest_predictor`` (its iteration or None) and ``pick``."""
        with self._lock:
            db = self._db()
            counts = dict(db.execute("SELECT status, COUNT(*) FROM candidates GROUP BY status").fetchall())
            best = db.execute(
                "SELECT id, iteration, score, accuracy, macs FROM candidates WHERE status = 'ok' AND score IS NOT NULL "
                "ORDER BY score DESC, iteration ASC LIMIT 1").fetchone()
            latest = db.execute("SELECT MAX(iteration) FROM predictors").fetchone()[0]
            pick = self.pick()
        n_ok, n_failed = int(counts.get("ok", 0)), int(counts.get("failed", 0))
        return {
            "iterations_done": n_ok + n_failed, "n_ok": n_ok, "n_failed": n_failed,
            "best": None if best is None else dict(zip(("id", "iteration", "score", "accuracy", "macs"), best)),
            "latest_predictor": latest, "pick": pick,
        }

    def integrity_check(self) -> str:
        """SQLite's ``PRAGMA integrity_check``: ``"ok"``, or the problems found."""
        with self._lock:
            return "\n".join(r[0] for r in self._db().execute("PRAGMA integrity_check"))

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        """Close the connection (idempotent). Everything written is already committed."""
        with self._lock:
            conn, self._conn = self._conn, None
            if conn is not None:
                conn.close()

    def __enter__(self) -> "RunStore":
        self._db()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        if self._conn is None:
            return f"RunStore({str(self.path)!r}, closed)"
        ro = ", readonly" if self.readonly else ""
        return f"RunStore({str(self.path)!r}, candidates={len(self)}, schema={self.SCHEMA_VERSION}{ro})"


# ---------------------------------------------------------------------- the run lock
class RunLock:
    r"""An exclusive advisory lock on a run directory, so that two searches cannot write one run.

    The lock is ``fcntl.flock`` on ``RUN/.lock``, which also records the holder's PID, host and
    start time for the error message. The operating system drops the lock when the holding
    process dies, even by ``SIGKILL``, so a killed run can be resumed at once. (Processes
    forked by the holder, e.g. data-loader workers, share the lock until they exit.)

    Args:
        run_dir: the run directory (must exist).

    Example::

        with RunLock("RUN"):          # StoreError if another live process holds it
            ...                       # write the run
    """

    FILENAME = ".lock"

    def __init__(self, run_dir: str | os.PathLike) -> None:
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / self.FILENAME
        self._fd: int | None = None

    @property
    def locked(self) -> bool:
        """True while this object holds the lock."""
        return self._fd is not None

    def _read_holder(self, fd: int) -> dict[str, Any]:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            return json.loads(os.read(fd, 4096).decode() or "{}")
        except (OSError, ValueError):
            return {}

    def acquire(self) -> "RunLock":
        """Take the lock (without waiting). Returns self.

        Raises:
            StoreError: if another live process (or another :class:`RunLock` object) holds it;
                the message names the holder's PID and host.
            FileNotFoundError: if the run directory does not exist.
        """
        import fcntl

        if self._fd is not None:
            raise StoreError(f"run {self.run_dir}: this RunLock is already acquired")
        if not self.run_dir.is_dir():
            raise FileNotFoundError(f"run directory {str(self.run_dir)!r} does not exist")
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self._read_holder(fd)
            os.close(fd)
            who = (f"PID {holder.get('pid')} on {holder.get('host')} (since {holder.get('started')})"
                   if holder.get("pid") else "another process (PID not yet recorded)")
            raise StoreError(f"run {self.run_dir} is in use by {who}; wait for that search to finish or stop "
                             f"it, then resume with `gemgraph search --resume {self.run_dir}`") from None
        except BaseException:
            os.close(fd)
            raise
        try:
            info = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": _now()}).encode()
            os.ftruncate(fd, 0)
            os.pwrite(fd, info, 0)
        except BaseException:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
            raise
        self._fd = fd
        return self

    def holder(self) -> dict[str, Any] | None:
        """``{"pid", "host", "started"}`` of the process holding the lock, or None when free
        (or held by this object)."""
        import fcntl

        if self._fd is not None or not self.path.exists():
            return None
        fd = os.open(self.path, os.O_RDONLY)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return self._read_holder(fd) or {"pid": None, "host": None, "started": None}
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        finally:
            os.close(fd)

    def release(self) -> None:
        """Release the lock (idempotent). The lock file stays; it is reused next time."""
        import fcntl

        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)
        except OSError:
            pass
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc: Any) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"RunLock({str(self.run_dir)!r}, {'held' if self._fd is not None else 'free'})"
