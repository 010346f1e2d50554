r"""Old import path of :mod:`gemgraph.app.runs` (run directories, presets, reports), kept
working: ``gemgraph.runs`` *is* that module (one module object, so ``gemgraph.runs.build_config``
and patching either name behave as before)."""
import sys

from .app import runs as _runs

sys.modules[__name__] = _runs
