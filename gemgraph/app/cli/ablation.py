r"""``gemgraph ablation nb101``: the NAS-Bench-101 ablation, predictor with vs without graph embedding."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from ._common import (
    add_device,
    add_json,
    add_no_plot,
    add_predictor,
    add_seed,
    _ints,
    _naming,
    NB101_DATA_HELP,
    _predictor_options,
    _sub,
)


def _cmd_ablation(args: argparse.Namespace) -> int:
    import time
    import warnings

    from ...ablation import nb101_ablation

    t0 = time.perf_counter()
    enc_opts = {"dim": args.encoder_dim, "wl_iter": args.wl_iter, "n_train": args.encoder_train_graphs,
                "max_epochs": args.encoder_epochs,
                "time_limit": None if args.encoder_time_limit <= 0 else args.encoder_time_limit}
    if args.encoder_hidden:
        from ... import encoders

        enc_opts["hidden"] = encoders.hidden_option(args.encoder, _ints(args.encoder_hidden, "--encoder-hidden"),
                                                    "--encoder-hidden")
    if args.data is not None and not Path(args.data).is_file():
        raise FileNotFoundError(f"--data: no such NAS-Bench-101 file {args.data!r}")
    from nasbench import NASBenchFormatError

    with warnings.catch_warnings(record=True) as caught, _naming("--data", NASBenchFormatError, args.data):
        warnings.simplefilter("always", UserWarning)
        res = nb101_ablation(
            args.data, args.out, budgets=_ints(args.budgets, "--budgets"), seeds=args.seeds, metric=args.metric,
            epochs=args.epochs, num_samples=args.num_samples, top_k=args.top_k, encoder=args.encoder,
            encoder_options=enc_opts, predictor=_predictor_options(args), kappa=args.kappa, seed=args.seed,
            device=args.device,
            plot=not args.no_plot, progress=not args.quiet,
        )
    # the library's own UserWarnings (e.g. models without the metric, excluded) become notes in the
    # text output; any other warning is shown as Python would have shown it
    import gemgraph

    pkg = str(Path(gemgraph.__file__).parent)
    notes = []
    for w in caught:
        if issubclass(w.category, UserWarning) and str(Path(w.filename).resolve()).startswith(pkg):
            notes.append(str(w.message))
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    info = res.info
    if args.json:
        print(json.dumps({"info": info, "summary": res.summary, "paired": res.paired}, indent=2, default=str))
        return 0
    src = args.data or "bundled NAS-Bench-101 sample (20,001 models)"
    print(f"data: {src}: {info['models_used']} models with {args.metric} at {args.epochs} epochs, "
          f"best {100 * info['best_accuracy']:.3f}%")
    for n in notes:
        print(f"note: {n}")
    e = info["encoder"]
    fid = e["fidelity"]
    how = "reused" if e.get("cached") else f"trained in {e['seconds']:.0f} s"
    print(f"encoder ({args.encoder}, {how}): "
          f"WL fidelity on unseen cells RMSE {fid['rmse']:.4f}, Pearson {fid['pearson']:.3f}")
    if e.get("hit_time_limit"):
        print("note: --encoder-time-limit shortened the encoder's training; the encoder (and the results) depend "
              "on this machine's speed")
    print(f"{len(info['seeds'])} seeds x {len(info['budgets'])} budgets, {info['num_candidates']} bootstrap "
          f"candidates per run, top-k variants with k = {info['top_k']}")
    print(res.table())
    key = [p for p in res.paired if (p["arm"], p["baseline"]) in
           {("embedding", "raw"), (f"embedding_top{args.top_k}", f"raw_top{args.top_k}"),
            (f"embedding_top{args.top_k}", f"random+{args.top_k}")}]
    if key:
        print("paired (bias of baseline - bias of arm, % points; > 0 = arm better):")
        for p in key:
            print(f"  K={p['budget']:>5}  {p['arm']:>16} vs {p['baseline']:<14} {100 * p['mean_diff']:+.3f} "
                  f"[{100 * p['ci_low']:+.3f}, {100 * p['ci_high']:+.3f}]  wins/ties/losses "
                  f"{p['wins']}/{p['ties']}/{p['losses']}")
    print(f"total {time.perf_counter() - t0:.1f} s; outputs in {args.out}")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``gemgraph ablation``: its options and its handler."""
    from ... import encoders

    ab = _sub(sub, "ablation", "the NAS-Bench-101 ablation: predictor with vs without graph embedding",
              "  gemgraph ablation nb101 --out nb101-ablation\n"
              "  gemgraph ablation nb101 --budgets 100,500 --seeds 5 --encoder gin --json\n")
    ab.add_argument("benchmark", choices=["nb101"], help="benchmark (nb101: NAS-Bench-101)")
    ab.add_argument("--data", default=None, help=NB101_DATA_HELP)
    ab.add_argument("--budgets", default="100,200,500,1000,2000", help="evaluated models K, comma separated")
    ab.add_argument("--seeds", type=int, default=30, help="seeds per budget")
    ab.add_argument("--out", default="nb101-ablation", help="output folder")
    ab.add_argument("--metric", default="validation_accuracy",
                    help="validation_accuracy or test_accuracy (when the file has it)")
    ab.add_argument("--epochs", type=int, default=108, help="training budget of the metric")
    ab.add_argument("--num-samples", type=int, default=50_000, help="bootstrap candidates per run")
    ab.add_argument("--top-k", type=int, default=10, help="k of the top-k variants (0: none)")
    ab.add_argument("--encoder", default="mlp", choices=encoders.available(), help="encoder of the embedding arm")
    ab.add_argument("--encoder-dim", type=int, default=64, help="embedding dimension")
    ab.add_argument("--encoder-hidden", default=None,
                    help="encoder hidden widths, comma separated (omitted: the encoder's default)")
    ab.add_argument("--encoder-train-graphs", type=int, default=40_000, help="encoder training cells")
    ab.add_argument("--encoder-epochs", type=int, default=25,
                    help="encoder epochs of the one-cycle schedule (early stopping applies)")
    ab.add_argument("--encoder-time-limit", type=float, default=600.0,
                    help="budget on encoder training seconds; the schedule is shortened to fit (0: none)")
    ab.add_argument("--wl-iter", type=int, default=1, help="WL iterations h on op labels")
    add_predictor(ab, "the paper's predictor: one MLP regressing the standardised accuracy (gemgraph 0.1's default)")
    ab.add_argument("--kappa", type=float, default=0.0,
                    help="incumbent-aware pick by mean + kappa * std (< 0 pessimistic)")
    add_seed(ab, "base seed of the draws and the encoder")
    add_device(ab, " (encoder training)")
    add_no_plot(ab, "bias.png")
    add_json(ab, "info, summary and paired differences")
    ab.set_defaults(func=_cmd_ablation)
