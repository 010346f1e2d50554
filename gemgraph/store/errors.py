"""The store's exception."""
from __future__ import annotations

from ..errors import InputError

__all__ = ["StoreError"]


class StoreError(InputError, RuntimeError):
    """A run store or run lock that cannot be used: not a store, another schema, a config
    mismatch, a duplicate iteration, a run in use by another process, a closed store.
    An :class:`~gemgraph.errors.InputError` (so a ``ValueError``) and a ``RuntimeError``."""
