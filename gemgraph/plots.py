r"""Figures of the paper, one independent function each (matplotlib, no pyplot state).

* :func:`plot_bias`: the NAS-Bench-101 ablation's bias curves (paper Fig. 4).
* :func:`score_surface`: predicted score over a PCA map of sampled cells (paper Fig. 3).

Functions draw on a given ``ax`` or on a new :class:`matplotlib.figure.Figure` (never the
global pyplot figure), save it when given a path, and return the figure.
"""
from __future__ import annotations

import csv
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy.stats import binned_statistic_2d
from sklearn.base import clone
from .errors import InputError

__all__ = ["plot_bias", "score_surface", "plot_regret", "plot_validation"]

# arm -> (colour, line style); unknown arms cycle through the default colours
_STYLE = {
    "embedding": ("tab:blue", "-"), "raw": ("tab:orange", "-"), "random": ("tab:gray", ":"),
}


def _read_rows(summary: str | os.PathLike | Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    if isinstance(summary, (str, os.PathLike)):
        with open(summary, newline="") as f:
            return list(csv.DictReader(f))
    return list(summary)


def _summary_lines(summary: Any, x: str, line: str, selected: Sequence[str] | None, ci: bool,
                   source: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The rows of a summary and the lines (arms / methods) to draw, checked: the ``x``,
    ``line`` and ``mean`` columns (and the CI columns with ``ci``) must be there, and every
    selected line present."""
    rows = _read_rows(summary)
    if not rows:
        raise InputError("summary: no rows to plot")
    need = {x, line, "mean"} | ({"ci_low", "ci_high"} if ci else set())
    missing = sorted(need - set(rows[0].keys()))
    if missing:
        raise InputError(f"summary: missing column(s) {missing}; expected a summary.csv of {source}")
    present = list(dict.fromkeys(str(r[line]) for r in rows))
    chosen = present if selected is None else list(selected)
    unknown = [a for a in chosen if a not in present]
    if unknown:
        raise InputError(f"{line}s: {unknown} not in the summary (it holds {present})")
    return rows, chosen


def _figure(ax: Any) -> tuple[Any, Any]:
    """``(figure, axes)``: a new 6.4 x 4.4 in figure, or ``ax`` and its figure."""
    if ax is not None:
        return ax.figure, ax
    from matplotlib.figure import Figure  # noqa: PLC0415

    fig = Figure(figsize=(6.4, 4.4), layout="constrained")
    return fig, fig.add_subplot()


def plot_bias(
    summary: str | os.PathLike | Sequence[Mapping[str, Any]],
    path: str | os.PathLike | None = None,
    *,
    arms: Sequence[str] | None = None,
    ax: Any = None,
    percent: bool = True,
    log_x: bool = True,
    ci: bool = True,
    title: str | None = None,
) -> Any:
    r"""Bias curves: mean global prediction bias per budget, one line per arm, CI bands.

    Like the paper's Fig. 4: x = number of evaluated architectures (budget), y = bias on a
    log scale. Budgets where an arm's mean bias is 0 (it always found the best model) fall
    off the bottom of the log axis.

    Args:
        summary: the path of a ``summary.csv`` (columns ``budget``, ``arm``, ``mean``,
            ``ci_low``, ``ci_high``; e.g. written by ``gemgraph ablation``) or its rows.
        path: where to save the figure (format from the extension), or None.
        arms: arms to draw, in this order (default: all, in order of appearance).
        ax: a matplotlib Axes to draw on (default: a new figure).
        percent: show the bias in percentage points (accuracies stored as fractions).
        log_x: log-scale budget axis.
        ci: draw the confidence bands.
        title: axes title.

    Returns:
        the :class:`matplotlib.figure.Figure`.

    Raises:
        ValueError: if the summary lacks a column, holds no rows, or an arm is unknown.
    """
    rows, arms = _summary_lines(summary, "budget", "arm", arms, ci, "gemgraph ablation")
    f = 100.0 if percent else 1.0
    fig, ax = _figure(ax)
    default = iter(["tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink", "tab:olive", "tab:cyan"])
    colours: dict[str, str] = {}
    for arm in arms:
        base = arm.split("_top")[0]
        base = "random" if base.startswith("random") else base
        if base not in colours:
            colours[base] = _STYLE.get(base, (None, "-"))[0] or next(default, "black")
        top = "_top" in arm or arm.startswith("random+")
        style = _STYLE.get(base, (None, "-"))[1]
        sel = sorted((r for r in rows if str(r["arm"]) == arm), key=lambda r: float(r["budget"]))
        x = [float(r["budget"]) for r in sel]
        y = [float(r["mean"]) * f for r in sel]
        ax.plot(x, y, color=colours[base], linestyle="--" if top and base != "random" else style,
                marker="s" if top else "o", markersize=4, label=arm)
        if ci:
            lo = [float(r["ci_low"]) * f for r in sel]
            hi = [float(r["ci_high"]) * f for r in sel]
            ax.fill_between(x, lo, hi, color=colours[base], alpha=0.12 if top else 0.2, linewidth=0)
    ax.set_yscale("log", nonpositive="clip")
    if log_x:
        from matplotlib.ticker import NullLocator  # noqa: PLC0415

        ax.set_xscale("log")
        ax.xaxis.set_minor_locator(NullLocator())
    from matplotlib.ticker import FuncFormatter, NullFormatter  # noqa: PLC0415

    plain = FuncFormatter(lambda v, _: f"{v:g}")
    ax.yaxis.set_major_formatter(plain)
    lo, hi = ax.get_ylim()
    ax.yaxis.set_minor_formatter(plain if lo > 0 and hi / lo < 20 else NullFormatter())
    budgets = sorted({float(r["budget"]) for r in rows})
    ax.set_xticks(budgets)
    ax.set_xticklabels([f"{b:g}" for b in budgets])
    ax.set_xlabel("evaluated architectures (budget K)")
    ax.set_ylabel("global prediction bias B" + (" (% points)" if percent else ""))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    if title:
        ax.set_title(title)
    if path is not None:
        fig.savefig(os.fspath(path), dpi=150)
    return fig


def score_surface(
    store: Any,
    encoder: Any,
    predictor: Any,
    space: Any,
    path: str | os.PathLike | None = None,
    *,
    num_samples: int = 50_000,
    seed: int = 0,
    bins: int = 60,
) -> dict[str, Any]:
    r"""The paper's Fig. 3: predicted efficiency score over a 2-D PCA map of sampled cells,
    with the graph embedding (left) and without it (right, raw adjacency vectors).

    ``num_samples`` cells are drawn from ``space``; the left panel projects their embeddings
    (``encoder``) with PCA and colours each bin by the mean score ``predictor`` predicts; the
    right panel does the same with the raw flattened adjacency and a predictor of the same
    settings (``sklearn.base.clone``) fitted on the raw vectors of the run's evaluated candidates. Evaluated candidates
    are drawn as dots (coloured by their measured score), the best predicted cell as a star.

    Args:
        store: the run's :class:`~gemgraph.store.RunStore` (evaluated candidates).
        encoder: the run's trained encoder.
        predictor: the run's fitted :class:`~gemgraph.predictor.EfficiencyPredictor`.
        space: the run's :class:`~gemgraph.SearchSpace`.
        path: PNG to write (None: do not save).
        num_samples: cells to sample (the paper: 50,000).
        seed: sampling seed.
        bins: heat-map bins per axis.

    Returns:
        dict with ``figure``, ``num_samples``, ``evr_embedding`` / ``evr_raw`` (variance
        explained by the two PCA axes) and the predicted score ranges.
    """
    from matplotlib.figure import Figure  # noqa: PLC0415 - matplotlib loads when a plot is drawn
    from sklearn.decomposition import PCA  # noqa: PLC0415 - loads when a plot is drawn

    from .encoders import create  # noqa: PLC0415 - gemgraph.encoders loads torch_geometric

    adj, ops = space.sample_tensors(num_samples, seed=seed)
    rows = [r for r in store.candidates(status="ok") if r["score"] is not None]
    if len(rows) < 2:
        raise InputError("store: need at least 2 successful candidates to draw the score surface")
    cand_cells = [r["cell"] for r in rows]
    cand_scores = np.array([r["score"] for r in rows])
    raw = create("raw", num_nodes=encoder.num_nodes)
    raw_pred = clone(predictor).fit(raw.embed(cand_cells), cand_scores)  # same settings, unfitted

    fig = Figure(figsize=(12, 5), layout="constrained")
    axes = fig.subplots(1, 2)
    info: dict[str, Any] = {"figure": fig, "num_samples": int(adj.shape[0])}
    for ax, (label, enc, pred) in zip(axes, [("with graph embedding", encoder, predictor),
                                             ("without embedding (raw adjacency)", raw, raw_pred)]):
        Z = enc.embed((adj, ops)).numpy()
        pca = PCA(n_components=2, random_state=seed).fit(Z)
        P = pca.transform(Z)
        y = pred.predict(Z)
        stat, xe, ye, _ = binned_statistic_2d(P[:, 0], P[:, 1], y, statistic="mean", bins=bins)
        im = ax.imshow(stat.T, origin="lower", extent=(xe[0], xe[-1], ye[0], ye[-1]), aspect="auto", cmap="viridis")
        fig.colorbar(im, ax=ax, label="predicted efficiency score")
        C = pca.transform(enc.embed(cand_cells).numpy())
        ax.scatter(C[:, 0], C[:, 1], c=cand_scores, cmap="viridis", edgecolors="white", s=30, linewidths=0.8,
                   label=f"evaluated ({len(rows)})")
        k = int(np.argmax(y))
        ax.scatter([P[k, 0]], [P[k, 1]], marker="*", s=250, c="red", edgecolors="black", label="best predicted")
        evr = float(pca.explained_variance_ratio_.sum())
        ax.set_title(f"{label}\nPCA of {len(P)} cells ({evr:.0%} variance)")
        ax.set_xlabel("PC 1")
        ax.set_ylabel("PC 2")
        ax.legend(loc="upper right", fontsize=8)
        key = "embedding" if enc is encoder else "raw"
        info[f"evr_{key}"] = evr
        info[f"pred_range_{key}"] = (float(y.min()), float(y.max()))
    if path is not None:
        fig.savefig(path, dpi=120)
    return info


def plot_regret(
    summary: str | os.PathLike | Sequence[Mapping[str, Any]],
    path: str | os.PathLike | None = None,
    *,
    methods: Sequence[str] | None = None,
    ax: Any = None,
    percent: bool = True,
    log_y: bool = True,
    ci: bool = True,
    title: str | None = None,
) -> Any:
    r"""Regret curves: mean regret against the number of queries, one line per method, CI bands.

    Args:
        summary: a benchmark ``summary.csv`` path (columns ``method``, ``queries``, ``mean``,
            ``ci_low``, ``ci_high``; written by ``gemgraph benchmark nb101``) or its rows.
        path: where to save the figure (format from the extension), or None.
        methods: methods to draw, in this order (default: all).
        ax: a matplotlib Axes to draw on (default: a new figure).
        percent: regret in percentage points (accuracies stored as fractions).
        log_y: log-scale regret axis (a mean regret of 0 falls off the bottom).
        ci: draw the confidence bands.
        title: axes title.

    Returns:
        the :class:`matplotlib.figure.Figure`.

    Raises:
        ValueError: if the summary lacks a column, holds no rows, or a method is unknown.
    """
    rows, methods = _summary_lines(summary, "queries", "method", methods, ci, "gemgraph benchmark")
    f = 100.0 if percent else 1.0
    fig, ax = _figure(ax)
    for m in methods:
        sel = sorted((r for r in rows if str(r["method"]) == m), key=lambda r: float(r["queries"]))
        q = np.array([float(r["queries"]) for r in sel])
        mean = np.array([float(r["mean"]) for r in sel]) * f
        style = "--" if m == "random" else "-"
        (line,) = ax.plot(q, mean, style, marker="o", ms=3, label=m, color="tab:blue" if m == "random" else None)
        if ci:
            lo = np.array([float(r["ci_low"]) for r in sel]) * f
            hi = np.array([float(r["ci_high"]) for r in sel]) * f
            ax.fill_between(q, lo, hi, color=line.get_color(), alpha=0.15, linewidth=0)
    if log_y:
        ax.set_yscale("log")
    ax.set_xlabel("queries (evaluated architectures)")
    ax.set_ylabel("regret" + (" (% points)" if percent else ""))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    if title:
        ax.set_title(title)
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig


def plot_validation(validation: Any, path: str | os.PathLike | None = None, *, ax: Any = None) -> Any:
    r"""A reference check (:func:`gemgraph.validate.validate_run`): each role's reference accuracy
    against its MACs, one point per seed and the mean with its confidence interval, with the
    paired differences of the objective in the title.

    Args:
        validation: a :class:`~gemgraph.validate.Validation`, or its ``to_dict()`` (``validate.json``).
        path: where to save the figure (format from the extension), or None.
        ax: a matplotlib Axes to draw on (default: a new figure).

    Returns:
        the :class:`matplotlib.figure.Figure`.

    Raises:
        ValueError: if ``validation`` holds no roles.
    """
    d = validation.to_dict() if hasattr(validation, "to_dict") else dict(validation)
    roles = d.get("roles") or []
    if not roles:
        raise InputError("validation: expected at least one role, got none")
    fig, ax = _figure(ax)
    colours = {"pick": "tab:red", "best_measured": "tab:orange", "cost_only": "tab:blue", "random": "tab:green"}
    for r in roles:
        accs = [a for a in r.get("accuracies") or [] if a is not None]
        m = float(r["macs"]) / 1e6
        c = colours.get(r["role"], None)
        if accs:
            ax.scatter([m] * len(accs), accs, s=12, alpha=0.5, color=c)
        if r.get("accuracy") is not None:
            lo, hi = r.get("accuracy_ci") or (r["accuracy"], r["accuracy"])
            ax.errorbar([m], [r["accuracy"]], yerr=[[r["accuracy"] - lo], [hi - r["accuracy"]]], fmt="o",
                        ms=7, capsize=4, color=c,
                        label=r["role"] + (f" (= {r['same_as']})" if r.get("same_as") else ""))
    ax.set_xscale("log")
    net = (d.get("regime") or {}).get("network") or {}
    where = f" on {net.get('network', '?')} {net.get('input_size', ['?'])[0]}x" if net else ""
    ax.set_xlabel(f"MMACs{where}" if net else "MMACs")
    ax.set_ylabel("reference accuracy")
    parts = []
    for k, v in (d.get("paired") or {}).items():
        if k == "pick-best_measured" or v.get("mean") is None:
            continue
        ci = v.get("ci")
        parts.append(f"{k} {v['mean']:+.4f}" + (f" [{ci[0]:+.4f}, {ci[1]:+.4f}]" if ci else ""))
    ax.set_title(f"objective {d.get('objective', '?')}: " + ("; ".join(parts) or "no pairs"), fontsize="small")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig
