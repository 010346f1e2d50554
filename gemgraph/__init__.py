"""gemgraph: neural architecture search via graph embedding (NASGEM).

``import gemgraph`` loads the core types only (cells, op vocabularies, the search space, the exception
types); the rest (:class:`WLKernel` with scikit-learn and SciPy, :func:`load_gemnet` /
:func:`save_gemnet` and the networks, the encoders and PyTorch Geometric, the store) loads when
first used.
"""
from typing import Any

from .cell import OPS, Cell
from .errors import InputError, MissingDependencyError
from .space import SearchSpace
from .vocab import DEFAULT_VOCAB, OpVocabulary

__version__ = "0.1.0"

__all__ = ["Cell", "OPS", "InputError", "MissingDependencyError", "OpVocabulary", "DEFAULT_VOCAB", "SearchSpace",
           "WLKernel", "load_gemnet", "save_gemnet", "__version__"]

_LAZY = {"load_gemnet": "export", "save_gemnet": "export", "WLKernel": "wl"}


def __getattr__(name: str) -> Any:
    """``gemgraph.load_gemnet`` / ``save_gemnet`` (:mod:`gemgraph.export`) and ``WLKernel``
    (:mod:`gemgraph.wl`, scikit-learn and SciPy): imported on first use."""
    if name in _LAZY:
        import importlib  # noqa: PLC0415

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'gemgraph' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
