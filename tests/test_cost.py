import math

import numpy as np
import pytest
import torch
from torch import nn

from gemgraph import Cell
from gemgraph.cost import count
from gemgraph.nn import CellModule
from gemgraph.score import efficiency


pytestmark = pytest.mark.usefixtures("one_thread")


def test_conv_hand_computed():
    m = nn.Conv2d(3, 8, 3, padding=1)
    macs, params = count(m, (3, 16, 16))
    assert macs == 8 * 3 * 9 * 16 * 16
    assert params == 8 * 3 * 9 + 8


def test_strided_conv_and_batch():
    m = nn.Conv2d(4, 6, 3, stride=2, padding=1, bias=False)
    macs, params = count(m, (2, 4, 10, 10))  # a batch of two: the whole batch is counted
    assert macs == 2 * 6 * 4 * 9 * 5 * 5
    assert params == 6 * 4 * 9


def test_depthwise_and_linear():
    dw = nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False)
    assert count(dw, (8, 16, 16)) == (8 * 9 * 16 * 16, 8 * 9)
    lin = nn.Sequential(nn.Flatten(), nn.Linear(10, 5))
    assert count(lin, (10, 1, 1)) == (50, 55)


def test_elementwise_not_counted():
    m = nn.Sequential(nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2))
    assert count(m, (4, 8, 8))[0] == 0


def test_cell_module_by_hand():
    # 0 -> 1 (conv1x1), 0 -> 2 (sepconv3x3), 1 -> 2; C = 4, 8x8
    a = np.zeros((3, 3), dtype=np.uint8)
    a[0, 1] = a[0, 2] = a[1, 2] = 1
    m = CellModule(Cell(a, ["input", "conv1x1", "sepconv3x3"]), 4, 4)
    hw = 8 * 8
    node1 = 4 * 4 * hw
    node2 = 8 * 9 * hw + 8 * 4 * hw  # depthwise over the 8 concatenated channels, then 8 -> 4
    project = 4 * 4 * hw
    assert count(m, (4, 8, 8))[0] == node1 + node2 + project


def test_restores_training_mode():
    m = nn.Sequential(nn.Conv2d(3, 3, 1), nn.BatchNorm2d(3))
    m.train()
    count(m, (3, 4, 4))
    assert m.training
    m.eval()
    count(m, (3, 4, 4))
    assert not m.training


def test_torchvision_mobilenet_v2():
    torchvision = pytest.importorskip("torchvision")
    macs, params = count(torchvision.models.mobilenet_v2(), (3, 224, 224))
    assert params == 3_504_872
    assert abs(macs - 300e6) / 300e6 < 0.01  # torchvision lists 0.30 GFLOPS (MACs)


def test_count_errors():
    with pytest.raises(ValueError, match="input_size"):
        count(nn.Conv2d(3, 3, 1), (3, 4))
    with pytest.raises(ValueError, match="model"):
        count("not a model", (3, 4, 4))


def test_efficiency():
    assert efficiency(0.9, 100e6) == pytest.approx(0.9 - 0.1 * math.log(100))
    assert efficiency(0.5, 1e6) == pytest.approx(0.5)
    assert efficiency(0.7, 463e6, lam=0.2) == pytest.approx(0.7 - 0.2 * math.log(463))
    out = efficiency(np.array([0.5, 0.6]), np.array([1e6, math.e * 1e6]))
    assert np.allclose(out, [0.5, 0.5])
    # more MACs, same accuracy: lower score
    assert efficiency(0.8, 200e6) < efficiency(0.8, 100e6)


@pytest.mark.parametrize(
    "kwargs, arg",
    [({"acc": 93.0, "macs": 1e6}, "acc"), ({"acc": -0.1, "macs": 1e6}, "acc"),
     ({"acc": 0.5, "macs": 0}, "macs"), ({"acc": 0.5, "macs": 1e6, "lam": -1}, "lam")],
)
def test_efficiency_errors(kwargs, arg):
    with pytest.raises(ValueError, match=arg):
        efficiency(**kwargs)


# ---------------------------------------------------------------------- closed form
from gemgraph import SearchSpace  # noqa: E402
from gemgraph.cell import alive_mask  # noqa: E402
from gemgraph.cost import CellCost, cell_stats  # noqa: E402
from gemgraph.encoders import CellBatch  # noqa: E402

#: cheap configs covering every block kind: stride-2 reductions, width changes, identity inputs,
#: odd resolutions, several cells per stage, expansion != 1, a short MobileNet body
CONFIGS = [
    {"network": "cifarnet", "width": 2, "input_size": 8},
    {"network": "cifarnet", "width": 3, "cells_per_stage": 2, "input_size": (9, 7), "num_classes": 5},
    {"network": "mobilenet", "width": 0.25, "expansion": 0.5, "input_size": 32, "num_classes": 10,
     "stages": ((8, 1, 1), (16, 2, 2), (16, 1, 1), (24, 1, 2)), "head_channels": 32},
    {"network": "mobilenet", "width": 0.1, "expansion": 1.0, "input_size": 35, "num_classes": 7,
     "stages": ((16, 1, 2), (24, 2, 1)), "stem_channels": 16},
]


def _nb101_like(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """7-node cells with every op of NAS-Bench-101 and an 'output' last node where it is reachable."""
    space = SearchSpace(7, ops=("conv3x3", "conv1x1", "maxpool3x3", "sepconv3x3"), edge_prob=(0.2, 0.8))
    adj, ops = space.sample_tensors(n, seed=seed)
    ops[:, -1] = torch.where(alive_mask(adj)[:, -1], 1, ops[:, -1])  # OPS[1] == "output"
    return adj, ops


def _check_against_counter(cost: CellCost, adj: torch.Tensor, ops: torch.Tensor | None) -> int:
    macs, params = cost((adj, ops))
    cells = SearchSpace.to_cells(adj, ops)
    for i, cell in enumerate(cells):
        assert count(cost.build(cell), (3,) + cost.input_size) == (int(macs[i]), int(params[i])), (cost, i, cell)
    return len(cells)


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: f"{c['network']}-{c['width']}")
def test_closed_form_equals_flop_counter(cfg):
    cost = CellCost(**cfg)
    a1, o1 = SearchSpace(30, max_concat=8).sample_tensors(3, seed=0)
    a2, o2 = SearchSpace(30, edge_prob=(0.05, 0.9)).sample_tensors(1, seed=1)
    assert _check_against_counter(cost, torch.cat([a1, a2]), torch.cat([o1, o2])) == 4
    assert _check_against_counter(cost, *_nb101_like(30, seed=2)) == 30
    assert _check_against_counter(cost, a1[:1], None) == 1  # no ops: sepconv3x3 everywhere, as CellModule


def test_closed_form_default_networks():
    for cost in (CellCost("cifarnet"), CellCost("mobilenet", width=0.5)):
        assert _check_against_counter(cost, *SearchSpace(30, max_concat=8).sample_tensors(1, seed=5)) == 1


def test_cell_stats_by_hand():
    # 0 -> 1 (conv1x1), 0 -> 2 (sepconv3x3), 1 -> 2, 0 -> 3 (maxpool, k=1: no projection),
    # 2 -> 4, 3 -> 4 (maxpool, k=2: projection); 5 isolated; leaves {4}
    a = np.zeros((6, 6), dtype=np.uint8)
    a[0, 1] = a[0, 2] = a[1, 2] = a[0, 3] = a[2, 4] = a[3, 4] = 1
    cell = Cell(a, ["input", "conv1x1", "sepconv3x3", "maxpool3x3", "maxpool3x3", "conv3x3"])
    assert cell_stats([cell]).tolist() == [[1 + 2 + 2, 2, 3, 1]]
    # an 'output' node passes the width of its inputs on: 0 -> 1, 0 -> 2, {1, 2} -> 3 (output)
    b = np.zeros((4, 4), dtype=np.uint8)
    b[0, 1] = b[0, 2] = b[1, 3] = b[2, 3] = 1
    assert cell_stats([Cell(b, ["input", "conv1x1", "conv3x3", "output"])]).tolist() == [[1 + 9, 0, 2, 2]]


def test_closed_form_inputs_agree_and_padding():
    adj, ops = SearchSpace(30, max_concat=8).sample_tensors(5, seed=3)
    cells = SearchSpace.to_cells(adj, ops)
    small = SearchSpace.to_cells(*_nb101_like(3, seed=4))
    cost = CellCost("cifarnet", width=4, input_size=16)
    ref = cost((adj, ops))
    for form in (cells, CellBatch.from_cells(cells, 30), CellBatch.from_cells(cells, 32)):
        got = cost(form)
        assert torch.equal(got[0], ref[0]) and torch.equal(got[1], ref[1])
    mixed = cost(CellBatch.from_cells(small + cells[:2], 30))  # padded to 30 nodes, ops -1 on padding
    assert mixed[0].tolist() == [int(cost.macs([c])[0]) for c in small + cells[:2]]
    assert cost.macs(cells).dtype == torch.int64 and cost.params(cells).shape == (5,)
    assert CellCost(**cost.config).config == cost.config
    assert "cifarnet" in repr(cost)


def test_closed_form_errors():
    with pytest.raises(ValueError, match="network"):
        CellCost("resnet")
    with pytest.raises(ValueError, match="options"):
        CellCost("cifarnet", expansion=1.0)
    with pytest.raises(ValueError, match="input_size"):
        CellCost("cifarnet", input_size=(32,))
    with pytest.raises(ValueError, match="width"):
        CellCost("cifarnet", width=0)
    with pytest.raises(ValueError, match="width"):
        CellCost("mobilenet", width=-1.0)
    with pytest.raises(ValueError, match="stages"):
        CellCost("mobilenet", stages=((16, 1, 3),))
    empty = torch.zeros((2, 5, 5), dtype=torch.bool)
    empty[0, 0, 1] = True
    with pytest.raises(ValueError, match=r"cells\[1\]: no node is reachable"):
        cell_stats(empty)
    a = np.zeros((3, 3), dtype=np.uint8)
    a[0, 1] = 1
    with pytest.raises(ValueError, match="'output' node is not reachable"):
        cell_stats([Cell(a, ["input", "conv1x1", "output"])])
    with pytest.raises(ValueError, match="upper-triangular"):
        cell_stats(torch.ones((1, 3, 3), dtype=torch.bool))
    with pytest.raises(ValueError, match="single Cell"):
        cell_stats(Cell(a))
    with pytest.raises(ValueError, match="a mix"):
        cell_stats([Cell(a), Cell(a, ["input", "conv1x1", "conv1x1"])])


def test_closed_form_is_fast():
    adj, ops = SearchSpace(30, max_concat=8).sample_tensors(20_000, seed=0)
    cost = CellCost("cifarnet")
    cost((adj[:10], ops[:10]))
    import time

    t = time.perf_counter()
    macs = cost((adj, ops))[0]
    assert time.perf_counter() - t < 5.0  # ~0.15 s idle; the FLOP counter takes ~0.1 s per cell
    assert bool((macs > 0).all())


@pytest.mark.slow
def test_closed_form_equals_flop_counter_on_1000_cells_each():
    """>= 1,000 random cells of each network type, on cheap configs and mostly small cells (the
    FLOP counter costs ~5 ms per 7-node cell, ~50 ms per 30-node one); 1,000 30-node cells at the
    default configs are checked by benchmarks/closed_form_macs.py."""
    a1, o1 = SearchSpace(30, max_concat=8).sample_tensors(70, seed=10)
    a2, o2 = SearchSpace(30, edge_prob=(0.02, 0.9)).sample_tensors(30, seed=11)
    a3, o3 = SearchSpace(12, ops=("conv1x1", "sepconv3x3", "conv3x3", "maxpool3x3")).sample_tensors(200, seed=13)
    a4, o4 = _nb101_like(700, seed=12)
    short = {"network": "mobilenet", "width": 1.0, "expansion": 1.0, "input_size": 16, "num_classes": 10,
             "stages": ((16, 1, 1), (16, 1, 2), (16, 1, 1)), "head_channels": 32}  # 1x1 input, reduction, identity
    for cfg in (CONFIGS[0], short):
        cost = CellCost(**cfg)
        n = _check_against_counter(cost, torch.cat([a1, a2]), torch.cat([o1, o2]))
        n += _check_against_counter(cost, a3, o3) + _check_against_counter(cost, a4, o4)
        assert n == 1000
