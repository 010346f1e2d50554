r"""``gemgraph train``: train the picked GEMNet longer and report accuracy, MACs, params."""
from __future__ import annotations

import argparse

from ...errors import InputError
from ._common import add_device, add_download, add_json, _log, _run_log, _sub


def _cmd_train(args: argparse.Namespace) -> int:
    from ...cost import count
    from ...evaluate import ProxyTrainer
    from ...nn import MobileNet
    from ...store import RunStore, cell_from_json
    from ..runs import dumps, store_path

    if args.dataset != "cifar10":
        raise InputError(f"--dataset: only 'cifar10' is supported, got {args.dataset!r}")
    with RunStore(store_path(args.run)) as store, _run_log(args.run, args):
        pick = store.pick()
        if pick is None:
            raise InputError(f"RUN: {args.run} has no pick yet; run `gemgraph search` (or `gemgraph bootstrap`) first")
        cell = cell_from_json(pick["best"])
        trainer = ProxyTrainer(epochs=args.epochs, width=args.width, cells_per_stage=args.cells_per_stage,
                               batch_size=args.batch_size, lr=args.lr, max_train_images=None, split=args.split,
                               root=args.data, device=args.device, seed=store.config["seed"], progress=not args.quiet,
                               download=args.download)
        res, model = trainer.fit(cell)
        _log.info("GEMNet trained %d epochs: status %s, %s accuracy %.4f", args.epochs, res.status, args.split,
                  res.accuracy)
        macs224, params224 = count(MobileNet(cell, num_classes=1000), (3, 224, 224))
        out = {"cell": pick["best"], "epochs": args.epochs, "width": args.width,
               "cells_per_stage": args.cells_per_stage,
               "split": args.split, **res.to_dict(), "imagenet_mobilenet_macs": macs224,
               "imagenet_mobilenet_params": params224}
        if model is not None:
            from pathlib import Path

            from ...export import GEMNET_FILE, save_gemnet

            out["saved"] = str(save_gemnet(Path(args.run) / GEMNET_FILE, model, cell, meta=out))
        store.set_meta("gemnet", out)
    if args.json:
        print(dumps(out))
    else:
        print(f"GEMNet (CifarNet width {args.width}, {args.cells_per_stage} cell(s)/stage) "
              f"trained {args.epochs} epochs: "
              f"status {res.status}{'' if res.ok else ' (' + str(res.error) + ')'}")
        macs = "-" if res.macs is None else f"{res.macs / 1e6:.1f}"
        params = "-" if res.params is None else f"{res.params / 1e6:.3f}"
        print(f"  {args.split} accuracy {res.accuracy:.4f}   MACs {macs} M   params {params} M"
              f"   score {res.score:.4f}   train {res.train_seconds:.1f} s")
        print(f"  as a 224x224 ImageNet MobileNet (GEMNet setting): {macs224 / 1e6:.0f} M MACs, "
              f"{params224 / 1e6:.2f} M params")
        if "saved" in out:
            print(f"  saved to {out['saved']} (gemgraph.load_gemnet; `gemgraph export` for json / pt / onnx)")
    return 0 if res.ok else 1


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``gemgraph train``: its options and its handler."""
    t = _sub(sub, "train", "train the picked GEMNet longer and report accuracy, MACs, params",
             "  gemgraph train runs/quick --epochs 30\n"
             "  gemgraph train runs/quick --epochs 2 --width 8 --device cpu --json\n")
    t.add_argument("run", metavar="RUN", help="run directory with a pick (saves RUN/gemnet.pt)")
    t.add_argument("--dataset", default="cifar10", choices=["cifar10"], help="training data")
    t.add_argument("--epochs", type=int, default=30, help="training epochs")
    t.add_argument("--width", type=int, default=32, help="CifarNet width (channels of the first stage)")
    t.add_argument("--cells-per-stage", type=int, default=2, help="cells stacked per stage")
    t.add_argument("--batch-size", type=int, default=128, help="SGD batch size")
    t.add_argument("--lr", type=float, default=0.1, help="peak learning rate")
    t.add_argument("--split", default="test", choices=["val", "test"], help="split the accuracy is measured on")
    t.add_argument("--data", default=None, help="data root (omitted: $GEMGRAPH_DATA)")
    add_download(t)
    add_device(t)
    add_json(t, "the result")
    t.set_defaults(func=_cmd_train)
