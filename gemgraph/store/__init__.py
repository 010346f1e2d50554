r"""The run store: one SQLite file holding everything a search has done, durably.

The package: :class:`RunStore` (:mod:`~gemgraph.store.runstore`), the file format and its
migration (:mod:`~gemgraph.store.schema`), cells and values as JSON
(:mod:`~gemgraph.store.serialise`) and :class:`RunLock` (:mod:`~gemgraph.store.lock`, through
the ``filelock`` package).

A NASGEM search (:mod:`gemgraph.search`) writes to a :class:`RunStore` at ``RUN/run.sqlite``:

* the run's **config** (a JSON dict, written once when the store is created, immutable);
* every **evaluated candidate**: iteration, cell, MACs, parameters, accuracy, score, seconds,
  status (``"ok"`` / ``"failed"``), error text and a free ``extra`` dict, each committed
  (fsynced) in its own transaction before :meth:`RunStore.add_candidate` returns;
* the **predictor checkpoints** (one per iteration, ``torch.save`` bytes);
* every **pick** (the bootstrap's choice / top-k, with its settings and verified scores) as an
  append-only history: a new bootstrap adds a pick, it never replaces one; small **meta**
  values (encoder identity and fidelity, timings, ``"status"``).

Durability and concurrency
--------------------------
The file uses SQLite's write-ahead log (``journal_mode=WAL``) with ``synchronous=FULL``: a
committed candidate survives the process being killed (``SIGKILL``) and the machine losing
power, so a killed search resumed with ``gemgraph search --resume RUN`` loses at most the
candidate it was evaluating. Every write is one ``BEGIN IMMEDIATE`` transaction and every
connection waits up to ``busy_timeout`` (30 s) for a lock, so several processes (or threads,
each with its own :class:`RunStore`) may read and write one store without corrupting it;
readers never block the writer. :class:`RunLock` additionally keeps two *searches* from
writing one run directory at the same time. When the last writer closes the store it
checkpoints the log and switches the file back to the rollback journal, so a finished run is
one self-contained file that opens read-only (e.g. from read-only media) without its ``-wal``
/ ``-shm`` files; the next writer switches to WAL again.

Integrity
---------
Opening a store runs SQLite's ``PRAGMA quick_check`` (the b-tree structure, page by page),
and every candidate row, predictor checkpoint, pick and meta value carries a BLAKE2b checksum
of its values, checked whenever it is read: a bit flipped on disk, or a same-length edit of a
stored value, is reported as a :class:`StoreError` naming the row (candidate id and iteration,
predictor iteration, pick id or meta key), never returned as a value. Picks and meta values
written before they carried checksums (an empty ``checksum``) are read as they are and get
theirs when the store is next opened for writing. ``RunStore(..., verify=False)`` skips the
checks (to salvage a damaged file).

File format
-----------
``PRAGMA application_id`` = :data:`APPLICATION_ID` marks a gemgraph store;
``PRAGMA user_version`` and ``store_info.schema_version`` hold :attr:`RunStore.SCHEMA_VERSION`.
A file of another (older or newer) schema, any other SQLite database and a file that is not
SQLite at all are refused with a :class:`StoreError` that says which it is, except schema 1
(gemgraph before the checksums and the pick history), which is migrated to schema 2 in one
transaction when opened for writing (existing rows get their checksums then), and read as it
is, its rows unchecked, when opened read-only. Schema 2::

    store_info(key TEXT PRIMARY KEY, value TEXT)      -- application, schema_version, config,
                                                       -- created_at, gemgraph_version (immutable)
    candidates(id INTEGER PRIMARY KEY AUTOINCREMENT, iteration INTEGER UNIQUE, cell TEXT,
               cell_hash TEXT, num_nodes, num_edges, macs REAL, params INTEGER, accuracy REAL,
               score REAL, seconds REAL, status TEXT, error TEXT, extra TEXT, created_at TEXT,
               checksum TEXT)
    predictors(iteration INTEGER PRIMARY KEY, state BLOB, nbytes INTEGER, created_at TEXT,
               checksum TEXT)
    picks(id INTEGER PRIMARY KEY AUTOINCREMENT, payload TEXT, settings TEXT, created_at TEXT,
          checksum TEXT)                               -- append-only (no update, no delete)
    meta(key TEXT PRIMARY KEY, value TEXT, updated_at TEXT, checksum TEXT)

(Schema 1 has no ``checksum`` columns and one ``pick(id = 1, payload, created_at)`` row
instead of ``picks``.) A cell is stored as the JSON ``{"n": N, "edges": [[i, j], ...], "ops":
[...] | null}`` (the same form as the search's picks) plus :func:`cell_hash`, a stable SHA-1 of
its adjacency bytes and ops.
"""
from __future__ import annotations

from .errors import StoreError
from .lock import RunLock
from .runstore import RunStore, store_path
from .schema import APPLICATION_ID
from .serialise import cell_from_json, cell_hash, cell_to_json, to_plain


__all__ = ["APPLICATION_ID", "RunLock", "RunStore", "StoreError", "cell_from_json", "cell_hash", "cell_to_json",
           "store_path", "to_plain"]
