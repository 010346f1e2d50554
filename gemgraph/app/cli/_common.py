r"""What the subcommands share: argument checks, the run log and logging set-up, the help
formatter and the options that several subcommands take (each option's help written once)."""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Literal

from ...errors import InputError
from ..runs import probe_writable

#: the logger of the command line (every subcommand module logs through it)
LOGGER_NAME = "gemgraph.app.cli"
_log = logging.getLogger(LOGGER_NAME)


# ---------------------------------------------------------------------- argument checks (before any work)
def _check_out_file(out: str, arg: str = "--out") -> None:
    """``out`` must be a file path whose folder exists and is writable (checked before training)."""
    path = Path(out)
    if path.is_dir():
        raise InputError(f"{arg}: expected a file path (e.g. encoder.pt), got the directory {out!r}")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"{arg}: expected a file in an existing folder, but {str(parent)!r} is not a folder")
    probe_writable(parent, arg)


class _naming:
    """Context manager: an ``error`` raised inside (while ``active``) becomes an InputError whose
    message starts with the argument ``arg`` (so the CLI's one line names it)."""

    def __init__(self, arg: str, error: type[BaseException], active: object = True) -> None:
        self.arg, self.error, self.active = arg, error, active

    def __enter__(self) -> "_naming":
        return self

    def __exit__(self, typ, exc, tb) -> Literal[False]:
        if self.active and typ is not None and issubclass(typ, self.error):
            raise InputError(f"{self.arg}: {exc}") from None
        return False


def _mark(store, status: str) -> None:
    """Replace the run's status ``"running"`` (only that one: a finished run stays finished) by
    ``status``, never masking the exception being handled."""
    try:
        if store.get_meta("status") == "running":
            store.set_meta("status", status)
    except Exception:  # noqa: BLE001 - never mask the error being handled  # pragma: no cover - e.g. the disk is full
        pass


def _ints(text: str, name: str) -> list[int]:
    """Comma-separated ints of the option ``name`` (an InputError naming it otherwise)."""
    try:
        out = [int(x) for x in str(text).split(",") if x.strip()]
    except ValueError:
        raise InputError(f"{name}: expected comma-separated integers, got {text!r}") from None
    if not out:
        raise InputError(f"{name}: expected comma-separated integers, got {text!r}")
    return out


def _top_json(top: list[dict]) -> list[dict]:
    """The bootstrap's top-k, JSON-ready (cells as ``{"n", "edges", "ops"}``)."""
    from ...store import cell_to_json

    return [{**e, "cell": cell_to_json(e["cell"])} for e in top]


def _predictor_options(args: argparse.Namespace) -> dict:
    from ...predictor import PAPER_PREDICTOR

    if getattr(args, "paper_predictor", False):
        return dict(PAPER_PREDICTOR)
    return {"n_members": args.ensemble}


# ---------------------------------------------------------------------- logging (configured here only)
#: the packages whose loggers the CLI configures (the library only creates loggers, never handlers)
_LOG_PACKAGES = ("gemgraph", "nasbench")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: a search run's log file, ``RUN/log.txt`` (appended by every command that writes the run)
RUN_LOG = "log.txt"


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, systemd, SLURM, Kubernetes) while a command runs: handled as Ctrl-C is
    (a search run is marked "interrupted", a line on stderr and in ``RUN/log.txt``), exit 143."""


def _log_level(args: argparse.Namespace) -> int:
    """The stderr log level: ``--log-level`` if given, else DEBUG with ``-vv``, INFO with ``-v``,
    ERROR with ``-q`` (``-q -v``: no progress bars, INFO lines), else WARNING."""
    import logging

    if args.log_level:
        return getattr(logging, args.log_level)
    if args.verbose:
        return logging.INFO if args.verbose == 1 else logging.DEBUG
    return logging.ERROR if args.quiet else logging.WARNING


class _Logging:
    """Context manager: a stderr handler (and the level) on the ``gemgraph`` and ``nasbench``
    loggers for one ``main()`` call; everything is restored on exit (no handler outlives it)."""

    def __init__(self, level: int, stream=None) -> None:
        self.level, self.stream = level, stream
        self.handler: logging.Handler | None = None
        self._saved: list = []

    def __enter__(self) -> "_Logging":
        import logging

        handler = self.handler = logging.StreamHandler(self.stream if self.stream is not None else sys.stderr)
        handler.setLevel(self.level)
        handler.setFormatter(logging.Formatter(_LOG_FORMAT, datefmt="%H:%M:%S"))
        for name in _LOG_PACKAGES:
            lg = logging.getLogger(name)
            self._saved.append((lg, lg.level))
            lg.addHandler(handler)
            lg.setLevel(self.level)
        return self

    def __exit__(self, *exc) -> Literal[False]:
        for lg, level in self._saved:
            if self.handler is not None:
                lg.removeHandler(self.handler)
            lg.setLevel(level)
        self._saved.clear()
        return False


class _QuietFileHandler(logging.FileHandler):
    """The run log's handler: a record that cannot be written (a full disk) is dropped, not
    reported with a ``--- Logging error ---`` traceback on stderr (the command's own error line
    says what went wrong)."""

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        pass


class _run_log:
    """Context manager: while a command writes the run ``run_dir``, the ``gemgraph`` / ``nasbench``
    log records at INFO (or the chosen level where lower) are appended to ``RUN/log.txt``, with
    the command line first and, when the command stops on an error, that error last. The
    handler is removed and closed on exit. A log file that cannot be opened is a warning, not an
    error (the run itself is what matters)."""

    def __init__(self, run_dir, args: argparse.Namespace) -> None:
        import logging

        self.path = Path(run_dir) / RUN_LOG
        self.level = min(logging.INFO, getattr(args, "log_level_value", logging.WARNING))
        self.argv = getattr(args, "argv", None)
        self.handler: logging.Handler | None = None
        self._saved: list = []

    def __enter__(self) -> "_run_log":
        import logging

        try:
            handler = self.handler = _QuietFileHandler(self.path, mode="a", encoding="utf-8")
        except OSError as exc:
            logging.getLogger(LOGGER_NAME).warning("cannot write the run log %s (%s)", self.path, exc.strerror or exc)
            return self
        handler.setLevel(self.level)
        handler.setFormatter(logging.Formatter(_LOG_FORMAT, datefmt="%Y-%m-%d %H:%M:%S"))
        for name in _LOG_PACKAGES:
            lg = logging.getLogger(name)
            self._saved.append((lg, lg.level))
            lg.addHandler(handler)
            if lg.getEffectiveLevel() > self.level:
                lg.setLevel(self.level)
        self._write(logging.INFO, "gemgraph " + " ".join(self.argv) if self.argv is not None else "gemgraph")
        return self

    def _write(self, level: int, msg: str) -> None:
        """A record for the file only (the console has its own line for it)."""
        import logging

        if self.handler is not None:
            record = logging.getLogger(LOGGER_NAME).makeRecord(LOGGER_NAME, level, __file__, 0, msg, (), None)
            self.handler.handle(record)

    def __exit__(self, typ, exc, tb) -> Literal[False]:
        import logging

        if self.handler is None:
            return False
        if typ is not None:
            if issubclass(typ, KeyboardInterrupt):
                self._write(logging.ERROR, "interrupted" + (" (SIGTERM)" if issubclass(typ, Terminated) else ""))
            else:
                self._write(logging.ERROR, f"stopped: {typ.__name__}: {exc}")
        for lg, level in self._saved:
            lg.removeHandler(self.handler)
            lg.setLevel(level)
        self._saved.clear()
        self.handler.close()
        self.handler = None
        return False


# ---------------------------------------------------------------------- the parser's shared parts
class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Defaults shown (``(default: X)``) where there is one to show (not None / False / 0 counts:
    their help says what happens), epilogs kept as written."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if ("%(default)" in text or not action.option_strings or action.default is None
                or action.default is False or action.default is argparse.SUPPRESS
                or isinstance(action, argparse._CountAction)):
            return text
        return text + " (default: %(default)s)"


def _device(text: str) -> str:
    """argparse type of ``--device``: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``."""
    import re

    if not re.fullmatch(r"auto|cpu|cuda(:\d+)?", text):
        raise argparse.ArgumentTypeError(f"expected auto, cpu, cuda or cuda:N, got {text!r}")
    return text


def _seed(text: str) -> int:
    """argparse type of ``--seed``: an int in [0, 2**63 - 1] (what torch and numpy take)."""
    from ...config import MAX_SEED

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an int, got {text!r}") from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"expected an int in [0, {MAX_SEED:,}], got {text}")
    return value


def _add_logging(parser: argparse.ArgumentParser, top: bool) -> None:
    """-v / -q / --log-level, accepted before the subcommand (``top``) and after it."""
    g = parser.add_argument_group("output and logging")
    sfx = "_top" if top else ""
    g.add_argument("-v", "--verbose", action="count", default=0, dest="verbose" + sfx,
                   help="more log lines on stderr: -v INFO (e.g. nasbench's parse and cache lines), -vv DEBUG "
                        "(default: WARNING)")
    g.add_argument("-q", "--quiet", action="store_true", dest="quiet" + sfx,
                   help="no progress bars or progress lines, and log errors only (with -v: no bars, INFO lines)")
    g.add_argument("--log-level", default=None, choices=_LOG_LEVELS, dest="log_level" + sfx,
                   help="stderr log level, overriding -v / -q (default: WARNING)")


def _sub(sub, name: str, help: str, examples: str, more: str = "") -> argparse.ArgumentParser:
    """The subparser ``name``: ``help`` as its description, the ``examples`` lines (then ``more``)
    as its epilog, the logging options."""
    p = sub.add_parser(name, help=help, description=help, formatter_class=_HelpFormatter,
                       epilog="examples:\n" + examples + ("\n" + more if more else ""))
    _add_logging(p, top=False)
    return p


# ---------------------------------------------------------------------- options several subcommands take
# Each is added where the subcommand's help lists it (argparse ``parents=`` would put them first);
# the help text of each is written here once.
_DEVICE_HELP = "auto (CUDA when available, else CPU), cpu, cuda or cuda:N"
#: ``--data`` of the NAS-Bench-101 commands (ablation, benchmark nb101)
NB101_DATA_HELP = "official-layout .tfrecord (omitted: the bundled 20k sample)"
#: ``--seed`` of the commands that sample cells for an existing run (bootstrap, plot)
RUN_SEED_HELP = "seed of the sampled cells (omitted: the run's)"


def add_device(p: argparse.ArgumentParser, what: str = "") -> None:
    """``--device`` (default ``auto``, checked by :func:`_device`); ``what`` is added to the help
    (e.g. ``" (encoder training)"``)."""
    p.add_argument("--device", default="auto", type=_device, help=_DEVICE_HELP + what)


def add_seed(p: argparse.ArgumentParser, help: str, default: int | None = 0) -> None:
    """``--seed``: an int in [0, 2**63 - 1] (:func:`_seed`); ``help`` says what it seeds."""
    p.add_argument("--seed", type=_seed, default=default, help=help)


def add_download(p: argparse.ArgumentParser) -> None:
    """``--download``: fetch full CIFAR-10 when it is absent (search, train)."""
    p.add_argument("--download", action="store_true",
                   help="fetch full CIFAR-10 through torchvision into --data (or $GEMGRAPH_DATA) when absent")


def add_reembed(p: argparse.ArgumentParser) -> None:
    """``--reembed`` of the commands that reuse a run's predictor (bootstrap, plot)."""
    p.add_argument("--reembed", action="store_true",
                   help="accept RUN/encoder.pt as it now is and refit the predictor on re-embedded candidates")


def add_predictor(p: argparse.ArgumentParser, paper_help: str) -> None:
    """``--ensemble`` and ``--paper-predictor`` (ablation, benchmark; read by
    :func:`_predictor_options`); ``paper_help`` is the help of ``--paper-predictor``."""
    p.add_argument("--ensemble", type=int, default=5, help="predictor ensemble members")
    p.add_argument("--paper-predictor", action="store_true", help=paper_help)


def add_no_plot(p: argparse.ArgumentParser, file: str) -> None:
    """``--no-plot``: the figure ``file`` is not written."""
    p.add_argument("--no-plot", action="store_true", help=f"do not write {file}")


def add_json(p: argparse.ArgumentParser, what: str) -> None:
    """``--json``: ``what`` is printed as one JSON document on stdout, and nothing else."""
    p.add_argument("--json", action="store_true", help=f"print {what} as one JSON document on stdout (nothing else)")


def preset_list() -> str:
    """The presets and what each runs, for a help epilog: one entry per preset of
    :data:`gemgraph.config.PRESET_DESCRIPTIONS` (the one source of those texts)."""
    import textwrap

    from ...config import PRESET_DESCRIPTIONS

    lines = ["presets (gemgraph config list; gemgraph config show --preset P for every key):"]
    width = 2 + max(map(len, PRESET_DESCRIPTIONS)) + 2
    for name, d in PRESET_DESCRIPTIONS.items():
        lines += textwrap.wrap(f"{d.what}; where: {d.where}", width=116, initial_indent=f"  {name:<{width - 2}}",
                               subsequent_indent=" " * width)
    return "\n".join(lines) + "\n"
