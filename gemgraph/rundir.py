r"""A run directory's parts, for the library and the command line alike: its proxy data
checked, its encoder (trained from the config or loaded and checked against the recorded
identity), its report, its predictor's cross-validation, and a run opened with its fitted
predictor. Nothing here reads command-line arguments (:mod:`gemgraph.app.runs` does).

A run directory ``RUN`` holds:

* ``run.sqlite``: the :class:`~gemgraph.store.RunStore` (config, every candidate, predictor
  checkpoints, the pick);
* ``encoder.pt``: the trained graph encoder (reused on resume); its identity (a content hash,
  name and config, :func:`encoder_identity`) is recorded in the store's meta ``"encoder"``, and
  a file that does not match it is refused (``reembed=True`` accepts it and re-embeds);
* ``.lock``: held while a search writes the run;
* plots written by ``gemgraph plot``.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy import stats
from sklearn.base import clone

from .builders import as_run_config, make_predictor, make_space, make_trainer, train_run_encoder
from .config import RunConfig
from .errors import InputError
from .predictor import EfficiencyPredictor
from .store import RunLock, RunStore, cell_from_json, cell_to_json, store_path
from .utils import check_int

__all__ = ["load_data", "encoder_identity", "prepare_encoder", "candidate_dict", "predictor_cv", "report",
           "pick_rows", "regime_report", "probe_writable", "check_run_dir", "check_writable_run", "load_run"]

log = logging.getLogger(__name__)


def load_data(cfg: RunConfig | Mapping[str, Any], data_root: str | os.PathLike | None = None,
              download: bool = False) -> None:
    r"""Read the run's proxy data now (train split and ``cfg.trainer.split``, at the
    trainer's resolution; the embedded subset without a data root; ``download``: fetched), so
    that a missing or damaged data file is reported before anything is trained. The data is
    read again by the trainer when it first trains (a fraction of a second).

    Raises:
        FileNotFoundError: no data under ``data_root`` / ``$GEMGRAPH_DATA``.
        ValueError: ``data``: the data file is corrupt, truncated or unreadable (named, with
            the reason).
    """
    where = os.fspath(data_root) if data_root is not None else f"$GEMGRAPH_DATA={os.environ.get('GEMGRAPH_DATA')!r}"
    try:
        make_trainer(cfg, data_root=None if data_root is None else os.fspath(data_root), device="cpu",
                     download=download).check_data()
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise InputError(f"data: the CIFAR-10 data under {where} is corrupt or unreadable "
                         f"({type(exc).__name__}: {exc})") from None


def encoder_identity(encoder: Any) -> dict[str, Any]:
    r"""What identifies a trained encoder: ``{"blake2b", "name", "config"}``, the hash over its
    name, config and every state-dict tensor (key, dtype, shape, bytes), independent of how the
    file was serialised."""
    h = hashlib.blake2b(digest_size=20)
    h.update(json.dumps({"name": encoder.name, "config": encoder.config}, sort_keys=True).encode())
    for key, t in sorted(encoder.state_dict().items()):
        t = t.detach().cpu().contiguous().reshape(-1)
        h.update(f"|{key}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.view(torch.uint8).numpy().tobytes())
    return json.loads(json.dumps({"blake2b": h.hexdigest(), "name": encoder.name, "config": encoder.config}))


def _describe(ident: dict[str, Any]) -> str:
    return f"{ident.get('name')} {ident.get('config')} (hash {str(ident.get('blake2b'))[:12]})"


def prepare_encoder(run_dir: str | os.PathLike, cfg: RunConfig | Mapping[str, Any], store: Any, *, device: str = "auto",
                    progress: bool = True, reembed: bool = False):
    r"""The run's encoder: ``RUN/encoder.pt`` if it is the one this run was made with, else trained
    (deterministically from the run's seed) and saved.

    The encoder's identity (:func:`encoder_identity`) is recorded in the store's meta
    ``"encoder"`` when it is trained (and, for runs made before identities were recorded, when
    first loaded). A file whose identity differs from the recorded one (swapped, edited, or
    retrained to something else) or that no longer loads is refused, since the stored
    predictor and pick belong to the recorded encoder.

    Args:
        reembed: accept ``encoder.pt`` as it now is (or train one when it is missing or
            unreadable) and record it as the run's encoder: the caller must then refit the
            predictor on the re-embedded candidates (the search does at every step; the
            ``bootstrap`` / ``plot`` commands do with ``--reembed``).

    Raises:
        ValueError: ``encoder.pt`` does not match the run's recorded encoder, or cannot be
            loaded while an encoder is recorded (unless ``reembed``).
    """
    from . import encoders  # noqa: PLC0415 - gemgraph.encoders loads torch_geometric

    cfg = as_run_config(cfg)
    path = Path(run_dir) / "encoder.pt"
    recorded = store.get_meta("encoder")
    hint = "pass --reembed (reembed=True) to use it and re-embed the run's candidates, or restore the run's encoder.pt"
    if path.exists():
        try:
            enc = encoders.load(path)
        except ValueError as exc:
            if recorded is not None and not reembed:
                raise InputError(f"encoder: {path} cannot be loaded ({exc}); this run was made with the encoder "
                                 f"{_describe(recorded)}: restore its encoder.pt, or pass --reembed (reembed=True) "
                                 "to train a new one and re-embed the run's candidates") from None
            log.warning("%s cannot be loaded (%s); training the encoder again", path, exc)
            enc = None  # e.g. damaged: retrain (deterministic) below
        if enc is not None:
            ident = encoder_identity(enc)
            if recorded is None:
                log.info("%s: no encoder identity recorded (a run made before they were); recording %s",
                         run_dir, _describe(ident))
                store.set_meta("encoder", ident)
            elif ident != recorded:
                if not reembed:
                    raise InputError(f"encoder: {path} is {_describe(ident)}, not the encoder this run was made with, "
                                     f"{_describe(recorded)}; {hint}")
                log.warning("%s: re-embedding with %s (was %s)", run_dir, _describe(ident), _describe(recorded))
                store.set_meta("encoder", ident)
            return enc
    res = train_run_encoder(cfg, device=device, progress=progress)
    enc = res.encoder.cpu()
    ident = encoder_identity(enc)
    if recorded is not None and ident != recorded and not reembed:
        raise InputError(f"encoder: {path} was missing or unreadable and training it again gave {_describe(ident)}, "
                         f"not the encoder this run was made with, {_describe(recorded)}; {hint}")
    enc.save(path)
    store.set_meta("encoder", ident)
    store.set_meta("encoder_fidelity", res.report.to_dict())
    store.set_meta("encoder_seconds", res.seconds)
    return enc


def candidate_dict(row: dict[str, Any]) -> dict[str, Any]:
    """A stored candidate as JSON-ready dict (the cell as ``{"n", "edges", "ops"}``)."""
    out = {k: v for k, v in row.items() if k != "cell"}
    out["cell"] = cell_to_json(row["cell"])
    out["num_edges"] = row["cell"].num_edges
    return out


def predictor_cv(run_dir: str | os.PathLike, folds: int = 5, seed: int | None = None) -> dict[str, Any] | None:
    r"""How well the run's predictor ranks candidates it has not seen: k-fold cross-validation.

    The successful candidates of the run are embedded with the run's encoder
    (``RUN/encoder.pt``); an unfitted copy of the run's predictor (``sklearn.base.clone`` of
    the latest checkpoint, else of :func:`make_predictor`: same class, same settings) is fit
    on k-1 folds and predicts the held-out fold (``sklearn.model_selection.cross_val_predict``,
    shuffled :class:`~sklearn.model_selection.KFold`); the Spearman rank correlation of the
    out-of-fold predictions with the measured scores is the figure. Nothing is written.

    Args:
        run_dir: the run directory.
        folds: k (at most the number of candidates: leave-one-out then).
        seed: seed of the fold split (default: the run's seed).

    Returns:
        ``{"spearman", "pvalue", "n", "folds", "measured", "predicted"}`` (``spearman`` None
        when the out-of-fold predictions are constant), or None when the run has fewer than
        4 successful candidates or no encoder file.
    """
    from sklearn.model_selection import KFold, cross_val_predict  # noqa: PLC0415 - loads for --cv only

    from . import encoders  # noqa: PLC0415 - gemgraph.encoders loads torch_geometric

    folds = check_int(folds, "folds", minimum=2)
    path = Path(run_dir) / "encoder.pt"
    with RunStore(store_path(run_dir), readonly=True) as st:
        cfg = st.config
        rows = sorted((r for r in st.candidates(status="ok") if r["score"] is not None), key=lambda r: r["iteration"])
        ck = st.latest_predictor()
    if len(rows) < 4 or not path.exists():
        return None
    if ck is not None:
        template = EfficiencyPredictor.from_state_dict(ck[1])
    else:
        template = make_predictor(cfg)
    Z = encoders.load(path).embed([r["cell"] for r in rows]).numpy().astype(np.float64)
    y = np.array([r["score"] for r in rows], dtype=np.float64)
    k = min(folds, len(rows))
    cv = KFold(n_splits=k, shuffle=True, random_state=int(cfg.get("seed", 0) if seed is None else seed) % (2**32))
    pred = cross_val_predict(clone(template), Z, y, cv=cv)
    if np.ptp(pred) == 0 or np.ptp(y) == 0:
        rho, pval = None, None
    else:
        res = stats.spearmanr(y, pred)
        rho, pval = float(res.statistic), float(res.pvalue)
    return {"spearman": rho, "pvalue": pval, "n": len(rows), "folds": k,
            "measured": y.tolist(), "predicted": pred.tolist()}


def report(run_dir: str | os.PathLike, cv_folds: int = 5) -> dict[str, Any]:
    """Everything about a run as a JSON-ready dict: ``iterations_done``, ``iterations`` (the
    run's length: the config's, or what ``search --resume RUN --iterations T`` extended it to,
    kept in meta ``"iterations"``; the stored config never changes), ``candidates`` (each
    with its unique ``id``), ``best`` (the best evaluated candidate by score), ``pick``
    (the newest bootstrap choice), ``picks`` (the whole pick history, oldest first, each
    ``{"id", "created_at", "settings", "payload"}``), ``config``, ``meta`` and ``predictor_cv``
    (the predictor's cross-validated rank correlation, :func:`predictor_cv` with ``cv_folds``
    folds; None with ``cv_folds=0`` or too few candidates). A run whose status says
    ``"running"`` while no process holds its lock has ``meta["status"] = "killed"`` (its process
    died without a word, e.g. by ``SIGKILL``; ``search --resume`` continues it)."""
    cv = predictor_cv(run_dir, folds=cv_folds) if cv_folds else None
    with RunStore(store_path(run_dir), readonly=True) as st:
        rows = st.candidates()
        summ = st.summary()
        best = None
        ok = [r for r in rows if r["status"] == "ok" and r["score"] is not None]
        if ok:
            best = candidate_dict(max(ok, key=lambda r: r["score"]))
        meta = {k: st.get_meta(k) for k in ("encoder_fidelity", "encoder_seconds", "status", "search_seconds",
                                             "gemnet", "encoder", "iterations")}
        if meta["status"] == "running" and RunLock(run_dir).holder() is None:
            meta["status"] = "killed"
        picks = st.picks()
        return {
            "run": str(run_dir), "config": st.config, "iterations_done": summ["iterations_done"],
            "iterations": int(meta["iterations"] or st.config.get("iterations") or 0),
            "n_ok": summ["n_ok"], "n_failed": summ["n_failed"],
            "candidates": [candidate_dict(r) for r in rows], "best": best,
            "pick": picks[-1]["payload"] if picks else None, "picks": picks,
            "meta": {k: v for k, v in meta.items() if v is not None}, "predictor_cv": cv,
            "regime": regime_report(st.config, picks[-1]["payload"] if picks else None),
        }


def pick_rows(pick: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The stored pick's top-k as table rows: rank, op nodes and edges (after pruning), predicted
    and measured score (verified by the bootstrap, or evaluated in the search; None when only
    predicted), how it was measured, accuracy and MMACs."""
    if not pick:
        return []
    out = []
    for i, e in enumerate(pick.get("top", [])):
        cell = cell_from_json(e["cell"]).prune()
        out.append({"rank": i + 1, "op_nodes": cell.num_nodes - 1, "edges": cell.num_edges,
                    "predicted": e.get("predicted"), "verified": e.get("verified"),
                    "measured": e.get("verified") if e.get("measured") is None else e.get("measured"),
                    "how": "verified" if e.get("verified") is not None else
                    ("searched" if e.get("measured") is not None else "predicted"), "accuracy": e.get("accuracy"),
                    "mmacs": None if e.get("macs") is None else e["macs"] / 1e6})
    return out


def regime_report(cfg: RunConfig | Mapping[str, Any], pick: dict[str, Any] | None) -> dict[str, Any] | None:
    """The run's computation regime (window, ``min_ops``, the network it is measured on) and,
    once there is a pick, the pick's MACs on that network (closed form) and whether it lies
    inside; None for a run without a regime (or a store whose config is not a search run's)."""
    try:
        space = make_space(as_run_config(cfg))
    except InputError:  # not a search run's config
        return None
    if not space.constrained:
        return None
    out: dict[str, Any] = {"macs": None if space.macs is None else list(space.macs), "min_ops": space.min_ops,
                           "network": space.cost.config}
    if pick:
        cell = cell_from_json(pick["best"])
        out["pick_macs"] = int(space.cost.macs([cell])[0])
        out["pick_op_nodes"] = cell.prune().num_nodes - 1
        out["pick_inside"] = space.contains(cell)
    return out


# ---------------------------------------------------------------------- writable run directories
def probe_writable(folder: Path, arg: str) -> None:
    """ValueError naming ``arg`` unless a file can be created in ``folder`` (catches read-only
    mounts and immutable folders too, which permission bits do not show for root)."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise InputError(f"{arg}: expected a writable folder, got {str(folder)!r} ({exc.strerror or exc})") from None


def check_run_dir(run_dir: Path, arg: str) -> None:
    """A run directory to write: a folder (created if missing) in which files can be created."""
    if run_dir.exists() and not run_dir.is_dir():
        raise InputError(f"{arg}: expected a run directory, got the file {str(run_dir)!r}")
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{arg}: cannot create the run directory {str(run_dir)!r} ({exc.strerror or exc})") from None
    probe_writable(run_dir, arg)


def check_writable_run(run_dir: Path, arg: str) -> None:
    """An existing run that is about to be written: its folder and ``run.sqlite`` writable."""

    try:
        probe_writable(run_dir, arg)
        with open(store_path(run_dir), "r+b"):
            pass
    except (ValueError, OSError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else str(exc).split("(")[-1].rstrip(")")
        raise InputError(f"{arg}: the run {str(run_dir)!r} is read-only here ({why}); copy it to a writable place "
                         f"to continue it (gemgraph report reads it as it is)") from None



def load_run(run_dir: str, reembed: bool = False):
    """(store, :class:`~gemgraph.config.RunConfig`, encoder, fitted predictor, space) of a run,
    for the commands that use its predictor. With ``reembed`` the encoder is accepted as ``encoder.pt`` now is and the
    predictor is refitted on the re-embedded candidates (the stored checkpoint belongs to the
    previous encoder)."""
    if not store_path(run_dir).exists():
        raise FileNotFoundError(f"RUN: no run store at {store_path(run_dir)}")
    check_writable_run(Path(run_dir), "RUN")
    store = RunStore(store_path(run_dir))
    try:
        cfg = RunConfig.from_stored(store.config)  # keys a run stored before they existed: their old values
        encoder = prepare_encoder(run_dir, cfg, store, progress=False, reembed=reembed)
        if reembed:  # the search's own refit, on the re-embedded candidates
            from .search import NASGEM  # noqa: PLC0415 - loads PyG (and its torch.jit warning) at CLI start otherwise

            predictor = make_predictor(cfg)
            if not NASGEM(make_space(cfg), encoder, predictor, None, store, checkpoint_every=0, progress=False).refit():
                raise InputError(f"RUN: {run_dir} has fewer than 2 successful candidates to refit the predictor on")
        else:
            ck = store.latest_predictor()
            if ck is None:
                raise InputError(f"RUN: {run_dir} has no predictor checkpoint yet (fewer than 2 successful candidates)")
            predictor = EfficiencyPredictor.from_state_dict(ck[1])
    except BaseException:
        store.close()
        raise
    return store, cfg, encoder, predictor, make_space(cfg)
