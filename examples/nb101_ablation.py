r"""The NAS-Bench-101 ablation (NASGEM paper, Fig. 4): does the graph embedding help?

The same predictor (gemgraph's default: a 5-member ensemble on rank-transformed accuracies)
is trained on K evaluated architectures, once on embedded graph vectors and once on the raw
encoding (adjacency + one-hot ops); each picks by bootstrap from up to 50,000 candidates,
with the paper's rule (``*_paper``: the argmax of the predictions) and incumbent-aware
(the evaluated models stand with their measured accuracy). Bias B = best accuracy in the
data - accuracy of the pick. Random search (best of the same K) and top-k variants (evaluate
the k best predicted, at equal evaluations) are measured on the same draws.

Run (bundled 20,001-model sample, no download; the encoder trains once, about a minute, and
is cached in --out):

    python examples/nb101_ablation.py --budgets 100,500 --seeds 10 --out runs/nb101

On an official file (e.g. nasbench_only108.tfrecord, with test accuracies):

    python examples/nb101_ablation.py --data nasbench_only108.tfrecord --metric test_accuracy

The same as a command: ``gemgraph ablation nb101 [--data FILE] ...``.
"""
from __future__ import annotations

import argparse
import json

from gemgraph.ablation import nb101_ablation
from gemgraph.plots import plot_bias
from gemgraph.predictor import PAPER_PREDICTOR


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default=None, help="official-layout .tfrecord (default: the bundled sample)")
    p.add_argument("--budgets", default="100,200,500,1000,2000")
    p.add_argument("--seeds", type=int, default=30)
    p.add_argument("--metric", default="validation_accuracy")
    p.add_argument("--top-k", type=int, default=10)
    p.add_argument("--out", default="runs/nb101-ablation")
    p.add_argument("--paper-predictor", action="store_true", help="the paper's single regression MLP")
    p.add_argument("--num-samples", type=int, default=50_000, help="bootstrap pool per pick")
    p.add_argument("--encoder-options", type=json.loads, default=None,
                   help='JSON options of train_nb101_encoder, e.g. \'{"n_train": 200, "max_epochs": 2}\'')
    p.add_argument("--fidelity-sample", type=int, default=1000, help="held-out cells for the encoder's fidelity")
    args = p.parse_args()

    # 1. the whole pipeline: data -> encoder (trained on NB101 cells with the WL kernel on op
    #    labels, never on accuracies; cached in --out) -> every (budget, seed, arm) -> files
    res = nb101_ablation(
        args.data, args.out,
        budgets=[int(b) for b in args.budgets.split(",")],
        seeds=args.seeds,
        metric=args.metric,
        top_k=args.top_k,
        predictor=PAPER_PREDICTOR if args.paper_predictor else None,  # EfficiencyPredictor options
        num_samples=args.num_samples,
        encoder_options=args.encoder_options,
        fidelity_sample=args.fidelity_sample,
    )

    # 2. the numbers: mean bias per budget and arm, 95% BCa bootstrap CI over seeds
    print(res.table())
    for row in res.paired:
        if (row["arm"], row["baseline"]) == ("embedding", "raw"):
            print(f"K={row['budget']:>5}: embedding beats raw by {100 * row['mean_diff']:+.3f} % points "
                  f"[{100 * row['ci_low']:+.3f}, {100 * row['ci_high']:+.3f}], "
                  f"wins/ties/losses {row['wins']}/{row['ties']}/{row['losses']}")

    # 3. the figure, from any summary.csv: here only the top-1 arms and random search
    plot_bias(res.files["summary"], f"{args.out}/bias_top1.png",
              arms=["embedding", "raw", "embedding_paper", "raw_paper", "random"])
    print("files:", res.files)


if __name__ == "__main__":
    main()
