"""The store's exception."""
from __future__ import annotations

__all__ = ["StoreError"]


class StoreError(RuntimeError):
    """A run store or run lock that cannot be used: not a store, another schema, a config
    mismatch, a duplicate iteration, a run in use by another process, a closed store."""
