"""Ops-aware embedding: presets and the embed command use (degree, op) labels and one-hot ops;
the paper's degree-only, adjacency-only setting stays available by name."""
import json

import numpy as np
import pytest
import torch

from gemgraph import Cell
from gemgraph.app.cli import main
from gemgraph.app.runs import build_config, prepare_encoder

pytestmark = pytest.mark.usefixtures("one_thread")


class _Meta:
    def __init__(self):
        self.meta = {}

    def set_meta(self, key, value):
        self.meta[key] = value

    def get_meta(self, key, default=None):
        return self.meta.get(key, default)


def _tiny(preset, **kw):
    return build_config(preset, nodes=6, **{"encoder.n_train": 300, "encoder.max_epochs": 1, "encoder.dim": 8}, **kw)


def test_presets_embed_ops_paper_does_not(tmp_path):
    for preset in ("quick", "default", "imagenet-a"):
        cfg = build_config(preset)
        assert cfg["encoder"]["labels"] == ["degree", "op"] and cfg["encoder"]["use_ops"] is True
    paper = build_config("paper")
    assert paper["encoder"]["labels"] == "degree" and paper["encoder"]["use_ops"] is False
    a = np.zeros((6, 6), dtype=np.uint8)
    a[0, 1] = a[1, 2] = a[2, 3] = a[3, 4] = a[4, 5] = 1
    x = Cell(a, ["input", "conv1x1", "conv1x1", "conv1x1", "conv1x1", "sepconv3x3"])
    y = Cell(a, ["input", "sepconv3x3", "conv1x1", "conv1x1", "conv1x1", "conv1x1"])
    (tmp_path / "q").mkdir()
    (tmp_path / "p").mkdir()
    store = _Meta()
    enc = prepare_encoder(tmp_path / "q", _tiny("quick"), store, device="cpu", progress=False)
    assert enc.ops == ("input", "conv1x1", "sepconv3x3")
    z = enc.embed([x, y])
    assert not torch.allclose(z[0], z[1])  # same graph, different ops: different vectors
    assert store.meta["encoder_fidelity"]["n_pairs"] > 0
    enc_p = prepare_encoder(tmp_path / "p", _tiny("paper"), _Meta(), device="cpu", progress=False)
    assert enc_p.ops is None
    assert torch.equal(enc_p.embed([x]), enc_p.embed([y]))  # the paper's encoder sees the adjacency only
    # a run stored before the ops-aware keys existed trains the paper's encoder
    old = _tiny("default")
    for k in ("labels", "use_ops"):
        old["encoder"].pop(k)
    (tmp_path / "o").mkdir()
    assert prepare_encoder(tmp_path / "o", old, _Meta(), device="cpu", progress=False).ops is None


@pytest.mark.parametrize("labels, ops", [("degree,op", ["input", "conv1x1", "sepconv3x3"]), ("degree", None),
                                         ("paper", None)])
def test_embed_labels_option(tmp_path, capsys, labels, ops):
    out = tmp_path / "enc.pt"
    args = ["embed", "--nodes", "6", "--train-graphs", "300", "--epochs", "1", "--dim", "8", "--hidden", "16",
            "--device", "cpu", "--quiet", "--json", "--labels", labels, "--out", str(out)]
    assert main(args) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["ops"] == ops and rep["labels"] == (["degree", "op"] if "op" in labels else ["degree"])
    from gemgraph import encoders

    assert encoders.load(out).ops == (None if ops is None else tuple(ops))


def test_embed_bad_labels(capsys):
    assert main(["embed", "--nodes", "6", "--labels", "colour", "--quiet"]) == 2
    assert "--labels: expected 'degree', 'op'" in capsys.readouterr().err
