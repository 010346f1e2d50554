r"""Graph encoders, swappable by name.

>>> from gemgraph import encoders
>>> encoders.available()
['gcn', 'gin', 'mlp', 'raw']
>>> enc = encoders.create("mlp", num_nodes=30, dim=64)
>>> z = enc.embed(cells)          # (n, 64)
"""
from . import gnn, mlp, raw  # noqa: F401  (register the built-ins)
from .base import CellBatch, Encoder, as_batch, available, create, hidden_option, load, register
from .cached import CachedEncoder
from .concat import ConcatEncoder
from .gnn import GCNEncoder, GINEncoder
from .mlp import MLPEncoder
from .raw import RawEncoder

__all__ = [
    "CachedEncoder", "CellBatch", "ConcatEncoder", "Encoder", "GCNEncoder", "GINEncoder", "MLPEncoder", "RawEncoder",
    "as_batch", "available", "create", "hidden_option", "load", "register",
]
