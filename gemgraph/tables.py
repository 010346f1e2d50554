r"""Plain-text tables, shared by the library (e.g. the ablation's) and the command line."""
from __future__ import annotations

from typing import Any


def format_table(rows: list[dict[str, Any]], columns: list[tuple[str, str, str]]) -> str:
    r"""A right-aligned plain-text table with a header and a rule.

    Args:
        rows: one dict per row; a missing key or a None value is shown as ``-``.
        columns: ``(key, header, format spec)`` per column, e.g. ``("score", "score", ".4f")``.

    Returns:
        The table as lines joined by ``\n`` (no trailing newline).
    """
    head = [h for _, h, _ in columns]
    body = []
    for r in rows:
        line = []
        for key, _, fmt in columns:
            v = r.get(key)
            line.append("-" if v is None else format(v, fmt))
        body.append(line)
    widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h) for i, h in enumerate(head)]
    out = ["  ".join(h.rjust(w) for h, w in zip(head, widths)), "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.rjust(w) for c, w in zip(b, widths)) for b in body]
    return "\n".join(out)
