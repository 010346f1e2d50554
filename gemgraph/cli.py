r"""Old import path of :mod:`gemgraph.app.cli` (the ``gemgraph`` command line), kept working:
``gemgraph.cli`` *is* that package, and ``gemgraph.cli.<module>`` its subcommand modules (the
same module objects, so patching either name patches both)."""
import sys

from .app import cli as _cli

sys.modules[__name__] = _cli
for _name, _module in list(sys.modules.items()):
    if _name.startswith(_cli.__name__ + "."):
        sys.modules[__name__ + _name[len(_cli.__name__):]] = _module
