"""The application layer (issue 14 item 1): run-directory work in gemgraph.app.runs, the CLI's
tables in gemgraph.app.tables on the library's gemgraph.tables.format_table, NASGEM without a
trainer for bootstrap-only use, encoder knowledge in the encoder registry."""
from __future__ import annotations

import pytest

from gemgraph import encoders
from gemgraph.memstore import MemoryStore
from gemgraph.search import NASGEM

from .._search_helpers import tiny_search

pytestmark = pytest.mark.usefixtures("one_thread")


def test_nasgem_without_a_trainer_bootstraps_and_refuses_to_evaluate():
    store = MemoryStore(config={"seed": 0})
    full = tiny_search(store)
    full.evaluate_all(4)
    full.refit()
    boot = NASGEM(full.space, full.encoder, full.predictor, None, store, seed=0, num_samples=200, top_k=2,
                  progress=False)
    res = boot.bootstrap()
    assert len(res.top) == 2 and res.bootstrap.num_evaluated == 200
    with pytest.raises(ValueError, match="trainer: expected an evaluator.*bootstrap only"):
        boot.run(6)
    with pytest.raises(ValueError, match="trainer: expected an evaluator"):
        boot.evaluate_all(6)
    with pytest.raises(ValueError, match="verify_top: expected 0 without a trainer"):
        NASGEM(full.space, full.encoder, full.predictor, None, store, top_k=2, verify_top=1)
    with pytest.raises(ValueError, match="trainer: expected an object with evaluate"):
        NASGEM(full.space, full.encoder, full.predictor, object(), store)


def test_tables_are_shared_by_the_library_and_the_app():
    import gemgraph.app.runs as runs
    import gemgraph.app.tables as app_tables
    from gemgraph.tables import format_table

    assert runs.format_table is format_table is app_tables.format_table and runs.dumps is app_tables.dumps
    text = format_table([{"a": 1, "b": None}, {"a": 22, "b": 0.5}], [("a", "A", "d"), ("b", "bee", ".2f")])
    assert text.splitlines() == [" A   bee", "--  ----", " 1     -", "22  0.50"]
    assert app_tables.dumps({"x": float("nan")}) == '{\n  "x": null\n}'


def test_run_directory_functions_are_public_in_app_runs():
    from gemgraph.app import cli, runs

    for name in ("open_search", "load_run", "check_writable_run", "check_run_dir", "probe_writable"):
        assert callable(getattr(runs, name))
    for name in ("_open_search", "_load_run", "_NoTrainer", "_pick_table", "_history_table"):
        assert not hasattr(cli, name)


def test_hidden_option_comes_from_the_encoder_registry():
    assert encoders.hidden_option("mlp", [32, 16]) == [32, 16]
    assert encoders.hidden_option("gin", [32, 16]) == 32 and encoders.hidden_option("GCN", [8]) == 8
    with pytest.raises(ValueError, match="--hidden: the 'raw' encoder has no hidden layers"):
        encoders.hidden_option("raw", [8], "--hidden")

    @encoders.register("test-one-width")
    class OneWidth(encoders.MLPEncoder):
        hidden_option_kind = "width"

    try:
        assert encoders.hidden_option("test-one-width", [5, 6]) == 5  # a new encoder needs no CLI change
    finally:
        from gemgraph.encoders import base

        base._REGISTRY.pop("test-one-width")


@pytest.mark.parametrize("name,hidden,expect", [("gin", "12,99", 12), ("mlp", "12,10", [12, 10])])
def test_embed_hidden_widths_per_encoder(tmp_path, capsys, name, hidden, expect):
    from gemgraph.app.cli import main

    out = tmp_path / "e.pt"
    assert main(["embed", "--nodes", "5", "--encoder", name, "--hidden", hidden, "--dim", "4", "--train-graphs", "64",
                 "--epochs", "1", "--labels", "degree", "--quiet", "--device", "cpu", "--out", str(out)]) == 0
    capsys.readouterr()
    assert encoders.load(out).config["hidden"] == expect
    assert main(["embed", "--encoder", "raw", "--hidden", "8", "--quiet"]) == 2
    assert "--hidden: the 'raw' encoder has no hidden layers" in capsys.readouterr().err


def test_torch_jit_deprecation_is_filtered_by_category_and_module():
    import subprocess
    import sys
    from pathlib import Path

    import gemgraph.app.cli as cli

    src = Path(cli.__file__).read_text()
    main_body = src.split("def main", 1)[1].split("def _run")[0]
    assert 'module=r"torch\\.jit\\._script"' in src and "message=" not in main_body
    r = subprocess.run([sys.executable, "-W", "default", "-m", "gemgraph", "embed", "--help"], capture_output=True,
                       text=True, cwd=Path(cli.__file__).parents[3], timeout=120)  # gemgraph/app/cli/
    assert r.returncode == 0 and "torch.jit.script" not in r.stderr, r.stderr[-2000:]
