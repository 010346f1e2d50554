r"""Typed run configs: one frozen dataclass per section, the presets as instances.

A search run's settings are a :class:`RunConfig`: the loop's own ``iterations``, ``lam``,
``seed`` and ``preset``, and six sections,

=============  ========================  ==================================================
section        class                     what it configures
=============  ========================  ==================================================
``space``      :class:`SpaceConfig`      the supernet and its computation regime
``encoder``    :class:`EncoderConfig`    the graph encoder and the WL kernel it learns
``trainer``    :class:`TrainerConfig`    the proxy training of each candidate
``predictor``  :class:`PredictorConfig`  the efficiency-score predictor
``sampler``    :class:`SamplerConfig`    how the loop proposes candidates
``bootstrap``  :class:`BootstrapConfig`  the bootstrap optimisation that picks the cell
=============  ========================  ==================================================

Every field is declared with a type and a default; a config is validated (types checked,
safe coercions such as ``5000.0 -> 5000`` or ``[1, 2] -> (1, 2)`` made) when it is built, and
an unknown key anywhere raises :class:`~gemgraph.errors.InputError` (a ``ValueError``) naming
the key and listing the valid ones.

**Dict form.** :meth:`RunConfig.to_dict` gives the plain JSON dict the store keeps; the
builders (:mod:`gemgraph.builders`) read the typed attributes (``cfg.encoder.dim``) and take
that dict too, read back with :meth:`RunConfig.from_stored`. It keeps the shape run
stores have always had: the space's keys (``nodes``, ``ops``, ``max_concat``, ``edge_prob``,
``macs``, ``min_ops``, ``macs_network``) sit at the top level beside ``iterations``, ``lam``,
``seed`` and ``preset``; every other section is a nested table. Overrides name keys the same
way (``"nodes"``, ``"trainer.epochs"``); ``"space.nodes"`` and a ``space`` table are accepted
as another spelling of the space's keys.

**Presets** (:data:`PRESETS`) are instances: ``default`` is ``RunConfig()``; ``quick``,
``paper``, ``imagenet-a`` and ``imagenet-b`` change the fields listed in their definitions
below. :func:`build_config` returns a preset with overrides, as a dict.

**Precedence** in ``gemgraph search`` (:func:`resolve_config`): the preset < the ``--config``
file < ``--set section.key=value`` < the explicit flags (``--nodes``, ``--epochs``, ...). The
preset itself is ``--preset``, else a ``preset`` key in ``--set``, else in the file, else
``default``.

**Stored configs.** A run store keeps the resolved config (every key). Stores written before
a key existed lack it; :meth:`RunConfig.from_stored` gives such a key the value the run was
made with (:data:`LEGACY_DEFAULTS`: e.g. no MAC window, degree labels, the random sampler),
and refuses a stored config with a key this version does not know, saying how to proceed.
"""
from __future__ import annotations

import dataclasses
import difflib
import json
import math
import numbers
import os
import sys
import types
import typing
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar, NamedTuple, Union

from . import __version__
from .space import check_macs_window
from .wl import label_names
from .errors import InputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10: TOML files need the tomli package
    try:
        import tomli as tomllib  # type: ignore[import-not-found]  # optional: Python 3.10 only
    except ModuleNotFoundError:
        tomllib = None

__all__ = [
    "BootstrapConfig", "EncoderConfig", "PredictorConfig", "RunConfig", "SamplerConfig", "SpaceConfig",
    "TrainerConfig", "PRESETS", "PRESET_DESCRIPTIONS", "PresetDescription", "LEGACY_DEFAULTS", "CIFAR_MACS_NETWORK",
    "IMAGENET_MACS_NETWORK",
    "build_config", "preset_config", "resolve_config", "changed_keys", "load_config_file", "parse_set",
]


# ---------------------------------------------------------------------- immutable JSON values
class FrozenDict(Mapping):
    r"""A read-only, hashable dict (nested dicts and lists frozen too): the value of a table
    field such as :attr:`SpaceConfig.macs_network`. Compares equal to a dict with the same
    items; :func:`thaw` (or ``dict(...)``) gives a plain, mutable copy."""

    __slots__ = ("_data",)
    _data: dict[str, Any]

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        object.__setattr__(self, "_data", {k: _freeze(v) for k, v in dict(data or {}).items()})

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Mapping):
            return NotImplemented
        return thaw(self) == thaw(other)

    def __hash__(self) -> int:
        return hash(frozenset(self._data.items()))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("FrozenDict is read-only")

    def __repr__(self) -> str:
        return f"FrozenDict({self._data!r})"

    def __reduce__(self) -> tuple:
        return (FrozenDict, (thaw(self),))


def _freeze(x: Any) -> Any:
    if isinstance(x, Mapping):
        return x if isinstance(x, FrozenDict) else FrozenDict(x)
    if isinstance(x, (list, tuple)):
        return tuple(_freeze(v) for v in x)
    return x


def thaw(x: Any) -> Any:
    """A plain JSON-ready copy of a config value: tuples -> lists, frozen tables -> dicts."""
    if isinstance(x, Mapping):
        return {k: thaw(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [thaw(v) for v in x]
    return x


# ---------------------------------------------------------------------- type checks and coercion
class _Mismatch(Exception):
    pass


_NONE_WORDS = ("none", "null")  # TOML has no null: an optional field takes these strings as None


def _coerce(value: Any, hint: Any) -> Any:
    """``value`` as the type ``hint`` says, or :class:`_Mismatch`."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return _freeze(value)
    if origin in (Union, types.UnionType):
        if type(None) in args and (value is None or (isinstance(value, str) and value.lower() in _NONE_WORDS)):
            return None
        for a in args:
            if a is type(None):
                continue
            try:
                return _coerce(value, a)
            except _Mismatch:
                pass
        raise _Mismatch
    if hint is bool:
        if isinstance(value, bool) or type(value).__name__ == "bool_":  # numpy.bool_ without importing numpy
            return bool(value)
        raise _Mismatch
    if hint is int:
        if isinstance(value, bool):
            raise _Mismatch
        if isinstance(value, numbers.Integral):
            return int(value)
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise _Mismatch
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(float(value)):
            raise _Mismatch
        return float(value)
    if hint is str:
        if isinstance(value, str):
            return value
        raise _Mismatch
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise _Mismatch
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(v, args[0]) for v in value)
        if len(value) != len(args):
            raise _Mismatch
        return tuple(_coerce(v, a) for v, a in zip(value, args))
    if origin is Mapping:
        if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
            raise _Mismatch
        return _freeze(value)
    raise TypeError(f"config: unsupported field type {hint!r}")  # pragma: no cover - a programming error


_WORDS = {int: ("an int", "ints"), float: ("a number", "numbers"), bool: ("true or false", "booleans"),
          str: ("a string", "strings"), type(None): ("None", "None")}


def _describe(hint: Any) -> str:
    """``hint`` in words: ``int | None`` -> ``"an int or None"``."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint in _WORDS:
        return _WORDS[hint][0]
    if origin in (Union, types.UnionType):
        return " or ".join(_describe(a) for a in args)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return f"a list of {_WORDS.get(args[0], (None, 'values'))[1]}"
        return "a list [" + ", ".join(_describe(a) for a in args) + "]"
    if origin is Mapping:
        return "a table (dict) with string keys"
    return str(hint)


def _unknown_key(key: str, valid: Sequence[str], what: str = "config key") -> ValueError:
    last = key.rsplit(".", 1)[-1]
    close = difflib.get_close_matches(last, valid, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return ValueError(f"{key}: unknown {what}{hint}; expected one of {', '.join(sorted(valid))}")


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


# ---------------------------------------------------------------------- sections
class _Section:
    """Shared behaviour of the config sections: coercion on construction, dict form, merging."""

    #: how the section's keys are named in the dict form ("trainer." ...; "" for the space)
    _prefix: ClassVar[str] = ""

    def __post_init__(self) -> None:
        hints = _hints(type(self))
        for f in fields(self):  # type: ignore[arg-type]
            value, hint = getattr(self, f.name), hints[f.name]
            if isinstance(hint, type) and issubclass(hint, _Section):
                continue  # RunConfig's sections are checked by RunConfig
            name = self._prefix + f.name
            try:
                coerced = _coerce(value, hint)
            except _Mismatch:
                expect = f.metadata.get("expect") or _describe(hint)
                raise InputError(f"{name}: expected {expect}, got {value!r}") from None
            choices = f.metadata.get("choices")
            if choices is not None and coerced not in choices:
                raise InputError(f"{name}: expected one of {list(choices)}, got {value!r}")
            check = f.metadata.get("check")
            if check is not None:
                coerced = check(coerced, name)
            object.__setattr__(self, f.name, coerced)

    @classmethod
    def keys(cls) -> list[str]:
        """The section's field names."""
        return [f.name for f in fields(cls)]  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, Any]:
        """The section as a plain JSON-ready dict (tuples as lists)."""
        return {f.name: thaw(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]

    def merged(self, values: Mapping[str, Any]) -> Any:
        """A copy with the keys of ``values`` changed (validated; unknown keys raise ValueError)."""
        if not isinstance(values, Mapping):
            name = self._prefix.rstrip(".") or "space"
            raise InputError(f"{name}: expected a table of {name} settings, got {values!r}")
        valid = self.keys()
        for key in values:
            if key not in valid:
                raise _unknown_key(self._prefix + str(key), valid)
        return dataclasses.replace(self, **values)  # type: ignore[type-var]

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> Any:
        """The section from a dict; missing keys take the field defaults."""
        return cls().merged(values)


#: The largest cell size a config accepts: the sampled cells (num_samples x N x N bytes), the
#: encoder's input (N x N) and the WL features grow with N^2 (the paper: 30).
MAX_NODES: int = 256
#: The largest seed (torch and numpy take seeds of up to 63 / 64 bits).
MAX_SEED: int = 2**63 - 1


def _ints(low: int, high: int | None = None) -> Any:
    """A field check: an int in ``[low, high]`` (None passes, for optional fields)."""
    want = f"an int >= {low}" if high is None else f"an int in [{low:,}, {high:,}]"

    def check(value: Any, name: str) -> Any:
        if value is not None and (value < low or (high is not None and value > high)):
            raise InputError(f"{name}: expected {want}, got {value!r}")
        return value
    return check


def _positive(value: Any, name: str) -> Any:
    """A field check: a number > 0 (None passes)."""
    if value is not None and not value > 0:
        raise InputError(f"{name}: expected a number > 0, got {value!r}")
    return value


def _check_edge_prob(value: Any, name: str) -> Any:
    lo, hi = value
    if not 0 < lo <= hi <= 1:
        raise InputError(f"{name}: expected [low, high] with 0 < low <= high <= 1, got {list(value)}")
    return value


def _check_macs(value: Any, name: str) -> Any:
    return check_macs_window(value, name)


def _check_labels(value: Any, name: str) -> Any:
    label_names(value, name)
    return value


@dataclass(frozen=True)
class SpaceConfig(_Section):
    r"""The supernet the cells are drawn from, and the run's computation regime. In the dict
    form these keys sit at the top level (``cfg["nodes"]``, override ``"nodes"``).

    Attributes:
        nodes: N, nodes of the supernet including the input node 0 (the paper: 30).
        max_concat: cap on concatenations (nodes with in-degree > 1) per cell; None: no cap.
        ops: operations a non-input node may take (names from :data:`gemgraph.OPS`).
        edge_prob: ``(low, high)``: each sampled cell's edge density is drawn in this range
            (probabilities, ``0 < low <= high <= 1``).
        macs: MAC window ``(low, high)`` in multiply-accumulates per image, measured on
            ``macs_network``; ``high`` None: no upper bound; None: no window.
        min_ops: keep cells with at least this many operation nodes after pruning; None: any.
        macs_network: the network the window is measured on, a
            :class:`~gemgraph.cost.CellCost` config (``network``, ``width``, ``input_size``
            ...); None: CifarNet width 16 at 32x32.
    """

    nodes: int = field(default=30, metadata={"check": _ints(2, MAX_NODES)})
    max_concat: int | None = field(default=8, metadata={"check": _ints(0)})
    ops: tuple[str, ...] = ("conv1x1", "sepconv3x3")
    edge_prob: tuple[float, float] = field(default=(0.1, 0.5), metadata={"check": _check_edge_prob})
    macs: tuple[float, float | None] | None = field(
        default=(25e6, 100e6), metadata={"expect": "None or a [low, high] pair of MAC counts (high may be None)",
                                         "check": _check_macs})
    min_ops: int | None = field(default=5, metadata={"check": _ints(1)})
    macs_network: Mapping[str, Any] | None = field(
        default_factory=lambda: FrozenDict(CIFAR_MACS_NETWORK))


@dataclass(frozen=True)
class EncoderConfig(_Section):
    r"""The graph encoder and the WL kernel it is trained to match (``cfg["encoder"]``).

    Attributes:
        name: encoder name in :mod:`gemgraph.encoders` (``"mlp"``, ``"gin"``, ``"gcn"``,
            ``"raw"``).
        dim: embedding dimension d.
        wl_iter: WL iterations h.
        n_train: distinct training graphs (cells of the unrestricted supernet).
        time_limit: budget on training time in seconds (the schedule is shortened to fit;
            results then depend on the machine's speed); None: no limit.
        max_epochs: epochs of the one-cycle schedule (early stopping applies).
        labels: WL node labels: ``"degree"`` (the paper's) or a list of label names such as
            ``["degree", "op"]`` (ops-aware).
        use_ops: feed the encoder the one-hot ops besides the adjacency.
    """

    _prefix: ClassVar[str] = "encoder."

    name: str = "mlp"
    dim: int = field(default=128, metadata={"check": _ints(1, 4096)})
    wl_iter: int = field(default=3, metadata={"check": _ints(0, 20)})
    n_train: int = field(default=160_000, metadata={"check": _ints(2)})
    time_limit: float | None = field(default=None, metadata={"check": _positive})
    max_epochs: int = field(default=16, metadata={"check": _ints(1)})
    labels: str | tuple[str, ...] = field(default=("degree", "op"), metadata={"check": _check_labels})
    use_ops: bool = True


@dataclass(frozen=True)
class TrainerConfig(_Section):
    r"""The proxy training that scores each candidate (``cfg["trainer"]``;
    :class:`~gemgraph.evaluate.ProxyTrainer`).

    Attributes:
        epochs: training epochs per candidate.
        width: channels of the proxy network's first stage (CifarNet).
        cells_per_stage: cells stacked per stage of the proxy network.
        max_train_images: a class-balanced subset of this many training images; None: all
            (5,000 in the CIFAR-10 proxy set).
        batch_size: images per SGD step.
        lr: peak SGD learning rate.
        split: the split accuracy is measured on, ``"val"`` or ``"test"``.
        num_threads: CPU threads while a candidate trains; None: torch's setting as it is.
        resolution: side in pixels the images are average-pooled to before training (MACs
            stay those at the data's own 32x32); None: as the data come.
        max_eval_images: measure accuracy on at most this many images; None: all (1,000).
    """

    _prefix: ClassVar[str] = "trainer."

    epochs: int = field(default=5, metadata={"check": _ints(1)})
    width: int = field(default=16, metadata={"check": _ints(1, 1024)})
    cells_per_stage: int = field(default=1, metadata={"check": _ints(1, 64)})
    max_train_images: int | None = field(default=None, metadata={"check": _ints(1)})
    batch_size: int = field(default=128, metadata={"check": _ints(1)})
    lr: float = field(default=0.1, metadata={"check": _positive})
    split: str = field(default="val", metadata={"choices": ("val", "test")})
    num_threads: int | None = field(default=None, metadata={"check": _ints(1)})
    resolution: int | None = field(default=None, metadata={"check": _ints(1, 1024)})
    max_eval_images: int | None = field(default=None, metadata={"check": _ints(1)})


@dataclass(frozen=True)
class PredictorConfig(_Section):
    r"""The efficiency-score predictor (``cfg["predictor"]``;
    :class:`~gemgraph.predictor.EfficiencyPredictor`).

    Attributes:
        hidden: hidden units of each member's two-layer MLP.
        n_members: ensemble members (1: a single MLP, as in the paper).
        target: ``"rank"`` (regress the scores' normal-quantile ranks) or ``"none"`` (the
            standardised scores, the paper's).
        loss: ``"mse"`` or ``"pairwise"`` (logistic ranking loss).
    """

    _prefix: ClassVar[str] = "predictor."

    hidden: int = field(default=128, metadata={"check": _ints(1, 16384)})
    n_members: int = field(default=5, metadata={"check": _ints(1, 1000)})
    target: str = field(default="rank", metadata={"choices": ("none", "rank")})
    loss: str = field(default="mse", metadata={"choices": ("mse", "pairwise")})


@dataclass(frozen=True)
class SamplerConfig(_Section):
    r"""How the loop proposes candidates (``cfg["sampler"]``; :mod:`gemgraph.samplers`).

    Attributes:
        name: ``"random"`` (the paper's), ``"acquisition"`` / ``"mean"``, ``"ucb"`` or
            ``"thompson"`` (predictor-guided batches); ``"rea"``, ``"ls"``, ``"bananas"``,
            ``"bowl"`` (:mod:`gemgraph.peers`) need a space with ``neighbours`` (NAS-Bench-101).
        batch_size: candidates per predictor-guided batch (ignored by ``random``).
        n_init: random candidates before the first guided batch (ignored by ``random``).
        kappa: the std multiplier of ``ucb`` (mean + kappa * std); ignored otherwise.
    """

    _prefix: ClassVar[str] = "sampler."

    name: str = "random"
    batch_size: int = field(default=10, metadata={"check": _ints(1)})
    n_init: int = field(default=10, metadata={"check": _ints(2)})
    kappa: float = 1.0


@dataclass(frozen=True)
class BootstrapConfig(_Section):
    r"""The bootstrap optimisation that picks the run's cell (``cfg["bootstrap"]``).

    Attributes:
        num_samples: cells sampled from the space and ranked by the predictor.
        top_k: best-predicted cells kept in the pick.
        verify_top: of those, this many are trained (proxy) and the pick re-ranked by the
            measured score; 0: none.
    """

    _prefix: ClassVar[str] = "bootstrap."

    num_samples: int = field(default=50_000, metadata={"check": _ints(1)})
    top_k: int = field(default=5, metadata={"check": _ints(1)})
    verify_top: int = field(default=0, metadata={"check": _ints(0)})


_SECTIONS: dict[str, type[_Section]] = {"encoder": EncoderConfig, "trainer": TrainerConfig,
                                         "predictor": PredictorConfig, "sampler": SamplerConfig,
                                         "bootstrap": BootstrapConfig}
_SPACE_KEYS: tuple[str, ...] = tuple(SpaceConfig.keys())
_OWN_KEYS: tuple[str, ...] = ("iterations", "lam", "seed", "preset", "objective")


@dataclass(frozen=True)
class RunConfig(_Section):
    r"""A search run's whole config; the default is the ``default`` preset.

    Attributes:
        iterations: T, candidates trained by the search (Algorithm 1).
        lam: lambda of the efficiency score S = ACC - lam * ln(MACs in millions).
        objective: what the search maximises (:data:`gemgraph.score.OBJECTIVES`):
            ``"efficiency"``, the paper's S = ACC - lam * ln(MMACs); or ``"regime"``, the
            accuracy of a cell inside the computation regime (the MAC window ``macs``,
            required; ``lam`` is not used).
        seed: the run's seed (encoder training, sampling, proxy training, predictor).
        preset: the preset the config was built from (a label; :data:`PRESETS`).
        space: the supernet and the computation regime (:class:`SpaceConfig`).
        encoder: :class:`EncoderConfig`.  trainer: :class:`TrainerConfig`.
        predictor: :class:`PredictorConfig`.  sampler: :class:`SamplerConfig`.
        bootstrap: :class:`BootstrapConfig`.

    Example:
        >>> cfg = PRESETS["quick"].with_overrides({"nodes": 12, "trainer.epochs": 1})
        >>> cfg.space.nodes, cfg.trainer.epochs
        (12, 1)
        >>> cfg.to_dict()["trainer"]["epochs"]      # the plain dict the store keeps
        1
    """

    iterations: int = field(default=50, metadata={"check": _ints(2)})
    lam: float = 0.1
    seed: int = field(default=0, metadata={"check": _ints(0, MAX_SEED)})
    preset: str = "default"
    objective: str = field(default="efficiency", metadata={"choices": ("efficiency", "regime")})
    space: SpaceConfig = field(default_factory=SpaceConfig)
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    predictor: PredictorConfig = field(default_factory=PredictorConfig)
    sampler: SamplerConfig = field(default_factory=SamplerConfig)
    bootstrap: BootstrapConfig = field(default_factory=BootstrapConfig)

    def __post_init__(self) -> None:
        super().__post_init__()
        for name, cls in (("space", SpaceConfig), *_SECTIONS.items()):
            value = getattr(self, name)
            if not isinstance(value, cls):
                raise InputError(f"{name}: expected a {cls.__name__}, got {value!r}")
        if self.space.min_ops is not None and self.space.min_ops > self.space.nodes - 1:
            raise InputError(f"min_ops: expected at most nodes - 1 = {self.space.nodes - 1} operation nodes, got "
                             f"{self.space.min_ops}")
        if self.bootstrap.verify_top > self.bootstrap.top_k:
            raise InputError(f"bootstrap.verify_top: expected at most bootstrap.top_k = {self.bootstrap.top_k}, got "
                             f"{self.bootstrap.verify_top}")
        if self.objective == "regime" and self.space.macs is None:
            raise InputError("objective: 'regime' (the accuracy inside a MAC window) needs a MAC window; got macs = "
                             "None (set macs = [low, high], or objective = 'efficiency')")

    @classmethod
    def keys(cls) -> list[str]:
        """Valid top-level keys of the dict form (the space's keys, the loop's, the sections)."""
        return [*_OWN_KEYS, *_SPACE_KEYS, *_SECTIONS, "space"]

    @classmethod
    def all_keys(cls) -> list[str]:
        """Every leaf key of the dict form, dotted: ``nodes``, ``trainer.epochs`` ..."""
        return [*_OWN_KEYS, *_SPACE_KEYS, *(f"{s}.{k}" for s, c in _SECTIONS.items() for k in c.keys())]

    def to_dict(self) -> dict[str, Any]:
        """The plain JSON-ready dict (the store's shape): space keys at the top level."""
        out: dict[str, Any] = {"preset": self.preset, "iterations": self.iterations, "seed": self.seed,
                               "lam": self.lam, "objective": self.objective, **self.space.to_dict()}
        for name in _SECTIONS:
            out[name] = getattr(self, name).to_dict()
        return out

    def merged(self, values: Mapping[str, Any]) -> "RunConfig":
        r"""A copy with the keys of the nested dict ``values`` changed: top-level keys, the
        space's keys (flat, or in a ``space`` table), and partial section tables
        (``{"trainer": {"epochs": 3}}``). Unknown keys raise ValueError listing the valid ones."""
        if not isinstance(values, Mapping):
            raise InputError(f"config: expected a table (dict) of settings, got {values!r}")
        valid = self.keys()
        own: dict[str, Any] = {}
        space: dict[str, Any] = {}
        sections: dict[str, Any] = {}
        for key, value in values.items():
            if key not in valid:
                raise _unknown_key(str(key), valid)
            if key in _OWN_KEYS:
                own[key] = value
            elif key in _SPACE_KEYS:
                space[key] = value
            elif key == "space":
                if not isinstance(value, Mapping):
                    raise InputError(f"space: expected a table of space settings, got {value!r}")
                for k, v in value.items():
                    if k in space and space[k] != v:
                        raise InputError(f"space.{k}: given twice with different values ({space[k]!r}, {v!r})")
                    space[k] = v
            else:
                sections[key] = getattr(self, key).merged(value)
        if space:
            sections["space"] = self.space.merged(space)
        return dataclasses.replace(self, **own, **sections)

    def with_overrides(self, overrides: Mapping[str, Any]) -> "RunConfig":
        r"""A copy with ``"section.key"`` (or top-level, or ``"space.key"``) overrides set; a
        value None sets None (:func:`build_config` skips None instead)."""
        return self.merged(_nest(overrides))

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "RunConfig":
        """A config from its dict form; missing keys take the field defaults (the ``default``
        preset's values). For a config read from a run store use :meth:`from_stored`."""
        return cls().merged(values)

    @classmethod
    def from_stored(cls, values: Mapping[str, Any]) -> "RunConfig":
        r"""The config of a run store, as the run was made: keys added to the config after the
        store was written take :data:`LEGACY_DEFAULTS` (what gemgraph did without them), every
        other key must be present.

        Raises:
            ValueError: ``config:`` for a stored config with unknown keys (written by another
                gemgraph version), missing keys or bad values (not a search run's config).
        """
        if not isinstance(values, Mapping):
            raise InputError(f"config: the run's stored config is not a table, got {values!r}")
        flat = _flatten(values)
        valid = cls.all_keys()
        missing = [k for k in valid if k not in flat and k not in LEGACY_DEFAULTS]
        if missing:
            raise InputError(f"config: the run's stored config lacks {missing}: it is not a gemgraph search run's "
                             "config (or it is damaged)")
        unknown = sorted(k for k in flat if k not in valid)
        if unknown:
            raise InputError(
                f"config: the run's stored config has key(s) {unknown} that gemgraph {__version__} does not know "
                f"(valid: {', '.join(valid)}); the run was written by another gemgraph version: open it with that "
                "version, or start a new run with the settings you want (gemgraph config show lists them)")
        filled = {**{k: v for k, v in LEGACY_DEFAULTS.items() if k not in flat}, **flat}
        try:
            return cls().with_overrides(filled)
        except ValueError as exc:
            raise InputError(f"config: the run's stored config has a bad value: {exc}") from None

    def to_lines(self) -> str:
        """One ``key = value`` line per leaf key (values as JSON), sections last."""
        d = self.to_dict()
        return "\n".join(f"{k} = {json.dumps(v)}" for k, v in _flatten(d).items())


def _nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    """``{"trainer.epochs": 3, "nodes": 6}`` -> ``{"trainer": {"epochs": 3}, "nodes": 6}``."""
    out: dict[str, Any] = {}
    for key, value in flat.items():
        if not isinstance(key, str):
            raise InputError(f"config: expected string keys, got {key!r}")
        if "." not in key:
            out[key] = value
            continue
        sec, sub = key.split(".", 1)
        if sec not in (*_SECTIONS, "space"):
            raise _unknown_key(key, [*_SECTIONS, "space"], what="config section")
        table = out.setdefault(sec, {})
        if not isinstance(table, dict):
            raise InputError(f"{key}: given both as {sec!r} = {table!r} and as a dotted key")
        table[sub] = value
    return out


def _flatten(d: Mapping[str, Any]) -> dict[str, Any]:
    """Nested dict form -> dotted leaf keys (the ``space`` table lifted to the top level)."""
    out: dict[str, Any] = {}
    for key, value in d.items():
        if key in _SECTIONS and isinstance(value, Mapping):
            out.update({f"{key}.{k}": v for k, v in value.items()})
        elif key == "space" and isinstance(value, Mapping):
            out.update(value)
        else:
            out[key] = value
    return out


# ---------------------------------------------------------------------- presets
#: The network the CIFAR presets' MAC window is measured on: the reference proxy network,
#: CifarNet width 16 at 32x32, whatever the trainer's width (a :class:`~gemgraph.cost.CellCost`
#: config, counted in closed form).
CIFAR_MACS_NETWORK: dict[str, Any] = {"network": "cifarnet", "width": 16, "cells_per_stage": 1, "input_size": [32, 32]}
#: The network of ``imagenet-a`` / ``imagenet-b``: the GEMNet network, MobileNet width 0.5
#: (expansion 1) at 224x224.
IMAGENET_MACS_NETWORK: dict[str, Any] = {"network": "mobilenet", "width": 0.5, "expansion": 1.0,
                                         "input_size": [224, 224]}

_DEFAULT = RunConfig()
#: Settings bundles, as instances: :data:`PRESET_DESCRIPTIONS` says what each runs, its
#: definition below the fields it changes (``default`` = ``RunConfig()``). ``quick-regime`` is
#: ``quick`` on the regime objective because the efficiency score's cost term outweighs a short
#: proxy's accuracy spread. ``imagenet-a`` / ``imagenet-b``: GEMNet-A / B's 463M / 563M MACs +- 5%.
PRESETS: Mapping[str, RunConfig] = types.MappingProxyType({
    "quick": _DEFAULT.with_overrides({
        "preset": "quick", "iterations": 8, "encoder.n_train": 20_000, "trainer.epochs": 2, "trainer.width": 8,
        "trainer.batch_size": 64, "trainer.num_threads": 1, "trainer.resolution": 16,
        "bootstrap.num_samples": 5_000, "bootstrap.verify_top": 2}),
    "quick-regime": _DEFAULT.with_overrides({
        "preset": "quick-regime", "objective": "regime", "iterations": 8, "encoder.n_train": 20_000,
        "trainer.epochs": 2, "trainer.width": 8, "trainer.batch_size": 64, "trainer.num_threads": 1,
        "trainer.resolution": 16, "bootstrap.num_samples": 5_000, "bootstrap.verify_top": 2}),
    "default": _DEFAULT,
    "paper": _DEFAULT.with_overrides({
        "preset": "paper", "iterations": 200, "trainer.epochs": 10, "bootstrap.verify_top": 3,
        "encoder.labels": "degree", "encoder.use_ops": False, "macs": None, "min_ops": None}),
    "imagenet-a": _DEFAULT.with_overrides({"preset": "imagenet-a", "macs": [440e6, 486e6],
                                           "macs_network": IMAGENET_MACS_NETWORK}),
    "imagenet-b": _DEFAULT.with_overrides({"preset": "imagenet-b", "macs": [535e6, 591e6],
                                           "macs_network": IMAGENET_MACS_NETWORK}),
})


class PresetDescription(NamedTuple):
    """What a preset runs (``what``) and where it runs in reasonable time (``where``), each one
    line of plain text."""

    what: str
    where: str


#: One description per preset of :data:`PRESETS` (same keys, same order): the one source of the
#: presets' descriptions. ``gemgraph search -h`` / ``gemgraph config -h`` and ``gemgraph config
#: list`` print them; the README's preset table holds the same text (tests/test_readme.py
#: compares them).
PRESET_DESCRIPTIONS: Mapping[str, PresetDescription] = types.MappingProxyType({
    "quick": PresetDescription(
        "8 candidates, 2 epochs at 16x16, width 8, bootstrap of 5,000 verifying its top 2; efficiency score; "
        "regime 25M-100M MACs (CifarNet-16 at 32x32), >= 5 op nodes", "a CPU, minutes"),
    "quick-regime": PresetDescription(
        "quick with the regime objective: the best accuracy inside the MAC window", "a CPU, minutes"),
    "default": PresetDescription(
        "50 candidates, 5 epochs at 32x32, width 16, bootstrap of 50,000", "a GPU, or a CPU for hours"),
    "paper": PresetDescription(
        "the paper's setting: 200 candidates, 10 epochs, degree-label WL on the adjacency, no window, top 3 "
        "verified", "a GPU (benchmarks/gpu_check.sh)"),
    "imagenet-a": PresetDescription(
        "default inside GEMNet-A's MAC budget (440M-486M MACs) on a 224x224 MobileNet-0.5", "a GPU"),
    "imagenet-b": PresetDescription(
        "default inside GEMNet-B's MAC budget (535M-591M MACs) on a 224x224 MobileNet-0.5", "a GPU"),
})


#: Keys added to the run config after run stores were first written, with the value a run
#: stored without them was made with (what gemgraph read for a missing key): the paper's
#: efficiency objective, no MAC window,
#: any number of op nodes, the paper's degree labels on the adjacency alone, torch's own thread
#: setting, full-resolution images, every evaluation image, the ranking predictor, the random
#: sampler. :meth:`RunConfig.from_stored` fills them in.
LEGACY_DEFAULTS: Mapping[str, Any] = types.MappingProxyType({
    "objective": "efficiency",
    "macs": None, "min_ops": None, "macs_network": None,
    "encoder.labels": "degree", "encoder.use_ops": False,
    "trainer.num_threads": None, "trainer.resolution": None, "trainer.max_eval_images": None,
    "predictor.target": "rank", "predictor.loss": "mse",
    "sampler.name": "random", "sampler.batch_size": 10, "sampler.n_init": 10, "sampler.kappa": 1.0,
})


def preset_config(preset: str) -> RunConfig:
    """The preset ``preset`` (:data:`PRESETS`)."""
    if not isinstance(preset, str) or preset not in PRESETS:
        raise InputError(f"preset: expected one of {sorted(PRESETS)}, got {preset!r}")
    return PRESETS[preset]


def build_config(preset: str = "default", **overrides: Any) -> dict[str, Any]:
    r"""A run config from a preset with top-level or ``"section.key"`` overrides (None = keep),
    validated, as the plain dict the store keeps (:meth:`RunConfig.to_dict`).

    Raises:
        ValueError: an unknown preset or key (listing the valid ones), or a value of the wrong type.
    """
    cfg = preset_config(preset).with_overrides({k: v for k, v in overrides.items() if v is not None})
    return cfg.to_dict()


# ---------------------------------------------------------------------- files and --set
def load_config_file(path: str | os.PathLike, argument: str = "--config") -> dict[str, Any]:
    r"""A config file's table: JSON (``.json``) or TOML (``.toml``, through :mod:`tomllib`), in
    the dict form (space keys at the top level or in a ``[space]`` table, sections as tables;
    partial: keys left out keep the preset's value).

    Raises:
        FileNotFoundError: no such file (naming ``argument``).
        ValueError: naming ``argument`` and the file: another suffix, a syntax error, not a table.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{argument}: no such config file {os.fspath(path)!r}")
    suffix = p.suffix.lower()
    if suffix not in (".json", ".toml"):
        raise InputError(f"{argument}: expected a .json or .toml config file, got {os.fspath(path)!r}")
    try:
        if suffix == ".toml":
            if tomllib is None:  # pragma: no cover - Python 3.10 without tomli
                raise InputError(f"{argument}: TOML config files need Python >= 3.11 or the tomli package; "
                                 "use a .json file")
            with open(p, "rb") as fh:
                data = tomllib.load(fh)
        else:
            with open(p, encoding="utf-8") as fh:
                data = json.load(fh)
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError and TOMLDecodeError are ValueErrors
        if str(exc).startswith(argument):
            raise
        raise InputError(f"{argument}: {os.fspath(path)!r} is not valid {suffix[1:].upper()} ({exc})") from None
    if not isinstance(data, dict):
        raise InputError(f"{argument}: expected a table of settings in {os.fspath(path)!r}, "
                         f"got {type(data).__name__}")
    return data


def parse_set(items: Sequence[str] | None, argument: str = "--set") -> dict[str, Any]:
    r"""``["trainer.epochs=3", "macs=[0,null]"]`` -> ``{"trainer.epochs": 3, "macs": [0, None]}``:
    each value is parsed as JSON when it parses, else kept as a string (the field's type then
    checks it); a repeated key: the last one counts.

    Raises:
        ValueError: naming ``argument``, for an item without ``=`` or with an empty key.
    """
    out: dict[str, Any] = {}
    for item in items or ():
        key, eq, text = str(item).partition("=")
        key = key.strip()
        if not eq or not key:
            raise InputError(f"{argument}: expected SECTION.KEY=VALUE (e.g. trainer.epochs=3), got {item!r}")
        try:
            value = json.loads(text)
        except ValueError:
            value = text
        out[key] = value
    return out


def resolve_config(preset: str | None = None, *, file: str | os.PathLike | None = None,
                   sets: Sequence[str] | None = None, overrides: Mapping[str, Any] | None = None) -> RunConfig:
    r"""The config of ``gemgraph search``: the preset < the file < ``--set`` < ``overrides``
    (the explicit flags, ``"section.key"`` names, None = not given).

    The preset is ``preset``, else a ``preset`` key among ``sets``, else in the file, else
    ``"default"``; the resolved config records it.

    Raises:
        ValueError: naming ``--config FILE`` or ``--set`` for a bad key or value there.
        FileNotFoundError: ``--config``: no such file.
    """
    data = {} if file is None else dict(load_config_file(file))
    values = parse_set(sets)
    name = preset
    for layer in (values, data):
        given = layer.pop("preset", None)
        if name is None and given is not None:
            name = given
    cfg = preset_config("default" if name is None else name)
    if data:
        try:
            cfg = cfg.merged(data)
        except ValueError as exc:
            raise InputError(f"--config {os.fspath(file)!r}: {exc}") from None  # type: ignore[arg-type]
    if values:
        try:
            cfg = cfg.with_overrides(values)
        except ValueError as exc:
            raise InputError(f"--set: {exc}") from None
    return cfg.with_overrides({k: v for k, v in (overrides or {}).items() if v is not None})


def changed_keys(cfg: RunConfig, *, file: str | os.PathLike | None = None,
                 sets: Sequence[str] | None = None) -> list[tuple[str, str, Any, Any]]:
    r"""``(source, key, given, current)`` (source ``"--config"`` or ``"--set"``) for every key
    whose value the file or ``--set`` items would change in ``cfg`` (the check that a resumed
    run keeps its config); a ``preset`` key counts when it names another preset."""
    out = []
    current = _flatten(cfg.to_dict())
    for source, layer in (("--config", {} if file is None else load_config_file(file)), ("--set", parse_set(sets))):
        try:
            after = _flatten(cfg.merged(layer).to_dict() if source == "--config" else
                             cfg.with_overrides(layer).to_dict())
        except ValueError as exc:
            raise InputError(f"{source}: {exc}") from None
        out += [(source, k, after[k], current[k]) for k in current if after[k] != current[k]]
    return out
