import math

import numpy as np
import pytest
import torch
from torch import nn

from gemgraph import Cell, SearchSpace
from gemgraph.datasets import CifarTensorDataset
from gemgraph.evaluate import ProxyTrainer, Result, resolve_device
from gemgraph.score import efficiency
from tests.conftest import need_data


pytestmark = pytest.mark.usefixtures("one_thread")


def synthetic(n_train=128, n_eval=64, classes=4, seed=0):
    """Learnable toy images: class-dependent brightness plus noise."""
    g = torch.Generator().manual_seed(seed)
    n = n_train + n_eval
    y = torch.arange(n) % classes
    noise = torch.randint(0, 128, (n, 3, 32, 32), generator=g)
    x = (noise + (y * (127 // (classes - 1)))[:, None, None, None]).clamp(0, 255).to(torch.uint8)
    return (CifarTensorDataset(x[:n_train], y[:n_train], train=True),
            CifarTensorDataset(x[n_train:], y[n_train:]))


CELL = Cell(np.triu(np.ones((4, 4), dtype=np.uint8), 1), ["input", "conv1x1", "sepconv3x3", "conv1x1"])


def trainer(**kw):
    train, ev = synthetic()
    args = dict(epochs=2, batch_size=32, width=4, train_data=train, eval_data=ev, device="cpu", seed=0)
    args.update(kw)
    return ProxyTrainer(**args)


def test_result_fields_and_score():
    r = trainer().evaluate(CELL)
    assert r.status == "ok" and r.error is None and r.ok
    assert 0.0 <= r.accuracy <= 1.0
    assert r.macs > 0 and r.params > 0 and r.train_seconds > 0
    assert r.score == pytest.approx(efficiency(r.accuracy, r.macs))
    assert r.num_train == 128 and r.epochs == 2 and math.isfinite(r.loss)
    assert isinstance(r, Result)
    d = r.to_dict()
    assert set(d) >= {"accuracy", "macs", "params", "score", "train_seconds", "status", "error"}


def test_learns_the_toy_task():
    r = trainer(epochs=4).evaluate(CELL)
    assert r.accuracy > 0.5  # chance is 0.25


def test_deterministic_on_cpu():
    a = trainer().evaluate(CELL)
    b = trainer().evaluate(CELL)
    assert a.accuracy == b.accuracy and a.loss == b.loss
    c = trainer(seed=1).evaluate(CELL)
    assert c.loss != a.loss


def test_does_not_touch_global_rng():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    trainer(epochs=1).evaluate(CELL)
    assert torch.equal(torch.rand(3), expected)


def test_divergence_is_a_failed_result():
    r = trainer(lr=1e6).evaluate(CELL)
    assert r.status == "failed" and not r.ok
    assert "diverged" in r.error or "non-finite" in r.error
    assert math.isnan(r.accuracy) and math.isnan(r.score) and r.macs > 0


class NaNTrainer(ProxyTrainer):
    def build_model(self, cell, num_classes=10, in_channels=3):
        net = super().build_model(cell, num_classes, in_channels)

        class Poisoned(nn.Module):
            def __init__(self):
                super().__init__()
                self.net = net

            def forward(self, x):
                return self.net(x) * float("nan")

        return Poisoned()


def test_nan_loss_is_a_failed_result():
    train, ev = synthetic()
    r = NaNTrainer(epochs=1, batch_size=32, width=4, train_data=train, eval_data=ev, device="cpu").evaluate(CELL)
    assert r.status == "failed" and "non-finite training loss" in r.error


def test_max_train_images_and_num_threads():
    before = torch.get_num_threads()
    t = trainer(max_train_images=64, max_eval_images=20, num_threads=2, epochs=1)
    r = t.evaluate(CELL)
    assert r.ok and r.num_train == 64
    assert len(t._cache["eval_idx"]) == 20
    assert np.bincount(t.eval_data.targets[t._cache["eval_idx"]].numpy()).tolist() == [5] * 4
    assert torch.get_num_threads() == before


@pytest.mark.parametrize(
    "kw, arg",
    [({"epochs": 0}, "epochs"), ({"lr": -1.0}, "lr"), ({"split": "train"}, "split"),
     ({"width": 0}, "width"), ({"device": "tpu"}, "device"), ({"max_train_images": 0}, "max_train_images"),
     ({"max_eval_images": 0}, "max_eval_images"), ({"recalibrate_bn": -1}, "recalibrate_bn"),
     ({"train_data": object()}, "train_data")],
)
def test_bad_arguments(kw, arg):
    with pytest.raises(ValueError, match=arg):
        ProxyTrainer(**kw)


def test_bad_cell():
    with pytest.raises(ValueError, match="cell"):
        trainer().evaluate(np.eye(3))


def test_resolve_device():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")


@pytest.mark.realdata
def test_real_proxy_data_small_run():
    path = need_data("cifar10-proxy/cifar10_proxy.npz")
    cell = SearchSpace(num_nodes=10).sample(1, seed=0)[0]
    kw = dict(root=path.parent.parent, epochs=1, batch_size=50, width=4, max_train_images=500, device="cpu")
    a = ProxyTrainer(**kw).evaluate(cell)
    b = ProxyTrainer(**kw).evaluate(cell)
    assert a.status == "ok", a.error
    assert a.num_train == 500 and 0.0 <= a.accuracy <= 1.0
    assert a.accuracy == b.accuracy and a.loss == b.loss
    assert "ProxyTrainer(" in repr(ProxyTrainer(**kw))


def test_unbuildable_cell_is_a_failed_result():
    empty = Cell(np.zeros((4, 4), dtype=np.uint8), ["input", "conv1x1", "conv1x1", "conv1x1"])
    r = trainer(epochs=1).evaluate(empty)
    assert r.status == "failed" and "reachable" in r.error and r.macs == 0


class Capture(ProxyTrainer):
    def build_model(self, cell, num_classes=10, in_channels=3):
        self.model_ = super().build_model(cell, num_classes, in_channels)
        return self.model_


def test_batchnorm_recalibration_uses_exact_statistics():
    train, ev = synthetic()
    t = Capture(epochs=1, batch_size=32, width=4, train_data=train, eval_data=ev, device="cpu", recalibrate_bn=64)
    assert t.evaluate(CELL).ok
    model = t.model_
    gen = torch.Generator().manual_seed(t.seed + 1)
    sub = torch.arange(len(train))[torch.randperm(len(train), generator=gen)[:64]]
    xb, _ = train.batch(sub, augment=False)
    with torch.no_grad():
        stem_out = model.stem[0](xb)
    bn = model.stem[1]
    assert torch.allclose(bn.running_mean, stem_out.mean((0, 2, 3)), atol=1e-4)
    assert bn.momentum == 0.1  # restored
    r0 = trainer(epochs=1, recalibrate_bn=0).evaluate(CELL)
    r1 = trainer(epochs=1).evaluate(CELL)
    assert r0.loss == r1.loss  # same training; only the measurement differs


def test_resolution_pools_inputs_and_keeps_32x32_macs():
    full = trainer(epochs=1)
    half = trainer(epochs=1, resolution=16)
    a, b = full.evaluate(CELL), half.evaluate(CELL)
    assert a.ok and b.ok
    assert half._cache["train_x"].shape[-2:] == (16, 16) and half._cache["eval_x"].shape[-2:] == (16, 16)
    assert full._cache["train_x"].shape[-2:] == (32, 32)
    assert half._cache["train"].padding == 2
    assert b.macs == a.macs and b.params == a.params  # the network's cost at CIFAR-10's 32x32
    assert b.score == pytest.approx(efficiency(b.accuracy, b.macs))
    assert b.loss != a.loss
    assert "resolution=16" in repr(half)
    with pytest.raises(ValueError, match="resolution"):
        ProxyTrainer(resolution=0)


def test_check_data_fails_before_training(tmp_path):
    with pytest.raises(FileNotFoundError, match="CIFAR-10 not found"):
        ProxyTrainer(root=tmp_path / "nowhere", device="cpu").check_data()
    trainer().check_data()  # given datasets: nothing to load
