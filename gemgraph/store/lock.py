r"""The run lock: one search writes a run directory at a time."""
from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Any

from .errors import StoreError
from .serialise import utc_now

__all__ = ["RunLock"]


class RunLock:
    r"""An exclusive lock on a run directory, so that two searches cannot write one run.

    The lock is a :class:`filelock.FileLock` on ``RUN/.lock`` (``fcntl.flock`` on POSIX, the
    Windows file lock on Windows); the holder's PID, host and start time are recorded beside it
    in ``RUN/.lock.json`` for the error message. The operating system drops the lock when the
    holding process dies, even by ``SIGKILL``, so a killed run can be resumed at once. Two
    :class:`RunLock` objects exclude each other also within one process.

    Args:
        run_dir: the run directory (must exist).

    Example::

        with RunLock("RUN"):          # StoreError if another live process holds it
            ...                       # write the run
    """

    FILENAME = ".lock"
    HOLDER_FILENAME = ".lock.json"

    def __init__(self, run_dir: str | os.PathLike) -> None:
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / self.FILENAME
        self.holder_path = self.run_dir / self.HOLDER_FILENAME
        self._lock: Any = None

    @property
    def locked(self) -> bool:
        """True while this object holds the lock."""
        return self._lock is not None

    def _file_lock(self) -> Any:
        from filelock import FileLock  # noqa: PLC0415 - filelock loads when a run is locked (CLI start-up)

        # thread_local=False: the hold belongs to this object, whichever thread releases it
        return FileLock(os.fspath(self.path), timeout=0, thread_local=False)

    def _read_holder(self) -> dict[str, Any]:
        try:
            info = json.loads(self.holder_path.read_text() or "{}")
        except (OSError, ValueError):
            return {}
        return info if isinstance(info, dict) else {}

    def _write_holder(self) -> None:
        info = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": utc_now()})
        tmp = self.run_dir / f"{self.HOLDER_FILENAME}.{os.getpid()}.tmp"
        tmp.write_text(info)
        os.replace(tmp, self.holder_path)  # readers see the old record or the new one, never half of it

    def acquire(self) -> "RunLock":
        """Take the lock (without waiting). Returns self.

        Raises:
            StoreError: if another live process (or another :class:`RunLock` object) holds it;
                the message names the holder's PID and host.
            FileNotFoundError: if the run directory does not exist.
        """
        from filelock import Timeout  # noqa: PLC0415 - see _file_lock

        if self._lock is not None:
            raise StoreError(f"run {self.run_dir}: this RunLock is already acquired")
        if not self.run_dir.is_dir():
            raise FileNotFoundError(f"run directory {str(self.run_dir)!r} does not exist")
        lock = self._file_lock()
        try:
            lock.acquire(timeout=0)
        except Timeout:
            holder = self._read_holder()
            who = (f"PID {holder.get('pid')} on {holder.get('host')} (since {holder.get('started')})"
                   if holder.get("pid") else "another process (PID not yet recorded)")
            raise StoreError(f"run {self.run_dir} is in use by {who}; wait for that search to finish or stop "
                             f"it, then resume with `gemgraph search --resume {self.run_dir}`") from None
        try:
            self._write_holder()
        except BaseException:
            lock.release()
            raise
        self._lock = lock
        return self

    def holder(self) -> dict[str, Any] | None:
        """``{"pid", "host", "started"}`` of the process holding the lock, or None when free
        (or held by this object)."""
        from filelock import Timeout  # noqa: PLC0415 - see _file_lock

        if self._lock is not None or not self.path.exists():
            return None
        probe = self._file_lock()
        try:
            probe.acquire(timeout=0)
        except Timeout:
            return self._read_holder() or {"pid": None, "host": None, "started": None}
        probe.release()
        return None

    def release(self) -> None:
        """Release the lock (idempotent). The lock file stays; it is reused next time."""
        lock, self._lock = self._lock, None
        if lock is None:
            return
        try:
            self.holder_path.unlink(missing_ok=True)
        except OSError:
            pass
        finally:
            lock.release()

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc: Any) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"RunLock({str(self.run_dir)!r}, {'held' if self._lock is not None else 'free'})"
