r"""PyG processed files keyed on what decides their content, and loaded without unpickling code.

:class:`KeyedInMemoryDataset` is the base of :class:`~gemgraph.datasets.NB101Dataset`,
:class:`~gemgraph.datasets.NBGraphDataset` and :class:`~gemgraph.datasets.CellDataset`:

* Name: ``<root>/processed/<stem>_<key>.pt``; ``key`` is 16 hex digits of a BLAKE2b digest of
  :meth:`~KeyedInMemoryDataset.cache_key`: the dataset's settings, the identity of each raw
  source (its size and the BLAKE2b hash of its content) and the code version (gemgraph's
  version and :func:`gemgraph.utils.source_digest` of the modules that build the ``Data``,
  :attr:`~KeyedInMemoryDataset.CODE_MODULES`). A replaced raw file (same name, other content)
  or changed code is a new name: it is processed again, and the old files are left in place
  (never read again for these settings; delete them to reclaim the space).
* Raw identity: a raw file's content hash is computed once and remembered in
  ``<root>/processed/raw_identity.json`` with the file's size, mtime (ns), ctime (ns) and inode;
  later constructions ``stat`` the file and reuse the remembered hash when all four match (any
  write moves ctime, which ``touch`` / ``os.utime`` cannot set back), and hash the file again
  when any differs (as the ``nasbench`` columnar cache does, :mod:`nasbench._cache`).
* Sidecar: next to each processed file, ``<file>.meta.json`` (written atomically after the
  file, so it marks a complete one) holds the key, the file's size and BLAKE2b hash and the
  ``pre_transform`` / ``pre_filter`` it was processed with. A processed file is used only when
  its sidecar parses, its key is the current key and the file's hash matches; otherwise it is
  processed again (a warning says why).
* Loading: ``torch.load(..., weights_only=True)`` and nothing else. PyG's own loader
  (``torch_geometric.io.fs.torch_load``, 2.8) retries with ``weights_only=False`` (full
  unpickling: a hostile file runs code) when the restricted load fails on an unlisted global,
  and PyG's ``Dataset._process`` reads ``pre_transform.pt`` / ``pre_filter.pt`` with
  ``weights_only=False``; these datasets replace both steps, so a processed folder whose
  files were replaced cannot make them run code: such a file fails to load (an error naming
  it), or does not match its sidecar and is rebuilt. (The sidecar is a checksum against a
  damaged or swapped file, not a signature: whoever can write the folder can write it too;
  the restricted load is the guard against code.)
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import warnings
from pathlib import Path
from typing import Any

import torch
from torch_geometric.data import Data, InMemoryDataset
from torch_geometric.data.dataset import _repr
from torch_geometric.io import fs

from nasbench._cache import content_hash, source_stat

from ..utils import source_digest

__all__ = ["KeyedInMemoryDataset", "raw_identity", "DATASET_MODULES"]

log = logging.getLogger(__name__)

#: Modules every keyed dataset's ``Data`` depends on: this module (the key and the file
#: format) with the raw-file hash it uses (:mod:`nasbench._cache`) and the node features
#: (:func:`gemgraph.features.node_features`) with their op vocabularies.
DATASET_MODULES: tuple[str, ...] = ("gemgraph.datasets._keyed", "nasbench._cache", "gemgraph.features",
                                    "gemgraph.vocab")

_MEMO = "raw_identity.json"
_STAT_FIELDS = ("size", "mtime_ns", "ctime_ns", "ino")


def _write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as JSON to ``path`` atomically (temporary file + ``os.replace``)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(obj, sort_keys=True, indent=1))
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def raw_identity(path: str | os.PathLike, memo_dir: str | os.PathLike | None = None) -> dict[str, Any]:
    r"""The identity of a raw data file: ``{"size": bytes, "blake2b": hex of its whole content}``.

    The hash is remembered in ``<memo_dir>/raw_identity.json`` with the file's size, mtime,
    ctime (ns) and inode, and reused while all four are unchanged (one ``stat``); the file is
    hashed again (one read) when any of them differs or there is no memo. A memo folder that
    cannot be written only costs the hash next time.

    Args:
        path: the raw file (a symlink is followed).
        memo_dir: the folder of the memo (None: no memo, always hash).

    Returns:
        ``{"size": int, "blake2b": str}`` (128 hex digits).

    Raises:
        FileNotFoundError: ``path`` does not exist.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path: expected a raw data file, {os.fspath(path)!r} does not exist")
    st = source_stat(path)
    key = os.path.abspath(path)
    memo_file = None if memo_dir is None else Path(memo_dir) / _MEMO
    memo = (_read_json(memo_file) if memo_file is not None else None) or {}
    if not isinstance(memo, dict):
        memo = {}
    entry = memo.get(key)
    if isinstance(entry, dict) and all(entry.get(k) == st[k] for k in _STAT_FIELDS) \
            and isinstance(entry.get("blake2b"), str):
        return {"size": st["size"], "blake2b": entry["blake2b"]}
    digest = content_hash(path)
    if memo_file is not None and source_stat(path) == st:  # not written while hashed: remember it
        memo[key] = {**st, "blake2b": digest}
        try:
            memo_file.parent.mkdir(parents=True, exist_ok=True)
            _write_json(memo_file, memo)
        except OSError as exc:
            log.info("cannot write the raw identity memo %s (%s)", memo_file, exc)
    return {"size": st["size"], "blake2b": digest}


def _file_digest(path: str | os.PathLike) -> str:
    """BLAKE2b hex of the whole file (streamed)."""
    return content_hash(path)


class KeyedInMemoryDataset(InMemoryDataset):
    r"""An ``InMemoryDataset`` whose processed file is named by what decides its content and is
    loaded with the restricted unpickler (see the module docstring for the rules).

    Subclasses set :attr:`CODE_MODULES` and implement :meth:`processed_stem`,
    :meth:`cache_settings` and (when they read files) :meth:`raw_sources`; they write their
    file with ``self.save(data_list, self.processed_paths[0])`` in ``process`` as in PyG.
    """

    #: Importable modules whose source decides the processed ``Data`` (their digest is in the key).
    CODE_MODULES: tuple[str, ...] = DATASET_MODULES

    # ------------------------------------------------------------------ what subclasses define
    def processed_stem(self) -> str:
        """The readable part of the processed name (the settings), e.g. ``nb101_tiny_..._mean``."""
        raise NotImplementedError

    def cache_settings(self) -> dict[str, Any]:
        """The settings that decide the content (JSON-serialisable)."""
        raise NotImplementedError

    def raw_sources(self) -> list[Path]:
        """The raw files the ``Data`` are built from (their identity is in the key)."""
        return []

    # ------------------------------------------------------------------ the key
    def code_version(self) -> dict[str, str]:
        """``{"gemgraph": gemgraph.__version__, "source": source_digest(CODE_MODULES)}``."""
        from .. import __version__  # noqa: PLC0415 - the package is initialised before this runs

        return {"gemgraph": str(__version__), "source": source_digest(self.CODE_MODULES)}

    def cache_key(self) -> dict[str, Any]:
        r"""What the processed file is keyed on: ``settings`` (:meth:`cache_settings`), ``raw``
        (:func:`raw_identity` of each :meth:`raw_sources`, by file name) and ``code``
        (:meth:`code_version`). Computed once per dataset object."""
        key = self.__dict__.get("_cache_key")
        if key is None:
            memo_dir = self.processed_dir
            raw = {p.name: raw_identity(p, memo_dir) for p in self.raw_sources()}
            key = {"settings": self.cache_settings(), "raw": raw, "code": self.code_version()}
            self.__dict__["_cache_key"] = key
        return key

    def cache_digest(self) -> str:
        """16 hex digits of the BLAKE2b digest of :meth:`cache_key` (in the processed name)."""
        text = json.dumps(self.cache_key(), sort_keys=True, separators=(",", ":"))
        return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()

    @property
    def processed_file_names(self) -> list[str]:
        return [f"{self.processed_stem()}_{self.cache_digest()}.pt"]

    @staticmethod
    def sidecar_path(path: str | os.PathLike) -> Path:
        """The metadata file written next to the processed file ``path``."""
        return Path(os.fspath(path) + ".meta.json")

    # ------------------------------------------------------------------ PyG's steps, replaced
    def _verified(self, path: str) -> tuple[bool, dict[str, Any] | None, str]:
        """Whether the processed file ``path`` may be used; its sidecar; why not."""
        if not os.path.isfile(path):
            return False, None, "missing"
        meta = _read_json(self.sidecar_path(path))
        if not isinstance(meta, dict):
            return False, None, "it has no readable sidecar (an interrupted write, or an older gemgraph)"
        if meta.get("key") != json.loads(json.dumps(self.cache_key())):
            return False, meta, "its sidecar records another key"
        if meta.get("size") != os.path.getsize(path) or meta.get("blake2b") != _file_digest(path):
            return False, meta, "its content does not match the checksum in its sidecar"
        return True, meta, ""

    def _process(self) -> None:
        path = self.processed_paths[0]
        if not self.force_reload:
            ok, meta, why = self._verified(path)
            if ok:
                assert meta is not None
                for name, fn in (("pre_transform", self.pre_transform), ("pre_filter", self.pre_filter)):
                    if meta.get(name) != _repr(fn):
                        warnings.warn(
                            f"The `{name}` argument differs from the one used in the pre-processed version "
                            f"of this dataset ({path}). If you want to make use of another pre-processing "
                            "technique, pass `force_reload=True` explicitly to reload the dataset.",
                            stacklevel=3)
                return
            if why != "missing":
                warnings.warn(f"processed file {path}: {why}; processing it again", stacklevel=3)
        if self.log and "PYTEST_CURRENT_TEST" not in os.environ:
            print("Processing...", file=sys.stderr)
        fs.makedirs(self.processed_dir, exist_ok=True)
        side = self.sidecar_path(path)
        if side.exists():
            side.unlink()  # the file is rewritten: its old sidecar no longer describes it
        self.process()
        # PyG's markers, kept for tools that look for them; these datasets never read them
        fs.torch_save(_repr(self.pre_transform), os.path.join(self.processed_dir, "pre_transform.pt"))
        fs.torch_save(_repr(self.pre_filter), os.path.join(self.processed_dir, "pre_filter.pt"))
        _write_json(side, {"key": self.cache_key(), "size": os.path.getsize(path), "blake2b": _file_digest(path),
                           "pre_transform": _repr(self.pre_transform), "pre_filter": _repr(self.pre_filter),
                           "torch_geometric_layout": "(data.to_dict(), slices, data class)"})
        if self.log and "PYTEST_CURRENT_TEST" not in os.environ:
            print("Done!", file=sys.stderr)

    def load(self, path: str, data_cls: Any = Data) -> None:
        r"""Load the processed file ``path`` with ``torch.load(weights_only=True)`` only (PyG's
        loader falls back to full unpickling; this one never does).

        Raises:
            RuntimeError: the file holds more than tensors, containers and PyG's allowlisted
                classes (``pickle.UnpicklingError`` chained), or is not in PyG's layout.
        """
        try:
            out = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # noqa: BLE001 - any failure of the restricted load is reported the same way
            raise RuntimeError(f"processed file {path}: cannot be loaded with weights_only=True ({exc}); "
                               "delete it or pass force_reload=True") from exc
        if not (isinstance(out, tuple) and len(out) in (2, 3)):
            raise RuntimeError(f"processed file {path}: expected PyG's (data, slices[, class]) tuple, "
                               f"got {type(out).__name__}")
        if len(out) == 2:
            data, self.slices = out
        else:
            data, self.slices, data_cls = out
        self.data = data_cls.from_dict(data) if isinstance(data, dict) else data
