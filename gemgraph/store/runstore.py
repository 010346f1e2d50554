r"""The :class:`RunStore`: one SQLite file holding everything a search has done, durably.

Durability, concurrency, integrity and the file format are described in :mod:`gemgraph.store`;
the SQL and the migration live in :mod:`gemgraph.store.schema`, the JSON forms in
:mod:`gemgraph.store.serialise`.
"""
from __future__ import annotations

import copy
import errno
import importlib.metadata
import io
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..cell import Cell
from ..utils import CannotWriteError, check_int, finite_or_none, one_line, torch_load_reason
from . import schema as _schema
from .errors import StoreError
from .schema import (APPLICATION_ID, CANDIDATE_COLUMNS, CHECKED, SCHEMA_VERSION, blob_checksum, has_text_checksums,
                     immediate, needs_text_checksums, pick_settings, row_checksum, text_checksum)
from .serialise import cell_from_json, cell_hash, cell_to_json, dumps, to_tensors, utc_now
from ..errors import InputError

__all__ = ["RunStore"]

log = logging.getLogger(__name__)

_STATUSES = ("ok", "failed")
_BUSY_TIMEOUT_S = 30.0


def _is_full(exc: sqlite3.Error) -> bool:
    """SQLite's ``SQLITE_FULL`` ("database or disk is full"): the disk, or a quota, is full."""
    return getattr(exc, "sqlite_errorname", "") == "SQLITE_FULL" or "database or disk is full" in str(exc)



def store_path(run_dir: str | os.PathLike) -> Path:
    """The store file of the search run in ``run_dir``: ``run_dir/run.sqlite``."""
    return Path(run_dir) / "run.sqlite"

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
            A file in WAL mode on a read-only folder, without a ``-wal`` file beside it, is
            opened as ``immutable``.
        timeout: seconds to wait for another connection's write lock (SQLite's busy timeout)
            before raising :class:`StoreError`.
        verify: run ``PRAGMA quick_check`` on open and check the checksum of every candidate
            row and predictor checkpoint read (see *Integrity* above). False skips both, to
            salvage what is readable from a damaged file.

    Raises:
        FileNotFoundError: ``create=False`` and ``path`` does not exist.
        CannotWriteError: (an OSError) the disk is full while the store is created, migrated
            or written (every write method raises it too; the write is rolled back).
        StoreError: ``path`` is not a gemgraph run store (another SQLite database, a non-SQLite
            or corrupt file), it fails ``PRAGMA quick_check``, it has another schema version
            than :attr:`SCHEMA_VERSION` (1 is migrated, see above), or the config differs from
            the stored one.
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

    SCHEMA_VERSION: int = SCHEMA_VERSION

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        create: bool = False,
        config: dict | None = None,
        readonly: bool = False,
        timeout: float = _BUSY_TIMEOUT_S,
        verify: bool = True,
    ) -> None:
        self.path = Path(path)
        self.verify = bool(verify)
        self._schema = self.SCHEMA_VERSION
        self._sums = True  # picks and meta carry checksums (False: a store made before they did, read-only)
        self._opened = False
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout >= 0:
            raise InputError(f"timeout: expected seconds >= 0, got {timeout!r}")
        self.timeout = float(timeout)
        self.readonly = bool(readonly)
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        if create and readonly:
            raise InputError("create, readonly: a store cannot be created read-only; pass one of them")
        if create and config is None:
            raise InputError("config: required with create=True (the run's config, a JSON dict)")
        if config is not None and not isinstance(config, Mapping):
            raise InputError(f"config: expected a dict, got {type(config).__name__}")
        new_config = None if config is None else dumps(dict(config), "config")
        if self.path.is_dir():
            raise StoreError(f"{self.path}: is a directory, expected the store file (e.g. RUN/run.sqlite)")
        if not create and not self.path.exists():
            raise FileNotFoundError(f"run store {str(self.path)!r} does not exist"
                                    + ("" if readonly else " (pass create=True with a config to make one)"))
        try:
            self._conn = self._connect()
            try:
                kind = self._inspect()
            except sqlite3.OperationalError as exc:
                if not (self.readonly and self._may_open_immutable(exc)):
                    raise
                self._conn.close()
                self._conn = self._connect(immutable=True)
                kind = self._inspect()
            if kind == "empty":
                if not create:
                    raise StoreError(f"{self.path}: is an empty SQLite file, not a gemgraph run store")
                assert new_config is not None  # create=True requires a config (checked above)
                self._initialise(new_config)
            else:
                self._check_version()
                if self.verify:
                    self._quick_check()
                if self._schema == 1 and not self.readonly:
                    self._migrate_from_1()
                elif self._schema == 1:
                    log.info("%s: schema-1 run store opened read-only: its candidate rows carry no checksums "
                             "(they get them when the store is next opened for writing)", self.path)
                if self._schema >= 2 and not self.readonly:
                    self._add_text_checksums()
                self._sums = self._schema >= 2 and has_text_checksums(self._db())
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
            self._opened = True
        except sqlite3.DatabaseError as exc:
            self.close()
            msg = str(exc)
            if _is_full(exc):
                raise CannotWriteError(self.path, errno.ENOSPC) from exc
            if "readonly" in msg.replace("-", "").replace(" ", "") and not self.readonly:
                raise StoreError(f"{self.path}: the run store is read-only here ({msg}); open it with "
                                 "readonly=True to read it, or copy the run to a writable place") from exc
            if "locked" in msg or "busy" in msg:
                raise StoreError(f"{self.path}: the store stayed locked by another connection for more than "
                                 f"{self.timeout:g} s while opening it ({msg})") from exc
            if "not a database" in msg or "malformed" in msg or "corrupt" in msg:
                raise StoreError(f"{self.path}: not a gemgraph run store: the file is not an SQLite database, "
                                 f"or a corrupt one ({msg})") from exc
            raise StoreError(f"{self.path}: cannot open the run store: {msg}") from exc
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ opening
    def _may_open_immutable(self, exc: sqlite3.OperationalError) -> bool:
        """True if a read-only open failed only because SQLite could not create the ``-shm``
        file of a WAL-mode store in a read-only folder, and there is no ``-wal`` file whose
        commits ``immutable`` would ignore."""
        msg = str(exc).lower()
        if "unable to open" not in msg and "readonly" not in msg.replace(" ", "").replace("-", ""):
            return False
        wal = Path(os.fspath(self.path) + "-wal")
        return not (wal.exists() and wal.stat().st_size > 0)

    def _connect(self, immutable: bool = False) -> sqlite3.Connection:
        if self.readonly:
            uri = self.path.absolute().as_uri() + ("?immutable=1" if immutable else "?mode=ro")
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
        conn = self._db()
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
                return str(self._db().execute("PRAGMA journal_mode=WAL").fetchone()[0])
            except sqlite3.OperationalError as exc:
                msg = str(exc).lower()
                if ("locked" not in msg and "busy" not in msg) or time.monotonic() >= deadline:
                    raise
            time.sleep(delay)
            delay = min(2 * delay, 0.1)

    def _initialise(self, config_json: str) -> None:
        """Create the schema in one transaction (re-checking under the write lock, so two
        processes creating the same store at once end with one store)."""
        conn = self._db()
        self._set_wal()
        with immediate(conn):
            if self._inspect() == "store":  # another process created it meanwhile
                conn.execute("ROLLBACK")
                self._check_version()
                return
            try:
                gg_version = importlib.metadata.version("gemgraph")
            except Exception:  # noqa: BLE001 - any failure means unknown  # pragma: no cover - not installed as a distribution
                gg_version = "unknown"
            _schema.create_tables(conn, config_json, gg_version)

    def _check_version(self) -> None:
        version = self._db().execute("PRAGMA user_version").fetchone()[0]
        if version == 1:  # migrated when opened for writing, else read as schema 1
            self._schema = 1
        elif version != self.SCHEMA_VERSION:
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
        if stored != str(version):
            raise StoreError(f"{self.path}: inconsistent run store: PRAGMA user_version says schema "
                             f"{version} but store_info says {stored!r}")

    def _quick_check(self) -> None:
        """``PRAGMA quick_check``; StoreError naming the problems unless it says ``ok``."""
        rows = [r[0] for r in self._db().execute("PRAGMA quick_check(20)")]
        if rows != ["ok"]:
            log.info("%s: PRAGMA quick_check:\n%s", self.path, "\n".join(rows))
            problems = [ln.strip() for r in rows for ln in str(r).splitlines()
                        if ln.strip() and not ln.strip().startswith("***")]
            first = one_line(problems[0] if problems else rows[0], 160)
            more = f" and {len(problems) - 1}{'+' if len(rows) >= 20 else ''} more" if len(problems) > 1 else ""
            raise StoreError(f"{self.path}: the database file is damaged (PRAGMA quick_check: {first}{more}; the "
                             "full report at -v); restore it from a copy, or open it with verify=False to salvage "
                             "what is readable")

    def _migrate_from_1(self) -> None:
        """Schema 1 -> 2 in one transaction (:func:`gemgraph.store.schema.migrate_from_1`),
        unless another process migrated the file meanwhile."""
        conn = self._db()
        self._set_wal()
        with immediate(conn):
            if conn.execute("PRAGMA user_version").fetchone()[0] != 1:  # another process migrated it
                conn.execute("ROLLBACK")
                self._schema = self.SCHEMA_VERSION
                self._check_version()
                return
            n_rows = _schema.migrate_from_1(conn)
        self._schema = self.SCHEMA_VERSION
        log.info("%s: run store migrated from schema 1 to %d (checksums added to %d candidate rows)",
                 self.path, self.SCHEMA_VERSION, n_rows)

    def _add_text_checksums(self) -> None:
        """Give the picks and meta values of a store made before they carried checksums theirs
        (:func:`gemgraph.store.schema.add_text_checksums`, one transaction; nothing to do, and
        no write, for a store that has them)."""
        conn = self._db()
        if not needs_text_checksums(conn):
            return
        self._set_wal()
        with immediate(conn):
            if not needs_text_checksums(conn):  # another process did it meanwhile
                conn.execute("ROLLBACK")
                return
            n_rows = _schema.add_text_checksums(conn)
        log.info("%s: checksums added to %d pick / meta rows (written by a gemgraph before they carried them)",
                 self.path, n_rows)

    def _text_checked(self, kind: str, what: str, values: tuple, stored: str) -> None:
        """Raise StoreError naming ``what`` unless ``values`` (a pick's payload, settings and
        creation time, or a meta key, value and update time) match their ``stored`` checksum.
        A row without one (``""``: written by a gemgraph before picks and meta carried checksums)
        is accepted as it is; it gets one when the store is next opened for writing."""
        if not self.verify or not stored:
            return
        if text_checksum(kind, *values) != stored:
            raise StoreError(
                f"{self.path}: {what} fails its checksum: its stored value was changed outside gemgraph or the file is "
                "damaged (bit rot); restore the run from a copy, or open it with verify=False to read it anyway")

    def _info(self, key: str) -> str:
        row = self._db().execute("SELECT value FROM store_info WHERE key = ?", (key,)).fetchone()
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
            if _is_full(exc):  # rolled back: nothing half-written
                raise CannotWriteError(self.path, errno.ENOSPC) from exc
            raise

    def _need_schema_2(self) -> None:
        if self._schema < 2:  # pragma: no cover - a writable store is always migrated on open
            raise StoreError(f"{self.path}: schema-{self._schema} store: open it for writing to migrate it first")

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
            raise InputError(f"cell: expected a gemgraph.Cell, got {type(cell).__name__}")
        if status not in _STATUSES:
            raise InputError(f"status: expected one of {list(_STATUSES)}, got {status!r}")
        if error is not None and not isinstance(error, str):
            error = str(error)
        if params is not None:
            if isinstance(params, (float, np.floating)) and float(params).is_integer():
                params = int(params)
            params = check_int(params, "params", 0)
        if extra is not None and not isinstance(extra, Mapping):
            raise InputError(f"extra: expected a dict or None, got {type(extra).__name__}")
        row = (
            iteration, dumps(cell_to_json(cell), "cell"), cell_hash(cell), int(cell.num_nodes), int(cell.num_edges),
            finite_or_none(macs, "macs"), params, finite_or_none(accuracy, "accuracy"), finite_or_none(score, "score"),
            finite_or_none(seconds, "seconds"), status, error, dumps(dict(extra or {}), "extra"), utc_now(),
        )
        with self._lock:
            self._need_schema_2()
            try:
                cur = self._write(
                    f"INSERT INTO candidates ({', '.join(CHECKED)}, checksum) "
                    f"VALUES ({', '.join('?' * (len(CHECKED) + 1))})", row + (row_checksum(row),))
            except sqlite3.IntegrityError as exc:
                if "UNIQUE" in str(exc) and "iteration" in str(exc):
                    old = self._db().execute("SELECT id FROM candidates WHERE iteration = ?", (iteration,)).fetchone()
                    raise StoreError(f"{self.path}: iteration {iteration} is already stored (candidate id "
                                     f"{old[0] if old else '?'}); a resumed run must skip done_iterations()") from None
                raise StoreError(f"{self.path}: candidate {iteration} rejected by the store: {exc}") from exc
            assert cur.lastrowid is not None  # set by the INSERT
            return int(cur.lastrowid)

    def _columns(self) -> str:
        """The candidate columns read: :data:`CANDIDATE_COLUMNS` and, on schema 2, the checksum."""
        return CANDIDATE_COLUMNS + (", checksum" if self._schema >= 2 else "")

    def _checked(self, rows: list[tuple]) -> list[tuple]:
        """``rows`` (as selected by :meth:`_columns`) without their checksum, after checking it.

        Raises:
            StoreError: naming the first row whose values do not match its checksum.
        """
        if self._schema < 2:
            return rows
        out = []
        for r in rows:
            values, stored = r[:-1], r[-1]
            if self.verify and row_checksum(values[1:]) != stored:
                raise StoreError(
                    f"{self.path}: candidate id {values[0]} (iteration {values[1]}) fails its checksum: its stored "
                    "values were changed outside gemgraph or the file is damaged (bit rot); restore the run from a "
                    "copy, or open it with verify=False to read it anyway")
            out.append(values)
        return out

    def _row(self, r: tuple) -> dict[str, Any]:
        (cid, it, cell, h, _n, _e, macs, params, acc, score, secs, status, error, extra, created) = r
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
            raise InputError(f"status: expected one of {list(_STATUSES)} or None, got {status!r}")
        where, args = ("", ()) if status is None else (" WHERE status = ?", (status,))
        with self._lock:
            rows = self._db().execute(
                f"SELECT {self._columns()} FROM candidates{where} ORDER BY iteration", args).fetchall()
        return [self._row(r) for r in self._checked(rows)]

    def candidate(self, iteration: int) -> dict[str, Any] | None:
        """The candidate of ``iteration`` (as in :meth:`candidates`), or None."""
        with self._lock:
            r = self._db().execute(f"SELECT {self._columns()} FROM candidates WHERE iteration = ?",
                                   (check_int(iteration, "iteration", 0),)).fetchone()
        return None if r is None else self._row(self._checked([r])[0])

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
        iteration = check_int(iteration, "iteration", 0)
        if not isinstance(state, Mapping):
            raise InputError(f"state: expected a dict (a state_dict), got {type(state).__name__}")
        buf = io.BytesIO()
        torch.save(to_tensors(dict(state)), buf)
        blob = buf.getvalue()
        with self._lock:
            self._need_schema_2()
            self._write("INSERT OR REPLACE INTO predictors (iteration, state, nbytes, created_at, checksum) "
                        "VALUES (?, ?, ?, ?, ?)",
                        (iteration, sqlite3.Binary(blob), len(blob), utc_now(), blob_checksum(blob)))

    def _state_columns(self) -> str:
        return "iteration, state" + (", checksum" if self._schema >= 2 else "")

    def _load_state(self, iteration: int, blob: bytes, checksum: str | None = None) -> dict:
        if self.verify and self._schema >= 2 and blob_checksum(blob) != checksum:
            raise StoreError(f"{self.path}: predictor checkpoint of iteration {iteration} fails its checksum: it was "
                             "changed outside gemgraph or the file is damaged (bit rot)")
        try:
            return torch.load(io.BytesIO(blob), map_location="cpu", weights_only=True)
        except Exception as exc:
            raise StoreError(f"{self.path}: predictor checkpoint of iteration {iteration} cannot be loaded: "
                             f"{torch_load_reason(exc)}") from exc

    def latest_predictor(self) -> tuple[int, dict] | None:
        """``(iteration, state)`` of the newest checkpoint (highest iteration), or None."""
        with self._lock:
            r = self._db().execute(f"SELECT {self._state_columns()} FROM predictors ORDER BY iteration DESC LIMIT 1"
                                   ).fetchone()
        return None if r is None else (int(r[0]), self._load_state(*r))

    def predictor(self, iteration: int) -> dict | None:
        """The checkpoint saved for ``iteration``, or None."""
        with self._lock:
            r = self._db().execute(f"SELECT {self._state_columns()} FROM predictors WHERE iteration = ?",
                                   (check_int(iteration, "iteration", 0),)).fetchone()
        return None if r is None else self._load_state(*r)

    def predictor_iterations(self) -> list[int]:
        """Iterations that have a predictor checkpoint, ascending."""
        with self._lock:
            return [r[0] for r in self._db().execute("SELECT iteration FROM predictors ORDER BY iteration")]

    # ------------------------------------------------------------------ pick and meta
    def set_pick(self, payload: dict, *, settings: dict | None = None) -> int:
        r"""Add a pick (a JSON dict: best cell, top-k, ...) to the run's pick history.

        Earlier picks are kept (with their verified scores); :meth:`pick` returns the newest,
        :meth:`picks` all of them.

        Args:
            payload: the pick.
            settings: what it was made with (JSON dict), merged over the settings read off
                ``payload`` (``num_samples, seed, iterations_done, top_k, verified``).

        Returns:
            The new pick's id (increasing, never reused).
        """
        if not isinstance(payload, Mapping):
            raise InputError(f"payload: expected a dict, got {type(payload).__name__}")
        if settings is not None and not isinstance(settings, Mapping):
            raise InputError(f"settings: expected a dict or None, got {type(settings).__name__}")
        text = dumps(dict(payload), "payload")
        sett = dumps({**pick_settings(payload), **dict(settings or {})}, "settings")
        with self._lock:
            self._need_schema_2()
            now = utc_now()
            cur = self._write("INSERT INTO picks (payload, settings, created_at, checksum) VALUES (?, ?, ?, ?)",
                              (text, sett, now, text_checksum("pick", text, sett, now)))
            assert cur.lastrowid is not None  # set by the INSERT
            return int(cur.lastrowid)

    def _pick_rows(self, newest: bool = False) -> list[tuple]:
        """``(id, payload, settings, created_at)`` of every pick (oldest first), or of the newest,
        each checked against its checksum."""
        with self._lock:
            if self._schema < 2:
                return [(1, p, json.dumps(pick_settings(json.loads(p))), c)
                        for p, c in self._db().execute("SELECT payload, created_at FROM pick WHERE id = 1")]
            cols = "id, payload, settings, created_at" + (", checksum" if self._sums else ", ''")
            tail = " ORDER BY id DESC LIMIT 1" if newest else " ORDER BY id"
            rows = self._db().execute(f"SELECT {cols} FROM picks{tail}").fetchall()
        for r in rows:
            self._text_checked("pick", f"pick id {r[0]}", r[1:4], r[4])
        return [r[:4] for r in rows]

    def pick(self) -> dict | None:
        """The newest pick, or None before :meth:`set_pick`.

        Raises:
            StoreError: the stored pick fails its checksum (changed outside gemgraph, bit rot).
        """
        rows = self._pick_rows(newest=True)
        return json.loads(rows[0][1]) if rows else None

    def picks(self) -> list[dict[str, Any]]:
        r"""The pick history, oldest first.

        Returns:
            One dict per pick: ``id``, ``created_at`` (ISO 8601, UTC), ``settings`` (a dict:
            ``num_samples, seed, iterations_done, top_k, verified`` and any given to
            :meth:`set_pick`) and ``payload`` (the pick, as :meth:`pick` returns it).

        Raises:
            StoreError: a stored pick fails its checksum (named by its id).
        """
        rows = self._pick_rows()
        return [{"id": int(i), "created_at": c, "settings": json.loads(st), "payload": json.loads(p)}
                for i, p, st, c in rows]

    def set_meta(self, key: str, value: Any) -> None:
        """Store a small JSON value under ``key`` (replacing the previous value)."""
        if not isinstance(key, str) or not key:
            raise InputError(f"key: expected a non-empty str, got {key!r}")
        text = dumps(value, f"meta {key!r}")
        with self._lock:
            now = utc_now()
            self._write("INSERT OR REPLACE INTO meta (key, value, updated_at, checksum) VALUES (?, ?, ?, ?)",
                        (key, text, now, text_checksum("meta", key, text, now)))

    def _meta_columns(self) -> str:
        return "key, value, updated_at" + (", checksum" if self._sums else ", ''")

    def get_meta(self, key: str, default: Any = None) -> Any:
        """The value stored under ``key``, or ``default``.

        Raises:
            StoreError: the stored value fails its checksum (changed outside gemgraph, bit rot).
        """
        with self._lock:
            r = self._db().execute(f"SELECT {self._meta_columns()} FROM meta WHERE key = ?", (key,)).fetchone()
        if r is None:
            return default
        self._text_checked("meta", f"meta value {key!r}", r[:3], r[3])
        return json.loads(r[1])

    def meta(self) -> dict[str, Any]:
        """All meta values as a dict (each checked as in :meth:`get_meta`)."""
        with self._lock:
            rows = self._db().execute(f"SELECT {self._meta_columns()} FROM meta ORDER BY key").fetchall()
        for r in rows:
            self._text_checked("meta", f"meta value {r[0]!r}", r[:3], r[3])
        return {r[0]: json.loads(r[1]) for r in rows}

    # ------------------------------------------------------------------ overview
    def summary(self) -> dict[str, Any]:
        """``iterations_done``, ``n_ok``, ``n_failed``, ``best`` (the stored candidate with the
        highest score: ``id, iteration, score, accuracy, macs``; None without one),
        ``latest_predictor`` (its iteration or None) and ``pick``."""
        with self._lock:
            db = self._db()
            rows = self._checked(db.execute(f"SELECT {self._columns()} FROM candidates ORDER BY iteration").fetchall())
            latest = db.execute("SELECT MAX(iteration) FROM predictors").fetchone()[0]
            pick = self.pick()
        col = {name: k for k, name in enumerate(("id",) + CHECKED)}
        n_ok = sum(1 for r in rows if r[col["status"]] == "ok")
        scored = [r for r in rows if r[col["status"]] == "ok" and r[col["score"]] is not None]
        best = max(scored, key=lambda r: (r[col["score"]], -r[col["iteration"]]), default=None)
        return {
            "iterations_done": len(rows), "n_ok": n_ok, "n_failed": len(rows) - n_ok,
            "best": None if best is None else {k: best[col[k]]
                                               for k in ("id", "iteration", "score", "accuracy", "macs")},
            "latest_predictor": latest, "pick": pick,
        }

    def integrity_check(self) -> str:
        """SQLite's ``PRAGMA integrity_check``: ``"ok"``, or the problems found."""
        with self._lock:
            return "\n".join(r[0] for r in self._db().execute("PRAGMA integrity_check"))

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        """Close the connection (idempotent). Everything written is already committed.

        A writable store that no other connection has open is checkpointed and switched to
        the rollback journal first, so the file is complete on its own (no ``-wal`` /
        ``-shm`` files) and opens read-only anywhere; with other connections open it stays
        in WAL mode (the last one to close switches it).
        """
        with self._lock:
            conn, self._conn = self._conn, None
            if conn is not None:
                try:
                    if self._opened and not self.readonly:
                        self._leave_wal(conn)
                finally:
                    conn.close()

    @staticmethod
    def _leave_wal(conn: sqlite3.Connection) -> None:
        """Checkpoint the WAL and switch to ``journal_mode=DELETE`` unless another connection
        is using the file (then SQLite refuses at once, and the store stays in WAL mode)."""
        try:
            conn.execute("PRAGMA busy_timeout = 0")
            conn.execute("PRAGMA journal_mode=DELETE").fetchone()
        except sqlite3.OperationalError:
            pass

    def __enter__(self) -> "RunStore":
        self._db()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        if self._conn is None:
            return f"RunStore({str(self.path)!r}, closed)"
        ro = ", readonly" if self.readonly else ""
        return f"RunStore({str(self.path)!r}, candidates={len(self)}, schema={self._schema}{ro})"
