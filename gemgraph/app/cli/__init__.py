r"""The ``gemgraph`` command-line tool.

Subcommands are small functions, one module each (``gemgraph.app.cli.embed``, ``.search``, ...,
each with its handler ``_cmd_*`` and ``add_parser``), registered in :func:`build_parser`; the
options several of them take, the logging set-up and the run log live in ``._common``. Each
prints a short summary and writes its outputs to the paths it is given. Bad input (arguments,
paths, damaged files: :class:`~gemgraph.errors.InputError` and OS errors about paths) is one
line on stderr naming the argument, exit code 2; any other exception is a bug: its traceback
and exit code 1. An output pipe closed early (``gemgraph report RUN | head -1``) ends the
command quietly.

Every subcommand module imports what its work needs inside its handler, so that ``gemgraph
--help`` and every other command start without loading the whole library.
"""
from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Literal

from ...errors import InputError
from ._common import LOGGER_NAME, RUN_LOG, Terminated, _add_logging, _HelpFormatter, _log, _log_level, _Logging


# the subcommands' modules: each imports only the standard library and the CLI's own modules at
# its top (the rest inside its handler), so importing them all here costs nothing noticeable
from . import ablation, benchmark, bootstrap, config, embed, export, plot, report, search, train, validate

__all__ = ["main", "build_parser", "Terminated", "RUN_LOG", "LOGGER_NAME", "BUG_LINE"]

#: the subcommands' modules, in the order of the help's list (each has ``add_parser(sub)``)
_COMMANDS = (embed, search, config, report, bootstrap, train, export, plot, ablation, benchmark, validate)

_EXIT_CODES = """\
exit status:
  0    success (also when the reader of the output goes away: `gemgraph report RUN | head -1`)
  1    the job ran but failed: `train` (the GEMNet's training failed), `export` (the exporter failed or the
       export differs from torch by more than --atol), `benchmark` (a trial failed); or a bug: any other
       error (an internal ValueError, KeyError, ...) prints its full traceback and a line asking to report it
  2    bad input, one line on stderr naming the argument: usage errors, bad values, missing or damaged files,
       paths that cannot be read or written, a missing optional package, a run in use by another process; a
       file or the run store that cannot be written (e.g. no space left on device: nothing half-written is
       left, a search run is marked "stopped" and `gemgraph search --resume RUN` continues it)
  130  interrupted (Ctrl-C); a search run is marked "interrupted" and `gemgraph search --resume RUN` continues it
  143  terminated (SIGTERM: kill, systemd, SLURM, Kubernetes), handled as Ctrl-C is: a search run is marked
       "interrupted", a line on stderr and in RUN/log.txt, and `gemgraph search --resume RUN` continues it

logging: the library logs through `logging` (loggers gemgraph.* and nasbench.*); the CLI prints them on stderr
at WARNING (-v INFO, -vv DEBUG, -q ERROR, --log-level L), with time and logger name. `search` (new and
--resume), `bootstrap` and `train` also append INFO lines to RUN/log.txt. Results go to stdout (--json: one JSON
document, nothing else); progress bars and log lines go to stderr.
"""


def build_parser() -> argparse.ArgumentParser:
    """The ``gemgraph`` argument parser: the top-level options and one subparser per module of
    :data:`_COMMANDS`."""
    from ... import __version__

    p = argparse.ArgumentParser(prog="gemgraph", description="NASGEM: neural architecture search via graph embedding",
                                formatter_class=_HelpFormatter, epilog=_EXIT_CODES)
    p.add_argument("--version", action="version", version=f"gemgraph {__version__}",
                   help="print the version and exit")
    _add_logging(p, top=True)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in _COMMANDS:
        command.add_parser(sub)
    sub.help = ", ".join(sub.choices) + " (gemgraph COMMAND -h for its options)"  # every registered one
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``gemgraph`` console script: the exit status (see the top-level
    help's table); argparse's usage errors return 2 (and ``--help`` / ``--version`` 0) rather
    than raising SystemExit."""
    import warnings

    with warnings.catch_warnings():
        # torch_geometric imports torch.jit.script, deprecated in recent torch: not our users' concern
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"torch\.jit\._script")
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # usage error (2, message already on stderr), --help / --version (0)
            return exc.code if isinstance(exc.code, int) else 2
        args.argv = list(sys.argv[1:] if argv is None else argv)
        args.verbose += args.verbose_top
        args.quiet = args.quiet or args.quiet_top
        args.log_level = args.log_level or args.log_level_top
        args.log_level_value = _log_level(args)
        with _Logging(args.log_level_value), _on_sigterm():
            return _run(args)


class _on_sigterm:
    """Context manager: while ``main()`` runs (in the main thread), SIGTERM raises
    :class:`Terminated`; the previous handler is restored on exit."""

    def __enter__(self) -> "_on_sigterm":
        import signal
        import threading

        self.previous = None
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGTERM, self._raise)
        return self

    @staticmethod
    def _raise(signum, frame) -> None:
        raise Terminated()

    def __exit__(self, *exc) -> Literal[False]:
        import signal

        if self.previous is not None:
            signal.signal(signal.SIGTERM, self.previous)
        return False


def _one_line(exc: BaseException) -> str:
    """The error line of ``exc``: its message as one line (no colour codes); a message of
    several lines is logged in full at INFO (``-v``)."""
    from ...utils import one_line

    text = str(exc)
    line = one_line(text, limit=4000)
    if line != text:
        _log.info("%s in full: %s", type(exc).__name__, text)
    return line


#: OS errors about a path the user gave (a missing file, no permission, a folder where a file
#: was expected, ...): bad input, one line; an OSError naming a file (``filename``) counts too
_PATH_ERRORS = (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError, FileExistsError)

#: the line after an internal error's traceback
BUG_LINE = ("this is a bug in gemgraph, not a problem with your input: please report it to the gemgraph "
            "maintainers (issue tracker) with the command line and the traceback above")


def _is_input_error(exc: BaseException) -> bool:
    """Whether ``exc`` is bad input (exit 2, one line) rather than a bug (exit 1, traceback)."""
    import zipfile

    from ...utils import CannotWriteError

    if isinstance(exc, (InputError, CannotWriteError, _PATH_ERRORS, zipfile.BadZipFile, EOFError)):
        return True
    return isinstance(exc, OSError) and exc.filename is not None


def _run(args: argparse.Namespace) -> int:
    """Run the parsed command; errors at the edge become an exit status: bad input
    (:class:`~gemgraph.errors.InputError`, OS errors about paths, a damaged data file) one line
    on stderr and 2; anything else is a bug: its traceback, a line saying so, and 1."""
    import zipfile

    from ...utils import CannotWriteError

    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        return code
    except BrokenPipeError:
        # the reader went away (`gemgraph report RUN | head -1`): stop quietly, and keep
        # Python from failing again when it flushes stdout at exit
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):  # pragma: no cover - stdout without a file descriptor
            pass
        return 0
    except KeyboardInterrupt as exc:
        term = isinstance(exc, Terminated)
        print(f"gemgraph {args.command}: interrupted{' (SIGTERM)' if term else ''}", file=sys.stderr)
        return 143 if term else 130
    except Exception as exc:  # noqa: BLE001 - the edge: every error becomes an exit status
        if not _is_input_error(exc):
            import traceback

            traceback.print_exc(file=sys.stderr)
            print(f"gemgraph {args.command}: internal error: {type(exc).__name__}: {_one_line(exc)}\n"
                  f"gemgraph {args.command}: {BUG_LINE}", file=sys.stderr)
            return 1
        if isinstance(exc, CannotWriteError):  # a full disk: one line naming the path (and how to go on)
            line = f"{exc}{getattr(exc, 'hint', '')}"
        elif isinstance(exc, (zipfile.BadZipFile, EOFError)):  # a damaged data file read past the checks
            line = f"--data: a data file is corrupt or truncated ({type(exc).__name__}: {exc})"
        else:  # InputError, or a path that cannot be read or written (named by the OS message)
            line = _one_line(exc)
        print(f"gemgraph {args.command}: error: {line}", file=sys.stderr)
        return 2
