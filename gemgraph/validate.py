r"""Reference checks of a finished 30-node search: is its pick better than what the cost alone,
or random search at equal trainings, would have picked?

A proxy training (a few epochs on 5,000 images, measured on 1,000) is noisy, and a search that
picks by it can only be judged by a costlier, less noisy training of what it picked. The
**reference protocol** (:class:`ReferenceProtocol`, default :data:`REFERENCE`) trains a cell's
network on the 20,000-image CIFAR-10 reference set (:func:`gemgraph.cifar.cifar10_reference`,
disjoint from the proxy set's images) and measures it on its 5,000 evaluation images, with
seeded repeats.

:func:`validate_run` trains four cells of a finished run under that protocol (*roles*):

* ``pick``: the run's newest pick (the GEMNet cell);
* ``best_measured``: the run's best candidate by its stored proxy score;
* ``cost_only``: the lowest-MAC cell (on the regime's network) among as many cells of the run's
  space (its regime and ``min_ops``) as the run's bootstrap draws; what "pick the cheapest
  cell that qualifies" would answer;
* ``random``: random search at equal trainings: the best, by the run's own proxy score, of as
  many random cells of the run's space as the run trained (candidates and verified cells). The
  cells are the run's own random stream (cell ``t`` is :meth:`NASGEM.candidate`'s), so a run
  with the paper's random sampler shares its candidates with random search: they are not trained
  again, and only the extra ones are.

For each it reports the reference accuracy (mean and t-interval over the seeds), the MACs on the
regime's network, the score on the run's objective, and the paired differences (same reference
seed) of the pick against ``cost_only`` and ``random``. Every training (reference or proxy) is
appended to ``OUT/trainings.jsonl`` as it finishes, each line with a checksum; a rerun with the
same ``OUT`` reuses them (an interrupted validation resumes, and a damaged or half-written line
is trained again, never read).
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .cell import Cell
from .config import RunConfig
from .utils import check_int, derive_seed, random_candidate
from .errors import InputError
from .bootstrap import network_key
from .builders import make_space, make_trainer
from .score import objective_score
from .store import cell_from_json, cell_to_json

__all__ = ["ReferenceProtocol", "REFERENCE", "ROLES", "RoleResult", "Validation", "validate_run",
           "role_cells", "TrainingLog"]

logger = logging.getLogger(__name__)

#: The roles :func:`validate_run` trains, in report order.
ROLES: tuple[str, ...] = ("pick", "best_measured", "cost_only", "random")
#: Columns of ``validate.csv`` (one row per role and reference seed).
CSV_COLUMNS: tuple[str, ...] = ("role", "seed", "accuracy", "macs", "score", "proxy_score", "proxy_accuracy",
                                "op_nodes", "edges", "same_as")


@dataclass(frozen=True)
class ReferenceProtocol:
    r"""How a cell is trained for reference: CifarNet on the CIFAR-10 reference set.

    Attributes:
        epochs: passes over the 20,000 training images.
        width: CifarNet's stage-1 width.
        resolution: the images' side after average pooling (32: as CIFAR-10 comes).
        batch_size: images per SGD step.
        lr: peak SGD learning rate (warm-up then cosine, as :class:`~gemgraph.evaluate.ProxyTrainer`).
        seeds: seeded repeats per cell (seeds ``0 .. seeds - 1``: initialisation, data order,
            augmentation).
    """

    epochs: int = 2
    width: int = 8
    resolution: int = 16
    batch_size: int = 128
    lr: float = 0.1
    seeds: int = 3

    def __post_init__(self) -> None:
        for name in ("epochs", "width", "resolution", "batch_size", "seeds"):
            check_int(getattr(self, name), name, 1)
        if 32 % self.resolution:
            raise InputError(f"resolution: expected a divisor of 32 (32, 16, 8), got {self.resolution}")
        if not (isinstance(self.lr, (int, float)) and not isinstance(self.lr, bool) and math.isfinite(self.lr)
                and self.lr > 0):
            raise InputError(f"lr: expected a finite number > 0, got {self.lr!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def training_key(self) -> dict[str, Any]:
        """What identifies one repeat's training (every field but ``seeds``)."""
        return {k: v for k, v in asdict(self).items() if k != "seeds"}

    def load_data(self, root: str | os.PathLike | None = None) -> tuple[Any, Any]:
        r"""The reference set at :attr:`resolution`: ``(train, eval)`` datasets.

        Raises:
            FileNotFoundError: no ``cifar10-ref/cifar10_ref.npz`` under ``root`` / ``$GEMGRAPH_DATA``.
            ValueError: a malformed file.
        """
        from .cifar import cifar10_reference  # noqa: PLC0415 - the CIFAR-10 files only when validating

        data = cifar10_reference(root, split=("train", "eval"), resolution=self.resolution)
        assert isinstance(data, tuple)  # two splits asked for: a tuple
        return data[0], data[1]

    def trainer(self, seed: int = 0, *, root: str | os.PathLike | None = None, data: Any = None,
                device: str = "cpu", num_threads: int | None = None, progress: bool = False) -> Any:
        r"""The :class:`~gemgraph.evaluate.ProxyTrainer` of one reference repeat.

        Args:
            seed: the repeat's seed.
            root: data root holding ``cifar10-ref/cifar10_ref.npz`` (default ``$GEMGRAPH_DATA``).
            data: ``(train, eval)`` from :meth:`load_data` (else read from ``root``).
            device, num_threads, progress: as :class:`~gemgraph.evaluate.ProxyTrainer`.
        """
        from .evaluate import ProxyTrainer  # noqa: PLC0415 - the flop counter and networks, only to train

        train, ev = data if data is not None else self.load_data(root)
        return ProxyTrainer(epochs=self.epochs, batch_size=self.batch_size, lr=self.lr, width=self.width,
                            train_data=train, eval_data=ev, device=device, seed=seed, num_threads=num_threads,
                            progress=progress)

    def __repr__(self) -> str:
        return (f"ReferenceProtocol(epochs={self.epochs}, width={self.width}, resolution={self.resolution}, "
                f"batch_size={self.batch_size}, lr={self.lr}, seeds={self.seeds})")


#: The reference protocol ``gemgraph validate`` uses by default: 2 epochs of the 20,000 reference
#: images at 16x16 (312 SGD steps of batch 128), CifarNet width 8, measured on the 5,000
#: evaluation images, 3 seeds.
REFERENCE = ReferenceProtocol()


# ---------------------------------------------------------------------- the training log
def _cell_key(cell: Cell) -> dict[str, Any]:
    from .store import cell_to_json  # noqa: PLC0415 - gemgraph.store pulls sqlite and the serialisers

    return cell_to_json(cell)


def _digest(obj: Any) -> str:
    return hashlib.blake2b(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode(), digest_size=16).hexdigest()


class TrainingLog:
    r"""Append-only, checksummed record of trainings (``OUT/trainings.jsonl``).

    Each line is ``{"key": ..., "result": {...}, "check": blake2b}``, where ``key`` identifies the
    training (kind, cell, settings, seed). Lines that do not parse or whose checksum does not
    match (a write cut short, a hand edit) are skipped with a warning, so the training is done
    again; nothing is ever read from them.

    Args:
        path: the file (created with its folder on the first :meth:`add`).
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._rows: dict[str, dict[str, Any]] = {}
        self.skipped = 0
        if self.path.exists():
            try:
                text = self.path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise InputError(f"--out: {self.path} cannot be read ({type(exc).__name__}: {exc})") from None
            for n, line in enumerate(text.splitlines(), 1):
                try:
                    row = json.loads(line)
                    ok = isinstance(row, dict) and row.get("check") == _digest([row.get("key"), row.get("result")])
                except ValueError:
                    ok = False
                if not ok:
                    self.skipped += 1
                    logger.warning("%s: line %d is damaged or incomplete; that training is done again", self.path, n)
                    continue
                self._rows[_digest(row["key"])] = row["result"]

    def __len__(self) -> int:
        return len(self._rows)

    def __repr__(self) -> str:
        return f"TrainingLog({str(self.path)!r}, trainings={len(self)})"

    def get(self, key: Mapping[str, Any]) -> dict[str, Any] | None:
        """The stored result of training ``key``, or None."""
        return self._rows.get(_digest(dict(key)))

    def add(self, key: Mapping[str, Any], result: Mapping[str, Any]) -> None:
        """Append one training (flushed and fsynced before returning)."""
        key, result = dict(key), dict(result)
        line = json.dumps({"key": key, "result": result, "check": _digest([key, result])}, sort_keys=True)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(line + "\n")
            f.flush()
            os.fsync(f.fileno())
        self._rows[_digest(key)] = result


def _result_dict(res: Any) -> dict[str, Any]:
    def num(v: Any) -> Any:
        return None if v is None or (isinstance(v, float) and not math.isfinite(v)) else v

    return {"accuracy": num(res.accuracy), "score": num(res.score), "macs": num(res.macs), "status": res.status,
            "error": res.error, "seconds": num(res.train_seconds)}


# ---------------------------------------------------------------------- roles
@dataclass
class RoleCell:
    r"""A role's cell and how it was chosen.

    Attributes:
        role: one of :data:`ROLES`.
        cell: the cell.
        how: a sentence on how it was chosen.
        proxy_score, proxy_accuracy: the run's proxy measurement of it (None if never trained
            by the proxy).
    """

    role: str
    cell: Cell
    how: str
    proxy_score: float | None = None
    proxy_accuracy: float | None = None


def _run_parts(run_dir: str | os.PathLike) -> tuple[RunConfig, list[dict[str, Any]], dict[str, Any]]:
    """(the run's config, stored candidates, newest pick payload) of a run, read-only."""
    from .store import RunStore, store_path  # noqa: PLC0415 - sqlite and the serialisers

    path = store_path(run_dir)
    if not Path(run_dir).is_dir():
        raise FileNotFoundError(f"RUN: {str(run_dir)!r} is not a run directory")
    if not path.exists():
        raise FileNotFoundError(f"RUN: {str(run_dir)!r} holds no run store ({path.name}); it is not a search run")
    with RunStore(path, readonly=True) as st:
        cfg = RunConfig.from_stored(st.config)
        rows = st.candidates()
        picks = st.picks()
    if not picks:
        raise InputError(f"RUN: {str(run_dir)!r} has no pick yet (the search did not reach its bootstrap); "
                         f"finish it with `gemgraph search --resume {run_dir}` or run `gemgraph bootstrap {run_dir}`")
    return cfg, rows, picks[-1]["payload"]


def _objective_macs(cfg: RunConfig) -> Any:
    """The :class:`~gemgraph.cost.CellCost` of the network the run's scores count MACs on: the
    proxy's CifarNet (its width) at the data's own 32x32."""
    from .cost import CellCost  # noqa: PLC0415 - the cost tables, only when validating

    t = cfg.trainer
    return CellCost("cifarnet", width=t.width, cells_per_stage=t.cells_per_stage, input_size=32)


def role_cells(run_dir: str | os.PathLike, *, log: TrainingLog | None = None, trainer: Any = None,
               progress: bool = False, parts: tuple | None = None) -> dict[str, RoleCell]:
    r"""The four cells :func:`validate_run` trains (see the module docs), by role.

    Args:
        run_dir: the run directory.
        log: where the random role's extra proxy trainings are kept (and looked up); None: kept
            nowhere.
        trainer: the run's proxy trainer for those trainings (default
            :func:`gemgraph.builders.make_trainer` of the run's config, CPU, data from
            ``$GEMGRAPH_DATA`` or the embedded subset).
        progress: tqdm bar over those trainings.
        parts: ``(config, candidates, pick)`` already read (internal).

    Returns:
        ``{role: RoleCell}`` for every role of :data:`ROLES`.

    Raises:
        FileNotFoundError, ValueError: not a run, or a run without a pick.
    """
    from tqdm.auto import tqdm  # noqa: PLC0415 - only when a bar may show


    cfg, rows, pick = parts if parts is not None else _run_parts(run_dir)
    space = make_space(cfg)
    seed = int(cfg.seed)
    out: dict[str, RoleCell] = {}
    best = cell_from_json(pick["best"])
    top0 = (pick.get("top") or [{}])[0]
    out["pick"] = RoleCell("pick", best, "the run's newest pick", top0.get("measured"), top0.get("accuracy"))
    ok = [r for r in rows if r["status"] == "ok" and r["score"] is not None]
    if not ok:
        raise InputError(f"RUN: {str(run_dir)!r} has no successful candidate")
    bm = max(ok, key=lambda r: (r["score"], -r["iteration"]))
    out["best_measured"] = RoleCell("best_measured", bm["cell"], f"the run's best candidate by proxy score "
                                    f"(iteration {bm['iteration']})", bm["score"], bm["accuracy"])
    n_samples = int(cfg.bootstrap.num_samples)
    adj, ops = space.sample_tensors(n_samples, seed=derive_seed(seed, "cost-only"))
    macs = space.cost.macs((adj, ops)).numpy()
    i = int(np.argmin(macs))
    cheapest = space.to_cells(adj[i : i + 1], None if ops is None else ops[i : i + 1])[0]
    out["cost_only"] = RoleCell("cost_only", cheapest, f"the lowest-MAC cell of {n_samples} sampled from the run's "
                                f"space ({int(macs[i]):,} MACs on its regime's network)")
    # random search at equal trainings: the run's own random stream, as many cells as it trained
    n = len(rows) + int(pick.get("verify_top") or 0)
    stored = {r["iteration"]: r for r in rows}
    todo, results = [], {}
    for t in range(n):
        cell = random_candidate(space, seed, t)
        r = stored.get(t)
        if r is not None and r["cell"] == cell:
            results[t] = (cell, r["score"] if r["status"] == "ok" else None, r["accuracy"])
        else:
            todo.append((t, cell))
    if todo:
        key_base = {"kind": "proxy", "trainer": cfg.trainer.to_dict(), "objective": cfg.objective,
                    "lam": cfg.lam, "seed": seed}
        trainer = trainer if trainer is not None else make_trainer(cfg, device="cpu")
        for t, cell in tqdm(todo, desc="random search (proxy)", disable=not progress, leave=False):
            key = {**key_base, "cell": _cell_key(cell)}
            res = log.get(key) if log is not None else None
            if res is None:
                res = _result_dict(trainer.evaluate(cell))
                if log is not None:
                    log.add(key, res)
            results[t] = (cell, res["score"] if res["status"] == "ok" else None, res["accuracy"])
    scored = [(t, c, s, a) for t, (c, s, a) in sorted(results.items()) if s is not None]
    if not scored:
        raise InputError("random: every random cell failed its proxy training")
    t, c, s, a = max(scored, key=lambda x: (x[2], -x[0]))
    shared = sum(1 for t_ in results if t_ not in dict(todo))
    out["random"] = RoleCell("random", c, f"the best by proxy score of {n} random cells of the run's space "
                             f"(draw {t}; {shared} of them are the run's own candidates)", s, a)
    for rc in out.values():  # the same network under another labelling: one training
        rc.cell = network_key(rc.cell) if rc.cell.num_edges else rc.cell
    return out


# ---------------------------------------------------------------------- results
@dataclass
class RoleResult:
    r"""One role under the reference protocol.

    Attributes:
        role, how: as :class:`RoleCell`.
        cell: the (pruned) cell.
        accuracies: reference accuracy per seed (None where the training failed).
        macs: MACs per image on the run's regime network (closed form).
        scores: the run's objective per seed (from the reference accuracy).
        proxy_score, proxy_accuracy: the run's proxy measurement (None if never trained by it).
        same_as: the first role with the same cell (its trainings are shared), else None.
    """

    role: str
    how: str
    cell: Cell
    accuracies: list[float | None]
    macs: int
    scores: list[float | None]
    proxy_score: float | None = None
    proxy_accuracy: float | None = None
    same_as: str | None = None

    def accuracy(self) -> tuple[float | None, list[float] | None]:
        return _mean_ci(self.accuracies)

    def score(self) -> tuple[float | None, list[float] | None]:
        return _mean_ci(self.scores)

    def to_dict(self) -> dict[str, Any]:

        acc, acc_ci = self.accuracy()
        sc, sc_ci = self.score()
        pruned = self.cell
        return {"role": self.role, "how": self.how, "accuracy": acc, "accuracy_ci": acc_ci,
                "accuracies": self.accuracies, "macs": self.macs, "score": sc, "score_ci": sc_ci,
                "scores": self.scores, "proxy_score": self.proxy_score, "proxy_accuracy": self.proxy_accuracy,
                "op_nodes": pruned.num_nodes - 1, "edges": pruned.num_edges, "same_as": self.same_as,
                "cell": cell_to_json(self.cell)}


def _mean_ci(values: Sequence[float | None], confidence: float = 0.95) -> tuple[float | None, list[float] | None]:
    """Mean and Student-t interval of the finite values (interval None for fewer than 2)."""
    from .stats import mean_ci  # noqa: PLC0415 - scipy, only for the report

    x = [v for v in values if v is not None and math.isfinite(v)]
    if not x:
        return None, None
    if len(x) < 2:
        return float(x[0]), None
    iv = mean_ci(x, confidence=confidence, method="t")
    return iv.estimate, [iv.low, iv.high]


@dataclass
class Validation:
    r"""What :func:`validate_run` measured.

    Attributes:
        run: the run directory.
        objective: the run's objective (``"efficiency"`` or ``"regime"``); ``lam`` its cost weight.
        protocol: the :class:`ReferenceProtocol`.
        seeds: the reference seeds.
        roles: one :class:`RoleResult` per role of :data:`ROLES`.
        regime: the run's MAC window, ``min_ops`` and the network the MACs are counted on.
    """

    run: str
    objective: str
    lam: float
    protocol: ReferenceProtocol
    seeds: list[int]
    roles: list[RoleResult] = field(default_factory=list)
    regime: dict[str, Any] = field(default_factory=dict)

    def role(self, name: str) -> RoleResult:
        return next(r for r in self.roles if r.role == name)

    def paired(self, a: str, b: str, confidence: float = 0.95) -> dict[str, Any]:
        r"""Mean paired difference of the objective, ``a - b``, over the seeds where both trained,
        with a Student-t interval (None for fewer than 2 pairs)."""
        sa, sb = self.role(a).scores, self.role(b).scores
        d = [x - y for x, y in zip(sa, sb) if x is not None and y is not None]
        mean, ci = _mean_ci(d, confidence)
        return {"mean": mean, "ci": ci, "n": len(d), "values": d}

    def to_dict(self) -> dict[str, Any]:
        return {"run": self.run, "objective": self.objective, "lam": self.lam, "protocol": self.protocol.to_dict(),
                "seeds": self.seeds, "regime": self.regime, "roles": [r.to_dict() for r in self.roles],
                "paired": {f"pick-{b}": self.paired("pick", b) for b in ("cost_only", "random", "best_measured")}}

    def rows(self) -> list[dict[str, Any]]:
        """``validate.csv``'s rows: one per role and seed (:data:`CSV_COLUMNS`)."""
        out = []
        for r in self.roles:
            for s, acc, sc in zip(self.seeds, r.accuracies, r.scores):
                out.append({"role": r.role, "seed": s, "accuracy": acc, "macs": r.macs, "score": sc,
                            "proxy_score": r.proxy_score, "proxy_accuracy": r.proxy_accuracy,
                            "op_nodes": r.cell.num_nodes - 1, "edges": r.cell.num_edges, "same_as": r.same_as})
        return out

    def __repr__(self) -> str:
        p = self.paired("pick", "cost_only")["mean"], self.paired("pick", "random")["mean"]
        return (f"Validation(run={self.run!r}, objective={self.objective!r}, seeds={len(self.seeds)}, "
                f"pick-cost_only={p[0]}, pick-random={p[1]})")


def _atomic_write(path: Path, text: str | bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(text.encode() if isinstance(text, str) else text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_outputs(v: Validation, out: str | os.PathLike, plot: bool = True) -> list[Path]:
    r"""``validate.csv``, ``validate.json`` and (``plot``) ``validate.png`` in ``out``, each
    written whole or not at all (a temporary file renamed into place).

    Returns:
        The paths written.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(CSV_COLUMNS), lineterminator="\n")
    w.writeheader()
    for row in v.rows():
        w.writerow({k: ("" if row[k] is None else row[k]) for k in CSV_COLUMNS})
    paths = [out / "validate.csv", out / "validate.json"]
    _atomic_write(paths[0], buf.getvalue())
    _atomic_write(paths[1], json.dumps(v.to_dict(), indent=2, allow_nan=False))
    if plot:
        from .plots import plot_validation  # noqa: PLC0415 - matplotlib, only to plot

        png = out / "validate.png"
        tmp = out / "validate.tmp.png"
        try:
            plot_validation(v, tmp)
            os.replace(tmp, png)
        finally:
            if tmp.exists():
                tmp.unlink()
        paths.append(png)
    return paths


def validate_run(
    run_dir: str | os.PathLike,
    *,
    out: str | os.PathLike | None = None,
    protocol: ReferenceProtocol = REFERENCE,
    seeds: int | Iterable[int] | None = None,
    data_root: str | os.PathLike | None = None,
    device: str = "cpu",
    num_threads: int | None = 1,
    progress: bool = False,
    plot: bool = True,
) -> Validation:
    r"""Train a finished run's pick, best measured candidate, cost-only pick and random-search
    answer under the reference protocol, and compare them on the run's objective.

    Args:
        run_dir: the run directory (read only).
        out: folder for ``trainings.jsonl`` (the resumable record of every training),
            ``validate.csv``, ``validate.json`` and ``validate.png``; default ``RUN/validate``.
        protocol: the :class:`ReferenceProtocol`.
        seeds: the reference seeds: a count (``0 .. n-1``) or the seeds themselves; default
            ``protocol.seeds``.
        data_root: root holding ``cifar10-ref/`` (and the proxy data, for the random role's extra
            trainings); default ``$GEMGRAPH_DATA``.
        device: where the reference trainings run (``"auto"``, ``"cpu"``, ``"cuda"``).
        num_threads: CPU threads per training (None: torch's setting as it is; restored after
            each training).
        progress: tqdm bars.
        plot: write ``validate.png``.

    Returns:
        A :class:`Validation` (also written to ``out``).

    Raises:
        FileNotFoundError: not a run directory, or the reference set (or the proxy data the
            random role needs) is missing; nothing is trained or written.
        ValueError: a run without a pick or a successful candidate, bad ``seeds``, an
            unwritable ``out``.
    """
    from tqdm.auto import tqdm  # noqa: PLC0415


    if not isinstance(protocol, ReferenceProtocol):
        raise InputError(f"protocol: expected a ReferenceProtocol, got {type(protocol).__name__}")
    if seeds is None:
        seed_list = list(range(protocol.seeds))
    elif isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        seed_list = list(range(check_int(seeds, "seeds", 1)))
    else:
        try:
            seed_list = [check_int(s, "seeds", 0) for s in seeds]  # type: ignore[union-attr]
        except TypeError:
            raise InputError(f"seeds: expected a count >= 1 or a list of seeds, got {seeds!r}") from None
        if not seed_list or len(set(seed_list)) != len(seed_list):
            raise InputError(f"seeds: expected distinct seeds, at least one, got {seeds!r}")
    parts = _run_parts(run_dir)  # refuses a non-run or a run without a pick before anything else
    cfg = parts[0]
    out_dir = Path(out) if out is not None else Path(run_dir) / "validate"
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"--out: {str(out_dir)!r} exists and is not a folder")
    data = protocol.load_data(data_root)  # a missing reference set fails here, before any training
    trainer = make_trainer(cfg, device="cpu", data_root=None if data_root is None else os.fspath(data_root))
    try:
        trainer.check_data()
    except FileNotFoundError as exc:
        # a root with the reference set only: the embedded subset serves a run that can use it
        fallback = make_trainer(cfg, device="cpu", data_root=None) if data_root is not None else None
        try:
            if fallback is None:
                raise exc
            fallback.check_data()
            trainer = fallback
            logger.info("no proxy data under %s: the random role's trainings use the embedded subset", data_root)
        except FileNotFoundError:
            raise FileNotFoundError(f"the run's proxy data (for the random role's trainings): {exc}") from None
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / ".write-probe"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise InputError(f"--out: {str(out_dir)!r} cannot be written ({exc.strerror or exc})") from None
    log = TrainingLog(out_dir / "trainings.jsonl")
    cells = role_cells(run_dir, log=log, trainer=trainer, progress=progress, parts=parts)
    space = make_space(cfg)
    obj = cfg.objective
    lam = float(cfg.lam)
    obj_cost = _objective_macs(cfg)
    v = Validation(run=str(run_dir), objective=obj, lam=lam, protocol=protocol, seeds=seed_list,
                   regime={"macs": None if space.macs is None else list(space.macs), "min_ops": space.min_ops,
                           "network": space.cost.config})
    first: dict[Cell, str] = {}
    jobs = [(role, s) for role in ROLES for s in seed_list]
    bar = tqdm(total=len(jobs), desc="reference trainings", disable=not progress)
    try:
        for role in ROLES:
            rc = cells[role]
            same = first.setdefault(rc.cell, role)
            accs: list[float | None] = []
            for s in seed_list:
                key = {"kind": "reference", "protocol": protocol.training_key(), "seed": s, "cell": _cell_key(rc.cell)}
                res = log.get(key)
                if res is None:
                    res = _result_dict(protocol.trainer(s, data=data, device=device, num_threads=num_threads)
                                       .evaluate(rc.cell))
                    log.add(key, res)
                accs.append(res["accuracy"] if res["status"] == "ok" else None)
                bar.update(1)
            m_obj = float(obj_cost.macs([rc.cell])[0])
            scores = [None if a is None else float(objective_score(a, m_obj, obj, lam)) for a in accs]
            v.roles.append(RoleResult(role, rc.how, rc.cell, accs, int(space.cost.macs([rc.cell])[0]), scores,
                                      rc.proxy_score, rc.proxy_accuracy, None if same == role else same))
    finally:
        bar.close()
    write_outputs(v, out_dir, plot=plot)
    return v
