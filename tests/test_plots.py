"""plot_bias: the ablation's bias curves from any summary.csv."""
from __future__ import annotations

import csv

import numpy as np
import pytest

from gemgraph.plots import plot_bias


def _summary(arms=("embedding", "raw", "random", "embedding_top10", "random+10"), budgets=(100, 200, 500)):
    rows = []
    for i, a in enumerate(arms):
        for j, K in enumerate(budgets):
            m = 0.01 / (1 + i) / (1 + j)
            rows.append({"budget": K, "arm": a, "n": 30, "mean": m, "ci_low": 0.5 * m, "ci_high": 1.5 * m})
    return rows


def _write(rows, path):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def test_from_rows_and_from_csv(tmp_path):
    rows = _summary()
    fig = plot_bias(rows, tmp_path / "a.png", title="t")
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and ax.get_xscale() == "log"
    assert [line.get_label() for line in ax.get_lines()] == [r for r in dict.fromkeys(x["arm"] for x in rows)]
    emb = ax.get_lines()[0]
    np.testing.assert_allclose(emb.get_xdata(), [100, 200, 500])
    np.testing.assert_allclose(emb.get_ydata(), [1.0, 0.5, 1 / 3])  # percentage points
    assert len(ax.collections) == 5  # one CI band per arm
    assert (tmp_path / "a.png").read_bytes()[:4] == b"\x89PNG"
    _write(rows, tmp_path / "summary.csv")
    fig2 = plot_bias(tmp_path / "summary.csv", tmp_path / "b.pdf", arms=["raw", "random"], percent=False, ci=False)
    ax2 = fig2.axes[0]
    assert [line.get_label() for line in ax2.get_lines()] == ["raw", "random"]
    np.testing.assert_allclose(ax2.get_lines()[0].get_ydata(), [0.005, 0.0025, 0.005 / 3])
    assert not ax2.collections and (tmp_path / "b.pdf").stat().st_size > 0


def test_on_given_axes_and_zero_bias(tmp_path):
    from matplotlib.figure import Figure

    fig = Figure()
    ax = fig.add_subplot()
    rows = _summary(arms=("embedding",))
    rows[-1].update(mean=0.0, ci_low=0.0, ci_high=0.0)  # found the best every time: off the log axis
    assert plot_bias(rows, ax=ax, log_x=False) is fig
    assert ax.get_xscale() == "linear" and ax.get_yscale() == "log"
    fig.savefig(tmp_path / "z.png")


def test_bad_input(tmp_path):
    with pytest.raises(ValueError, match="no rows"):
        plot_bias([])
    with pytest.raises(ValueError, match="missing column"):
        plot_bias([{"budget": 1, "arm": "a"}])
    with pytest.raises(ValueError, match="arms"):
        plot_bias(_summary(), arms=["nope"])
    with pytest.raises(FileNotFoundError):
        plot_bias(tmp_path / "missing.csv")


def test_plot_regret(tmp_path):
    import pytest

    from gemgraph.plots import plot_regret

    rows = [{"method": m, "queries": q, "mean": v / q, "ci_low": 0.5 * v / q, "ci_high": 1.5 * v / q}
            for m, v in (("random", 1.0), ("nasgem-seq:embedding", 0.3)) for q in (10, 20, 30)]
    fig = plot_regret(rows, tmp_path / "r.png", title="t")
    assert (tmp_path / "r.png").read_bytes()[:4] == b"\x89PNG"
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["random", "nasgem-seq:embedding"]
    with pytest.raises(ValueError, match="methods"):
        plot_regret(rows, methods=["bananas"])
    with pytest.raises(ValueError, match="missing column"):
        plot_regret([{"method": "x", "mean": 1.0}])
