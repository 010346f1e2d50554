"""The official-API drop-in ``nasbench.api``: the flow of google-research/nasbench's example.py
(written from its documented behaviour), budget counters, per-instance seeding, errors."""
import math
import random

import numpy as np
import pytest

import nasbench
from nasbench import api
from tests.conftest import need_data

from ._fixtures import CHAIN, INCEPTION, build

QUERY_KEYS = {"module_adjacency", "module_operations", "trainable_parameters", "training_time",
              "train_accuracy", "validation_accuracy", "test_accuracy"}
RUN_KEYS = {f"{p}_{k}" for p in ("halfway", "final")
            for k in ("training_time", "train_accuracy", "validation_accuracy", "test_accuracy")}


@pytest.fixture
def fx(tmp_path):
    return build(tmp_path / "tiny.tfrecord")


@pytest.fixture
def nb(fx, tmp_path):
    return api.NASBench(str(fx.path), seed=0, cache=tmp_path / "cache")


def example_flow(nb: api.NASBench, spec: api.ModelSpec) -> dict:
    """What the official example does: query a spec, then read all its metrics, epoch by epoch."""
    data = nb.query(spec)
    assert set(data) == QUERY_KEYS
    fixed, computed = nb.get_metrics_from_spec(spec)
    assert set(fixed) == {"module_adjacency", "module_operations", "trainable_parameters"}
    for epochs in sorted(computed):
        assert epochs in nb.valid_epochs
        for repeat in computed[epochs]:
            assert set(repeat) == RUN_KEYS
    return data


def test_example_flow_on_the_fixture(nb, fx):
    spec = api.ModelSpec(matrix=INCEPTION[0], ops=[api.INPUT, api.CONV1X1, api.CONV3X3, api.CONV3X3,
                                                   api.CONV3X3, api.MAXPOOL3X3, api.OUTPUT])
    assert nb.is_valid(spec) and nb.get_budget_counters() == (0.0, 0)
    data = example_flow(nb, spec)
    fixed, computed = nb.get_metrics_from_spec(spec)
    repeats = computed[108]
    assert len(repeats) == 3 and sorted(computed) == [12, 108]
    # one sampled repeat, not the mean
    k = [r["final_validation_accuracy"] for r in repeats].index(data["validation_accuracy"])
    assert data["training_time"] == repeats[k]["final_training_time"]
    assert data["test_accuracy"] == repeats[k]["final_test_accuracy"]
    assert np.array_equal(data["module_adjacency"], np.array(INCEPTION[0]))
    assert data["module_adjacency"].dtype == np.int8
    assert data["module_operations"] == INCEPTION[1] and data["trainable_parameters"] == 1_234_567
    assert nb.get_budget_counters() == (data["training_time"], 108)
    # stop_halfway: halfway metrics, half the epochs counted
    half = nb.query(spec, epochs=12, stop_halfway=True)
    assert half["validation_accuracy"] in [r["halfway_validation_accuracy"] for r in computed[12]]
    t, e = nb.get_budget_counters()
    assert e == 108 + 6 and t == pytest.approx(data["training_time"] + half["training_time"])
    # analysis calls do not count
    nb.get_metrics_from_hash(fx.expected["chain"])
    nb.is_valid(spec)
    assert nb.get_budget_counters()[1] == 114
    nb.reset_budget_counters()
    assert nb.get_budget_counters() == (0.0, 0)


def test_statistics_are_mappings_and_hash_iterator_is_a_keys_view(nb, fx):
    keys = nb.hash_iterator()
    assert len(keys) == 3 and list(keys) == [fx.expected[k] for k in ("inception", "chain", "skip")]
    assert fx.expected["chain"] in keys and "0" * 32 not in keys
    h = fx.expected["inception"]
    assert nb.computed_statistics[h][108][2]["final_validation_accuracy"] == pytest.approx(0.85 + 0.02 + 0.0108)
    assert set(nb.computed_statistics[h][12][0]) == RUN_KEYS
    assert nb.fixed_statistics[fx.expected["chain"]]["trainable_parameters"] == 4242
    assert nb.fixed_statistics[fx.expected["skip"]]["trainable_parameters"] is None  # unknown, not 0
    assert len(nb.fixed_statistics) == len(nb.computed_statistics) == 3
    assert dict(nb.fixed_statistics.items()).keys() == set(keys)
    # chain: repeat 1 has no test accuracy -> NaN, never 0
    assert math.isnan(nb.computed_statistics[fx.expected["chain"]][108][1]["final_test_accuracy"])
    # fresh copies: editing a result does not change the data
    fixed, computed = nb.get_metrics_from_hash(h)
    fixed["module_operations"][1] = "x"
    computed[108].clear()
    assert nb.fixed_statistics[h]["module_operations"][1] == "conv1x1-bn-relu"
    assert len(nb.computed_statistics[h][108]) == 3
    with pytest.raises(KeyError):
        nb.computed_statistics["f" * 32]
    assert nb.config == {"module_vertices": 7, "max_edges": 9, "num_repeats": 3,
                         "available_ops": ["conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"]}
    assert nb.valid_epochs == {12, 108} and nb.history == {}


def test_seeding_is_per_instance(fx, tmp_path):
    spec = api.ModelSpec(*INCEPTION)
    state = random.getstate()
    np_state = np.random.get_state()[1].copy()

    def draws(seed):
        b = api.NASBench(fx.path, seed=seed, cache=tmp_path / "c")
        return [b.query(spec)["validation_accuracy"] for _ in range(40)]

    a, b = draws(1), draws(1)
    assert a == b
    assert len(set(a)) == 3  # every repeat gets drawn
    assert draws(2) != a
    assert random.getstate() == state and np.array_equal(np.random.get_state()[1], np_state)


def test_out_of_domain(nb):
    spec = api.ModelSpec(*INCEPTION)
    with pytest.raises(api.OutOfDomainError, match="epochs"):
        nb.query(spec, epochs=36)
    assert issubclass(api.OutOfDomainError, ValueError)
    eight = np.triu(np.ones((8, 8), dtype=int), 1)
    too_big = api.ModelSpec(eight, ["input"] + ["conv3x3-bn-relu"] * 6 + ["output"])
    disconnected = api.ModelSpec([[0, 0, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"])
    bad_op = api.ModelSpec([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv5x5", "output"])
    for s in (too_big, disconnected, bad_op):
        assert not nb.is_valid(s)
        with pytest.raises(api.OutOfDomainError):
            nb.query(s)
        with pytest.raises(api.OutOfDomainError):
            nb.get_metrics_from_spec(s)
    assert not disconnected.valid_spec and disconnected.matrix is None
    # pruning first: an extraneous vertex is dropped, then the spec is in the space and found
    padded = api.ModelSpec([[0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]],
                           ["input", "conv3x3-bn-relu", "maxpool3x3", "output"])
    assert nb.is_valid(padded) and nb.query(padded)["module_operations"] == CHAIN[1]
    # in the space but not in the data: KeyError naming the hash, no budget counted
    missing = api.ModelSpec([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "maxpool3x3", "output"])
    with pytest.raises(KeyError, match=missing.module_hash):
        nb.query(missing)
    assert nb.get_budget_counters() == (pytest.approx(100.0, abs=1.5), 108)
    with pytest.raises(TypeError, match="model_spec"):
        nb.query(INCEPTION)
    with pytest.raises(NotImplementedError, match="TensorFlow"):
        nb.evaluate(spec, "/tmp/x")


def test_model_spec_is_the_official_one():
    s = api.ModelSpec([[0, 1], [0, 0]], ["input", "output"], data_format="channels_first")
    assert s.data_format == "channels_first" and isinstance(s, nasbench.ModelSpec)
    assert s.hash_spec(["conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"]) == s.module_hash
    with pytest.raises(ValueError, match="data_format"):
        api.ModelSpec([[0, 1], [0, 0]], ["input", "output"], data_format="nchw")
    # the richer API keeps its public names
    assert nasbench.NASBench101 is api.NASBench101 and nasbench.api is api


def test_unknown_training_time_propagates_to_the_counter(tmp_path):
    nb = api.NASBench.sample_dataset(seed=0)
    h = next(iter(nb.hash_iterator()))
    fixed = nb.fixed_statistics[h]
    spec = api.ModelSpec(fixed["module_adjacency"], fixed["module_operations"])
    nb.query(spec, epochs=108)
    assert nb.get_budget_counters()[0] > 0
    nb.query(spec, epochs=4)  # the dev sample has no training times below 108 epochs
    t, e = nb.get_budget_counters()
    assert math.isnan(t) and e == 112


def test_bundled_sample_through_the_official_api():
    nb = api.NASBench.sample_dataset(seed=3)
    bench = nasbench.NASBench101.sample_dataset()
    assert len(nb.hash_iterator()) == len(bench) == 20_001
    acc = bench.metric_array("validation_accuracy", epochs=108)
    for i, h in enumerate(list(nb.hash_iterator())[:300]):
        fixed, computed = nb.get_metrics_from_hash(h)
        spec = api.ModelSpec(matrix=fixed["module_adjacency"], ops=fixed["module_operations"])
        data = example_flow(nb, spec)
        assert data["validation_accuracy"] == computed[108][0]["final_validation_accuracy"] == acc[i]
    assert nb.get_budget_counters()[1] == 300 * 108


@pytest.mark.realdata
def test_dev_file_through_the_official_api(tmp_path):
    path = need_data("nasbench101/nb101_dev_20k.tfrecord")
    nb = api.NASBench(str(path), seed=0, cache=tmp_path)
    assert nb.valid_epochs == {4, 12, 36, 108} and len(nb.hash_iterator()) == 20_001
    assert nb.config["num_repeats"] == 1
    rich = nasbench.NASBench101(path, cache=tmp_path)
    rng = np.random.default_rng(0)
    hashes = list(nb.hash_iterator())
    time_spent = 0.0
    for j in rng.choice(len(hashes), 200, replace=False).tolist():
        h = hashes[j]
        spec = api.ModelSpec(nb.fixed_statistics[h]["module_adjacency"], nb.fixed_statistics[h]["module_operations"])
        assert spec.module_hash == h
        data = example_flow(nb, spec)
        ref = rich.query(h)
        assert data["validation_accuracy"] == ref["validation_accuracy"]
        assert data["training_time"] == ref["training_time"]
        time_spent += ref["training_time"]
        for e in (4, 12, 36):
            assert nb.computed_statistics[h][e][0]["final_validation_accuracy"] == \
                rich.query(h, epochs=e)["validation_accuracy"]
    assert nb.get_budget_counters() == (pytest.approx(time_spent), 200 * 108)
