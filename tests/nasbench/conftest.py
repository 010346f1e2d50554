"""Keep every nasbench cache of the test session inside a temporary folder."""
from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEMGRAPH_CACHE", str(tmp_path_factory.mktemp("gemgraph-cache")))
