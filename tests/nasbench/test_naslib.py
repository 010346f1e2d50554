"""NASLib bridge: the {hash: (fixed, computed)} pickle NASLib's NB101 loader reads, round-tripped."""
import pickle

import numpy as np
import pytest

import nasbench
from nasbench import NASBench101, api, export_naslib, read_naslib
from nasbench.spec import LABEL_OPS
from tests.conftest import need_data

from ._fixtures import build

RUN_KEYS = {f"{p}_{k}" for p in ("halfway", "final")
            for k in ("training_time", "train_accuracy", "validation_accuracy", "test_accuracy")}


def naslib_style_load(path):
    """What NASLib's nb101_api.NASBench does with a pickle (its documented data layout)."""
    with open(path, "rb") as f:
        data = pickle.load(f)
    fixed, computed, valid = {}, {}, set()
    for h, stats in data.items():
        fixed[h], computed[h] = stats[0], stats[1]
        valid.update(stats[1].keys())
    return fixed, computed, valid


FIELDS8 = sorted(RUN_KEYS)


def check_round_trip(bench: NASBench101, data: dict, epochs):
    """Every model, budget, repeat and field equal to the table (NaN where unknown), vectorised."""
    t = bench._t
    assert list(data) == bench.hashes.tolist()
    for i, (fixed, _) in enumerate(data.values()):
        v = int(t.num_vertices[i])
        assert isinstance(fixed["module_adjacency"], np.ndarray) and fixed["module_adjacency"].dtype == np.int8
        assert np.array_equal(fixed["module_adjacency"], t.matrices[i, :v, :v])
        assert fixed["module_operations"] == [LABEL_OPS[int(x)] for x in t.op_labels[i, :v]]
        p = int(t.params[i])
        assert fixed["trainable_parameters"] == (p if p >= 0 else None)
    cols = [bench.epochs.index(e) for e in sorted(epochs)]
    present = np.zeros((len(bench), len(bench.epochs), t.max_repeats), dtype=bool)
    for c in cols:
        present[:, c, :] = np.arange(t.max_repeats)[None, :] < t.num_repeats[:, c, None]
    want = np.stack([t.metrics[f][present] if f in t.metrics else np.full(int(present.sum()), np.nan)
                     for f in FIELDS8], axis=1)
    got = np.array([[run[f] for f in FIELDS8] for _, comp in data.values()
                    for e in sorted(comp) for run in comp[e]], dtype=np.float64)
    for _, comp in data.values():
        assert list(comp) == sorted(comp) and all(set(r) == RUN_KEYS for runs in comp.values() for r in runs)
    assert got.shape == want.shape and np.array_equal(got, want, equal_nan=True)


def test_fixture_round_trip_all_budgets(tmp_path):
    bench = NASBench101(build(tmp_path / "f.tfrecord").path, cache=False)
    out = export_naslib(tmp_path / "out.pkl", bench, epochs=None)
    check_round_trip(bench, read_naslib(out), bench.epochs)
    fixed, computed, valid = naslib_style_load(out)
    assert valid == {12, 108} and len(fixed) == 3
    # an official-API object over the same data agrees with what NASLib would load
    nb = api.NASBench(bench)
    for h in nb.hash_iterator():
        assert computed[h].keys() == nb.computed_statistics[h].keys()


def test_bundled_sample_into_a_naslib_data_folder(tmp_path):
    out = export_naslib(tmp_path)  # a folder: NASLib's file name, the bundled sample, 108 epochs
    assert out == tmp_path / "nasbench_only108.pkl" == tmp_path / nasbench.naslib.NASLIB_FILE
    bench = NASBench101.sample_dataset()
    data = read_naslib(out)
    check_round_trip(bench, data, (108,))
    fixed, computed, valid = naslib_style_load(out)
    assert valid == {108} and len(computed) == 20_001
    # the arrays are rebuilt by numpy.array only: no numpy-internal reconstructor in the file
    found: set[tuple[str, str]] = set()

    class Recorder(pickle.Unpickler):  # records every global the file asks for
        def find_class(self, module, name):
            found.add((module, name))
            return super().find_class(module, name)

    with open(out, "rb") as f:
        Recorder(f).load()
    assert found == {("numpy", "array")}
    assert b"_reconstruct" not in out.read_bytes()


def test_errors_and_restricted_loader(tmp_path):
    with pytest.raises(ValueError, match="epochs"):
        export_naslib(tmp_path / "x.pkl", epochs=(7,))
    with pytest.raises(ValueError, match="source"):
        export_naslib(tmp_path / "x.pkl", source=3)
    with pytest.raises(FileNotFoundError):
        read_naslib(tmp_path / "missing.pkl")
    evil = tmp_path / "evil.pkl"
    evil.write_bytes(pickle.dumps({"h": (print, {})}))
    with pytest.raises(pickle.UnpicklingError, match="builtins.print"):
        read_naslib(evil)
    # a pickle made the usual way (numpy's reconstructor) is read too
    plain = tmp_path / "plain.pkl"
    plain.write_bytes(pickle.dumps({"h": ({"module_adjacency": np.eye(2, dtype=np.int8)}, {108: []})}))
    assert read_naslib(plain)["h"][0]["module_adjacency"].dtype == np.int8


@pytest.mark.realdata
def test_dev_file_round_trip(tmp_path):
    path = need_data("nasbench101/nb101_dev_20k.tfrecord")
    bench = NASBench101(path, cache=tmp_path)
    out = export_naslib(tmp_path / "all.pkl", source=str(path), epochs=None)
    check_round_trip(bench, read_naslib(out), bench.epochs)
    assert naslib_style_load(out)[2] == {4, 12, 36, 108}
