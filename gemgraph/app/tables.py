r"""The command line's tables and JSON: the bootstrap's pick, the pick history, ``dumps``.
The generic table formatter is the library's :func:`gemgraph.tables.format_table`."""
from __future__ import annotations

import json
from typing import Any

from ..store import to_plain
from ..tables import format_table

__all__ = ["dumps", "format_table", "history_table", "pick_table"]


def dumps(obj: Any) -> str:
    """JSON with NaN/inf as null (numpy values as Python values)."""
    return json.dumps(to_plain(obj), indent=2)


def pick_table(top: list[dict]) -> str:
    """The bootstrap's top-k as a table: rank, edges, concatenations, predicted (and verified) score."""
    cols = [("rank", "rank", "d"), ("edges", "edges", "d"), ("concat", "concat", "d"),
            ("predicted", "predicted", ".4f"),
            ("measured", "measured", ".4f"), ("how", "", "s")]
    return format_table([{"rank": i + 1, "edges": e["cell"].num_edges, "concat": e["cell"].num_concat,
                          "predicted": None if e.get("measured") is not None and e.get("verified") is None
                          else e["predicted"], "measured": e.get("measured"),
                          "how": "verified" if e.get("verified") is not None
                          else ("evaluated in the search" if e.get("measured") is not None else "predicted only")}
                         for i, e in enumerate(top)], cols)


def history_table(picks: list[dict]) -> str:
    """The pick history as a table: id, time, settings, best predicted / verified score."""
    rows = []
    for h in picks:
        st, top = h["settings"], (h["payload"].get("top") or [{}])
        best = top[0] if isinstance(top, list) and top and isinstance(top[0], dict) else {}
        rows.append({"id": h["id"], "created_at": h["created_at"][:19].replace("T", " "),
                     "num_samples": st.get("num_samples"), "seed": st.get("seed"), "top_k": st.get("top_k"),
                     "verified": st.get("verified"), "predicted": best.get("predicted"),
                     "best_verified": best.get("verified")})
    return format_table(rows, [("id", "pick", "d"), ("created_at", "created (UTC)", "s"),
                               ("num_samples", "samples", "d"), ("seed", "seed", "d"), ("top_k", "top-k", "d"),
                               ("verified", "verified", "d"), ("predicted", "predicted", ".4f"),
                               ("best_verified", "best verified", ".4f")])
