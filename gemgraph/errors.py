r"""The library's exception types: bad input, told apart from bugs.

Every check of what a caller gave (an argument, a cell, a config value, a file's content, a
missing optional package) raises :class:`InputError` or a subclass, with a one-line message
that names the argument, what was expected and what was given. It subclasses ``ValueError``,
so ``except ValueError`` code written before it existed still catches it.

Anything else that escapes the library (a plain ``ValueError`` from inside torch, an
``IndexError``, a ``KeyError``) is a bug: the command line prints those with their traceback
and exit status 1, and input errors as one line with exit status 2.

This module imports nothing, so any module may import it.
"""
from __future__ import annotations

__all__ = ["InputError", "MissingDependencyError"]


class InputError(ValueError):
    """Bad input: an argument, setting, cell or file the caller gave is not what is expected.

    ``str()`` is one line naming what is wrong (e.g. ``"num_nodes: expected an int >= 3, got
    2"``). A ``ValueError`` subclass, so ``except ValueError`` still catches it.
    """


class MissingDependencyError(InputError, ModuleNotFoundError):
    """An optional package a call needs is not installed (the message says which and how to
    install it, e.g. ``pip install 'gemgraph[ray]'``). Both an :class:`InputError` and an
    ``ImportError`` (``ModuleNotFoundError``), so ``except ImportError`` still catches it."""
