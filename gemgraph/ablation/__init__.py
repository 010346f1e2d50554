r"""The NAS-Bench-101 ablation (paper Fig. 4): does the graph embedding help the predictor?

With the same predictor (:class:`~gemgraph.predictor.EfficiencyPredictor`) and the same
number ``K`` of evaluated architectures, the predictor is trained either on the embedded
graph vectors (arm ``embedding``) or on the raw encoding, the flattened adjacency plus
one-hot operations (arm ``raw``); each arm then ranks the models by bootstrap and picks one.
The global prediction bias is

    B = best accuracy in the data - accuracy of the picked model   (>= 0; 0 = found the best).

Everything runs through the NASGEM search loop (:class:`~gemgraph.search.NASGEM` on
:class:`~gemgraph.nb101.NB101Space` and :class:`~gemgraph.nb101.NB101Evaluator`, with the
paper's random sampler and a :class:`~gemgraph.memstore.MemoryStore`), the loop a 30-node
search runs. For every seed ``s`` and budget ``K`` (all arms see the same draws):

1. ``NASGEM.evaluate_all(K)``: the loop's first ``K`` random draws (a function of
   ``(seed, s)`` only) are the evaluated sample, their accuracies looked up. One store per
   seed serves every budget, so the sample of a smaller budget is a prefix of a larger one's
   (common random numbers make the curves smoother, not biased).
2. One ``NASGEM.bootstrap()`` per arm: the predictor is refitted on the ``K`` stored models and
   ranks ``num_samples`` models drawn from the data (all of them when there are fewer).
   ``embedding_paper`` / ``raw_paper`` (the paper's rule) pick the argmax of its predictions;
   evaluations = ``K + 1`` (the picked model). ``embedding`` / ``raw`` (gemgraph's default) are
   the loop's incumbent-aware pick: the ``K`` evaluated models stand with their measured
   accuracy, so the pick is a predicted-only model only when it is predicted above the best
   measured one (evaluations ``K + 1``), else that best measured model (``K``).
3. ``random``: random search, the best of the same ``K`` evaluated models; evaluations = K.
4. Top-k variants (``top_k = k > 0``), all at ``K + k`` evaluations: ``embedding_top{k}`` /
   ``raw_top{k}`` are the loop's ``verify_top=k``: the ``k`` best-ranked models not already
   evaluated are evaluated and the best of all ``K + k`` is kept; ``random+{k}`` is random
   search over the loop's first ``K + k`` draws.

The embedding encoder is trained beforehand on NAS-Bench-101-sized cells drawn uniformly from
the NB101 space (:func:`gemgraph.nb101.sample_space_cells`), supervised only by the WL kernel
on op labels: it never sees an accuracy. Every model of the data is embedded once per arm; the
loop's encoder answers with those vectors
(:meth:`~gemgraph.encoders.cached.CachedEncoder.from_vectors`). Learned embeddings are
L2-normalised before the predictor (the encoder is trained on cosine similarity, so only
directions carry meaning); the raw encoding is used as is. The predictor (defaults:
rank-to-normal targets, a 5-member ensemble) standardises its inputs and early-stops each
member on a hold-out of its own ``K`` training models; nothing is tuned on the biases of a run.

The package: :mod:`~gemgraph.ablation.encoder` (the embedding arm's encoder, cached),
:mod:`~gemgraph.ablation.runner` (:func:`run_ablation`), :mod:`~gemgraph.ablation.stats`
(:func:`summarize`, :func:`paired_differences`), :mod:`~gemgraph.ablation.io` (columns, CSV,
the text table) and :mod:`~gemgraph.ablation.pipeline` (:func:`nb101_ablation`: data, encoder,
runs, statistics, files, plot).

Confidence intervals are 95% BCa bootstrap intervals of the mean over seeds
(:func:`gemgraph.stats.mean_ci`, 10,000 resamples, fixed seed; ``ci="percentile"`` or
``ci="t"`` give percentile-bootstrap or Student-t intervals instead).

Example:
    >>> from gemgraph.ablation import nb101_ablation
    >>> res = nb101_ablation(out="runs/nb101", budgets=(100, 500), seeds=10)  # doctest: +SKIP
    >>> print(res.table())                                                    # doctest: +SKIP
"""
from __future__ import annotations

from ..nb101 import NB101_OPS, NB101Pool, load_nb101, nb101_pool
from .encoder import embed_pool, train_nb101_encoder
from .io import DEFAULT_BUDGETS, PAIRED_COLUMNS, ROW_COLUMNS, SUMMARY_COLUMNS, format_table, read_csv, write_csv
from .pipeline import AblationResult, nb101_ablation
from .runner import run_ablation
from .stats import paired_differences, summarize

__all__ = [
    "AblationResult", "NB101Pool", "DEFAULT_BUDGETS", "NB101_OPS", "ROW_COLUMNS", "SUMMARY_COLUMNS",
    "PAIRED_COLUMNS", "load_nb101", "nb101_pool", "train_nb101_encoder", "embed_pool", "run_ablation",
    "summarize", "paired_differences", "write_csv", "read_csv", "nb101_ablation", "format_table",
]
