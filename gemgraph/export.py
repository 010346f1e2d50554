r"""Exporting a found architecture: the GEMNet checkpoint, the cell spec, ``torch.export``, ONNX.

``gemgraph train RUN`` trains the picked cell's :class:`~gemgraph.nn.CifarNet` and saves it as
``RUN/gemnet.pt`` with :func:`save_gemnet`: a plain dict of tensors, numbers, strings and lists
(the network's class name and constructor arguments, the cell, the state dict, the training
results), so that ``torch.load(path, weights_only=True)`` reads it without running any pickled
code, and :func:`load_gemnet` rebuilds the module.

From a checkpoint (or any module), ``gemgraph export RUN --format ...`` /
:func:`export_run` writes

* ``json``: the cell spec (``{"n", "edges", "ops"}``, as in the run store) with the network
  settings and results;
* ``pt``: a ``torch.export`` program (``.pt2``), loadable without gemgraph:
  ``torch.export.load(path).module()(images)``;
* ``onnx``: an ONNX graph from ``torch.onnx.export`` (dynamic batch size), validated with
  ``onnx.checker`` and, where ``onnxruntime`` is installed, run once against the torch module
  on a batch of images (:func:`verify_onnx`; ``max_abs_diff`` must be <= ``atol``, 1e-4 by
  default).

Example:
    >>> from gemgraph import SearchSpace, load_gemnet, save_gemnet
    >>> from gemgraph.nn import CifarNet
    >>> cell = SearchSpace(num_nodes=30).sample(1, seed=0)[0]
    >>> save_gemnet("gemnet.pt", CifarNet(cell, width=8), cell)     # doctest: +SKIP
    >>> model = load_gemnet("gemnet.pt")                             # doctest: +SKIP
    >>> export_onnx(model, "gemnet.onnx", images=torch.randn(8, 3, 32, 32))  # doctest: +SKIP
"""
from __future__ import annotations

import json
import logging
import math
import os
import time
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .cell import Cell
from .nn import CellModule, CifarNet, MobileNet
from .store import RunStore, cell_from_json, cell_to_json, store_path
from .store import to_plain as plain
from .utils import atomic_torch_save, atomic_write_bytes, check_int, torch_load_reason
from .errors import InputError, MissingDependencyError

__all__ = [
    "FORMAT", "FORMATS", "network_config", "save_gemnet", "read_gemnet", "load_gemnet", "export_json",
    "export_program", "export_onnx", "verify_onnx", "export_run", "GEMNET_FILE",
]

log = logging.getLogger(__name__)

#: ``format`` entry of a GEMNet checkpoint.
FORMAT = "gemgraph.gemnet"
VERSION = 1
#: Formats of :func:`export_run` and their default file names in the run folder.
FORMATS: dict[str, str] = {"json": "gemnet.json", "pt": "gemnet.pt2", "onnx": "gemnet.onnx"}
#: The checkpoint ``gemgraph train`` writes into the run folder.
GEMNET_FILE = "gemnet.pt"


def _networks() -> dict[str, type[nn.Module]]:
    return {"CifarNet": CifarNet, "MobileNet": MobileNet}


def _plain(x: Any) -> Any:
    """JSON-safe plain copy (what ``weights_only`` loading accepts besides tensors)."""
    return plain(x)


# ---------------------------------------------------------------------- checkpoint
def network_config(model: nn.Module) -> dict[str, Any]:
    r"""``{"network": name, "kwargs": {...}}`` that rebuild ``model``'s architecture.

    Read off a :class:`~gemgraph.nn.CifarNet` (``num_classes``, ``width``,
    ``cells_per_stage``, ``in_channels``, ``dropout``, ``residual``). Other networks (a
    :class:`~gemgraph.nn.MobileNet` among them) need their constructor arguments given to
    :func:`save_gemnet` as ``kwargs``.

    Raises:
        ValueError: for a module whose settings cannot be read off.
    """
    if type(model) is not CifarNet:
        raise InputError(f"model: can read the settings of a CifarNet only, got {type(model).__name__}; "
                         "pass network= and kwargs= to save_gemnet")
    plain_blocks = [m for m in model.cells if isinstance(m, CellModule) and m.stride == 1]
    return {"network": "CifarNet", "kwargs": {
        "num_classes": model.num_classes, "width": model.width, "cells_per_stage": model.cells_per_stage,
        "in_channels": _first_conv(model).in_channels,
        "dropout": float(model.dropout.p), "residual": bool(plain_blocks[0].residual),
    }}


def _first_conv(model: nn.Module) -> nn.Conv2d:
    return next(m for m in model.modules() if isinstance(m, nn.Conv2d))


def save_gemnet(path: str | os.PathLike, model: nn.Module, cell: Cell, *, network: str | None = None,
                kwargs: dict[str, Any] | None = None, meta: dict[str, Any] | None = None) -> Path:
    r"""Save a network of ``cell`` as a ``weights_only``-loadable GEMNet checkpoint.

    Args:
        path: the ``.pt`` file to write (parent folders are created).
        model: the network (its state dict is saved, moved to the CPU).
        cell: the cell it was built from.
        network, kwargs: class name (``"CifarNet"`` or ``"MobileNet"``) and constructor
            arguments (without ``cell``); default: read off a CifarNet (:func:`network_config`).
        meta: small JSON-able extras (training settings, accuracy, MACs ...).

    Returns:
        The path written.

    The file holds ``{"format", "version", "network", "kwargs", "cell", "state_dict", "meta"}``.
    """
    if not isinstance(model, nn.Module):
        raise InputError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(cell, Cell):
        raise InputError(f"cell: expected a gemgraph.Cell, got {type(cell).__name__}")
    if kwargs is None:
        cfg = network_config(model)
        network, kwargs = network or cfg["network"], cfg["kwargs"]
    if network not in _networks():
        raise InputError(f"network: expected one of {sorted(_networks())}, got {network!r}")
    ckpt = {
        "format": FORMAT, "version": VERSION, "network": network, "kwargs": _plain(dict(kwargs)),
        "cell": cell_to_json(cell), "meta": _plain(dict(meta or {})),
        "state_dict": {k: v.detach().to("cpu").clone() for k, v in model.state_dict().items()},
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_torch_save(ckpt, path)  # a full disk: CannotWriteError, no half-written file
    return path


def read_gemnet(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """The checkpoint dict of :func:`save_gemnet`, read with ``torch.load(weights_only=True)``.

    Raises:
        FileNotFoundError: if there is no such file.
        ValueError: if it is not a GEMNet checkpoint (or was written by a newer version).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path: no GEMNet checkpoint at {path}")
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is a bad input here
        raise InputError(f"path: {path} is not a readable torch checkpoint ({torch_load_reason(exc)})") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise InputError(f"path: {path} is not a GEMNet checkpoint (no format={FORMAT!r} entry)")
    if int(ckpt.get("version", 0)) > VERSION:
        raise InputError(f"path: {path} has checkpoint version {ckpt['version']}, newer than this gemgraph ({VERSION})")
    return ckpt


def load_gemnet(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> nn.Module:
    r"""Rebuild the network saved by :func:`save_gemnet` (``gemgraph train`` writes ``RUN/gemnet.pt``).

    Args:
        path: the checkpoint.
        map_location: where to put the weights.

    Returns:
        The module with its trained weights, in eval mode.

    Example:
        >>> model = gemgraph.load_gemnet("runs/quick/gemnet.pt")     # doctest: +SKIP
        >>> model(images).argmax(1)                                  # doctest: +SKIP
    """
    ckpt = read_gemnet(path, map_location)
    cls = _networks().get(ckpt["network"])
    if cls is None:
        raise InputError(f"path: unknown network {ckpt['network']!r} in {path}")
    with torch.random.fork_rng(devices=[]):  # construction draws initial weights: leave the caller's RNG alone
        model = cls(cell_from_json(ckpt["cell"]), **ckpt["kwargs"])
    model.load_state_dict(ckpt["state_dict"])
    return model.to(map_location).eval()


# ---------------------------------------------------------------------- formats
def export_json(path: str | os.PathLike, cell: Cell, **extra: Any) -> Path:
    """Write ``{"format": "gemgraph.cell", "cell": {"n", "edges", "ops"}, ...extra}`` as JSON."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"format": "gemgraph.cell", "version": 1, "cell": cell_to_json(cell), **_plain(extra)}
    atomic_write_bytes(path, (json.dumps(doc, indent=2) + "\n").encode())
    return path


def _max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.double() - b.double()).abs().max())


def export_program(model: nn.Module, path: str | os.PathLike, images: torch.Tensor, *,
                   atol: float = 1e-4) -> dict[str, Any]:
    r"""Save ``model`` as a ``torch.export`` program (``.pt2``) with a dynamic batch size.

    The saved program is loaded back and run on ``images`` against ``model``.

    Args:
        model: the network (exported in eval mode, on the CPU).
        path: the ``.pt2`` file.
        images: (B, C, H, W) float batch for tracing and the check (B >= 2).
        atol: largest accepted absolute difference of the outputs.

    Returns:
        ``{"path", "format": "pt", "batch", "max_abs_diff", "ok", "seconds"}``.
    """
    t0 = time.perf_counter()
    model = model.to("cpu").eval()
    images = _check_images(images)
    batch = torch.export.Dim("batch", min=1)
    with torch.no_grad():
        prog = torch.export.export(model, (images,), dynamic_shapes=({0: batch},), strict=False)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.export.save(prog, path)
    loaded = torch.export.load(path).module()
    with torch.no_grad():
        diff = _max_diff(loaded(images), model(images))
    return {"path": str(path), "format": "pt", "batch": len(images), "max_abs_diff": diff,
            "ok": diff <= atol, "seconds": time.perf_counter() - t0}


def _check_images(images: Any) -> torch.Tensor:
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or not images.is_floating_point():
        got = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise InputError(f"images: expected a float (B, C, H, W) tensor, got {got}")
    if len(images) < 2:
        raise InputError(f"images: expected a batch of >= 2 images (the batch size is dynamic), got {len(images)}")
    return images.detach().to("cpu", torch.float32).contiguous()


def export_onnx(model: nn.Module, path: str | os.PathLike, images: torch.Tensor, *, atol: float = 1e-4,
                opset: int | None = None, verify: bool = True) -> dict[str, Any]:
    r"""Export ``model`` to ONNX with ``torch.onnx.export`` and check the result.

    The graph has one input ``images`` (B, C, H, W) and one output ``logits`` (B, classes),
    B dynamic. It is validated with ``onnx.checker.check_model(full_check=True)``; with
    ``verify`` and ``onnxruntime`` installed it is run on ``images`` against the torch module
    (:func:`verify_onnx`).

    Args:
        model: the network (exported in eval mode, on the CPU).
        path: the ``.onnx`` file.
        images: (B, C, H, W) float batch for tracing and the check (B >= 2); real, normalised
            images make the check meaningful.
        atol: largest accepted absolute difference of the logits.
        opset: ONNX opset (default: the exporter's).
        verify: run the onnxruntime comparison when onnxruntime is available.

    Returns:
        a dict with the keys ``path``, ``format`` (``"onnx"``), ``opset``, ``checker`` (bool),
        ``onnxruntime`` (bool), ``max_abs_diff`` (None without onnxruntime), ``batch``, ``ok``
        and ``seconds`` (``error`` says what the checker found when ``checker`` is False).

    Raises:
        MissingDependencyError: (an ImportError) without the ``onnx`` / ``onnxscript`` packages
            (``pip install gemgraph[export]``).
    """
    try:
        import onnx  # noqa: PLC0415 - onnx is an optional dependency (gemgraph[export])
    except ImportError:
        raise MissingDependencyError("export_onnx: needs the onnx and onnxscript packages "
                          "(pip install 'gemgraph[export]')") from None
    t0 = time.perf_counter()
    model = model.to("cpu").eval()
    images = _check_images(images)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    kw: dict[str, Any] = {} if opset is None else {"opset_version": int(opset)}
    with torch.no_grad():
        torch.onnx.export(model, (images,), str(path), input_names=["images"], output_names=["logits"],
                          dynamic_shapes=({0: torch.export.Dim("batch", min=1)},), dynamo=True,
                          external_data=False, verbose=False, **kw)
    proto = onnx.load(str(path))
    out: dict[str, Any] = {"path": str(path), "format": "onnx",
                           "opset": next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), None),
                           "checker": True, "onnxruntime": False, "max_abs_diff": None, "batch": len(images),
                           "ok": True}
    try:
        onnx.checker.check_model(proto, full_check=True)
    except Exception as exc:  # noqa: BLE001 - onnx raises several types; any of them fails the export
        out.update(checker=False, ok=False, error=f"onnx.checker: {type(exc).__name__}: {exc}")
        verify = False
    if verify:
        try:
            out.update(verify_onnx(path, model, images, atol=atol))
        except ImportError:
            log.info("onnxruntime is not installed: %s checked with onnx.checker only", path)
    out["seconds"] = time.perf_counter() - t0
    return out


def verify_onnx(path: str | os.PathLike, model: nn.Module, images: torch.Tensor, *,
                atol: float = 1e-4) -> dict[str, Any]:
    r"""Run the ONNX graph at ``path`` with onnxruntime (CPU) and compare with ``model(images)``.

    Returns:
        a dict with the keys ``onnxruntime`` (True), ``max_abs_diff``, ``max_abs_output`` (the
        scale the difference is measured against), ``ok`` (``max_abs_diff <= atol``) and ``batch``.

    Raises:
        ImportError: if onnxruntime is not installed.
    """
    import onnxruntime as ort  # noqa: PLC0415 - onnxruntime is an optional dependency

    images = _check_images(images)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1  # deterministic, and polite on a shared machine
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    got = torch.from_numpy(sess.run(None, {sess.get_inputs()[0].name: images.numpy()})[0])
    with torch.no_grad():
        ref = model.to("cpu").eval()(images)
    if got.shape != ref.shape:
        raise InputError(f"path: the ONNX graph gives shape {tuple(got.shape)}, torch {tuple(ref.shape)}")
    diff = _max_diff(got, ref)
    return {"onnxruntime": True, "max_abs_diff": diff, "max_abs_output": float(ref.abs().max()),
            "ok": bool(math.isfinite(diff) and diff <= atol), "batch": len(images)}


# ---------------------------------------------------------------------- from a run folder
def _run_images(root: str | os.PathLike | None, n: int, in_channels: int, seed: int) -> tuple[torch.Tensor, str]:
    """``n`` normalised test images of the CIFAR-10 proxy set, or a seeded normal batch without data."""
    try:
        from .cifar import cifar10_proxy  # noqa: PLC0415 - CIFAR-10 only when exporting with images

        test = cifar10_proxy(root, split="test")
        idx = torch.randperm(len(test), generator=torch.Generator().manual_seed(seed))[:n]
        x, _ = test.batch(idx, augment=False)
        if x.shape[1] == in_channels:
            return x.float(), f"{len(x)} CIFAR-10 proxy test images"
    except FileNotFoundError:
        pass
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, in_channels, 32, 32, generator=g), f"{n} random normal images (no CIFAR-10 data found)"


def export_run(run: str | os.PathLike, fmt: str, out: str | os.PathLike | None = None, *,
               data: str | os.PathLike | None = None, num_images: int = 16, atol: float = 1e-4,
               seed: int = 0) -> dict[str, Any]:
    r"""Export the GEMNet of a run folder (what ``gemgraph export`` does).

    Args:
        run: the run folder. ``json`` needs its pick (``run.sqlite``) or ``gemnet.pt``;
            ``pt`` and ``onnx`` need ``gemnet.pt`` (written by ``gemgraph train``).
        fmt: ``"json"``, ``"pt"`` or ``"onnx"``.
        out: output file (default ``RUN/gemnet.json`` / ``gemnet.pt2`` / ``gemnet.onnx``).
        data: data root of the CIFAR-10 proxy set for the check images (default
            ``$GEMGRAPH_DATA``); without data a seeded normal batch is used (said in ``images``).
        num_images: size of the check batch (>= 2).
        atol: largest accepted absolute difference between the export and torch.
        seed: picks the check images.

    Returns:
        A report dict (``path``, ``format``, ``ok`` and the checks made).
    """
    if fmt not in FORMATS:
        raise InputError(f"fmt: expected one of {sorted(FORMATS)}, got {fmt!r}")
    num_images = check_int(num_images, "num_images", 2)
    run = Path(run)
    if not run.is_dir():
        raise FileNotFoundError(f"RUN: no run folder at {run}")
    out = Path(out) if out is not None else run / FORMATS[fmt]
    ckpt_path = run / GEMNET_FILE
    if fmt == "json":
        if ckpt_path.is_file():
            ckpt = read_gemnet(ckpt_path)
            export_json(out, cell_from_json(ckpt["cell"]), network=ckpt["network"], kwargs=ckpt["kwargs"],
                        gemnet=ckpt["meta"], source=str(ckpt_path))
            cell = ckpt["cell"]
        else:
            if not store_path(run).exists():
                raise FileNotFoundError(f"RUN: {run} has neither {GEMNET_FILE} nor a run store")
            with RunStore(store_path(run)) as store:
                pick = store.pick()
            if pick is None:
                raise InputError(f"RUN: {run} has no pick yet; run `gemgraph search` (or `gemgraph bootstrap`) first")
            export_json(out, cell_from_json(pick["best"]), source=str(store_path(run)))
            cell = pick["best"]
        return {"path": str(out), "format": "json", "ok": True, "nodes": cell["n"], "edges": len(cell["edges"])}
    if not ckpt_path.is_file():
        raise FileNotFoundError(f"RUN: {ckpt_path} not found; run `gemgraph train {run}` first")
    model = load_gemnet(ckpt_path)
    in_channels = _first_conv(model).in_channels
    images, what = _run_images(data, num_images, in_channels, seed)
    if fmt == "pt":
        rep = export_program(model, out, images, atol=atol)
    else:
        rep = export_onnx(model, out, images, atol=atol)
    rep["images"] = what
    rep["atol"] = atol
    return rep
