r"""Encoder base class and the name registry (the batched cell input, :class:`CellBatch`, lives in
:mod:`gemgraph.batch` and is re-exported here)."""
from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from ..batch import CellBatch, as_batch
from ..utils import atomic_torch_save, check_int, single_thread, torch_load_reason
from ..vocab import DEFAULT_VOCAB, OpVocabulary
from ..errors import InputError

_REGISTRY: dict[str, type["Encoder"]] = {}


def register(name: str) -> Callable[[type["Encoder"]], type["Encoder"]]:
    """Class decorator registering an :class:`Encoder` subclass under ``name``.

    Example:
        >>> @register("my-enc")
        ... class MyEncoder(Encoder): ...
        >>> create("my-enc", num_nodes=30, dim=32)
    """
    if not isinstance(name, str) or not name:
        raise InputError(f"name: expected a non-empty string, got {name!r}")

    def deco(cls: type["Encoder"]) -> type["Encoder"]:
        if not (isinstance(cls, type) and issubclass(cls, Encoder)):
            raise InputError(f"register({name!r}): expected an Encoder subclass, got {cls!r}")
        _REGISTRY[name.lower()] = cls
        cls.name = name.lower()
        return cls

    return deco


def available() -> list[str]:
    """Names of the registered encoders."""
    return sorted(_REGISTRY)


def hidden_option(name: str, widths: Sequence[int], arg: str = "hidden") -> Any:
    r"""The ``hidden=`` value for the encoder ``name`` from a list of hidden widths (e.g. parsed
    from a command line): the list for encoders with several layer widths (MLP), its first
    entry for those with one width (GIN, GCN).

    Raises:
        ValueError: ``arg``: the encoder has no hidden layers (e.g. ``"raw"``), or unknown name.
    """
    key = str(name).lower()
    if key not in _REGISTRY:
        raise InputError(f"name: expected one of {available()}, got {name!r}")
    kind = _REGISTRY[key].hidden_option_kind
    if kind == "widths":
        return [int(w) for w in widths]
    if kind == "width":
        return int(widths[0])
    raise InputError(f"{arg}: the {key!r} encoder has no hidden layers, got {list(widths)}")


def create(name: str, num_nodes: int, dim: int = 128, **kwargs: Any) -> "Encoder":
    """Create an encoder by name (see :func:`available`).

    Args:
        name: registered name, e.g. ``"mlp"`` (default encoder), ``"gin"``, ``"gcn"``, ``"raw"``.
        num_nodes: N, the largest cell size; smaller cells are zero-padded.
        dim: embedding dimension (ignored by ``"raw"``, whose dimension is its input size).
        **kwargs: encoder-specific options (e.g. ``ops=`` for op one-hots, ``hidden=``).
    """
    key = str(name).lower()
    if key not in _REGISTRY:
        raise InputError(f"name: unknown encoder {name!r}; available: {available()}")
    return _REGISTRY[key](num_nodes=num_nodes, dim=dim, **kwargs)


def load(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> "Encoder":
    """Load an encoder saved with :meth:`Encoder.save` (safe ``weights_only`` loading).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: ``path`` is not a gemgraph encoder file, or a damaged / tampered one (an
            unknown encoder name, a config the encoder rejects, a state dict of other keys,
            shapes or types); the message names the file and what is wrong.
    """
    where = f"path: {os.fspath(path)!r}"
    try:
        blob = torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as exc:  # noqa: BLE001 - torch.load of a corrupt / foreign file raises anything
        raise InputError(f"{where} is not a gemgraph encoder file ({torch_load_reason(exc)})") from None
    if not isinstance(blob, dict) or blob.get("format") != "gemgraph-encoder" or "name" not in blob:
        raise InputError(f"{where} is not a gemgraph encoder file")
    config, state = blob.get("config"), blob.get("state_dict")
    if not isinstance(config, dict) or not all(isinstance(k, str) for k in config):
        raise InputError(f"{where}: damaged encoder file: expected a config dict, got {type(config).__name__}")
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise InputError(f"{where}: damaged encoder file: expected a state dict of tensors")
    try:
        enc = create(blob["name"], **config)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{where}: damaged encoder file: its config {config!r} for encoder {blob['name']!r} "
                         f"is rejected ({exc})") from None
    try:
        enc.load_state_dict(state)
    except (RuntimeError, TypeError, ValueError) as exc:
        msg = " ".join(str(exc).split())
        raise InputError(f"{where}: damaged encoder file: its weights do not fit a {blob['name']!r} encoder "
                         f"with config {config!r} ({msg[:300]})") from None
    return enc


class Encoder(nn.Module):
    r"""Base class of graph encoders ``f: cell -> R^dim``.

    Subclasses implement :meth:`forward` on a :class:`CellBatch` and list their constructor
    arguments in :attr:`config` (plain Python values, so that :meth:`save` files load with
    ``torch.load(weights_only=True)``).

    Args:
        num_nodes: N, the largest cell size handled; smaller cells are zero-padded.
        dim: output dimension.
        ops: op names to one-hot encode (e.g. ``("conv1x1", "sepconv3x3")``), an
            :class:`~gemgraph.vocab.OpVocabulary` (all its names, e.g. a space's ``vocab``), or
            None to use the adjacency only. Names are matched to the cells' ops by name, so any
            space's op names work (the supernet's aliases are resolved). Cells with ops outside
            this list are rejected.

    Shapes:
        ``forward``: CellBatch of n cells -> (n, dim); ``embed``: n cells -> (n, dim).
    """

    name = "base"
    #: how the ``hidden`` option is given: ``"widths"`` (a sequence of layer widths), ``"width"``
    #: (one int) or None (no hidden layers); see :func:`hidden_option`.
    hidden_option_kind: str | None = None

    def __init__(self, num_nodes: int, dim: int = 128, ops: Sequence[str] | None = None) -> None:
        super().__init__()
        check_int(num_nodes, "num_nodes", 2)
        check_int(dim, "dim", 1)
        if isinstance(ops, OpVocabulary):
            ops = list(ops.names)
        if ops is not None:
            if isinstance(ops, str) or len(ops) == 0:
                raise InputError(f"ops: expected a non-empty sequence of op names or None, got {ops!r}")
            for k, o in enumerate(ops):
                if not isinstance(o, str) or not o:
                    raise InputError(f"ops[{k}]: expected an op name (str), got {o!r}")
            ops = [DEFAULT_VOCAB.canonical(o) if o in DEFAULT_VOCAB else o for o in ops]
            if len(set(ops)) != len(ops):
                raise InputError(f"ops: duplicate op names in {ops}")
        self.num_nodes = int(num_nodes)
        self.dim = int(dim)
        self.ops = None if ops is None else tuple(ops)
        # supernet-vocabulary index -> position in self.ops (or -1); other vocabularies: _lut_for
        self.register_buffer("_op_lut", self._make_lut(DEFAULT_VOCAB), persistent=False)
        self._luts: dict[OpVocabulary, torch.Tensor] = {}

    def _make_lut(self, vocab: OpVocabulary) -> torch.Tensor:
        """(len(vocab) + 1,) long: vocabulary index -> position in :attr:`ops` (-1 absent; last slot padding)."""
        lut = torch.full((len(vocab) + 1,), -1, dtype=torch.long)
        if self.ops is not None:
            lut[:-1] = torch.from_numpy(vocab.lut(self.ops))
        return lut

    def _lut_for(self, vocab: OpVocabulary) -> torch.Tensor:
        base = self.get_buffer("_op_lut")
        if vocab == DEFAULT_VOCAB:
            return base
        lut = self._luts.get(vocab)
        if lut is None or lut.device != base.device:
            lut = self._luts[vocab] = self._make_lut(vocab).to(base.device)
        return lut

    # ------------------------------------------------------------------ config / io
    @property
    def config(self) -> dict[str, Any]:
        """Constructor arguments (plain values) that recreate this encoder."""
        return {"num_nodes": self.num_nodes, "dim": self.dim, "ops": None if self.ops is None else list(self.ops)}

    def save(self, path: str | os.PathLike) -> None:
        """Save name, config and state dict (written atomically: a full disk leaves no file).

        Raises:
            CannotWriteError: (an OSError) naming ``path``, e.g. no space left on device.
        """
        state = {k: v.detach().cpu() for k, v in self.state_dict().items()}
        atomic_torch_save({"format": "gemgraph-encoder", "name": self.name, "config": self.config, "state_dict": state},
                          path)

    def extra_repr(self) -> str:
        ops = "" if self.ops is None else f", ops={list(self.ops)}"
        return f"num_nodes={self.num_nodes}, dim={self.dim}{ops}"

    @property
    def device(self) -> torch.device:
        for t in list(self.parameters()) + list(self.buffers()):
            return t.device
        return torch.device("cpu")

    # ------------------------------------------------------------------ inputs
    def op_onehot(self, batch: CellBatch) -> torch.Tensor | None:
        """One-hot ops over :attr:`ops`, (n, N, len(ops)) float, zero on padding; None when
        the encoder does not use ops.

        Raises:
            ValueError: if the encoder uses ops but the cells carry none, or an op is not in
                :attr:`ops`.
        """
        if self.ops is None:
            return None
        if batch.ops is None:
            raise InputError(f"cells: this encoder one-hot encodes ops {list(self.ops)} but the cells carry no ops")
        voc = getattr(batch, "vocab", DEFAULT_VOCAB)
        idx = batch.ops.clone()
        idx[idx < 0] = len(voc)
        pos = self._lut_for(voc)[idx]
        real = batch.ops >= 0
        if bool((real & (pos < 0)).any()):
            bad = int(batch.ops[real & (pos < 0)][0].item())
            raise InputError(f"cells: op {voc.names[bad]!r} is not among this encoder's ops {list(self.ops)}")
        onehot = torch.zeros(*pos.shape, len(self.ops), device=pos.device)
        onehot.scatter_(-1, pos.clamp(min=0)[..., None], 1.0)
        return onehot * real[..., None]

    def flat_input(self, batch: CellBatch) -> torch.Tensor:
        """Flattened strictly-upper-triangular adjacency (+ one-hot ops): (n, N(N-1)/2 [+ N*len(ops)])."""
        N = self.num_nodes
        iu = torch.triu_indices(N, N, 1, device=batch.adj.device)
        x = batch.adj[:, iu[0], iu[1]].float()
        oh = self.op_onehot(batch)
        if oh is not None:
            x = torch.cat([x, oh.flatten(1)], dim=1)
        return x

    @property
    def flat_dim(self) -> int:
        N = self.num_nodes
        return N * (N - 1) // 2 + (0 if self.ops is None else N * len(self.ops))

    # ------------------------------------------------------------------ use
    def forward(self, batch: CellBatch) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    @torch.no_grad()
    def embed(self, cells: Any, batch_size: int = 8192) -> torch.Tensor:
        r"""Embed cells in eval mode without gradients.

        On the CPU the forward passes run on one intra-op thread (:class:`gemgraph.utils.single_thread`:
        a matrix product's sums are split by the thread count, so embeddings would depend on
        it): ``torch.set_num_threads(1)`` for the duration of the call only, the caller's
        setting put back on every way out (an exception or ``KeyboardInterrupt`` included).

        Args:
            cells: a list of :class:`~gemgraph.Cell`, a ``(adj, ops)`` tuple of tensors as
                returned by :meth:`SearchSpace.sample_tensors`, or a :class:`CellBatch`.
            batch_size: cells per forward pass.

        Returns:
            float tensor (n, dim) on the CPU.
        """
        batch = as_batch(cells, self.num_nodes)
        was_training = self.training
        self.eval()
        dev = self.device
        # one intra-op thread on the CPU: a matrix product's sums are split by the thread count,
        # so embeddings (and every ranking built on them) would depend on it
        try:
            with single_thread() if dev.type == "cpu" else contextlib.nullcontext():
                outs = [self(batch[i : i + batch_size].to(dev)).float().cpu()
                        for i in range(0, len(batch), batch_size)]
        finally:
            self.train(was_training)
        if not outs:
            return torch.zeros((0, self.dim))
        return torch.cat(outs)
