"""Small real components for search tests: a ProxyTrainer on a tiny synthetic image set."""
from __future__ import annotations

import torch

from gemgraph import SearchSpace, encoders
from gemgraph.cifar import CifarTensorDataset
from gemgraph.evaluate import ProxyTrainer
from gemgraph.predictor import EfficiencyPredictor
from gemgraph.search import NASGEM


def tiny_data(n: int = 64, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 4
    # class-dependent mean brightness so that the task is learnable
    x = (torch.rand(n, 3, 8, 8, generator=g) * 120 + y[:, None, None, None] * 30).to(torch.uint8)
    return CifarTensorDataset(x, y, train=True), CifarTensorDataset(x[:32], y[:32], train=False)


def tiny_search(store, seed: int = 0, nodes: int = 6, **kw) -> NASGEM:
    train, ev = tiny_data()
    trainer = ProxyTrainer(epochs=1, batch_size=16, width=4, train_data=train, eval_data=ev, device="cpu", seed=seed,
                           num_threads=1)
    space = SearchSpace(nodes, max_concat=2)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        enc = encoders.create("mlp", num_nodes=nodes, dim=8, hidden=(16,))
    pred = EfficiencyPredictor(hidden=16, max_epochs=50, seed=seed)
    args = dict(seed=seed, num_samples=300, top_k=3, progress=False)
    args.update(kw)
    return NASGEM(space, enc, pred, trainer, store, **args)


class FaultyTrainer:
    """Evaluates like ``inner``, except that it raises for the cells in ``raise_on`` and kills
    its own process (``os._exit``, as the kernel's OOM killer would) for those in ``kill_on``.
    Module-level, so that Ray workers can unpickle it."""

    def __init__(self, inner, raise_on=(), kill_on=()):
        self.inner, self.raise_on, self.kill_on = inner, list(raise_on), list(kill_on)

    def evaluate(self, cell):
        import os

        if cell in self.kill_on:
            os._exit(9)
        if cell in self.raise_on:
            raise RuntimeError("boom: this cell breaks the trainer")
        return self.inner.evaluate(cell)
