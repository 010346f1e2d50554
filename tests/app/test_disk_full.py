"""A full disk is a "cannot be written" error: one line naming the path and "no space left"
(exit 2 in the CLI), nothing half-written left behind, a search run marked "stopped" (not
"killed") and resumable. Tested with a patched writer (ENOSPC from the OS, SQLite's
SQLITE_FULL through ``max_page_count``) and, where this machine lets the tests mount one, on a
real 1 MiB tmpfs."""
from __future__ import annotations

import errno
import json
import os
import subprocess
import uuid
from pathlib import Path

import pytest

from gemgraph import encoders
from gemgraph.app.cli import main
from gemgraph.app.runs import store_path
from gemgraph.store import RunStore
from gemgraph.utils import CannotWriteError, atomic_write_bytes

from .. import _search_helpers

TINY = ["--preset", "quick", "--nodes", "6", "--macs", "0:", "--min-ops", "1", "--iterations", "2",
        "--set", "encoder.n_train=300", "--set", "encoder.max_epochs=1", "--set", "encoder.dim=8",
        "--quiet", "--device", "cpu"]


def _one_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    return err


def _enospc_for(monkeypatch, suffix: str) -> None:
    """``os.fsync`` raises ENOSPC for files whose name ends with ``suffix`` (what a full disk
    does to a buffered write at the latest when it is flushed)."""
    real = os.fsync

    def fsync(fd):
        if os.readlink(f"/proc/self/fd/{fd}").endswith(suffix):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(fd)

    monkeypatch.setattr(os, "fsync", fsync)


def test_atomic_write_on_a_full_disk_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "f.bin"
    path.write_bytes(b"old")
    _enospc_for(monkeypatch, "f.bin.tmp")
    with pytest.raises(CannotWriteError) as e:
        atomic_write_bytes(path, b"new" * 1000)
    assert str(e.value) == f"{path}: cannot be written: no space left on device"
    assert isinstance(e.value, OSError) and e.value.errno == errno.ENOSPC
    assert path.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["f.bin"]


def test_atomic_write_interrupted_leaves_no_tmp(tmp_path, monkeypatch):
    def interrupted(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_bytes(tmp_path / "f.bin", b"x")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc/self/fd")
def test_search_whose_encoder_does_not_fit_is_stopped_and_resumable(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("gemgraph.app.runs.load_data", lambda cfg, root=None, **kw: _search_helpers.tiny_data())
    run = tmp_path / "run"
    with monkeypatch.context() as m:
        _enospc_for(m, "encoder.pt.tmp")
        assert main(["search", *TINY, "--out", str(run)]) == 2
    err = _one_line(capsys)
    assert f"{run / 'encoder.pt'}: cannot be written: no space left on device" in err, err
    assert f"gemgraph search --resume {run}" in err
    assert sorted(p.name for p in run.iterdir() if not p.name.startswith(".")) == ["log.txt", "run.sqlite"]
    assert main(["report", str(run), "--json", "--cv-folds", "0"]) == 0
    assert json.loads(capsys.readouterr().out)["meta"]["status"] == "stopped"
    assert "cannot be written: no space left on device" in (run / "log.txt").read_text()
    from gemgraph.search import NASGEM

    def stop(self, iterations):
        raise KeyboardInterrupt

    monkeypatch.setattr(NASGEM, "run", stop)  # the resume gets as far as the search itself
    assert main(["search", "--resume", str(run), "--quiet", "--device", "cpu"]) == 130
    capsys.readouterr()
    assert encoders.load(run / "encoder.pt").dim == 8


def test_search_whose_store_is_full_is_stopped(tmp_path, monkeypatch, capsys):
    from gemgraph.search import NASGEM

    monkeypatch.setattr("gemgraph.app.runs.load_data", lambda cfg, root=None, **kw: _search_helpers.tiny_data())
    monkeypatch.setattr("gemgraph.app.runs.prepare_encoder",
                        lambda *a, **k: encoders.create("mlp", num_nodes=6, dim=8, hidden=(16,)))

    def fill(self, iterations):  # the store cannot grow by one more page: SQLite's SQLITE_FULL
        conn = self.store._conn
        conn.execute(f"PRAGMA max_page_count = {conn.execute('PRAGMA page_count').fetchone()[0]}")
        cell = self.space.sample(1, seed=0)[0]
        self.store.add_candidate(0, cell, macs=1.0, params=1, accuracy=0.5, score=0.1, seconds=1.0, status="ok",
                                 extra={"pad": "x" * 200_000})

    monkeypatch.setattr(NASGEM, "run", fill)
    run = tmp_path / "run"
    assert main(["search", *TINY, "--out", str(run)]) == 2
    err = _one_line(capsys)
    assert f"{store_path(run)}: cannot be written: no space left on device" in err, err
    with RunStore(store_path(run), readonly=True) as st:
        assert len(st) == 0 and st.get_meta("status") == "stopped"  # rolled back, marked


# ---------------------------------------------------------------------- a real full disk (tmpfs)
@pytest.fixture
def tiny_fs(tmp_path):
    """A 1 MiB tmpfs (skipped where this process may not mount one)."""
    mnt = tmp_path / f"fs-{uuid.uuid4().hex[:6]}"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({r.stderr.decode().strip()[:80]})")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def _fill(folder: Path) -> Path:
    """Fill ``folder``'s file system to the last byte; returns the filler file."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 512)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)
    return filler


def test_encoder_save_and_store_write_on_a_real_full_disk(tiny_fs):
    enc = encoders.create("mlp", num_nodes=10, dim=16, hidden=(64,))  # a file of about 19 KB
    store = RunStore(tiny_fs / "run.sqlite", create=True, config={"seed": 0})
    store.set_meta("status", "running")
    filler = _fill(tiny_fs)
    with pytest.raises(CannotWriteError, match=r"encoder.pt: cannot be written: no space left on device"):
        enc.save(tiny_fs / "encoder.pt")
    assert not (tiny_fs / "encoder.pt").exists() and not (tiny_fs / "encoder.pt.tmp").exists()
    cell = _search_helpers.SearchSpace(6).sample(1, seed=0)[0]
    with pytest.raises(CannotWriteError, match=r"run.sqlite: cannot be written: no space left on device"):
        for t in range(50):  # the first page that does not fit
            store.add_candidate(t, cell, macs=1.0, params=1, accuracy=0.5, score=0.1, seconds=1.0, status="ok",
                                extra={"pad": "x" * 8000})
    filler.unlink()
    done = len(store)
    store.close()
    with RunStore(tiny_fs / "run.sqlite") as st:  # intact, and writable again
        assert len(st) == done and st.get_meta("status") == "running"
        st.add_candidate(done, cell, macs=1.0, params=1, accuracy=0.5, score=0.1, seconds=1.0, status="ok")
    enc.save(tiny_fs / "encoder.pt")
    assert encoders.load(tiny_fs / "encoder.pt").dim == 16
