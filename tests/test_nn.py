import numpy as np
import pytest
import torch
from torch import nn

from gemgraph import Cell, SearchSpace
from gemgraph.nn import CellModule, CifarNet, MobileNet, build_op
from gemgraph.nn.ops import SepConvBNReLU


pytestmark = pytest.mark.usefixtures("one_thread")


def chain(n, op="conv1x1"):
    a = np.zeros((n, n), dtype=np.uint8)
    for i in range(n - 1):
        a[i, i + 1] = 1
    return Cell(a, ["input"] + [op] * (n - 1))


def complete(n, op="sepconv3x3"):
    return Cell(np.triu(np.ones((n, n), dtype=np.uint8), 1), ["input"] + [op] * (n - 1))


def test_single_op_node():
    cell = Cell([[0, 1], [0, 0]], ["input", "conv1x1"])
    m = CellModule(cell, 4, 6)
    assert m(torch.randn(2, 4, 8, 8)).shape == (2, 6, 8, 8)
    assert m.num_op_nodes == 1


@pytest.mark.parametrize("make", [chain, complete])
@pytest.mark.parametrize("stride", [1, 2])
def test_chain_and_complete(make, stride):
    cell = make(6)
    m = CellModule(cell, 5, 4, stride=stride, out_channels=7)
    y = m(torch.randn(2, 5, 8, 8))
    assert y.shape == (2, 7, 8 // stride, 8 // stride)
    y.sum().backward()
    assert all(p.grad is not None for p in m.parameters())


def test_complete_dag_widths_bounded():
    n, c = 8, 3
    m = CellModule(complete(n, "conv1x1"), c, c)
    # node j (1-based in the schedule) concatenates its j inputs: j * c channels -> c
    for j, node in enumerate(m.nodes, start=1):
        conv = node[0]
        assert conv.in_channels == j * c and conv.out_channels == c
    assert m.project[0].in_channels == c  # one leaf: the last node


def test_thirty_node_sampled_cells():
    cells = SearchSpace(num_nodes=30).sample(6, seed=3)
    x = torch.randn(2, 4, 8, 8)
    for cell in cells:
        for stride in (1, 2):
            m = CellModule(cell, 4, 4, stride=stride)
            assert m(x).shape == (2, 4, 8 // stride, 8 // stride)
            assert m.num_op_nodes == cell.prune().num_nodes - 1


def test_concat_semantics_match_manual_computation():
    # 0 -> 1, 0 -> 2, 1 -> 2, 0 -> 3 : node 2 concatenates (x0, x1); leaves are 2 and 3
    a = np.zeros((4, 4), dtype=np.uint8)
    a[0, 1] = a[0, 2] = a[1, 2] = a[0, 3] = 1
    cell = Cell(a, ["input", "conv1x1", "sepconv3x3", "conv1x1"])
    m = CellModule(cell, 3, 3, residual=False).eval()
    x = torch.randn(2, 3, 6, 6)
    with torch.no_grad():
        x0 = x  # identity preprocessing (in == channels, stride 1)
        x1 = m.nodes[0](x0)
        x2 = m.nodes[1](torch.cat([x0, x1], 1))
        x3 = m.nodes[2](x0)
        ref = m.project(torch.cat([x2, x3], 1))
        assert torch.allclose(m(x), ref, atol=1e-6)
    assert m.nodes[1][0].in_channels == 6  # depthwise over the concatenation
    assert m.project[0].in_channels == 6


def test_sepconv_layout():
    op = build_op("sepconv3x3", 6, 4)
    assert isinstance(op, SepConvBNReLU)
    dw, pw, bn, relu = op
    assert dw.groups == 6 and dw.kernel_size == (3, 3) and pw.kernel_size == (1, 1)
    assert isinstance(bn, nn.BatchNorm2d) and isinstance(relu, nn.ReLU)


def test_pruning_drops_unreachable_nodes():
    a = np.zeros((5, 5), dtype=np.uint8)
    a[0, 1] = 1
    a[2, 3] = 1  # 2 and 3 are unreachable from the input
    a[1, 4] = 1
    cell = Cell(a, ["input"] + ["conv1x1"] * 4)
    m = CellModule(cell, 2, 2)
    assert m.num_op_nodes == 2
    assert m(torch.randn(1, 2, 4, 4)).shape == (1, 2, 4, 4)


def test_nasbench_style_ops_and_no_ops():
    a = np.zeros((5, 5), dtype=np.uint8)
    a[0, 1] = a[0, 2] = a[1, 3] = a[2, 3] = a[3, 4] = a[0, 4] = 1
    cell = Cell(a, ["input", "conv3x3-bn-relu", "maxpool3x3", "conv1x1", "output"])
    m = CellModule(cell, 4, 4)
    assert m(torch.randn(2, 4, 8, 8)).shape == (2, 4, 8, 8)
    assert m.project[0].in_channels == 8  # output node concatenates node 3 and the input
    bare = Cell(a)
    m2 = CellModule(bare, 4, 4, default_op="conv1x1")
    assert m2(torch.randn(2, 4, 8, 8)).shape == (2, 4, 8, 8)


def test_residual_only_when_shapes_match():
    cell = chain(3)
    assert CellModule(cell, 4, 4).residual
    assert not CellModule(cell, 4, 8).residual
    assert not CellModule(cell, 4, 4, stride=2).residual
    assert not CellModule(cell, 4, 4, residual=False).residual


def test_errors():
    cell = chain(3)
    with pytest.raises(ValueError, match="stride"):
        CellModule(cell, 4, 4, stride=3)
    with pytest.raises(ValueError, match="channels"):
        CellModule(cell, 4, 0)
    with pytest.raises(ValueError, match="cell"):
        CellModule(np.eye(3), 4, 4)
    with pytest.raises(ValueError, match="reachable"):
        CellModule(Cell(np.zeros((3, 3), dtype=np.uint8)), 4, 4)
    with pytest.raises(ValueError, match="default_op"):
        CellModule(Cell(np.triu(np.ones((3, 3), dtype=np.uint8), 1)), 4, 4, default_op="output")
    with pytest.raises(ValueError, match="cells_per_stage"):
        CifarNet(cell, cells_per_stage=0)


def test_repr_is_compact():
    m = CellModule(complete(10), 4, 4)
    r = repr(m)
    assert r.startswith("CellModule(") and "op_nodes=9" in r and "\n" not in r
    assert "CifarNet(" in repr(CifarNet(chain(3), width=4))


def test_cifarnet_shapes_and_layout():
    cell = SearchSpace(num_nodes=10).sample(1, seed=0)[0]
    net = CifarNet(cell, num_classes=7, width=4, cells_per_stage=2)
    assert net(torch.randn(3, 3, 32, 32)).shape == (3, 7)
    strides = [m.stride for m in net.cells]
    assert strides == [1, 1, 2, 1, 1, 2, 1, 1]
    assert [m.out_channels for m in net.cells] == [4, 4, 8, 8, 8, 16, 16, 16]


def test_channels_last_matches_contiguous():
    cell = SearchSpace(num_nodes=12).sample(1, seed=1)[0]
    torch.manual_seed(0)
    net = CifarNet(cell, width=4).eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        ref = net(x)
        net_cl = net.to(memory_format=torch.channels_last)
        out = net_cl(x.contiguous(memory_format=torch.channels_last))
    assert torch.allclose(ref, out, atol=1e-4)


def test_mobilenet_small():
    cell = chain(3, "sepconv3x3")
    net = MobileNet(cell, num_classes=5, width=0.25, head_channels=64)
    assert net(torch.randn(1, 3, 64, 64)).shape == (1, 5)
    strides = [m.stride for m in net.cells]
    assert len(strides) == 17 and strides.count(2) == 4
    assert "MobileNet(" in repr(net)


def test_mobilenet_for_macs_hits_the_budget():
    from gemgraph.cost import count

    cell = chain(3, "sepconv3x3")
    target = 20e6
    net = MobileNet.for_macs(cell, target, input_size=64, max_iter=10, head_channels=64, num_classes=10)
    macs = count(net, (3, 64, 64))[0]
    assert abs(macs - target) / target < 0.15
    assert 0.05 < net.width < 4.0
    with pytest.raises(ValueError, match="macs"):
        MobileNet.for_macs(cell, 0)


def test_mobilenet_errors():
    cell = chain(3)
    with pytest.raises(ValueError, match="width"):
        MobileNet(cell, width=0)
    with pytest.raises(ValueError, match="stages"):
        MobileNet(cell, stages=[(16, 1, 3)])
