"""gemgraph: neural architecture search via graph embedding (NASGEM)."""
from .cell import OPS, Cell
from .errors import InputError, MissingDependencyError
from .export import load_gemnet, save_gemnet
from .space import SearchSpace
from .vocab import DEFAULT_VOCAB, OpVocabulary
from .wl import WLKernel

__version__ = "0.1.0"

__all__ = ["Cell", "OPS", "InputError", "MissingDependencyError", "OpVocabulary", "DEFAULT_VOCAB", "SearchSpace", "WLKernel", "load_gemnet", "save_gemnet",
           "__version__"]
