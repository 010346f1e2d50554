r"""Where the columnar cache of a ``.tfrecord`` file lives, and when it is still valid.

* Location: next to the file (``<file>.gemgraph-cache.npz``) when that folder is writable
  (its mode grants write permission, so a read-only data folder is never written, even by root),
  else ``$GEMGRAPH_CACHE/nasbench/`` (``$GEMGRAPH_CACHE`` defaults to ``~/.cache/gemgraph``),
  or a folder the caller names.
* Key: the file's size, its modification time (ns) and a BLAKE2b hash of its whole content
  (streamed), plus its inode number and status-change time (ctime, ns). A cache is used when
  size and mtime match and either (a) inode and ctime match too, so the file has not been
  written since the cache was made (any write moves ctime, and ``touch`` / ``os.utime`` cannot
  set it back), or (b) they do not (the file was replaced, copied, ``touch``-ed back or edited
  in place with its mtime restored) and the full-content hash, computed then, still matches.
  A cache whose key differs, that was built without CRC checks when they are now requested, or
  that cannot be read is ignored and rebuilt. The full hash costs one read of the file (see
  ``benchmarks/nasbench_cache_key.py``); case (a), every ordinary reload, costs one ``stat``.
* Writes are atomic (temporary file + ``os.replace``): an interrupted write leaves the old
  cache or none, never a torn one.
"""
from __future__ import annotations

import hashlib
import logging
import os
import stat
from pathlib import Path
from typing import Any

from ._table import Table
from .errors import NASBenchFormatError

__all__ = ["content_hash", "source_stat", "source_key", "cache_candidates", "load_cached", "store_cache",
           "user_cache_dir"]

log = logging.getLogger(__name__)


def content_hash(path: str | os.PathLike) -> str:
    """BLAKE2b (64-byte digest) hex of the whole file, read in 1 MiB chunks."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "blake2b").hexdigest()


def source_stat(path: str | os.PathLike) -> dict[str, int]:
    """``size``, ``mtime_ns``, ``ctime_ns`` and ``ino`` of a data file (one ``stat``)."""
    st = os.stat(path)
    return {"size": int(st.st_size), "mtime_ns": int(st.st_mtime_ns), "ctime_ns": int(st.st_ctime_ns),
            "ino": int(st.st_ino)}


def source_key(path: str | os.PathLike, stat: dict[str, int] | None = None) -> dict[str, Any]:
    """Identity of a data file, as stored with its cache: :func:`source_stat` (``stat``, taken
    before the file was read, else now) and ``blake2b``, :func:`content_hash` of the file."""
    return {**(source_stat(path) if stat is None else stat), "blake2b": content_hash(path)}


def _still_valid(path: str | os.PathLike, cached: Any, stat: dict[str, int], memo: dict[str, str]) -> bool:
    """Whether a cache made with key ``cached`` is valid for the file now described by ``stat``."""
    if not isinstance(cached, dict) or "blake2b" not in cached:
        return False  # a cache keyed another way (e.g. by an older nasbench)
    if cached.get("size") != stat["size"] or cached.get("mtime_ns") != stat["mtime_ns"]:
        return False
    if cached.get("ctime_ns") == stat["ctime_ns"] and cached.get("ino") == stat["ino"]:
        return True  # not written since the cache was made
    if "hash" not in memo:
        log.info("%s was replaced or its metadata changed since it was cached; checking its content hash", path)
        memo["hash"] = content_hash(path)
    return memo["hash"] == cached["blake2b"]


def _existing_parent(folder: Path) -> Path:
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    return folder


def user_cache_dir() -> Path:
    """``$GEMGRAPH_CACHE/nasbench``, or ``~/.cache/gemgraph/nasbench``."""
    root = os.environ.get("GEMGRAPH_CACHE")
    base = Path(root).expanduser() if root else Path.home() / ".cache" / "gemgraph"
    return base / "nasbench"


def cache_candidates(path: str | os.PathLike, cache_dir: str | os.PathLike | None = None) -> list[Path]:
    """Cache files to try for ``path``, in order of preference."""
    p = Path(path).resolve()
    tag = hashlib.sha1(str(p).encode()).hexdigest()[:16]
    named = f"{p.name}.{tag}.gemgraph-cache.npz"
    if cache_dir is not None:
        return [Path(cache_dir) / named]
    return [p.with_name(p.name + ".gemgraph-cache.npz"), user_cache_dir() / named]


def load_cached(path: str | os.PathLike, stat: dict[str, int], *, need_crc: bool,
                cache_dir: str | os.PathLike | None = None) -> tuple[Table, Path] | None:
    """The first valid cache for ``path`` (``stat`` = its :func:`source_stat` now), or None."""
    memo: dict[str, str] = {}
    for cand in cache_candidates(path, cache_dir):
        if not cand.is_file():
            continue
        try:
            table = Table.load(cand)
        except NASBenchFormatError as exc:
            log.warning("ignoring unreadable NAS-Bench-101 cache %s (%s); it will be rebuilt", cand, exc)
            continue
        if not _still_valid(path, table.meta.get("source_key"), stat, memo):
            log.info("cache %s is for another version of %s; rebuilding", cand, path)
            continue
        if need_crc and not table.meta.get("crc_verified", False):
            log.info("cache %s was built without CRC checks; rebuilding with them", cand)
            continue
        return table, cand
    return None


def _writable_dir(folder: Path) -> bool:
    """True if we may write in ``folder``: it grants write permission in its mode bits (so a
    read-only data folder stays untouched even for root) and ``os.access`` agrees."""
    try:
        mode = stat.S_IMODE(os.stat(folder).st_mode)
    except OSError:
        return False
    return bool(mode & 0o222) and os.access(folder, os.W_OK)


def store_cache(table: Table, path: str | os.PathLike,
                cache_dir: str | os.PathLike | None = None) -> Path | None:
    """Write ``table`` to the first writable cache location; None if none is writable."""
    for cand in cache_candidates(path, cache_dir):
        try:
            if not cand.parent.exists() and _writable_dir(_existing_parent(cand.parent)):
                cand.parent.mkdir(parents=True, exist_ok=True)
            if not _writable_dir(cand.parent):
                continue
            table.save(cand)
            return cand
        except OSError as exc:
            log.info("cannot write cache %s (%s)", cand, exc)
    log.warning("no writable cache location for %s; it will be parsed again next time", path)
    return None
