"""gemgraph.batch: CellBatch from cells / tensors and the one conversion back to cells."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from gemgraph import Cell, SearchSpace
from gemgraph.cell import OPS
from gemgraph.batch import CellBatch, as_batch


def _mixed_cells() -> list[Cell]:
    rng = np.random.default_rng(0)
    out = []
    for n in (3, 7, 5, 7, 4):
        adj = np.triu(rng.integers(0, 2, (n, n)), 1).astype(np.uint8)
        ops = ["input"] + [str(o) for o in rng.choice(["conv1x1", "conv3x3", "sepconv3x3"], n - 2)] + ["output"]
        out.append(Cell(adj, ops))
    return out


@pytest.mark.parametrize("with_ops", [True, False])
def test_round_trip_of_mixed_sizes(with_ops):
    cells = _mixed_cells()
    if not with_ops:
        cells = [Cell(c.adjacency) for c in cells]
    batch = CellBatch.from_cells(cells, 9)
    assert batch.adj.shape == (5, 9, 9) and batch.sizes.tolist() == [3, 7, 5, 7, 4]
    back = batch.to_cells()
    assert back == cells  # sizes, adjacency and ops, padding dropped
    assert [batch.cell(i) for i in range(len(batch))] == cells
    assert all(not c.adjacency.flags.writeable for c in back)
    assert batch[torch.tensor([1, 3])].to_cells() == [cells[1], cells[3]]


def test_space_to_cells_goes_through_the_batch():
    space = SearchSpace(8)
    adj, ops = space.sample_tensors(20, seed=1)
    via_space = space.to_cells(adj, ops)
    assert via_space == space.sample(20, seed=1)
    # the cells are what the validating constructor builds from the padded tensors
    sizes = [int(m) for m in (ops >= 0).sum(1)]
    assert via_space == [Cell(a[:m, :m].numpy(), tuple(OPS[o] for o in op[:m].tolist()))
                         for a, op, m in zip(adj, ops, sizes)]


def test_tensors_with_trailing_padding_become_smaller_cells():
    cells = _mixed_cells()
    b = CellBatch.from_cells(cells, 7)
    assert CellBatch.from_tensors(b.adj, b.ops).to_cells() == cells
    with pytest.raises(ValueError, match="padding"):
        CellBatch.from_tensors(b.adj, b.ops.flip(1))


def test_as_batch_and_the_old_import_path():
    from gemgraph.encoders import CellBatch as A
    from gemgraph.encoders.base import CellBatch as B

    assert A is CellBatch and B is CellBatch
    cells = _mixed_cells()
    b = as_batch(cells, 7)
    assert as_batch(b, 7) is b and as_batch(b, 8).adj.shape == (5, 8, 8)
    assert as_batch((b.adj, b.ops), 7).to_cells() == cells
    assert repr(b) == "CellBatch(n=5, num_nodes=7, ops=yes, device=cpu)"


def test_the_nb101_conversions_give_the_stored_cells():
    """NB101Pool.cells / NB101Space.sample give back the very cells the pool was made of."""
    from gemgraph.nb101 import NB101Pool, NB101Space

    cells = _mixed_cells()
    pool = NB101Pool(np.array([f"h{k}" for k in range(5)]), np.arange(5), CellBatch.from_cells(cells, 7),
                     np.linspace(0.8, 0.9, 5))
    idx = np.array([4, 0, 2])
    assert pool.cells(idx) == [cells[i] for i in idx]
    space = NB101Space(pool)
    assert space.sample(3, seed=1) == [cells[i] for i in space.sample_indices(3, seed=1)]
