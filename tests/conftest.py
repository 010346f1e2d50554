"""Shared fixtures.

Tests that need the real data under ``$GEMGRAPH_DATA`` (the layout of ``../shared/data``) use
the ``data_root`` fixture: they *skip* when the data is absent, unless
``GEMGRAPH_REQUIRE_DATA=1`` (set by ``.ci/run``), in which case they *fail*.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch


def _require() -> bool:
    return os.environ.get("GEMGRAPH_REQUIRE_DATA", "") not in ("", "0", "false", "no")


def need_data(relpath: str) -> Path:
    """Return ``$GEMGRAPH_DATA/relpath``; skip (or fail when data is required) if missing."""
    root = os.environ.get("GEMGRAPH_DATA")
    if not root:
        candidate = Path(__file__).resolve().parents[2] / "shared" / "data"
        root = str(candidate) if candidate.is_dir() else ""
    path = Path(root) / relpath if root else None
    if path is None or not path.exists():
        msg = f"real data {relpath!r} not found (GEMGRAPH_DATA={os.environ.get('GEMGRAPH_DATA')!r})"
        if _require():
            pytest.fail(msg + " but GEMGRAPH_REQUIRE_DATA=1 says it must be present")
        pytest.skip(msg)
    return path


@pytest.fixture
def data_root() -> Path:
    """The real data root (``$GEMGRAPH_DATA``), or skip / fail as described above."""
    return need_data(".")


@pytest.fixture
def one_thread():
    """Run a test on one torch thread (tiny tensors: faster, and immune to an oversubscribed machine)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
