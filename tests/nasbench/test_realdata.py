"""The real 20,001-model dev file (official nasbench_full.tfrecord layout), cross-checked against
independent sources: the JSON it was made from, a 1k subset with specs, and NASLib's records."""
import hashlib
import json
import math
import time

import numpy as np
import pytest

from nasbench import ModelSpec, NASBench101, hash_module, hash_modules
from tests.conftest import need_data

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def dev_path():
    return need_data("nasbench101/nb101_dev_20k.tfrecord")


@pytest.fixture(scope="module")
def nb(dev_path, tmp_path_factory):
    return NASBench101(dev_path, cache=tmp_path_factory.mktemp("devcache"))


def test_file_is_the_documented_one(dev_path):
    assert hashlib.sha256(dev_path.read_bytes()).hexdigest() == \
        "1a0911b10de0311ed17af94d6d55e6158646c01a711fc16e082670f846edb4b8"


def test_layout_and_counts(nb):
    assert len(nb) == 20_001 and nb.load_info["records"] == 80_004
    assert nb.epochs == (4, 12, 36, 108)
    assert (nb.num_repeats == 1).all()
    assert nb.load_info["crc_verified"] and nb.load_info["records_per_s"] > 1_000
    assert set(nb.fields) == {"final_validation_accuracy", "final_training_time", "total_time"}


def test_every_model_hashes_to_its_key(nb):
    got = hash_modules(nb.matrices, nb.op_labels, nb.num_vertices)
    assert np.array_equal(got, nb.hashes)
    for i in (0, 7, 19_999):
        assert nb.spec(nb.hashes[i]).module_hash == nb.hashes[i]


def test_values_match_the_source_json(nb):
    src = json.loads(need_data("nasbench101/tiga1231_nb101_20k_by_hash.json").read_text())
    idx = nb.index_of(np.array(src["key"]))
    assert sorted(idx.tolist()) == list(range(20_001))
    for e in (4, 12, 36, 108):
        want = np.array(src[f"{e}_final_validation_accuracy"], dtype=np.float64)
        assert np.array_equal(nb.metric_array("validation_accuracy", epochs=e)[idx], want)
    assert np.array_equal(nb.metric_array("training_time", epochs=108)[idx],
                          np.array(src["final_training_time"], dtype=np.float64))
    assert np.array_equal(nb.metric_array("trainable_parameters")[idx],
                          np.array(src["trainable_parameters"], dtype=np.float64))


def test_unknown_fields_stay_unknown(nb):
    assert np.isnan(nb.metric_array("test_accuracy")).all()
    assert np.isnan(nb.metric_array("train_accuracy")).all()
    assert np.isnan(nb.metric_array("halfway_validation_accuracy")).all()
    assert np.isnan(nb.metric_array("training_time", epochs=36)).all()
    with pytest.raises(ValueError, match="unknown for every model"):
        nb.best("test_accuracy")
    q = nb.query(nb.hashes[0], epochs=4)
    assert math.isnan(q["test_accuracy"]) and math.isnan(q["training_time"])


def test_best_model_is_the_documented_one(nb):
    h, acc = nb.best("validation_accuracy", epochs=108)
    assert round(100 * acc, 2) == 94.91
    assert nb.query(nb.spec(h))["validation_accuracy"] == acc


def test_specs_from_the_1k_subset_hash_to_their_keys(nb):
    src = json.loads(need_data("nasbench101/tiga1231_nb101_1k_with_specs.json").read_text())
    names = {-1: "input", -2: "output", 0: "conv3x3-bn-relu", 1: "conv1x1-bn-relu", 2: "maxpool3x3"}
    for adj, ops, key in zip(src["adjacency"], src["operations"], src["key"]):
        keep = [i for i, o in enumerate(ops) if o != -3]
        spec = ModelSpec(np.array(adj)[np.ix_(keep, keep)], [names[ops[i]] for i in keep])
        assert spec.module_hash == key
        assert nb.query(spec)["validation_accuracy"] == nb.metric_array()[nb.index_of(key)]


def test_naslib_specs_find_the_same_models(nb):
    """NASLib stores 7x7 specs (some unpruned) and parameter counts; matching hashes must agree.

    NASLib's counts come from its own model builder on the *unpruned* matrix, so they are
    compared only for cells that pruning leaves unchanged (one pruned cell in the file differs).
    """
    src = json.loads(need_data("nasbench101/naslib_zc_nasbench101_500.json").read_text())
    names = ["input", "output", "maxpool3x3", "conv1x1-bn-relu", "conv3x3-bn-relu"]
    found = 0
    for key, rec in src["nasbench101"]["cifar10"].items():
        t = [int(x) for x in key.strip("()").split(",")]
        spec = ModelSpec(np.array(t[:49]).reshape(7, 7), [names[i] for i in t[49:]])
        if spec.is_valid() and spec in nb:
            found += 1
            if spec.num_edges == int(spec.original_matrix.sum()):
                assert nb.query(spec)["trainable_parameters"] == round(rec["params"] * 1e6)
    assert found >= 50


def test_cache_reload_is_well_under_a_second(nb, dev_path, tmp_path):
    NASBench101(dev_path, cache=tmp_path)
    t = time.perf_counter()
    again = NASBench101(dev_path, cache=tmp_path)
    assert again.load_info["source"] == "cache" and time.perf_counter() - t < 1.0
    assert np.array_equal(again.hashes, nb.hashes)


def test_bundled_sample_is_the_dev_file(nb):
    sample = NASBench101.sample_dataset()
    for name in ("hashes", "matrices", "op_labels", "num_vertices", "num_repeats"):
        assert np.array_equal(getattr(sample, name), getattr(nb, name)), name
    for m in ("validation_accuracy", "training_time", "total_time", "trainable_parameters", "test_accuracy"):
        for e in nb.epochs:
            assert np.array_equal(sample.metric_array(m, e), nb.metric_array(m, e), equal_nan=True)


def test_hash_of_first_record_by_hand(dev_path):
    with open(dev_path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        f.read(4)
        h, _, adj, ops, _ = json.loads(f.read(n))
    v = int(len(adj) ** 0.5)
    labels = [{"input": -1, "output": -2, "conv3x3-bn-relu": 0, "conv1x1-bn-relu": 1, "maxpool3x3": 2}[o]
              for o in ops.split(",")]
    assert hash_module(np.array([int(c) for c in adj]).reshape(v, v), labels) == h
