"""The loop talks to protocols: an encoder or predictor that is not one of gemgraph's classes
but has their methods plugs in (and something without them is refused, naming it)."""
import pytest
from sklearn.base import BaseEstimator

from gemgraph import SearchSpace, encoders
from gemgraph.errors import InputError
from gemgraph.memstore import MemoryStore
from gemgraph.predictor import EfficiencyPredictor
from gemgraph.protocols import GraphEncoder, Predictor
from gemgraph.search import NASGEM

from ._search_helpers import tiny_search


class DuckEncoder:
    """Not an Encoder subclass: num_nodes and embed(cells, batch_size=...) only."""

    def __init__(self, inner):
        self.inner, self.num_nodes, self.calls = inner, inner.num_nodes, 0

    def embed(self, cells, batch_size=4096):
        self.calls += 1
        return self.inner.embed(cells, batch_size=batch_size)


class DuckPredictor(BaseEstimator):
    """Not an EfficiencyPredictor: fit / predict / state_dict around one (a scikit-learn
    estimator, as the protocol asks, so that ``check_is_fitted`` reads it)."""

    def __init__(self, inner):
        self.inner = inner

    def fit(self, Z, y):
        self.inner.fit(Z, y)
        return self

    def predict(self, Z, return_std=False):
        return self.inner.predict(Z, return_std=return_std)

    def state_dict(self):
        return self.inner.state_dict()

    def __sklearn_is_fitted__(self):
        from gemgraph.utils import is_fitted

        return is_fitted(self.inner)


def test_duck_typed_encoder_and_predictor_give_the_same_search():
    ref = tiny_search(MemoryStore(), seed=3, verify_top=1)
    ref_res = ref.run(4)
    base = tiny_search(MemoryStore(), seed=3)  # the same parts, built fresh
    enc, pred = DuckEncoder(base.encoder), DuckPredictor(base.predictor)
    assert isinstance(enc, GraphEncoder) and isinstance(pred, Predictor)
    duck = NASGEM(base.space, enc, pred, base.trainer, MemoryStore(), seed=3, num_samples=300, top_k=3,
                  verify_top=1, progress=False)
    res = duck.run(4)
    assert enc.calls > 0
    assert res.best == ref_res.best and [e["cell"] for e in res.top] == [e["cell"] for e in ref_res.top]


def test_parts_without_the_protocol_are_refused():
    space = SearchSpace(6)
    raw = encoders.create("raw", num_nodes=6)
    with pytest.raises(InputError, match="encoder: expected a graph encoder with num_nodes and embed"):
        NASGEM(space, object(), EfficiencyPredictor(), None, MemoryStore())
    with pytest.raises(InputError, match="predictor: expected a predictor with fit, predict and state_dict"):
        NASGEM(space, raw, object(), None, MemoryStore())
