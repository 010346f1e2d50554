"""Exporting a GEMNet: weights_only checkpoint, load_gemnet, json / torch.export / ONNX, the CLI."""
import json

import numpy as np
import pytest
import torch

import gemgraph
from gemgraph import SearchSpace
from gemgraph.app.cli import main
from gemgraph.export import (export_json, export_onnx, export_program, load_gemnet, network_config, read_gemnet,
                             save_gemnet, verify_onnx)
from gemgraph.nn import CifarNet, MobileNet
from gemgraph.store import cell_from_json

from .conftest import need_data



def _images(n=8, seed=0):
    """Normalised CIFAR-10 proxy test images (real data)."""
    from gemgraph.datasets import cifar10_proxy

    test = cifar10_proxy(need_data("cifar10-proxy/cifar10_proxy.npz").parents[1], split="test")
    return test.batch(torch.randperm(len(test), generator=torch.Generator().manual_seed(seed))[:n], augment=False)[0]


def _settle_bn(model, seed=0):
    """A few train-mode passes so BatchNorm statistics are not the identity (a harder check)."""
    g = torch.Generator().manual_seed(seed)
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.randn(16, 3, 32, 32, generator=g) * 2 + 0.3)
    return model.eval()


@pytest.fixture
def small(one_thread):
    cell = SearchSpace(6, max_concat=3).sample(1, seed=1)[0]
    torch.manual_seed(0)
    return cell, _settle_bn(CifarNet(cell, width=4, dropout=0.1, residual=False))


def test_checkpoint_is_weights_only_and_rebuilds_the_module(small, tmp_path):
    cell, model = small
    path = save_gemnet(tmp_path / "sub" / "gemnet.pt", model, cell, meta={"accuracy": 0.5, "nan": float("nan")})
    raw = torch.load(path, weights_only=True)
    assert raw["format"] == "gemgraph.gemnet" and raw["network"] == "CifarNet"
    assert raw["kwargs"] == {"num_classes": 10, "width": 4, "cells_per_stage": 1, "in_channels": 3,
                             "dropout": 0.1, "residual": False}
    assert raw["meta"] == {"accuracy": 0.5, "nan": None}
    state = torch.get_rng_state()
    loaded = gemgraph.load_gemnet(path)
    assert torch.equal(torch.get_rng_state(), state)  # rebuilding does not consume the caller's RNG
    assert not loaded.training and type(loaded) is CifarNet
    x = torch.randn(4, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))
    for k, v in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[k], v)
    assert network_config(loaded) == {"network": "CifarNet", "kwargs": raw["kwargs"]}


def test_checkpoint_errors(small, tmp_path):
    cell, model = small
    with pytest.raises(FileNotFoundError, match="path"):
        load_gemnet(tmp_path / "missing.pt")
    torch.save({"a": torch.zeros(1)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a GEMNet checkpoint"):
        read_gemnet(tmp_path / "other.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a readable torch checkpoint"):
        read_gemnet(tmp_path / "junk.pt")
    mob = MobileNet(cell, num_classes=10, width=0.25)
    with pytest.raises(ValueError, match="CifarNet only"):
        save_gemnet(tmp_path / "m.pt", mob, cell)
    p = save_gemnet(tmp_path / "m.pt", mob, cell, network="MobileNet", kwargs={"num_classes": 10, "width": 0.25})
    assert type(load_gemnet(p)) is MobileNet
    with pytest.raises(ValueError, match="network"):
        save_gemnet(tmp_path / "x.pt", model, cell, network="ResNet", kwargs={})
    with pytest.raises(ValueError, match="cell"):
        save_gemnet(tmp_path / "x.pt", model, "cell")


def test_onnx_and_program_of_a_small_cell(small, tmp_path):
    cell, model = small
    x = torch.randn(6, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    rep = export_onnx(model, tmp_path / "m.onnx", x)
    assert rep["checker"] and rep["onnxruntime"] and rep["ok"] and rep["max_abs_diff"] <= 1e-4
    # dynamic batch: another batch size runs too
    assert verify_onnx(tmp_path / "m.onnx", model, torch.randn(3, 3, 32, 32))["ok"]
    prog = export_program(model, tmp_path / "m.pt2", x)
    assert prog["ok"] and prog["max_abs_diff"] <= 1e-4
    out = torch.export.load(tmp_path / "m.pt2").module()(x[:2])
    assert out.shape == (2, 10)
    with pytest.raises(ValueError, match="images"):
        export_onnx(model, tmp_path / "m2.onnx", torch.randn(1, 3, 32, 32))
    doc = json.loads(export_json(tmp_path / "c.json", cell, note="x").read_text())
    assert doc["cell"]["n"] == cell.num_nodes and doc["note"] == "x"
    assert cell_from_json(doc["cell"]) == cell


@pytest.mark.realdata
def test_onnx_of_a_30_node_default_cell_matches_torch_on_real_images(tmp_path, one_thread):
    cell = SearchSpace(30, max_concat=8).sample(1, seed=0)[0]  # the default config's space
    assert cell.num_nodes == 30
    torch.manual_seed(0)
    model = CifarNet(cell, width=16)  # the default preset's proxy network
    torch.nn.init.normal_(model.classifier.weight, 0, 1.0)  # logits of order 1-10, not 1e-2: a real test
    model = _settle_bn(model)
    images = _images(16)
    rep = export_onnx(model, tmp_path / "gemnet30.onnx", images)
    assert rep["checker"] and rep["onnxruntime"] and rep["max_abs_output"] > 1.0
    assert rep["max_abs_diff"] <= 1e-4 and rep["ok"]


@pytest.mark.realdata
def test_train_saves_gemnet_and_export_cli(tmp_path, monkeypatch, capsys):
    root = need_data("cifar10-proxy/cifar10_proxy.npz").parents[1]
    monkeypatch.setenv("GEMGRAPH_DATA", str(root))
    run = tmp_path / "run"
    assert main(["export", str(run), "--format", "json"]) == 2  # no run yet
    # a run folder with a pick, as `gemgraph search` leaves it (the search itself: test_cli_search)
    from gemgraph.app.runs import build_config, store_path
    from gemgraph.store import RunStore, cell_to_json

    run.mkdir()
    pick = SearchSpace(6, max_concat=3).sample(1, seed=2)[0]
    with RunStore(store_path(run), create=True, config=build_config("quick", nodes=6)) as store:
        store.set_pick({"best": cell_to_json(pick)})
    assert main(["export", str(run), "--format", "onnx"]) == 2  # not trained yet
    assert "gemgraph train" in capsys.readouterr().err
    assert main(["export", str(run), "--format", "json", "--out", str(tmp_path / "pick.json")]) == 0
    assert "6-node cell" in capsys.readouterr().out
    assert cell_from_json(json.loads((tmp_path / "pick.json").read_text())["cell"]) == pick
    assert main(["train", str(run), "--epochs", "1", "--width", "4", "--cells-per-stage", "1", "--quiet",
                 "--device", "cpu", "--json"]) == 0
    gem = json.loads(capsys.readouterr().out)
    assert gem["saved"] == str(run / "gemnet.pt")
    raw = torch.load(run / "gemnet.pt", weights_only=True)
    assert raw["meta"]["accuracy"] == gem["accuracy"] and raw["kwargs"]["width"] == 4
    # the saved weights are the trained ones: same test accuracy as measured by train
    from gemgraph.datasets import cifar10_proxy

    model = gemgraph.load_gemnet(run / "gemnet.pt")
    test = cifar10_proxy(root, split="test")
    with torch.no_grad():
        x, y = test.batch(torch.arange(len(test)), augment=False)
        acc = int((model(x).argmax(1) == y).sum()) / len(y)
    assert acc == pytest.approx(gem["accuracy"], abs=1e-9)
    for fmt in ("json", "pt", "onnx"):
        assert main(["export", str(run), "--format", fmt, "--json"]) == 0
        rep = json.loads(capsys.readouterr().out)
        assert rep["ok"] and rep["format"] == fmt
        if fmt != "json":
            assert rep["max_abs_diff"] <= 1e-4 and "CIFAR-10 proxy test images" in rep["images"]
    doc = json.loads((run / "gemnet.json").read_text())
    assert doc["network"] == "CifarNet" and doc["gemnet"]["accuracy"] == gem["accuracy"]
    assert doc["cell"] == gem["cell"]
    assert (run / "gemnet.onnx").stat().st_size > 1000 and (run / "gemnet.pt2").is_file()
    assert main(["export", str(run), "--format", "onnx", "--num-images", "1"]) == 2
    capsys.readouterr()

    def broken(*a, **k):
        raise RuntimeError("exporter says no\nlong trace")

    monkeypatch.setattr(torch.onnx, "export", broken)
    assert main(["export", str(run), "--format", "onnx"]) == 1  # a failed export is a failed job: one line
    err = capsys.readouterr().err
    assert "exporter says no" in err and "long trace" not in err
    np.testing.assert_array_equal(np.array(doc["cell"]["edges"]), np.array(gem["cell"]["edges"]))
