"""Make a directory read-only for the test process, even when it runs as root.

As root, permission bits do not stop writes, so the directory is made immutable with
``chattr +i`` (Linux, CAP_LINUX_IMMUTABLE); as any other user it is ``chmod 0555``. A test
that needs this skips only when neither works on this machine (it says why).
"""
from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest


@contextlib.contextmanager
def read_only_dir(path: Path):
    """Within the block, nothing can be created, removed or written in ``path`` (its files
    stay readable; files inside are made read-only too)."""
    files = [p for p in path.iterdir() if p.is_file()]
    if os.geteuid() != 0:
        for f in files:
            f.chmod(0o444)
        path.chmod(0o555)
        try:
            yield path
        finally:
            path.chmod(0o755)
            for f in files:
                f.chmod(0o644)
        return
    chattr = shutil.which("chattr")
    if chattr is None:
        pytest.skip("running as root without chattr: cannot make a read-only directory here")
    done = []
    try:
        for p in files + [path]:
            r = subprocess.run([chattr, "+i", str(p)], capture_output=True)
            if r.returncode != 0:
                pytest.skip(f"running as root and chattr +i failed ({r.stderr.decode().strip()}): "
                            "cannot make a read-only directory here")
            done.append(p)
        yield path
    finally:
        for p in reversed(done):
            subprocess.run([chattr, "-i", str(p)], capture_output=True)
