"""Your own search space, with your own op names, searched by NASGEM: no edit of gemgraph.

    python examples/custom_space.py --queries 40

What a user writes (all of it below):

1. an :class:`~gemgraph.vocab.OpVocabulary` with the space's op names (here two ops gemgraph
   does not know, ``conv5x5`` and ``dilconv3x3``, beside its ``conv1x1``);
2. the ops' network builders, registered with :func:`gemgraph.nn.register_op` (``conv5x5`` with
   a closed-form cost rule, ``dilconv3x3`` without one: its MACs come from the FLOP counter);
3. a space class with ``num_nodes``, ``vocab``, ``sample(n, seed)`` and ``sample_tensors(n, seed)``
   (the :class:`gemgraph.protocols.Space` protocol): here all 567 cells of a small family, an
   input, three computing nodes reading any earlier nodes, an output reading the leaves;
4. an evaluator with ``evaluate(cell) -> Result`` that looks the cell up in a table. The table
   here is synthetic (a fixed made-up function of the cell, seeded): it stands for the
   measurements a user has of their own space. The score is the paper's efficiency score on
   the MACs of the cell's network.

Then the same loop as every other gemgraph search: ``NASGEM(space, encoder, predictor,
evaluator, store)``, with the "raw" encoder one-hot encoding the space's own ops.
"""
from __future__ import annotations

import argparse
import itertools
import math

import numpy as np
import torch

from gemgraph import Cell, encoders
from gemgraph.batch import CellBatch
from gemgraph.cost import CellCost
from gemgraph.protocols import Result
from gemgraph.memstore import MemoryStore
from gemgraph.nn import OP_REGISTRY, ConvBNReLU, register_op
from gemgraph.predictor import EfficiencyPredictor
from gemgraph.search import NASGEM
from gemgraph.vocab import OpVocabulary
from torch import nn

# 1. the space's operations (index order = one-hot order)
VOCAB = OpVocabulary(("input", "output", "conv1x1", "conv5x5", "dilconv3x3"), name="my-space")


# 2. their network builders (conv1x1 is built into gemgraph; the other two are ours)
class DilConvBNReLU(nn.Sequential):
    """3x3 conv with dilation 2 -> BN -> ReLU."""

    def __init__(self, c_in: int, c_out: int, stride: int = 1) -> None:
        super().__init__(nn.Conv2d(c_in, c_out, 3, stride, padding=2, dilation=2, bias=False),
                         nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


if "conv5x5" not in OP_REGISTRY:  # the script may be imported twice (tests)
    # a 5x5 conv reading k node widths costs 25 k c^2 MACs per pixel and has one BatchNorm
    register_op("conv5x5", lambda i, o, s: ConvBNReLU(i, o, 5, s), cost=lambda k: (25 * k, 0 * k, 1 + 0 * k))
    register_op("dilconv3x3", lambda i, o, s: DilConvBNReLU(i, o, s))  # no rule: the FLOP counter measures it


# 3. the space
class MySpace:
    """All cells of 5 nodes: input, 3 computing nodes (each reads a non-empty set of earlier
    nodes, one of 3 ops), output (reads the leaves)."""

    num_nodes = 5
    vocab = VOCAB

    def __init__(self) -> None:
        ops = VOCAB.interior
        cells = []
        for in2, in3 in itertools.product(range(1, 4), range(1, 8)):  # input sets of nodes 2 and 3
            adj = np.zeros((5, 5), dtype=np.uint8)
            adj[0, 1] = 1
            adj[[i for i in range(2) if in2 >> i & 1], 2] = 1
            adj[[i for i in range(3) if in3 >> i & 1], 3] = 1
            for j in (1, 2, 3):
                adj[j, 4] = int(not adj[j, :4].any())  # the leaves feed the output
            for o in itertools.product(ops, repeat=3):
                cells.append(Cell(adj, ("input", *o, "output"), vocab=VOCAB))
        self.cells = cells
        self.batch = CellBatch.from_cells(cells, 5)

    def __len__(self) -> int:
        return len(self.cells)

    def sample_indices(self, n: int, seed: int | None = 0) -> np.ndarray:
        if n >= len(self):
            return np.arange(len(self))
        return np.sort(np.random.default_rng(seed).choice(len(self), n, replace=False))

    def sample_tensors(self, n: int, seed: int | None = 0) -> tuple[torch.Tensor, torch.Tensor]:
        idx = torch.from_numpy(self.sample_indices(n, seed))
        assert self.batch.ops is not None
        return self.batch.adj[idx], self.batch.ops[idx]

    def sample(self, n: int, seed: int | None = 0) -> list[Cell]:
        return [self.cells[i] for i in self.sample_indices(n, seed)]


# 4. a look-up evaluator (a synthetic table standing for the user's measurements)
class TableEvaluator:
    """Accuracy looked up in a table; score = accuracy - lam * ln(MACs in millions)."""

    def __init__(self, space: MySpace, lam: float = 0.02, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        macs, _ = CellCost("cifarnet", width=8)(space.batch)  # closed form, FLOP counter for dilconv3x3
        quality = {"conv1x1": 0.0, "conv5x5": 0.02, "dilconv3x3": 0.03}
        acc = np.array([0.8 + sum(quality[o] for o in c.ops[1:-1]) + 0.01 * c.num_edges for c in space.cells])
        acc = acc + rng.normal(0, 0.01, len(acc))
        self.table = {c: (float(a), int(m)) for c, a, m in zip(space.cells, acc, macs.tolist())}
        self.lam = lam
        self.queries = 0

    def score(self, acc: float, macs: int) -> float:
        return acc - self.lam * math.log(macs / 1e6)

    def evaluate(self, cell: Cell) -> Result:
        self.queries += 1
        if cell not in self.table:
            return Result(accuracy=math.nan, macs=0, params=0, score=math.nan, train_seconds=0.0, status="failed",
                          error="cell: not in the table")
        acc, macs = self.table[cell]
        return Result(accuracy=acc, macs=macs, params=0, score=self.score(acc, macs), train_seconds=0.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--queries", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    space = MySpace()
    evaluator = TableEvaluator(space)
    encoder = encoders.create("raw", num_nodes=space.num_nodes, ops=space.vocab)  # one-hot over the space's ops
    store = MemoryStore()
    search = NASGEM(space, encoder, EfficiencyPredictor(n_members=3, max_epochs=60, seed=args.seed), evaluator, store,
                    seed=args.seed, sampler="acquisition", sampler_options={"n_init": 10, "batch_size": 5},
                    num_samples=len(space), checkpoint_every=0, progress=False)
    result = search.run(args.queries)
    best_possible = max(evaluator.score(a, m) for a, m in evaluator.table.values())
    best_found = max(r["score"] for r in store.candidates(status="ok"))
    print(f"space: {len(space)} cells, ops {list(space.vocab.interior)}")
    print(f"picked: {result.best}")
    print(f"best score found in {args.queries} queries: {best_found:.4f}; best in the space: {best_possible:.4f}; "
          f"regret {best_possible - best_found:.4f}")


if __name__ == "__main__":
    main()
