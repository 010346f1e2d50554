import math

import numpy as np
import pytest

from nasbench import METRICS, ModelSpec, NASBench101

from ._fixtures import CHAIN, INCEPTION, SKIP, build


@pytest.fixture
def fx(tmp_path):
    return build(tmp_path / "tiny.tfrecord")


@pytest.fixture
def nb(fx, tmp_path):
    return NASBench101(fx.path, cache=tmp_path / "cache")


def test_shape_of_the_data(nb, fx):
    assert len(nb) == 3
    assert list(nb) == [fx.expected["inception"], fx.expected["chain"], fx.expected["skip"]]
    assert list(nb.hash_iterator()) == list(nb)
    assert nb.epochs == (12, 108) and nb.valid_epochs == {12, 108}
    assert nb.num_repeats.tolist() == [[3, 3], [0, 2], [0, 1]]
    assert nb.load_info["records"] == 9 and nb.load_info["source"] == "parsed"
    assert nb.load_info["records_per_s"] > 0
    assert "models=3" in repr(nb) and "records=9" in repr(nb)


def test_columnar_arrays(nb):
    assert nb.hashes.dtype == np.dtype("<U32")
    assert nb.matrices.shape == (3, 7, 7) and nb.matrices.dtype == np.uint8
    assert nb.num_vertices.tolist() == [7, 3, 2]
    assert nb.op_labels.dtype == np.int8
    assert nb.op_labels.tolist() == [[-1, 1, 0, 0, 0, 2, -2], [-1, 0, -2, -3, -3, -3, -3],
                                     [-1, -2, -3, -3, -3, -3, -3]]
    assert nb.matrices[1].tolist()[:3] == [[0, 1, 0, 0, 0, 0, 0], [0, 0, 1, 0, 0, 0, 0], [0] * 7]
    assert nb.matrices[1, 3:].sum() == 0 and nb.matrices[1, :, 3:].sum() == 0  # output stays at V-1
    assert nb.matrices[2, 0, 1] == 1
    assert nb.index_of(nb.hashes[1]) == 1
    assert nb.index_of(nb.hashes[::-1]).tolist() == [2, 1, 0]
    with pytest.raises(ValueError):
        nb.matrices[0, 0, 0] = 1  # read-only


def test_metric_array_mean_sample_and_unknowns(nb):
    val = nb.metric_array("validation_accuracy", epochs=108)
    assert val.dtype == np.float64 and val.shape == (3,)
    assert val[0] == pytest.approx(np.mean([0.85 + r / 100 + 0.0108 for r in range(3)]))
    assert val[1] == pytest.approx(0.65) and val[2] == pytest.approx(0.11)
    # test accuracy: absent in one of CHAIN's repeats -> mean of the known one; SKIP never has it
    test = nb.metric_array("test_accuracy", epochs=108)
    assert test[1] == pytest.approx(0.55) and math.isnan(test[2])
    # 12 epochs: only INCEPTION has records
    v12 = nb.metric_array("final_validation_accuracy", epochs=12)
    assert v12[0] == pytest.approx(0.85 + 0.01 + 0.0012) and np.isnan(v12[1:]).all()
    half = nb.metric_array("halfway_validation_accuracy", epochs=108)
    assert half[0] == pytest.approx(0.46) and np.isnan(half[1:]).all()
    params = nb.metric_array("trainable_parameters")
    assert params[:2].tolist() == [1234567, 4242] and math.isnan(params[2])
    s1 = nb.metric_array("validation_accuracy", reduce="sample", seed=1)
    s2 = nb.metric_array("validation_accuracy", reduce="sample", seed=1)
    assert np.array_equal(s1, s2)
    assert s1[0] in {0.85 + r / 100 + 0.0108 for r in range(3)}
    draws = {float(nb.metric_array("validation_accuracy", reduce="sample", seed=s)[0]) for s in range(40)}
    assert len(draws) == 3  # every repeat can come out
    with pytest.raises(ValueError, match="metric"):
        nb.metric_array("accuracy")
    with pytest.raises(ValueError, match="epochs"):
        nb.metric_array(epochs=36)
    with pytest.raises(ValueError, match="reduce"):
        nb.metric_array(reduce="median")
    assert "validation_accuracy" in METRICS


def test_query_official_keys_and_behaviour(nb):
    spec = ModelSpec(*INCEPTION)
    data = nb.query(spec)
    assert set(data) == {"module_adjacency", "module_operations", "trainable_parameters", "training_time",
                         "train_accuracy", "validation_accuracy", "test_accuracy"}
    assert data["module_adjacency"].tolist() == INCEPTION[0]
    assert data["module_operations"] == INCEPTION[1]
    assert data["trainable_parameters"] == 1234567
    assert data["training_time"] == pytest.approx(2160 + 1)
    assert data["validation_accuracy"] == pytest.approx(0.8708)
    half = nb.query(spec, epochs=12, stop_halfway=True)
    assert half["validation_accuracy"] == pytest.approx(0.46) and half["training_time"] == pytest.approx(121)
    one = nb.query(spec, reduce="sample", seed=3)
    again = nb.query(spec, reduce="sample", seed=3)
    assert [one[k] for k in ("training_time", "validation_accuracy")] == \
        [again[k] for k in ("training_time", "validation_accuracy")]
    assert any(one["validation_accuracy"] == pytest.approx(0.85 + r / 100 + 0.0108) for r in range(3))
    # a hash works too, and an isomorphic spec in another vertex order finds the same model
    assert nb.query(spec.module_hash)["validation_accuracy"] == data["validation_accuracy"]
    p = [0, 2, 1, 5, 3, 4, 6]  # keeps the matrix upper-triangular
    m = np.array(INCEPTION[0])[np.ix_(p, p)]
    iso = ModelSpec(m, [INCEPTION[1][i] for i in p])
    assert nb.query(iso)["validation_accuracy"] == data["validation_accuracy"]


def test_unknown_values_are_nan_or_none_never_zero(nb):
    data = nb.query(ModelSpec(*SKIP))
    assert data["trainable_parameters"] is None
    assert math.isnan(data["training_time"]) and math.isnan(data["test_accuracy"])
    assert math.isnan(data["train_accuracy"]) and data["validation_accuracy"] == pytest.approx(0.11)
    chain = nb.fixed_statistics(nb.hashes[1])
    assert chain["trainable_parameters"] == 4242  # absent in the first record, present in the second


def test_query_errors(nb):
    invalid = ModelSpec([[0, 1, 0], [0, 0, 0], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"])
    with pytest.raises(ValueError, match="disconnected"):
        nb.query(invalid)
    with pytest.raises(ValueError, match="unsupported operation"):
        nb.query(ModelSpec([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv5x5", "output"]))
    missing = ModelSpec([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "maxpool3x3", "output"])
    with pytest.raises(KeyError, match=missing.module_hash):
        nb.query(missing)
    assert missing not in nb and ModelSpec(*CHAIN) in nb and invalid not in nb
    with pytest.raises(ValueError, match="epochs"):
        nb.query(ModelSpec(*CHAIN), epochs=4)
    with pytest.raises(KeyError, match="0" * 32):
        nb.fixed_statistics("0" * 32)
    with pytest.raises(TypeError):
        nb.query(42)


def test_fixed_and_computed_statistics(nb, fx):
    h = fx.expected["inception"]
    fixed = nb.fixed_statistics(h)
    assert set(fixed) == {"module_adjacency", "module_operations", "trainable_parameters", "module_hash"}
    assert fixed["module_hash"] == h and fixed["module_adjacency"].dtype == np.int8
    comp = nb.computed_statistics(h)
    assert sorted(comp) == [12, 108] and len(comp[108]) == 3
    run = comp[108][2]
    assert run["final_validation_accuracy"] == pytest.approx(0.85 + 0.02 + 0.0108)
    assert run["halfway_training_time"] == pytest.approx(1082)
    assert run["total_time"] == pytest.approx(3242)
    assert {"halfway_training_time", "halfway_train_accuracy", "halfway_validation_accuracy",
            "halfway_test_accuracy", "final_training_time", "final_train_accuracy",
            "final_validation_accuracy", "final_test_accuracy"} <= set(run)
    chain = nb.computed_statistics(fx.expected["chain"])
    assert list(chain) == [108] and math.isnan(chain[108][1]["final_test_accuracy"])
    f2, c2 = nb.get_metrics_from_spec(ModelSpec(*INCEPTION))
    assert f2["module_hash"] == h and c2[12][0]["final_validation_accuracy"] == comp[12][0]["final_validation_accuracy"]
    assert nb.spec(h).module_hash == h


def test_sample_and_best(nb):
    s = nb.sample(3, seed=0)
    assert sorted(s.tolist()) == sorted(nb.hashes.tolist())
    assert np.array_equal(nb.sample(2, seed=5), nb.sample(2, seed=5))
    assert len(nb.sample(10, seed=0, replace=True)) == 10
    with pytest.raises(ValueError, match="distinct"):
        nb.sample(4, seed=0)
    h, v = nb.best()
    assert h == nb.hashes[0] and v == pytest.approx(0.8708)
    h, v = nb.best("training_time", minimize=True)
    assert h == nb.hashes[1] and v == pytest.approx(100.5)


def test_json_with_other_whitespace_parses_the_same(fx, tmp_path):
    import json

    from ._fixtures import frame

    pays = [json.dumps(json.loads(p), separators=(",", ":")).replace("/", "\\/").encode() for p in fx.payloads]
    other = tmp_path / "other.tfrecord"
    other.write_bytes(b"".join(frame(p) for p in pays))
    a = NASBench101(fx.path, cache=False)
    b = NASBench101(other, cache=False)
    assert np.array_equal(a.hashes, b.hashes) and np.array_equal(a.matrices, b.matrices)
    for m in ("validation_accuracy", "test_accuracy", "training_time"):
        assert np.array_equal(a.metric_array(m), b.metric_array(m), equal_nan=True)


def test_progress_bar_and_chunked_parse_agree(fx, tmp_path, capsys):
    from nasbench._reader import parse_file

    a = NASBench101(fx.path, cache=False, progress=True)
    assert "parsing tiny.tfrecord" in capsys.readouterr().err
    t = parse_file(fx.path, chunk_bytes=100)  # one record per chunk, records split across reads
    assert t.hashes.tolist() == a.hashes.tolist()
    assert np.array_equal(t.metrics["final_validation_accuracy"],
                          a._t.metrics["final_validation_accuracy"], equal_nan=True)
