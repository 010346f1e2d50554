"""The search commands end to end on the real proxy data (small settings)."""
import json

from gemgraph.app.cli import main

from ..conftest import need_data


def test_search_report_bootstrap_plot_train(tmp_path, monkeypatch, capsys):
    root = need_data("cifar10-proxy/cifar10_proxy.npz").parents[1]
    # the search runs with no $GEMGRAPH_DATA and no --data: the quick preset trains on the embedded
    # 16x16 subset, verifies its top 2, and the report shows predicted against measured and the CV check
    monkeypatch.delenv("GEMGRAPH_DATA", raising=False)
    run = tmp_path / "run"
    args = ["search", "--preset", "quick", "--nodes", "6", "--iterations", "4", "--num-samples", "300",
            "--width", "4", "--epochs", "1", "--train-images", "640", "--macs", "0:", "--min-ops", "1",
            "--out", str(run), "--quiet", "--device", "cpu"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "evaluated 4 candidates (0 failed)" in out and "bootstrap pick over 300" in out
    assert "predictor check: Spearman" in out
    assert main(["report", str(run), "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["iterations_done"] == 4 and len({c["id"] for c in rep["candidates"]}) == 4
    assert rep["pick"]["best"]["n"] == 6
    assert rep["meta"]["encoder_fidelity"]["n_pairs"] > 0
    assert rep["config"]["trainer"]["resolution"] == 16 and rep["config"]["trainer"]["max_train_images"] == 640
    top = rep["pick"]["top"]
    # verify_top 2: the two best unmeasured predictions were trained; measured entries rank first
    assert len([e for e in top if e["verified"] is not None]) == 2
    assert all(e["measured"] is not None for e in top[:2])
    assert rep["predictor_cv"]["n"] == 4 and len(rep["predictor_cv"]["predicted"]) == 4
    assert main(["report", str(run)]) == 0
    text = capsys.readouterr().out
    assert "measured" in text and "op nodes" in text and "predictor check: Spearman" in text
    assert main(["report", str(run), "--cv-folds", "1"]) == 2
    assert "--cv-folds" in capsys.readouterr().err
    # from here on the real 32x32 files: train needs them (test split); the resume re-verifies on them
    # pooled to 16x16, the same bytes as the embedded subset, so the pick is the same
    monkeypatch.setenv("GEMGRAPH_DATA", str(root))
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


def test_missing_data_fails_before_the_encoder_trains(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["search", "--preset", "default", "--nodes", "6", "--macs", "0:", "--min-ops", "1", "--iterations", "3",
                 "--data",
                 str(tmp_path / "nowhere"), "--out", str(run), "--quiet", "--device", "cpu"]) == 2
    assert "CIFAR-10 not found" in capsys.readouterr().err
    assert not (run / "encoder.pt").exists()
