r"""The run store's file format: schema 2, its checksums, and the migration from schema 1.

The schema is described in :mod:`gemgraph.store`. This module holds the SQL, the values a
candidate row's checksum covers, and the two operations that write a schema: creating a new
store (:func:`create_tables`) and migrating a schema-1 file (:func:`migrate_from_1`). Both run
inside a transaction the caller opened with :func:`immediate`; :class:`~gemgraph.store.RunStore`
decides when to call them.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from .serialise import dumps, utc_now

__all__ = ["APPLICATION", "APPLICATION_ID", "CANDIDATE_COLUMNS", "CHECKED", "PICKS", "SCHEMA", "SCHEMA_VERSION",
           "add_text_checksums", "blob_checksum", "create_tables", "has_text_checksums", "immediate", "migrate_from_1",
           "needs_text_checksums", "pick_settings", "row_checksum", "text_checksum"]

#: ``PRAGMA application_id`` of a gemgraph run store (the bytes ``b"GEMG"``).
APPLICATION_ID: int = 0x47454D47
#: ``store_info.application`` of a gemgraph run store.
APPLICATION: str = "gemgraph.RunStore"
#: The schema this gemgraph writes (``PRAGMA user_version``); schema 1 is migrated.
SCHEMA_VERSION: int = 2

#: The tables of schema 2 (statements separated by ``";\n"``).
SCHEMA: str = """
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
    created_at TEXT    NOT NULL,
    checksum   TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX candidates_cell_hash ON candidates (cell_hash);
CREATE INDEX candidates_score ON candidates (status, score);
CREATE TABLE predictors (
    iteration  INTEGER PRIMARY KEY CHECK (iteration >= 0),
    state      BLOB    NOT NULL,
    nbytes     INTEGER NOT NULL,
    created_at TEXT    NOT NULL,
    checksum   TEXT    NOT NULL DEFAULT ''
);
__PICKS__
CREATE TABLE meta (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    checksum   TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
"""

#: The pick history (schema 2; the schema-1 migration creates it).
PICKS: str = """CREATE TABLE picks (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    payload    TEXT NOT NULL,
    settings   TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    checksum   TEXT NOT NULL DEFAULT ''
);
CREATE TRIGGER picks_no_update BEFORE UPDATE ON picks
    BEGIN SELECT RAISE(ABORT, 'the pick history is append-only'); END;
CREATE TRIGGER picks_no_delete BEFORE DELETE ON picks
    BEGIN SELECT RAISE(ABORT, 'the pick history is append-only'); END;"""
SCHEMA = SCHEMA.replace("__PICKS__", PICKS)
_PICKS_NO_UPDATE: str = ("CREATE TRIGGER picks_no_update BEFORE UPDATE ON picks "
                         "BEGIN SELECT RAISE(ABORT, 'the pick history is append-only'); END")


#: The values a candidate's checksum covers, in this order (everything but the id).
CHECKED: tuple[str, ...] = ("iteration", "cell", "cell_hash", "num_nodes", "num_edges", "macs", "params", "accuracy",
                            "score", "seconds", "status", "error", "extra", "created_at")
_REAL = frozenset(("macs", "accuracy", "score", "seconds"))
#: The candidate columns a row is read with (the id, then :data:`CHECKED`).
CANDIDATE_COLUMNS: str = "id, " + ", ".join(CHECKED)


def row_checksum(values: tuple) -> str:
    """BLAKE2b-128 hex digest of a candidate's values (in :data:`CHECKED` order). REAL columns
    are hashed as floats, so the digest of what was written equals that of what is read back."""
    norm = [None if v is None else (float(v) if name in _REAL else v) for name, v in zip(CHECKED, values)]
    text = json.dumps(norm, separators=(",", ":"), allow_nan=False)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def text_checksum(kind: str, *values: str) -> str:
    """BLAKE2b-128 hex digest of a pick (``kind="pick"``: payload, settings, created_at) or a
    meta value (``kind="meta"``: key, value, updated_at), as stored (the JSON text)."""
    text = json.dumps([kind, *values], separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def has_text_checksums(conn: sqlite3.Connection) -> bool:
    """True when the ``picks`` and ``meta`` tables have their ``checksum`` column (stores made
    by gemgraph before it checksummed picks and meta values do not)."""
    return all(any(r[1] == "checksum" for r in conn.execute(f"PRAGMA table_info({t})")) for t in ("picks", "meta"))


def needs_text_checksums(conn: sqlite3.Connection) -> bool:
    """True when :func:`add_text_checksums` has work to do: a ``checksum`` column is missing, or
    a pick / meta row has none (written by a gemgraph before it checksummed them)."""
    if not has_text_checksums(conn):
        return True
    return conn.execute("SELECT EXISTS(SELECT 1 FROM picks WHERE checksum = '') "
                        "OR EXISTS(SELECT 1 FROM meta WHERE checksum = '')").fetchone()[0] == 1


def add_text_checksums(conn: sqlite3.Connection) -> int:
    """Inside the caller's transaction: give ``picks`` and ``meta`` their ``checksum`` column
    (when missing) and a checksum to every row without one. Returns the number of rows that got
    one. The pick history stays append-only (its update trigger is lifted for this only)."""
    for table in ("picks", "meta"):
        if not any(r[1] == "checksum" for r in conn.execute(f"PRAGMA table_info({table})")):
            conn.execute(f"ALTER TABLE {table} ADD COLUMN checksum TEXT NOT NULL DEFAULT ''")
    picks = conn.execute("SELECT id, payload, settings, created_at FROM picks WHERE checksum = ''").fetchall()
    metas = conn.execute("SELECT key, value, updated_at FROM meta WHERE checksum = ''").fetchall()
    if picks:
        conn.execute("DROP TRIGGER picks_no_update")
        conn.executemany("UPDATE picks SET checksum = ? WHERE id = ?",
                         [(text_checksum("pick", *r[1:]), r[0]) for r in picks])
        conn.execute(_PICKS_NO_UPDATE)
    conn.executemany("UPDATE meta SET checksum = ? WHERE key = ?", [(text_checksum("meta", *r), r[0]) for r in metas])
    return len(picks) + len(metas)


def blob_checksum(blob: bytes) -> str:
    """BLAKE2b-128 hex digest of a predictor checkpoint's bytes."""
    return hashlib.blake2b(blob, digest_size=16).hexdigest()


def pick_settings(payload: Mapping[str, Any]) -> dict[str, Any]:
    """What a pick was made with, read off its payload: ``num_samples, seed, iterations_done``,
    ``top_k`` (entries in ``top``) and ``verified`` (how many of them carry a measured score)."""
    out = {k: payload[k] for k in ("num_samples", "seed", "iterations_done") if k in payload}
    top = payload.get("top")
    if isinstance(top, list):
        out["top_k"] = len(top)
        out["verified"] = sum(1 for e in top if isinstance(e, Mapping) and e.get("verified") is not None)
    return out


@contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[None]:
    """One ``BEGIN IMMEDIATE`` transaction: committed at the end unless the body rolled it back
    itself (an early return), rolled back on any exception."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        if conn.in_transaction:
            conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def create_tables(conn: sqlite3.Connection, config_json: str, gemgraph_version: str) -> None:
    """Create schema :data:`SCHEMA_VERSION` in an empty database and write its immutable
    ``store_info`` (application, schema version, ``config_json``, creation time, version).
    Runs inside the caller's transaction."""
    for stmt in SCHEMA.split(";\n"):
        if stmt.strip():
            conn.execute(stmt)
    conn.executemany("INSERT INTO store_info (key, value) VALUES (?, ?)", [
        ("application", APPLICATION), ("schema_version", str(SCHEMA_VERSION)),
        ("config", config_json), ("created_at", utc_now()), ("gemgraph_version", gemgraph_version),
    ])
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def migrate_from_1(conn: sqlite3.Connection) -> int:
    """Schema 1 -> 2 inside the caller's transaction: checksum columns (computed for the rows
    there now) and the pick history (the one stored pick becomes its first entry). Returns the
    number of candidate rows that got a checksum."""
    conn.execute("ALTER TABLE candidates ADD COLUMN checksum TEXT NOT NULL DEFAULT ''")
    rows = conn.execute(f"SELECT {CANDIDATE_COLUMNS} FROM candidates").fetchall()
    conn.executemany("UPDATE candidates SET checksum = ? WHERE id = ?", [(row_checksum(r[1:]), r[0]) for r in rows])
    conn.execute("ALTER TABLE predictors ADD COLUMN checksum TEXT NOT NULL DEFAULT ''")
    for it, blob in conn.execute("SELECT iteration, state FROM predictors").fetchall():
        conn.execute("UPDATE predictors SET checksum = ? WHERE iteration = ?", (blob_checksum(blob), it))
    for stmt in PICKS.split(";\n"):
        conn.execute(stmt)
    old = conn.execute("SELECT payload, created_at FROM pick WHERE id = 1").fetchone()
    if old is not None:
        conn.execute("INSERT INTO picks (payload, settings, created_at) VALUES (?, ?, ?)",
                     (old[0], dumps(pick_settings(json.loads(old[0])), "settings"), old[1]))
    conn.execute("DROP TABLE pick")
    add_text_checksums(conn)
    conn.execute("DROP TRIGGER store_info_no_update")
    conn.execute("UPDATE store_info SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))
    conn.execute("CREATE TRIGGER store_info_no_update BEFORE UPDATE ON store_info "
                 "BEGIN SELECT RAISE(ABORT, 'store_info is immutable'); END")
    conn.execute("INSERT INTO store_info (key, value) VALUES ('migrated_from_schema_1', ?)", (utc_now(),))
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    return len(rows)
