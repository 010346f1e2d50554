r"""``gemgraph export``: the trained GEMNet of a run as a cell spec, a torch.export program or ONNX."""
from __future__ import annotations

import argparse
import sys

from ...errors import InputError
from ._common import add_json, add_seed, _sub


def _cmd_export(args: argparse.Namespace) -> int:
    from ...export import export_run
    from ..runs import dumps

    try:
        rep = export_run(args.run, args.format, args.out, data=args.data, num_images=args.num_images, atol=args.atol,
                         seed=args.seed)
    except RuntimeError as exc:  # the exporter failed on this network: a failed job, not bad input
        if isinstance(exc, InputError):  # e.g. a StoreError (an InputError and a RuntimeError)
            raise
        first = (str(exc).strip().splitlines() or [""])[0]
        print(f"gemgraph export: failed: {type(exc).__name__}: {first}", file=sys.stderr)
        return 1
    if args.json:
        print(dumps(rep))
    else:
        line = f"{rep['format']} written to {rep['path']}"
        if rep["format"] == "json":
            line += f" ({rep['nodes']}-node cell, {rep['edges']} edges)"
        else:
            checks = ["onnx.checker ok"] if rep["format"] == "onnx" else []
            if rep.get("max_abs_diff") is not None:
                checks.append(f"max |diff| vs torch {rep['max_abs_diff']:.2e} on {rep['images']} "
                              f"(atol {rep['atol']:g})")
            elif rep["format"] == "onnx":
                checks.append("onnxruntime not installed: not run")
            line += ": " + ", ".join(checks)
        print(line)
    return 0 if rep["ok"] else 1


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``gemgraph export``: its options and its handler."""
    ex = _sub(sub, "export", "export the trained GEMNet of a run: cell spec, torch.export program or ONNX",
              "  gemgraph export runs/quick --format onnx\n"
              "  gemgraph export runs/quick --format json --out cell.json\n"
              "exit status: 0 ok, 1 the export failed or differs from torch by more than --atol, 2 bad input\n")
    ex.add_argument("run", metavar="RUN", help="run folder (pt / onnx need RUN/gemnet.pt from `gemgraph train`)")
    ex.add_argument("--format", default="onnx", choices=["json", "pt", "onnx"],
                    help="json: cell spec; pt: torch.export program (.pt2); onnx: ONNX graph")
    ex.add_argument("--out", default=None, help="output file (omitted: RUN/gemnet.json, .pt2 or .onnx)")
    ex.add_argument("--data", default=None, help="data root of the check images (omitted: $GEMGRAPH_DATA)")
    ex.add_argument("--num-images", type=int, default=16, help="check batch: CIFAR-10 proxy test images")
    ex.add_argument("--atol", type=float, default=1e-4, help="largest accepted |export - torch| on the check batch")
    add_seed(ex, "seed of the check-image draw")
    add_json(ex, "the export report")
    ex.set_defaults(func=_cmd_export)
