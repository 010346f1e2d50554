import numpy as np
import pytest
import torch

from gemgraph import Cell, SearchSpace, encoders
from gemgraph.encoders import CellBatch, Encoder


@pytest.fixture(scope="module")
def cells():
    return SearchSpace(8).sample(20, seed=0)


def test_registry():
    assert {"mlp", "gin", "gcn", "raw"} <= set(encoders.available())
    with pytest.raises(ValueError, match="unknown encoder"):
        encoders.create("nope", num_nodes=5)


@pytest.mark.parametrize("name", ["mlp", "gin", "gcn", "raw"])
def test_embed_shapes_and_equivalent_inputs(name, cells):
    enc = encoders.create(name, num_nodes=8, dim=16)
    z = enc.embed(cells)
    assert z.shape == (20, enc.dim) and z.dtype == torch.float32
    assert torch.isfinite(z).all()
    adj, ops = SearchSpace.to_tensors(cells)
    torch.testing.assert_close(enc.embed((adj, ops)), z)
    torch.testing.assert_close(enc.embed(cells, batch_size=3), z, rtol=1e-5, atol=1e-5)
    if name == "raw":
        assert enc.dim == 8 * 7 // 2
        assert z[0].tolist() == enc.flat_input(CellBatch.from_cells(cells[:1], 8))[0].tolist()
    else:
        assert enc.dim == 16
        enc.train()
        out = enc(CellBatch.from_cells(cells, 8))
        out.sum().backward()
        assert any(p.grad is not None for p in enc.parameters())


@pytest.mark.parametrize("name", ["mlp", "gin", "gcn"])
def test_padding_smaller_cells(name):
    enc = encoders.create(name, num_nodes=7, dim=8, ops=["conv3x3", "conv1x1", "maxpool3x3", "input", "output"])
    small = Cell(np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]]), ["input", "conv3x3-bn-relu", "output"])
    z = enc.embed([small, small])
    assert z.shape == (2, 8) and torch.allclose(z[0], z[1])
    b = CellBatch.from_cells([small], 7)
    assert b.adj.shape == (1, 7, 7) and b.ops[0, 3:].tolist() == [-1] * 4 and b.sizes.tolist() == [3]
    # padding changes nothing for GNNs: the same cell padded further gives the same output
    if name != "mlp":
        enc2 = encoders.create(name, num_nodes=7, dim=8, ops=enc.ops)
        enc2.load_state_dict(enc.state_dict())
        torch.testing.assert_close(enc2.embed([small]), z[:1])


def test_ops_one_hot_and_errors(cells):
    enc = encoders.create("raw", num_nodes=8, ops=("conv1x1", "sepconv3x3", "input"))
    z = enc.embed(cells)
    assert z.shape[1] == 28 + 8 * 3
    oh = z[:, 28:].reshape(20, 8, 3)
    assert (oh.sum(-1) == 1).all() and (oh[:, 0, 2] == 1).all()
    with pytest.raises(ValueError, match="carry no ops"):
        enc.embed([Cell(c.adjacency) for c in cells])
    only = encoders.create("mlp", num_nodes=8, dim=4, ops=("conv1x1", "input"))
    with pytest.raises(ValueError, match="not among"):
        only.embed(cells)
    with pytest.raises(ValueError, match="more than"):
        encoders.create("mlp", num_nodes=4, dim=4).embed(cells)
    with pytest.raises(ValueError, match="num_nodes"):
        encoders.create("mlp", num_nodes=1)
    with pytest.raises(ValueError, match="dim"):
        encoders.create("mlp", num_nodes=5, dim=0)
    with pytest.raises(ValueError, match="single Cell"):
        enc.embed(cells[0])


@pytest.mark.parametrize("name", ["mlp", "gin", "gcn", "raw"])
def test_save_load_round_trip(name, cells, tmp_path):
    enc = encoders.create(name, num_nodes=8, dim=16, ops=("conv1x1", "sepconv3x3", "input"))
    path = tmp_path / "enc.pt"
    enc.save(path)
    back = encoders.load(path)
    assert type(back) is type(enc) and back.config == enc.config
    torch.testing.assert_close(back.embed(cells), enc.embed(cells))
    # loads with weights_only=True, i.e. no pickled code
    blob = torch.load(path, weights_only=True)
    assert blob["name"] == name


def test_load_bad_files(tmp_path):
    p = tmp_path / "junk.pt"
    p.write_bytes(b"not a torch file")
    with pytest.raises(ValueError, match="not a gemgraph encoder"):
        encoders.load(p)
    torch.save({"a": 1}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a gemgraph encoder"):
        encoders.load(tmp_path / "other.pt")


def test_register_user_encoder(cells):
    @encoders.register("degree-test")
    class Degrees(Encoder):
        def __init__(self, num_nodes, dim=2, ops=None):
            super().__init__(num_nodes, 2, ops)

        def forward(self, batch):
            return torch.stack([batch.adj.sum((1, 2)).float(), batch.sizes.float()], 1)

    enc = encoders.create("degree-test", num_nodes=8)
    assert enc.embed(cells)[:, 0].tolist() == [float(c.num_edges) for c in cells]
    with pytest.raises(ValueError, match="Encoder subclass"):
        encoders.register("bad")(int)


def test_load_tampered_blobs_is_a_value_error(tmp_path):
    """A file in the right format but with edited contents: never a TypeError / RuntimeError from torch."""
    enc = encoders.create("mlp", num_nodes=6, dim=8, hidden=(16,))
    enc.save(tmp_path / "enc.pt")
    blob = torch.load(tmp_path / "enc.pt", weights_only=True)
    state = blob["state_dict"]
    first = next(iter(state))
    tampered = {
        "unknown config key": {**blob, "config": {**blob["config"], "bogus": 1}},
        "config not a dict": {**blob, "config": [6, 8]},
        "wrong shape": {**blob, "state_dict": {**state, first: torch.zeros(3, 3)}},
        "missing weight": {**blob, "state_dict": {k: v for k, v in state.items() if k != first}},
        "not tensors": {**blob, "state_dict": {k: 1 for k in state}},
        "unknown name": {**blob, "name": "no-such-encoder"},
        "bad value": {**blob, "config": {**blob["config"], "dim": -1}},
    }
    for what, b in tampered.items():
        torch.save(b, tmp_path / "t.pt")
        with pytest.raises(ValueError, match=r"t\.pt"):
            encoders.load(tmp_path / "t.pt")


class _Evil:
    """Unpickling this would run code (create a marker file)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_load_never_unpickles_code(tmp_path):
    marker = tmp_path / "ran"
    torch.save({"format": "gemgraph-encoder", "name": "mlp", "config": {"num_nodes": 6}, "state_dict": {},
                "payload": _Evil(marker)}, tmp_path / "evil.pt")
    with pytest.raises(ValueError, match="not a gemgraph encoder file"):
        encoders.load(tmp_path / "evil.pt")
    assert not marker.exists()


def test_every_registered_encoder_class_has_a_docstring():
    from gemgraph.encoders.base import _REGISTRY

    shipped = {n: c for n, c in _REGISTRY.items() if c.__module__.startswith("gemgraph.")}  # not tests' own
    assert {"mlp", "gin", "gcn", "raw"} <= set(shipped)
    for name, cls in shipped.items():
        assert cls.__doc__ and cls.__doc__.strip(), f"encoder {name!r} ({cls.__name__}) has no docstring"
