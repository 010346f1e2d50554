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
