"""Small shared helpers: device resolution and argument checks."""
from __future__ import annotations

import functools
import io
import logging
import math
import os
import re
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from .errors import InputError


def resolve_device(device: Any = "auto") -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; anything else -> ``torch.device(device)``.

    Raises:
        ValueError: for an unknown device string, or ``"cuda"`` when CUDA is not available.
    """
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise InputError(f"device: expected 'auto', 'cpu', 'cuda' or a torch.device, got {device!r} ({exc})") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InputError("device: 'cuda' was requested but CUDA is not available on this machine")
    if dev.type not in ("cpu", "cuda"):
        raise InputError(f"device: expected a cpu or cuda device, got {device!r}")
    return dev


def derive_seed(seed: int, *keys: int | str) -> int:
    r"""A 62-bit seed derived from ``seed`` and ``keys``: independent streams per key, the same
    value on every platform. gemgraph's one seed-derivation helper (search, bootstrap, ablation,
    benchmark).

    Args:
        seed: the run's seed.
        *keys: what the stream is for (ints, or strings hashed with CRC-32), e.g.
            ``derive_seed(seed, "bootstrap")`` or ``derive_seed(seed, "ablation", s)``; the seed
            is ``numpy.random.SeedSequence([seed, *keys])``'s first 64-bit word, 62 bits kept.
    """
    ints = [int(seed)] + [k if isinstance(k, int) else zlib.crc32(str(k).encode()) for k in keys]
    return int(np.random.SeedSequence(ints).generate_state(1, dtype=np.uint64)[0]) & ((1 << 62) - 1)



def random_candidate(space: Any, seed: int, t: int) -> Any:
    r"""Random cell number ``t`` of a run with seed ``seed`` on ``space``: a function of ``(seed,
    t)`` only. A finite space with ``draw(t, seed=)`` (a benchmark's pool) draws it; any other
    space samples one cell seeded with ``derive_seed(seed, "candidate", t)``. This is the random
    stream :meth:`gemgraph.search.NASGEM.candidate` proposes and the reference check
    (:mod:`gemgraph.validate`) replays as random search."""
    if hasattr(space, "draw"):
        return space.draw(t, seed=seed)
    return space.sample(1, seed=derive_seed(seed, "candidate", t))[0]

def warmup_cosine(step: int, total: int, warmup_steps: int, *, start: float = 0.0, offset: int = 0) -> float:
    r"""Learning-rate factor at ``step`` of a ``total``-step schedule: a linear warm-up, then a
    cosine decay from 1 to 0 at step ``total`` (0 after it). The one schedule of gemgraph's
    trainers (the encoder's ``"onecycle"``, the proxy trainer's warm-up + cosine), each with its
    own warm-up.

    Args:
        step: the optimiser step (0-based), as ``torch.optim.lr_scheduler.LambdaLR`` passes it.
        total: the schedule's length in steps.
        warmup_steps: w >= 1, the warm-up's length; steps ``< w`` get
            ``start + (1 - start) * (step + offset) / w``.
        start: the factor the warm-up starts from (at ``offset = 0``).
        offset: 1 makes the warm-up's last step reach 1 (``(step + 1) / w`` with ``start = 0``).
    """
    w = warmup_steps
    if step < w:
        return start + (1.0 - start) * (step + offset) / w
    p = min(1.0, (step - w) / max(1, total - w))
    return 0.5 * (1.0 + math.cos(math.pi * p))


def cache_root() -> "os.PathLike[str]":
    """``$GEMGRAPH_CACHE``, or ``~/.cache/gemgraph``: where derived artefacts (parsed tables,
    trained NB101 encoders) are kept between runs."""
    root = os.environ.get("GEMGRAPH_CACHE")
    return Path(root) if root else Path.home() / ".cache" / "gemgraph"


def source_digest(modules: Sequence[str]) -> str:
    r"""A digest of the source text of ``modules`` (their names and code, in the given order):
    a cache key part that changes whenever the code that computes a cached artefact does.

    The text is the loader's (``loader.get_source``: the ``.py`` file, also inside a zip);
    a module shipped without source is hashed by its compiled code instead. Read once per
    process and module list (the code of an imported module does not change under it).

    Args:
        modules: importable module names, e.g. ``("gemgraph.wl", "gemgraph.embedding")``.

    Returns:
        32 hex digits (blake2b, 16 bytes).

    Raises:
        InputError: ``modules`` is empty or names a module that cannot be found.
    """
    if isinstance(modules, str) or not modules:
        raise InputError(f"modules: expected a non-empty sequence of module names, got {modules!r}")
    return _source_digest(tuple(str(m) for m in modules))


@functools.lru_cache(maxsize=32)
def _source_digest(modules: tuple[str, ...]) -> str:
    import hashlib  # noqa: PLC0415
    import importlib.util  # noqa: PLC0415
    import marshal  # noqa: PLC0415

    h = hashlib.blake2b(digest_size=16)
    for name in modules:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError) as exc:
            raise InputError(f"modules: cannot find the module {name!r} ({exc})") from None
        if spec is None or spec.loader is None:
            raise InputError(f"modules: cannot find the module {name!r}")
        loader: Any = spec.loader
        text = loader.get_source(name) if hasattr(loader, "get_source") else None
        if text is not None:
            data = text.encode("utf-8")
        elif hasattr(loader, "get_code") and loader.get_code(name) is not None:
            data = marshal.dumps(loader.get_code(name))
        else:
            raise InputError(f"modules: the module {name!r} has neither source nor code to hash")
        h.update(name.encode() + b"\0" + str(len(data)).encode() + b"\0" + data)
    return h.hexdigest()


def check_finite(value: Any, name: str) -> float:
    """``value`` as a float; ValueError naming ``name`` unless it is a finite real number."""
    if not (isinstance(value, (int, float, np.integer, np.floating)) and math.isfinite(float(value))):
        raise InputError(f"{name}: expected a finite float, got {value!r}")
    return float(value)


def check_int(value: Any, name: str, minimum: int | None = None) -> int:
    """Return ``int(value)`` for an int (or a numpy integer), else raise ``ValueError`` naming
    ``name``: ``"name: expected an int >= minimum, got value"`` (without ``>= minimum`` when
    ``minimum`` is None). ``bool`` is not an int here."""
    want = "an int" if minimum is None else f"an int >= {minimum}"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, int) and not hasattr(value, "__index__"):
        raise InputError(f"{name}: expected {want}, got {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise InputError(f"{name}: expected {want}, got {value}")
    return value


def is_fitted(estimator: Any) -> bool:
    """True if scikit-learn's ``check_is_fitted`` accepts ``estimator`` (its
    ``__sklearn_is_fitted__``, else its fitted attributes ending in ``_``)."""
    from sklearn.exceptions import NotFittedError  # noqa: PLC0415 - scikit-learn off `import gemgraph`
    from sklearn.utils.validation import check_is_fitted  # noqa: PLC0415

    try:
        check_is_fitted(estimator)
    except NotFittedError:
        return False
    return True


def finite_or_none(value: Any, name: str = "value") -> float | None:
    """``float(value)``, or None for None / NaN / inf.

    Raises:
        ValueError: naming ``name``, for anything but a real number or None.
    """
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InputError(f"{name}: expected a number or None, got {value!r}")
    value = float(value)
    return value if math.isfinite(value) else None


class intra_op_threads:
    r"""Context manager: run torch ops on ``n`` intra-op threads inside the block, then put back
    the setting found on entry, on every way out (a return, an exception, ``KeyboardInterrupt``).

    ``torch.set_num_threads`` is a process setting, so this is for library calls that must run
    on a fixed thread count (a documented choice: :class:`~gemgraph.evaluate.ProxyTrainer`'s
    ``num_threads``, the one-thread encoder training and embedding); inside the block, code the
    call runs (hooks, callbacks) sees ``n``, and so does a Python thread that makes its first
    torch call during the block (PyTorch seeds a new thread's count from the last setting).
    Nothing is changed when the count already is ``n``. One instance may be entered again
    (nested or later): each exit restores what its own entry found.

    Args:
        n: intra-op threads in the block (an int >= 1).

    Raises:
        InputError: ``n`` is not an int >= 1.
    """

    def __init__(self, n: int) -> None:
        self.n = check_int(n, "n", 1)
        self._saved: list[int] = []

    def __enter__(self) -> "intra_op_threads":
        previous = torch.get_num_threads()
        self._saved.append(previous)
        try:
            if previous != self.n:
                torch.set_num_threads(self.n)
        except BaseException:  # interrupted half-way: leave the setting as found
            self._saved.pop()
            if torch.get_num_threads() != previous:
                torch.set_num_threads(previous)
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        previous = self._saved.pop()
        if torch.get_num_threads() != previous:
            torch.set_num_threads(previous)


class single_thread(intra_op_threads):
    """:class:`intra_op_threads` with ``n = 1``: torch ops on one intra-op thread in the block,
    the setting restored on every way out.

    Tiny models (the predictor's MLP) gain nothing from several threads, and on a busy
    machine OpenMP's spin-waiting makes them tens of times slower; the encoder's training and
    :meth:`~gemgraph.encoders.Encoder.embed` use it so that their matrix products (whose sums
    BLAS splits by the thread count) give the same numbers on any machine setting.
    """

    def __init__(self) -> None:
        super().__init__(1)


# ---------------------------------------------------------------------- writing files that may not fit
_NO_SPACE = {28: "no space left on device", 122: "disk quota exceeded"}  # ENOSPC, EDQUOT


class CannotWriteError(OSError):
    r"""A file (or the run store) that cannot be written: the disk is full, a quota is
    exceeded, or the OS refused the write. ``str()`` is one line naming the path and the reason
    (e.g. ``"RUN/encoder.pt: cannot be written: no space left on device"``); nothing
    half-written is left behind by the writers that raise it.

    Args:
        path: the file that could not be written.
        errno_: the OS error number (e.g. ``errno.ENOSPC``), or None.
        reason: what the OS said, when ``errno_`` is not a space error.
    """

    #: what a caller adds to the message (e.g. the CLI: how to continue the run), "" when nothing
    hint: str = ""

    def __init__(self, path: str | os.PathLike, errno_: int | None, reason: str = "") -> None:
        why = _NO_SPACE.get(errno_ or 0) or (reason.strip() or "the write failed").lower()
        super().__init__(errno_ or 0, why, os.fspath(path))
        self.reason = why

    def __str__(self) -> str:
        return f"{self.filename}: cannot be written: {self.reason}"


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    r"""Write ``data`` to ``path`` atomically: into ``path + ".tmp"``, flushed and fsynced,
    then renamed over ``path``. On any OS error (a full disk, a quota), and when interrupted,
    the temporary file is removed and ``path`` is left as it was.

    Raises:
        CannotWriteError: naming ``path`` and the reason (e.g. no space left on device).
    """
    path = os.fspath(path)
    tmp = path + ".tmp"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:  # also Ctrl-C / SIGTERM mid-write: no half-written file is left
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise CannotWriteError(path, exc.errno, exc.strerror or str(exc)) from exc
        raise


def atomic_torch_save(obj: Any, path: str | os.PathLike) -> None:
    r"""``torch.save(obj)`` to ``path`` atomically (:func:`atomic_write_bytes`): serialised in
    memory first, so a full disk is one :class:`CannotWriteError` (torch's own file writer
    reports it as ``RuntimeError: [enforce fail at inline_container.cc ...]``), never a
    half-written file."""
    buf = io.BytesIO()
    torch.save(obj, buf)
    atomic_write_bytes(path, buf.getvalue())


# ---------------------------------------------------------------------- one-line messages
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def one_line(text: Any, limit: int = 300) -> str:
    """``text`` as one line for an error message: terminal colour codes removed, its first
    non-empty line, at most ``limit`` characters (``" ..."`` marks a cut)."""
    lines = [ln.strip() for ln in _ANSI.sub("", str(text)).splitlines() if ln.strip()]
    first = lines[0] if lines else ""
    more = len(lines) > 1
    if len(first) > limit:
        first, more = first[:limit].rstrip(), True
    return first + (" ..." if more else "")


def torch_load_reason(exc: BaseException) -> str:
    r"""Why ``torch.load(..., weights_only=True)`` refused a file, in one line: for a file that
    holds Python objects besides weights, the object it stopped at (torch's six-line advice
    to load it unsafely is left out: a gemgraph file never needs that); else the first line of
    the error. The full text is logged at INFO (``-v`` in the CLI)."""
    text = _ANSI.sub("", str(exc))
    logging.getLogger("gemgraph").info("torch.load: %s: %s", type(exc).__name__, text)
    m = re.search(r"WeightsUnpickler error:\s*(.*?)(?: was not an allowed global.*)?(?:\.\s|\n|$)", text)
    if m:
        return f"it holds Python objects, not only weights ({one_line(m.group(1), 160)}), so it is not loaded"
    return f"{type(exc).__name__}: {one_line(text)}"


def init_then_batches(iterations: int, n_init: int, batch_size: int) -> list[range]:
    """The batches of a sampler that starts with ``n_init`` random cells: ``range(0, n_init)``,
    then ranges of ``batch_size`` up to ``iterations``."""
    first = min(n_init, iterations)
    out = [range(0, first)] if first else []
    out += [range(s, min(s + batch_size, iterations)) for s in range(first, iterations, batch_size)]
    return out
