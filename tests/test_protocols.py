"""gemgraph.protocols: the shipped spaces, evaluators, predictor, executors, samplers and stores
satisfy the loop's protocols (isinstance with runtime_checkable, and method signatures)."""
from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch

from gemgraph import SearchSpace, protocols
from gemgraph.batch import CellBatch
from gemgraph.evaluate import ProxyTrainer
from gemgraph.executors import LocalExecutor, RayExecutor
from gemgraph.memstore import MemoryStore
from gemgraph.nb101 import NB101Evaluator, NB101Pool, NB101Space
from gemgraph.predictor import EfficiencyPredictor
from gemgraph.samplers import AcquisitionSampler, RandomSampler, make_sampler
from gemgraph.store import RunStore

from ._search_helpers import tiny_data


def _members(proto: type) -> list[str]:
    """The methods a protocol declares (its own, not object's / Protocol's)."""
    return [k for k, v in vars(proto).items() if callable(v) and not k.startswith("_")]


def _compatible(proto_fn, impl_fn) -> str | None:
    """None if ``impl_fn`` accepts every call the protocol's signature allows, else why not."""
    p, i = inspect.signature(proto_fn), inspect.signature(impl_fn)
    pp = [q for q in p.parameters.values() if q.name != "self"]
    ip = {q.name: q for q in i.parameters.values() if q.name != "self"}
    var_kw = any(q.kind is q.VAR_KEYWORD for q in ip.values())
    for q in pp:
        if q.kind in (q.VAR_KEYWORD, q.VAR_POSITIONAL):
            continue
        if q.name not in ip and not var_kw:
            return f"no parameter {q.name!r}"
        if q.default is not q.empty and q.name in ip and ip[q.name].default is q.empty:
            return f"{q.name!r} is optional in the protocol but required here"
    names = {q.name for q in pp}
    for q in ip.values():
        if q.default is q.empty and q.kind not in (q.VAR_KEYWORD, q.VAR_POSITIONAL) and q.name not in names:
            if not any(x.kind is x.VAR_KEYWORD for x in pp):
                return f"requires {q.name!r}, which the loop does not pass"
    return None


def _check(proto: type, obj) -> None:
    assert isinstance(obj, proto), f"{type(obj).__name__} is not a {proto.__name__}"
    for name in _members(proto):
        why = _compatible(getattr(proto, name), getattr(obj, name))
        assert why is None, f"{type(obj).__name__}.{name}: {why}"


@pytest.fixture(scope="module")
def nb_pool():
    cells = SearchSpace(7, ops=("conv3x3", "conv1x1", "maxpool3x3")).sample(5, seed=0)
    batch = CellBatch.from_cells(cells, 7)
    return NB101Pool(np.array([f"h{k}" for k in range(5)]), np.arange(5), batch, np.linspace(0.8, 0.9, 5))


def test_spaces(nb_pool):
    _check(protocols.Space, SearchSpace(8))
    _check(protocols.Space, NB101Space(nb_pool))


def test_evaluators(nb_pool):
    train, ev = tiny_data()
    _check(protocols.Evaluator, ProxyTrainer(epochs=1, train_data=train, eval_data=ev, device="cpu"))
    _check(protocols.Evaluator, NB101Evaluator(nb_pool))


def test_predictor():
    _check(protocols.Predictor, EfficiencyPredictor())


def test_executors():
    _check(protocols.Executor, LocalExecutor())
    # RayExecutor: the class's methods (an instance starts Ray; tests/test_ray.py runs one)
    for name in _members(protocols.Executor):
        assert _compatible(getattr(protocols.Executor, name), getattr(RayExecutor, name)) is None


def test_samplers():
    for s in (RandomSampler(), AcquisitionSampler(), make_sampler("ucb")):
        _check(protocols.Sampler, s)


def test_stores(tmp_path):
    _check(protocols.Store, MemoryStore())
    with RunStore(tmp_path / "run.sqlite", create=True, config={"t": "protocols"}) as store:
        _check(protocols.Store, store)


def test_a_wrong_object_is_not_a_protocol():
    assert not isinstance(object(), protocols.Space)
    assert not isinstance(torch.nn.Linear(2, 2), protocols.Predictor)
    assert not isinstance(SearchSpace(5), protocols.Store)

    class Partial:
        def evaluate(self):  # takes no cell
            return None

    assert isinstance(Partial(), protocols.Evaluator)  # runtime_checkable checks names only ...
    # ... this checks more
    assert _compatible(protocols.Evaluator.evaluate, Partial().evaluate) == "no parameter 'cell'"
