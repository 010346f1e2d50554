"""Every script under examples/ runs, with small settings (a smoke test each).

An example that no longer runs is a failed test; a new example without a smoke test here fails
:func:`test_every_example_has_a_smoke_test`. The small settings go through each example's own
command-line options (their defaults are the documented ones).
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import need_data

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
TINY_NB101_ENCODER = '{"dim": 8, "hidden": [16], "n_train": 200, "max_epochs": 2, "time_limit": null}'

#: example -> (arguments, a line its output must contain). ``{out}`` is a temporary folder.
SMOKE = {
    "train_encoder.py": (["--n-train", "300", "--epochs", "1", "--held-out", "40", "--embed", "100",
                          "--out", "{out}/enc.pt"], "embedded (100, 128) cells"),
    "search_api.py": (["--out", "{out}/api", "--iterations", "2", "--n-train", "200", "--time-limit", "5",
                       "--train-images", "64", "--eval-images", "100", "--resolution", "16",
                       "--num-samples", "200"], "picked:"),
    "nb101_ablation.py": (["--budgets", "20,40", "--seeds", "2", "--top-k", "3", "--num-samples", "300",
                           "--encoder-options", TINY_NB101_ENCODER, "--fidelity-sample", "40",
                           "--out", "{out}/abl"], "files:"),
    "nb101_search.py": (["--queries", "20", "--encoder-options", TINY_NB101_ENCODER], "regret"),
    "nb101_gnn_predictor.py": (["--train", "60", "--test", "100", "--epochs", "2"], "held-out Spearman"),
    "custom_space.py": (["--queries", "16"], "regret"),
}


def _run(script: str, args: list[str], tmp_path: Path, data: Path | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("GEMGRAPH_DATA",)}
    env.update(PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", MPLBACKEND="Agg",
               GEMGRAPH_CACHE=str(tmp_path / "cache"))
    if data is not None:
        env["GEMGRAPH_DATA"] = str(data)
    cmd = [sys.executable, str(EXAMPLES / script)] + [a.replace("{out}", str(tmp_path)) for a in args]
    res = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, f"{script} failed ({res.returncode}):\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    return res.stdout


def test_every_example_has_a_smoke_test():
    scripts = {p.name for p in EXAMPLES.glob("*.py")}
    assert scripts, "no examples found"
    missing, stale = scripts - set(SMOKE), set(SMOKE) - scripts
    assert not missing, f"examples without a smoke test in tests/test_examples.py: {sorted(missing)}"
    assert not stale, f"smoke tests for examples that no longer exist: {sorted(stale)}"


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(SMOKE))
def test_example_runs(script, tmp_path):
    """Without a data root: the bundled NB101 sample and the embedded 16x16 proxy subset."""
    args, expect = SMOKE[script]
    out = _run(script, args, tmp_path)
    assert expect in out, out[-3000:]


@pytest.mark.slow
@pytest.mark.realdata
def test_search_api_on_the_real_proxy_data(tmp_path):
    """search_api.py at its default resolution (32x32) reads the CIFAR-10 proxy from GEMGRAPH_DATA."""
    need_data("cifar10-proxy/cifar10_proxy.npz")
    root = need_data(".")
    args = ["--out", "{out}/api", "--iterations", "2", "--n-train", "200", "--time-limit", "5",
            "--train-images", "64", "--eval-images", "100", "--num-samples", "200"]
    assert "picked:" in _run("search_api.py", args, tmp_path, data=root)


@pytest.mark.slow
@pytest.mark.realdata
def test_nb101_gnn_predictor_on_the_dev_file(tmp_path):
    """nb101_gnn_predictor.py on an official-layout .tfrecord (the 20k dev file)."""
    path = need_data("nasbench101/nb101_dev_20k.tfrecord")
    args = ["--data", str(path), "--root", "{out}/nb101", "--train", "60", "--test", "100", "--epochs", "2"]
    assert "held-out Spearman" in _run("nb101_gnn_predictor.py", args, tmp_path)
