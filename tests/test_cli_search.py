"""The search commands end to end on the real proxy data (small settings)."""
import json

from gemgraph.cli import main

from .conftest import need_data


def test_search_report_bootstrap_plot_train(tmp_path, monkeypatch, capsys):
    root = need_data("cifar10-proxy/cifar10_proxy.npz").parents[1]
    monkeypatch.setenv("GEMGRAPH_DATA", str(root))
    run = tmp_path / "run"
    args = ["search", "--preset", "quick", "--nodes", "6", "--iterations", "3", "--num-samples", "300",
            "--width", "4", "--macs", "0:", "--min-ops", "1", "--out", str(run), "--quiet", "--device", "cpu"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "evaluated 3 candidates" in out and "bootstrap pick over 300" in out
    assert main(["report", str(run), "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["iterations_done"] == 3 and len({c["id"] for c in rep["candidates"]}) == 3
    assert rep["pick"]["best"]["n"] == 6
    assert rep["meta"]["encoder_fidelity"]["n_pairs"] > 0
    # same config again: nothing left to do, same pick (resume semantics)
    assert main(["search", "--resume", str(run), "--quiet", "--device", "cpu"]) == 0
    capsys.readouterr()
    assert main(["report", str(run), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["pick"]["best"] == rep["pick"]["best"]
    # a different config into the same directory is refused
    assert main(["search", "--preset", "quick", "--nodes", "7", "--out", str(run), "--quiet"]) == 2
    assert "another config" in capsys.readouterr().err
    assert main(["bootstrap", str(run), "--num-samples", "200"]) == 0
    assert main(["plot", "surface", str(run), "--num-samples", "400"]) == 0
    assert (run / "surface.png").stat().st_size > 10_000
    capsys.readouterr()
    assert main(["train", str(run), "--epochs", "1", "--width", "4", "--cells-per-stage", "1", "--quiet",
                 "--device", "cpu", "--json"]) == 0
    gem = json.loads(capsys.readouterr().out)
    assert 0 <= gem["accuracy"] <= 1 and gem["macs"] > 0 and gem["imagenet_mobilenet_params"] > 0
    assert main(["report", str(tmp_path / "missing")]) == 2
