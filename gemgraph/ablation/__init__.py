r"""The NAS-Bench-101 ablation (paper Fig. 4): does the graph embedding help the predictor?

With the same predictor (:class:`~gemgraph.predictor.EfficiencyPredictor`) and the same
number ``K`` of evaluated architectures, the predictor is trained either on the embedded
graph vectors (arm ``embedding``) or on the raw encoding, the flattened adjacency plus
one-hot operations (arm ``raw``); each arm then ranks a candidate pool by bootstrap
(:func:`~gemgraph.bootstrap.bootstrap_optimize`) and picks its argmax. The global
prediction bias is

    B = best accuracy in the data - accuracy of the picked model   (>= 0; 0 = found the best).

The procedure, for every budget ``K`` and seed ``s`` (all arms see the same draws):

1. A random permutation of the models with a known metric is drawn from ``(seed, s)``; its
   first ``K`` models are the evaluated (training) sample, their accuracies looked up.
   Permutations are shared across budgets, so the sample of a smaller budget is a prefix of
   a larger one's (common random numbers make the curves smoother, not biased).
2. ``embedding_paper`` / ``raw_paper`` (the paper's rule): the predictor is fitted on the ``K``
   vectors and accuracies and picks the argmax of ``num_samples`` candidates drawn from the
   data (all models when there are fewer); evaluations = ``K + 1`` (the picked model).
   ``embedding`` / ``raw`` (gemgraph's default, incumbent-aware): the same predictions, but the
   ``K`` evaluated models stand with their measured accuracy, so the pick is the best
   predicted unevaluated model only when it is predicted above the best measured one
   (evaluations ``K + 1``), else that best measured model (``K``).
3. ``random``: random search, the best of the same ``K`` evaluated models; evaluations = K.
4. Top-k variants (``top_k = k > 0``), all at ``K + k`` evaluations: ``embedding_top{k}`` /
   ``raw_top{k}`` evaluate the ``k`` best-predicted candidates not already evaluated and keep
   the best of all ``K + k`` evaluated models; ``random+{k}`` is random search over the first
   ``K + k`` models of the same permutation.

The embedding encoder is trained beforehand on NAS-Bench-101-sized cells drawn uniformly from
the NB101 space (:func:`nasbench.space.sample_arrays`), supervised only by the WL kernel on
op labels: it never sees an accuracy. Every model of the data is embedded once per arm and
the vectors are reused by every predictor (``bootstrap_optimize(..., vectors=...)``).
Learned embeddings are L2-normalised before the predictor (the encoder is trained on cosine
similarity, so only directions carry meaning); the raw encoding is used as is. The predictor
(:class:`~gemgraph.predictor.EfficiencyPredictor`, defaults: rank-to-normal targets, a
5-member ensemble) standardises its inputs and early-stops each member on a hold-out of its
own ``K`` training models; nothing is tuned on the biases of a run.

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
