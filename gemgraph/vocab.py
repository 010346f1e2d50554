r"""Operation vocabularies: the op names a search space declares, and their one-hot order.

A space owns its operations (docs/notes-vocab.md): an
:class:`OpVocabulary` lists them in the order that fixes their index (what a
:class:`~gemgraph.batch.CellBatch` stores, what one-hot features and the encoders' inputs use),
names the structural input / output markers, and resolves aliases. Cells
(:class:`~gemgraph.Cell`), batches, node features, the encoders' one-hot inputs, the WL labels
(by op *name*), the store's serialisation and the network builders take a vocabulary instead
of a global list.

Two instances ship with the library and keep the behaviour gemgraph always had:

* :data:`DEFAULT_VOCAB` (alias :data:`SUPERNET_VOCAB`): the 30-node supernet's six names
  :data:`OPS`, with NAS-Bench-101's spellings as aliases; the default of every ``vocab=``
  argument, so code that never mentions a vocabulary behaves as before;
* :data:`NB101_VOCAB`: NAS-Bench-101's five op names in its encoders' one-hot order
  (``gemgraph.nb101.NB101_OPS``). They are a subset of the supernet's, so NAS-Bench-101 cells and
  pools keep their indices in :data:`DEFAULT_VOCAB` (stored runs and caches read unchanged) and
  use this vocabulary for the one-hot inputs (``encoders.create(..., ops=NB101_VOCAB)``).

A user's space declares its own, e.g.
``OpVocabulary(("input", "output", "gcn", "gat", "sage"))``, and builds its cells with
``Cell(adj, ops, vocab=...)``: no library edit.

This module imports nothing from gemgraph (it is the base of the import graph).
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
from .errors import InputError

__all__ = ["OpVocabulary", "OPS", "OP_ALIASES", "DEFAULT_VOCAB", "SUPERNET_VOCAB", "NB101_VOCAB", "as_vocab"]

#: The supernet's operation names; the position is the one-hot index of :data:`DEFAULT_VOCAB`.
OPS: tuple[str, ...] = ("input", "output", "conv1x1", "sepconv3x3", "conv3x3", "maxpool3x3")

#: Accepted aliases (NAS-Bench-101 spelling) -> canonical name, in :data:`DEFAULT_VOCAB`.
OP_ALIASES: dict[str, str] = {
    "conv3x3-bn-relu": "conv3x3",
    "conv1x1-bn-relu": "conv1x1",
    "max_pool_3x3": "maxpool3x3",
    "sep_conv_3x3": "sepconv3x3",
}


class OpVocabulary:
    r"""The operations of a search space, in index order.

    Args:
        ops: distinct op names (non-empty strings); the position of a name is its index (the
            value a :class:`~gemgraph.batch.CellBatch` stores and the one-hot slot). The
            markers ``input`` (and ``output`` when not None) must be among them.
        ops_on_nodes: True when the space's operations sit on the nodes (NAS-Bench-101, the
            supernet, NAS-Bench-Graph). A space with operations on edges (DARTS,
            NAS-Bench-201) gives False and writes its cells in the node form (one node per
            edge operation), which is what a :class:`~gemgraph.Cell` holds; the flag is kept
            so that code and users know which form the cells are in.
        input: the name of the input marker, the op of node 0 and of no other node.
        output: the name of the output marker (allowed on the last node only), or None when
            the space's cells have no output node (the leaves are the output).
        aliases: other spellings accepted on input -> canonical name (an op of ``ops``).
        name: a short label for ``repr`` and error messages (e.g. ``"nbgraph"``).

    Raises:
        ValueError: naming the argument, for an empty or duplicate list, a non-string name,
            a marker missing from ``ops``, or an alias pointing outside ``ops``.

    Equality (and hashing) compares names, markers, aliases and ``ops_on_nodes``; two equal
    vocabularies index ops identically.

    Example:
        >>> v = OpVocabulary(("input", "output", "gcn", "gat"), name="gnn")
        >>> v.index("gat"), len(v), v.interior
        (3, 4, ('gcn', 'gat'))
    """

    __slots__ = ("_names", "_index", "ops_on_nodes", "input", "output", "_aliases", "name", "_key")

    def __init__(self, ops: Sequence[str], *, ops_on_nodes: bool = True, input: str = "input",
                 output: str | None = "output", aliases: Mapping[str, str] | None = None,
                 name: str | None = None) -> None:
        if isinstance(ops, (str, bytes)) or not isinstance(ops, Sequence) and not hasattr(ops, "__iter__"):
            raise InputError(f"ops: expected a sequence of op names, got {ops!r}")
        names = tuple(ops)
        if not names:
            raise InputError("ops: expected at least one op name, got an empty sequence")
        for pos, o in enumerate(names):
            if not isinstance(o, str) or not o:
                raise InputError(f"ops[{pos}]: expected a non-empty op name (str), got {o!r}")
        if len(set(names)) != len(names):
            dup = sorted({o for o in names if names.count(o) > 1})
            raise InputError(f"ops: expected distinct op names, got duplicates {dup}")
        if not isinstance(input, str) or input not in names:
            raise InputError(f"input: expected the input marker among ops {list(names)}, got {input!r}")
        if output is not None and (not isinstance(output, str) or output not in names or output == input):
            raise InputError(f"output: expected None or an output marker among ops {list(names)} "
                             f"(other than the input), got {output!r}")
        al = dict(aliases or {})
        for k, v in al.items():
            if not isinstance(k, str) or v not in names:
                raise InputError(f"aliases: expected str -> one of {list(names)}, got {k!r} -> {v!r}")
            if k in names:
                raise InputError(f"aliases: {k!r} is an op name of the vocabulary itself, not an alias")
        self._names = names
        self._index = {o: i for i, o in enumerate(names)}
        self.ops_on_nodes = bool(ops_on_nodes)
        self.input = input
        self.output = output
        self._aliases = al
        self.name = None if name is None else str(name)
        self._key = (names, self.ops_on_nodes, input, output, tuple(sorted(al.items())))

    # ------------------------------------------------------------------ look-ups
    @property
    def names(self) -> tuple[str, ...]:
        """All op names, in index order (markers included)."""
        return self._names

    @property
    def aliases(self) -> dict[str, str]:
        """Alias -> canonical name (a copy)."""
        return dict(self._aliases)

    @property
    def interior(self) -> tuple[str, ...]:
        """The operations a non-input, non-output node may take (names without the markers)."""
        return tuple(o for o in self._names if o != self.input and o != self.output)

    def canonical(self, name: Any, *, argument: str = "ops") -> str:
        """The canonical spelling of op ``name`` (aliases resolved).

        Raises:
            ValueError: naming ``argument``, when ``name`` is not an op of this vocabulary.
        """
        if isinstance(name, str):
            if name in self._index:
                return name
            alias = self._aliases.get(name)
            if alias is not None:
                return alias
        else:
            raise InputError(f"{argument}: expected operation names (str), got {type(name).__name__} {name!r}")
        extra = f" (or an alias in {sorted(self._aliases)})" if self._aliases else ""
        label = f" of the {self.name!r} vocabulary" if self.name else ""
        raise InputError(f"{argument}: unknown operation {name!r}; expected one of {list(self._names)}{label}{extra}")

    def index(self, name: Any, *, argument: str = "ops") -> int:
        """Index of op ``name`` (aliases resolved); ValueError naming ``argument`` if unknown."""
        i = self._index.get(name) if isinstance(name, str) else None
        return i if i is not None else self._index[self.canonical(name, argument=argument)]

    def indices(self, names: Sequence[str], *, argument: str = "ops") -> np.ndarray:
        """Indices of ``names``, shape (len(names),) int64."""
        idx = self._index
        return np.array([idx[o] if o in idx else self.index(o, argument=argument) for o in names], dtype=np.int64)

    def lut(self, target: Sequence[str] | "OpVocabulary") -> np.ndarray:
        """Index map to another name list: ``out[i]`` = position of ``names[i]`` in ``target``
        (-1 where absent), shape (len(self),) int64."""
        tnames = target.names if isinstance(target, OpVocabulary) else tuple(target)
        pos = {o: k for k, o in enumerate(tnames)}
        return np.array([pos.get(o, -1) for o in self._names], dtype=np.int64)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (name in self._index or name in self._aliases)

    def __len__(self) -> int:
        return len(self._names)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __getitem__(self, i: int) -> str:
        return self._names[i]

    # ------------------------------------------------------------------ (de)serialisation
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able description (what the store keeps for a non-default vocabulary)."""
        return {"ops": list(self._names), "ops_on_nodes": self.ops_on_nodes, "input": self.input,
                "output": self.output, "aliases": dict(self._aliases), "name": self.name}

    @classmethod
    def from_dict(cls, d: Any) -> "OpVocabulary":
        """Inverse of :meth:`to_dict`.

        Raises:
            ValueError: for anything but such a dict (the message names ``vocab``).
        """
        if not isinstance(d, Mapping) or "ops" not in d:
            raise InputError(f"vocab: expected a dict with 'ops' (OpVocabulary.to_dict()), got {d!r}")
        unknown = set(d) - {"ops", "ops_on_nodes", "input", "output", "aliases", "name"}
        if unknown:
            raise InputError(f"vocab: unknown keys {sorted(unknown)}")
        ops = d["ops"]
        if not isinstance(ops, (list, tuple)):
            raise InputError(f"vocab.ops: expected a list of op names, got {ops!r}")
        return cls(tuple(ops), ops_on_nodes=bool(d.get("ops_on_nodes", True)), input=d.get("input", "input"),
                   output=d.get("output", "output"), aliases=d.get("aliases") or None, name=d.get("name"))

    # ------------------------------------------------------------------ dunder
    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if not isinstance(other, OpVocabulary):
            return NotImplemented
        return self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __reduce__(self) -> Any:
        return (_rebuild, (self.to_dict(),))

    def __repr__(self) -> str:
        label = f"{self.name!r}, " if self.name else ""
        out = "" if self.output == "output" else f", output={self.output!r}"
        nodes = "" if self.ops_on_nodes else ", ops_on_nodes=False"
        return f"OpVocabulary({label}{list(self._names)}{out}{nodes})"


def _rebuild(d: dict[str, Any]) -> OpVocabulary:
    v = OpVocabulary.from_dict(d)
    return DEFAULT_VOCAB if v == DEFAULT_VOCAB else v


#: The 30-node supernet's vocabulary (the default everywhere): :data:`OPS` with
#: NAS-Bench-101 spellings as aliases.
DEFAULT_VOCAB = OpVocabulary(OPS, aliases=OP_ALIASES, name="supernet")
SUPERNET_VOCAB = DEFAULT_VOCAB

#: NAS-Bench-101's op names (:data:`gemgraph.nb101.NB101_OPS`, the one-hot order of its encoders).
NB101_VOCAB = OpVocabulary(("input", "output", "conv3x3", "conv1x1", "maxpool3x3"),
                           aliases={k: v for k, v in OP_ALIASES.items() if v in ("conv3x3", "conv1x1", "maxpool3x3")},
                           name="nb101")


def as_vocab(vocab: Any, argument: str = "vocab") -> OpVocabulary:
    """``vocab`` as an :class:`OpVocabulary`: None -> :data:`DEFAULT_VOCAB`, a vocabulary as is,
    a dict through :meth:`OpVocabulary.from_dict`.

    Raises:
        ValueError: naming ``argument``, for anything else.
    """
    if vocab is None:
        return DEFAULT_VOCAB
    if isinstance(vocab, OpVocabulary):
        return vocab
    if isinstance(vocab, Mapping):
        return OpVocabulary.from_dict(vocab)
    raise InputError(f"{argument}: expected an OpVocabulary (or None for the default), got {type(vocab).__name__}")
