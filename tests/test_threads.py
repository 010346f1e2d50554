"""No process-global side effects from library calls: the intra-op thread count a caller set is
the one it finds after (and, for ThreadStableLayerNorm, during) a call, on every way out."""
from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from gemgraph import SearchSpace, encoders
from gemgraph.cell import Cell
from gemgraph.datasets import CifarTensorDataset
from gemgraph.embedding import train_encoder
from gemgraph.encoders.mlp import ThreadStableLayerNorm, _tree_sum_rows
from gemgraph.errors import InputError
from gemgraph.evaluate import ProxyTrainer
from gemgraph.utils import intra_op_threads, single_thread
from gemgraph.wl import WLKernel

USER = 2  # the caller's setting in these tests (not 1, the count the library scopes to)


@pytest.fixture
def user_threads():
    """The caller sets ``USER`` threads; the test's own setting is put back afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(USER)
    yield USER
    torch.set_num_threads(before)


class _Seen(TorchDispatchMode):
    """Records ``torch.get_num_threads()`` at every op of the backward, and what a Python thread
    started in the middle of the LayerNorm backward reads (PyTorch seeds a new thread's count
    from the last ``set_num_threads``, so such a thread would keep a scoped 1 for good)."""

    def __init__(self) -> None:
        super().__init__()
        self.ops: list[tuple[str, int]] = []
        self.new_thread: list[int] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops.append((str(func), torch.get_num_threads()))
        if "layer_norm_backward" in str(func):
            t = threading.Thread(target=lambda: self.new_thread.append(torch.get_num_threads()))
            t.start()
            t.join()
        return func(*args, **(kwargs or {}))


def _hooked_backward(model, x, params):
    """Backward of ``model(x)`` with hooks on the input, the output and ``params``, under
    :class:`_Seen`; returns (what the hooks saw, the dispatch record)."""
    hooks: list[tuple[str, int]] = []
    x.register_hook(lambda g: hooks.append(("input", torch.get_num_threads())))
    y = model(x)
    y.register_hook(lambda g: hooks.append(("output", torch.get_num_threads())))
    for name, p in params:
        p.register_hook(lambda g, name=name: hooks.append((name, torch.get_num_threads())))
    seen = _Seen()
    with seen:
        (y * torch.linspace(-1, 1, y.shape[-1])).sum().backward()
    return hooks, seen


def test_layer_norm_backward_leaves_the_thread_count_alone(user_threads):
    ln = ThreadStableLayerNorm(32)
    x = torch.randn(50, 32, requires_grad=True)
    hooks, seen = _hooked_backward(ln, x, ln.named_parameters())
    assert {n for n, _ in hooks} == {"input", "output", "weight", "bias"}
    assert all(t == user_threads for _, t in hooks), hooks
    assert any("layer_norm_backward" in op for op, _ in seen.ops)
    assert all(t == user_threads for _, t in seen.ops), [o for o in seen.ops if o[1] != user_threads]
    assert seen.new_thread == [user_threads]
    assert torch.get_num_threads() == user_threads


def test_mlp_encoder_backward_leaves_the_thread_count_alone(user_threads):
    enc = encoders.create("mlp", num_nodes=6, dim=8, hidden=(16, 16))
    batch = encoders.CellBatch.from_cells(SearchSpace(6).sample(20, seed=0), 6)
    x = enc.flat_input(batch).detach().requires_grad_(True)
    hooks, seen = _hooked_backward(enc.net, x, enc.net.named_parameters())
    assert len(hooks) == 2 + len(list(enc.net.parameters()))
    assert all(t == user_threads for _, t in hooks), hooks
    assert sum("layer_norm_backward" in op for op, _ in seen.ops) == 2
    assert all(t == user_threads for _, t in seen.ops), [o for o in seen.ops if o[1] != user_threads]
    assert seen.new_thread == [user_threads, user_threads]


@pytest.mark.parametrize("shape, normalized, affine, bias",
                         [((300, 64), (64,), True, True), ((7, 5, 6), (5, 6), True, True),
                          ((1, 16), (16,), True, True), ((33, 16), (16,), True, False),
                          ((33, 16), (16,), False, False)])
def test_layer_norm_gradients_are_the_same_on_any_thread_count(shape, normalized, affine, bias):
    """On one thread PyTorch's own kernel, to the bit (what the library's trainings, scoped to one
    thread, have always computed); on 2, 3 or 4 threads the same gradients as each other."""
    torch.manual_seed(0)
    x0 = torch.randn(shape)
    ln = ThreadStableLayerNorm(normalized, elementwise_affine=affine, bias=bias)
    if affine:
        with torch.no_grad():
            ln.weight.uniform_(0.5, 1.5)
            if bias:
                ln.bias.uniform_(-0.5, 0.5)
    w = torch.randn(normalized)
    ref = torch.nn.LayerNorm(normalized, elementwise_affine=affine, bias=bias)
    ref.load_state_dict(ln.state_dict())
    out = []
    before = torch.get_num_threads()
    try:
        for threads, m in ((1, ref), (1, ln), (2, ln), (3, ln), (4, ln)):
            torch.set_num_threads(threads)
            x = x0.clone().requires_grad_(True)
            m.zero_grad()
            (m(x) * w).sum().backward()
            out.append([x.grad] + [p.grad.clone() for p in m.parameters()])
            assert torch.get_num_threads() == threads
    finally:
        torch.set_num_threads(before)
    assert len(out[0]) == 1 + int(affine) + int(affine and bias)
    assert all(torch.equal(a, b) for a, b in zip(out[0], out[1]))  # one thread: PyTorch's kernel
    for other in out[3:]:
        assert all(torch.equal(a, b) for a, b in zip(out[2], other))
    if affine:  # more threads: the float64 sums, within a float32 rounding of PyTorch's
        assert all(torch.allclose(a, b, rtol=1e-5, atol=1e-5) for a, b in zip(out[1], out[2]))


def test_tree_sum_is_a_fixed_order_sum():
    rng = np.random.default_rng(0)
    for m in (0, 1, 2, 3, 7, 64, 1001):
        t = torch.from_numpy(rng.standard_normal((m, 5)))
        s = _tree_sum_rows(t)
        assert s.shape == (5,) and s.dtype == t.dtype
        assert np.allclose(s.numpy(), t.numpy().sum(0), rtol=1e-12, atol=1e-12)
    t = torch.tensor([[1.0], [2.0], [4.0]])  # (1 + 4) + 2: row i meets row i + M // 2, the odd one last
    assert _tree_sum_rows(t).tolist() == [7.0]


def _tiny_training(**kw):
    cells = SearchSpace(8).sample(80, seed=1)
    enc = encoders.create("mlp", num_nodes=8, dim=8, hidden=(16,))
    return enc, cells, dict(seed=0, n_train=40, n_val=20, n_test=20, val_pairs=50, batch_size=16, max_epochs=2,
                            progress=False, device="cpu", **kw)


def test_training_and_embed_put_the_thread_count_back(user_threads):
    enc, cells, kw = _tiny_training()
    inside: list[int] = []
    handle = enc.register_forward_hook(lambda m, i, o: inside.append(torch.get_num_threads()))
    res = train_encoder(enc, cells, WLKernel(n_iter=1), **kw)
    assert torch.get_num_threads() == user_threads
    assert inside and set(inside) == {1}  # documented: the CPU training and embed run on one thread
    inside.clear()
    z = res.encoder.embed(cells[:10])
    assert z.shape == (10, 8) and set(inside) == {1}
    assert torch.get_num_threads() == user_threads
    handle.remove()


@pytest.mark.parametrize("exc", [RuntimeError, KeyboardInterrupt])
def test_training_and_embed_put_the_thread_count_back_when_they_raise(user_threads, exc):
    enc, cells, kw = _tiny_training()
    calls = []

    def boom(module, inputs, output):
        calls.append(torch.get_num_threads())
        if len(calls) == 3:  # inside the training loop, after the first steps
            raise exc("stop")

    handle = enc.register_forward_hook(boom)
    with pytest.raises(exc):
        train_encoder(enc, cells, WLKernel(n_iter=1), **kw)
    assert calls[-1] == 1 and torch.get_num_threads() == user_threads
    calls.clear()
    calls.extend([0, 0])  # the next forward raises
    with pytest.raises(exc):
        enc.embed(cells[:5])
    assert torch.get_num_threads() == user_threads
    handle.remove()


def _synthetic(n_train=64, n_eval=32, classes=4):
    g = torch.Generator().manual_seed(0)
    n = n_train + n_eval
    y = torch.arange(n) % classes
    x = (torch.randint(0, 128, (n, 3, 32, 32), generator=g) + (y * 42)[:, None, None, None]).clamp(0, 255)
    x = x.to(torch.uint8)
    return CifarTensorDataset(x[:n_train], y[:n_train], train=True), CifarTensorDataset(x[n_train:], y[n_train:])


CELL = Cell(np.triu(np.ones((4, 4), dtype=np.uint8), 1), ["input", "conv1x1", "sepconv3x3", "conv1x1"])


class _Recording(ProxyTrainer):
    """Records the count while training; raises ``raise_`` there when set."""

    raise_: type[BaseException] | None = None
    seen: list[int]

    def _train(self, *args, **kwargs):
        self.seen = [torch.get_num_threads()]
        if self.raise_ is not None:
            raise self.raise_("stop")
        return super()._train(*args, **kwargs)


@pytest.mark.parametrize("num_threads", [None, 1, 3])
def test_proxy_trainer_scopes_its_thread_count(user_threads, num_threads):
    train, ev = _synthetic()
    t = _Recording(epochs=1, batch_size=32, width=4, train_data=train, eval_data=ev, device="cpu", seed=0,
                   num_threads=num_threads)
    r = t.evaluate(CELL)
    assert r.ok
    assert t.seen == [user_threads if num_threads is None else num_threads]
    assert torch.get_num_threads() == user_threads
    for exc in (KeyboardInterrupt, SystemExit, OSError):  # not turned into a failed Result: they propagate
        t.raise_ = exc
        with pytest.raises(exc):
            t.evaluate(CELL)
        assert torch.get_num_threads() == user_threads
    t.raise_ = RuntimeError  # a candidate's failure: a failed Result
    assert t.evaluate(CELL).status == "failed"
    assert torch.get_num_threads() == user_threads


def test_intra_op_threads_restores_on_every_way_out(user_threads):
    scope = intra_op_threads(1)
    with scope:
        assert torch.get_num_threads() == 1
        with scope:  # the same instance again, nested
            torch.set_num_threads(3)  # code inside changes it: the exit still puts back its entry's
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == user_threads
    with pytest.raises(KeyboardInterrupt):
        with single_thread():
            assert torch.get_num_threads() == 1
            raise KeyboardInterrupt
    assert torch.get_num_threads() == user_threads
    with intra_op_threads(user_threads):
        assert torch.get_num_threads() == user_threads
    for bad in (0, -1, 1.5, "2", True, None):
        with pytest.raises(InputError, match="n: expected an int >= 1"):
            intra_op_threads(bad)


def test_layer_norm_in_float64_leaves_its_inputs_alone_and_matches_pytorch():
    torch.manual_seed(1)
    x = torch.randn(65, 12, dtype=torch.float64, requires_grad=True)
    x_copy = x.detach().clone()
    ref = torch.nn.LayerNorm(12, dtype=torch.float64)
    ours = ThreadStableLayerNorm(12, dtype=torch.float64)
    with torch.no_grad():
        ref.weight.uniform_(0.5, 1.5)
        ref.bias.uniform_(-0.5, 0.5)
    ours.load_state_dict(ref.state_dict())
    g = torch.randn(65, 12, dtype=torch.float64)
    g_copy = g.clone()
    got = []
    for m in (ref, ours):
        x.grad = None
        m(x).backward(g)
        got.append((x.grad.clone(), m.weight.grad.clone(), m.bias.grad.clone()))
    assert torch.equal(x.detach(), x_copy) and torch.equal(g, g_copy)  # no work done in their storage
    assert all(torch.allclose(a, b, rtol=1e-12, atol=1e-12) for a, b in zip(*got))
