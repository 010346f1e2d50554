"""SIGTERM (what kill, systemd, SLURM and Kubernetes send) is handled as Ctrl-C is: the run is
marked "interrupted", a line says so on stderr and in RUN/log.txt, exit status 143; a real
child process running a small search."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gemgraph.app.cli import main
from gemgraph.app.runs import store_path
from gemgraph.store import RunStore

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
def test_sigterm_during_a_search_is_an_interrupt(tmp_path):
    run = tmp_path / "run"
    env = {k: v for k, v in os.environ.items() if k != "GEMGRAPH_DATA"}  # the embedded 16x16 subset
    cmd = [sys.executable, "-m", "gemgraph", "search", "--preset", "quick", "--nodes", "6", "--macs", "0:",
           "--min-ops", "1", "--iterations", "50", "--set", "encoder.n_train=300", "--set", "encoder.max_epochs=1",
           "--set", "encoder.dim=8", "--quiet", "--device", "cpu", "--out", str(run)]
    child = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        log = run / "log.txt"
        while time.monotonic() < deadline and child.poll() is None:  # the search has started writing the run
            if log.exists() and "preset quick" in log.read_text():
                break
            time.sleep(0.2)
        assert child.poll() is None, child.communicate()
        time.sleep(1.0)
        child.send_signal(signal.SIGTERM)
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 143, err[-2000:]
    assert err.strip().splitlines()[-1] == "gemgraph search: interrupted (SIGTERM)", err[-2000:]
    assert "Traceback" not in err
    assert "interrupted (SIGTERM)" in log.read_text()
    with RunStore(store_path(run), readonly=True) as st:
        assert st.get_meta("status") == "interrupted"


def test_main_restores_the_sigterm_handler(tmp_path, capsys):
    before = signal.getsignal(signal.SIGTERM)
    assert main(["report", str(tmp_path / "missing")]) == 2
    capsys.readouterr()
    assert signal.getsignal(signal.SIGTERM) is before


def test_report_after_sigterm_says_interrupted(tmp_path, monkeypatch, capsys):
    from gemgraph.search import NASGEM

    from .test_cli_errors import _fake_search_env

    _fake_search_env(monkeypatch, KeyboardInterrupt())

    def term(self, iterations):
        if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):  # would kill the test process
            raise AssertionError("main() installs no SIGTERM handler")
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler raises before this ends

    monkeypatch.setattr(NASGEM, "run", term)
    out = tmp_path / "run"
    assert main(["search", "--preset", "quick", "--nodes", "6", "--macs", "0:", "--min-ops", "1", "--out", str(out),
                 "--quiet", "--device", "cpu"]) == 143
    assert capsys.readouterr().err.strip().endswith("interrupted (SIGTERM)")
    assert main(["report", str(out), "--json", "--cv-folds", "0"]) == 0
    assert json.loads(capsys.readouterr().out)["meta"]["status"] == "interrupted"
