"""The bundled sample works without any data file."""
import doctest
import time

import numpy as np
import pytest

import nasbench
from nasbench import NASBench101, hash_modules


@pytest.fixture(scope="module")
def sample():
    return NASBench101.sample_dataset()


def test_loads_fast_and_is_complete(sample):
    t = time.perf_counter()
    NASBench101.sample_dataset()
    assert time.perf_counter() - t < 1.0
    assert len(sample) == 20_001 and sample.epochs == (4, 12, 36, 108)
    assert sample.load_info["source"] == "bundled" and sample.path is None
    assert "models=20001" in repr(sample)


def test_models_hash_to_their_keys(sample):
    assert np.array_equal(hash_modules(sample.matrices, sample.op_labels, sample.num_vertices), sample.hashes)


def test_contents(sample):
    acc = sample.metric_array("validation_accuracy", epochs=108)
    assert np.isfinite(acc).all() and acc.min() > 0.09 and round(100 * acc.max(), 2) == 94.91
    assert np.isnan(sample.metric_array("test_accuracy")).all()
    assert (sample.metric_array("trainable_parameters") > 0).all()
    assert (sample.op_labels[np.arange(20_001), sample.num_vertices - 1] == -2).all()
    assert ((sample.op_labels == -3) == (np.arange(7)[None, :] >= sample.num_vertices[:, None])).all()
    # zero padding after the output vertex
    pad = np.arange(7)[None, :] >= sample.num_vertices[:, None]
    assert not (sample.matrices * (pad[:, :, None] | pad[:, None, :])).any()
    assert (np.triu(np.ones((7, 7), bool), 1) | (sample.matrices == 0)).all()


def test_attribution_is_shipped(sample):
    from importlib import resources

    assert "Ying" in sample._t.meta["attribution"]
    readme = (resources.files("nasbench") / "data" / "README.md").read_text()
    assert "NAS-Bench-101" in readme and "tiga1231/nasbench-vis" in readme


def test_package_quickstart_doctest():
    result = doctest.testmod(nasbench, verbose=False)
    assert result.attempted > 0 and result.failed == 0
