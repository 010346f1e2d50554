r"""Old import path of :mod:`gemgraph.app.cli` (the ``gemgraph`` command line), kept working:
``gemgraph.cli`` *is* that module (one module object, so patching either name patches both)."""
import sys

from .app import cli as _cli

sys.modules[__name__] = _cli
