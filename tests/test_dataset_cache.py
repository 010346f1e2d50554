"""The PyG processed files of CellDataset, NB101Dataset and NBGraphDataset: keyed on the settings,
the raw source's identity and the code version; verified by a sidecar; loaded without unpickling code."""
import ast
import importlib.util
import json
import os
import pickle
import shutil

import numpy as np
import pytest
import torch

import gemgraph.datasets._keyed as keyed
from gemgraph import SearchSpace
from gemgraph.datasets import CellDataset, NB101Dataset, NBGraphDataset
from gemgraph.datasets._keyed import raw_identity
from tests.conftest import need_data
from tests.nasbench._fixtures import build, frame


def _count_process(monkeypatch, cls):
    """Wrap ``cls.process`` so every call is recorded; returns the list of calls."""
    calls = []
    real = cls.process

    def counted(self):
        calls.append(type(self).__name__)
        real(self)

    monkeypatch.setattr(cls, "process", counted)
    return calls


def _pt_files(root):
    return sorted(p.name for p in (root / "processed").glob("*.pt") if not p.name.startswith("pre_"))


# ---------------------------------------------------------------------- CellDataset
def test_cell_dataset_is_reused_when_unchanged_and_rebuilt_for_other_code_or_settings(tmp_path, monkeypatch):
    calls = _count_process(monkeypatch, CellDataset)
    space = SearchSpace(num_nodes=6)
    a = CellDataset(tmp_path, space=space, num_cells=8, seed=3)
    first = _pt_files(tmp_path)
    mtime = (tmp_path / "processed" / first[0]).stat().st_mtime_ns
    b = CellDataset(tmp_path, space=space, num_cells=8, seed=3)
    assert calls == ["CellDataset"] and _pt_files(tmp_path) == first  # reused, not processed
    assert (tmp_path / "processed" / first[0]).stat().st_mtime_ns == mtime
    assert [b.cell(i) for i in range(8)] == [a.cell(i) for i in range(8)]
    meta = json.loads((tmp_path / "processed" / (first[0] + ".meta.json")).read_text())
    assert meta["key"]["code"]["source"] == keyed.source_digest(CellDataset.CODE_MODULES)
    import gemgraph

    assert meta["key"]["code"]["gemgraph"] == gemgraph.__version__

    CellDataset(tmp_path, space=space, num_cells=8, seed=4)  # another seed: another file
    assert len(calls) == 2 and len(_pt_files(tmp_path)) == 2

    # the code that builds the Data changed (a new digest of CODE_MODULES): processed again, a new
    # file; the old one is left in place and still used by code of the old digest
    real = keyed.source_digest
    monkeypatch.setattr(keyed, "source_digest", lambda mods: "0" * 32 if "gemgraph.cell" in mods else real(mods))
    c = CellDataset(tmp_path, space=space, num_cells=8, seed=3)
    assert len(calls) == 3 and len(_pt_files(tmp_path)) == 3 and set(first) < set(_pt_files(tmp_path))
    assert c.processed_file_names != a.processed_file_names
    CellDataset(tmp_path, space=space, num_cells=8, seed=3)
    assert len(calls) == 3
    monkeypatch.setattr(keyed, "source_digest", real)
    CellDataset(tmp_path, space=space, num_cells=8, seed=3)
    assert len(calls) == 3  # back to the old code: its file is reused

    import gemgraph as gg  # another gemgraph version: processed again

    monkeypatch.setattr(gg, "__version__", gg.__version__ + ".post-test")
    CellDataset(tmp_path, space=space, num_cells=8, seed=3)
    assert len(calls) == 4


#: Imports of the datasets' code modules that do not enter the processed ``Data``, and why.
NOT_BUILDING = {
    "gemgraph": "the package itself: its version is a key part of its own",
    "nasbench": "the package: re-exports of nasbench.bench (listed)",
    "gemgraph.errors": "exception classes: messages, no data",
    "nasbench.errors": "exception classes: messages, no data",
    "gemgraph.evaluate": "NB101Pool / NBGraphEvaluator results (look-ups), not the datasets' Data",
    "nasbench.space": "gemgraph.nb101's cell sampler, not the reader or the op labels",
}


def _imports(name: str) -> set[str]:
    """The gemgraph / nasbench modules ``name``'s source imports (at the top or inside functions)."""
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.loader is not None
    tree = ast.parse(spec.loader.get_source(name))
    pkg = name if spec.submodule_search_locations else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                parts = pkg.split(".")
                mod = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            cands = [mod] + [f"{mod}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            cands = [a.name for a in node.names]
        else:
            continue
        for c in cands:
            if c.split(".")[0] not in ("gemgraph", "nasbench"):
                continue
            try:
                if importlib.util.find_spec(c) is not None:
                    out.add(c)
            except ModuleNotFoundError:  # ``from .mod import name``: a name, not a module
                pass
    return out


@pytest.mark.parametrize("cls", [CellDataset, NB101Dataset, NBGraphDataset])
def test_code_modules_are_closed_under_their_imports(cls):
    mods = cls.CODE_MODULES
    assert len(set(mods)) == len(mods)
    exempt = set(NOT_BUILDING)
    if cls is not NB101Dataset:  # nasbench._cache's content_hash is used, not its columnar table cache
        exempt.add("nasbench._table")
    missing = {m: sorted(_imports(m) - set(mods) - exempt) for m in mods}
    assert not {m: v for m, v in missing.items() if v}, f"add them to {cls.__name__}.CODE_MODULES (or NOT_BUILDING)"


def test_code_modules_cover_what_builds_the_data():
    for cls, own in ((CellDataset, "gemgraph.datasets.cells"), (NB101Dataset, "gemgraph.datasets.nb101"),
                     (NBGraphDataset, "gemgraph.datasets.nbgraph")):
        mods = cls.CODE_MODULES
        assert {own, "gemgraph.datasets._keyed", "gemgraph.features", "gemgraph.vocab"} <= set(mods)
        keyed.source_digest(mods)  # all importable
    assert {"gemgraph.cell", "gemgraph.space"} <= set(CellDataset.CODE_MODULES)
    assert {"gemgraph.nb101", "nasbench.bench", "nasbench._reader", "nasbench._table"} <= set(NB101Dataset.CODE_MODULES)
    assert "gemgraph.nbgraph" in NBGraphDataset.CODE_MODULES


def test_a_damaged_processed_file_or_sidecar_is_processed_again(tmp_path, monkeypatch):
    calls = _count_process(monkeypatch, CellDataset)
    cells = SearchSpace(num_nodes=5).sample(6, seed=0)
    CellDataset(tmp_path, cells=cells)
    path = tmp_path / "processed" / _pt_files(tmp_path)[0]
    blob = bytearray(path.read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    path.write_bytes(bytes(blob))
    with pytest.warns(UserWarning, match="checksum"):
        again = CellDataset(tmp_path, cells=cells)
    assert len(calls) == 2 and [again.cell(i) for i in range(6)] == cells
    (tmp_path / "processed" / (path.name + ".meta.json")).unlink()  # e.g. an interrupted write
    with pytest.warns(UserWarning, match="sidecar"):
        CellDataset(tmp_path, cells=cells)
    assert len(calls) == 3
    CellDataset(tmp_path, cells=cells)
    assert len(calls) == 3


class _Hostile:
    """Unpickling this object creates the file ``marker`` (stands for any code a file could run)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_hostile_processed_file_cannot_run_code(tmp_path):
    cells = SearchSpace(num_nodes=5).sample(4, seed=0)
    ds = CellDataset(tmp_path, cells=cells)
    path = tmp_path / "processed" / ds.processed_file_names[0]
    marker = tmp_path / "ran"
    # the attacker writes a processed file that runs code, and its sidecar checksum too
    torch.save(({"x": _Hostile(marker)}, None, dict), path)
    side = tmp_path / "processed" / (path.name + ".meta.json")
    meta = json.loads(side.read_text())
    meta.update(size=path.stat().st_size, blake2b=keyed._file_digest(path))
    side.write_text(json.dumps(meta))
    # ... and hostile PyG markers, which PyG's own Dataset._process reads with weights_only=False
    for name in ("pre_transform.pt", "pre_filter.pt"):
        torch.save(_Hostile(marker), tmp_path / "processed" / name)
    with pytest.raises(RuntimeError, match="weights_only=True"):
        CellDataset(tmp_path, cells=cells)
    assert not marker.exists()
    # without the forged sidecar the file no longer verifies: it is rebuilt, nothing runs
    side.unlink()
    with pytest.warns(UserWarning, match="sidecar"):
        again = CellDataset(tmp_path, cells=cells)
    assert [again.cell(i) for i in range(4)] == cells and not marker.exists()


# ---------------------------------------------------------------------- raw identity
def test_raw_identity_hashes_once_and_again_when_the_file_changes(tmp_path, monkeypatch):
    f = tmp_path / "t.bin"
    f.write_bytes(b"abc" * 1000)
    hashed = []
    real = keyed.content_hash
    monkeypatch.setattr(keyed, "content_hash", lambda p: hashed.append(p) or real(p))
    a = raw_identity(f, tmp_path / "memo")
    assert raw_identity(f, tmp_path / "memo") == a and len(hashed) == 1  # remembered: one stat
    st = f.stat()
    f.write_bytes(b"abd" * 1000)  # same size, other content, mtime put back
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    b = raw_identity(f, tmp_path / "memo")
    assert b["size"] == a["size"] and b["blake2b"] != a["blake2b"] and len(hashed) == 2
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # touched: hashed again, same identity
    assert raw_identity(f, tmp_path / "memo") == b and len(hashed) == 3
    with pytest.raises(FileNotFoundError, match="path"):
        raw_identity(tmp_path / "missing")


# ---------------------------------------------------------------------- NB101Dataset
def test_nb101_dataset_rebuilt_when_the_raw_file_is_replaced_under_the_same_name(tmp_path, monkeypatch):
    (tmp_path / "src").mkdir()
    fx = build(tmp_path / "src" / "tiny.tfrecord")
    root = tmp_path / "nb101"
    raw = root / "raw" / "tiny.tfrecord"
    raw.parent.mkdir(parents=True)
    shutil.copyfile(fx.path, raw)
    calls = _count_process(monkeypatch, NB101Dataset)
    ds = NB101Dataset(root, file_name="tiny.tfrecord")
    hashes = [ds[i].module_hash for i in range(3)]
    NB101Dataset(root, file_name="tiny.tfrecord")
    assert calls == ["NB101Dataset"]
    st = raw.stat()
    os.utime(raw, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # touched, same bytes: reused
    NB101Dataset(root, file_name="tiny.tfrecord")
    assert len(calls) == 1 and len(_pt_files(root)) == 1

    # same name, same size, other content (the records in another order), mtime put back
    st = raw.stat()
    order = [len(fx.payloads) - 1] + list(range(len(fx.payloads) - 1))
    raw.write_bytes(b"".join(frame(fx.payloads[i]) for i in order))
    os.utime(raw, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert raw.stat().st_size == st.st_size
    new = NB101Dataset(root, file_name="tiny.tfrecord")
    assert len(calls) == 2 and len(_pt_files(root)) == 2  # rebuilt; the old file left in place
    assert new[0].module_hash == fx.expected["skip"] != hashes[0]
    NB101Dataset(root, file_name="tiny.tfrecord")
    assert len(calls) == 2


@pytest.mark.realdata
def test_nb101_dev_file_a_copy_with_a_new_mtime_is_not_reprocessed(tmp_path, monkeypatch):
    src = need_data("nasbench101/nb101_dev_20k.tfrecord")
    raw = tmp_path / "raw" / "nb101_dev_20k.tfrecord"
    raw.parent.mkdir()
    shutil.copyfile(src, raw)  # a copy: a new inode and mtime
    calls = _count_process(monkeypatch, NB101Dataset)
    ds = NB101Dataset(tmp_path, file_name="nb101_dev_20k.tfrecord")
    shutil.copyfile(src, raw)  # written again, same bytes: the content hash is recomputed, same key
    again = NB101Dataset(tmp_path, file_name="nb101_dev_20k.tfrecord")
    assert calls == ["NB101Dataset"] and len(again) == len(ds) == 20_001


# ---------------------------------------------------------------------- NBGraphDataset
def test_nbgraph_dataset_rebuilt_when_the_table_changes(tmp_path, monkeypatch):
    pytest.importorskip("nas_bench_graph")
    from gemgraph.nbgraph import read_table, table_path

    table = tmp_path / "t" / "proteins.bench"
    table.parent.mkdir()
    shutil.copyfile(table_path("proteins"), table)
    cache = tmp_path / "cache"
    calls = _count_process(monkeypatch, NBGraphDataset)
    ds = NBGraphDataset(tmp_path / "nbg", "proteins", cache_dir=cache, path=table)
    NBGraphDataset(tmp_path / "nbg", "proteins", cache_dir=cache, path=table)
    assert calls == ["NBGraphDataset"]
    rows = read_table(table)
    first = int(ds[0].arch_hash)
    rows[first] = {**rows[first], "valid_perf": 0.123}
    table.write_bytes(pickle.dumps(rows, protocol=4))  # same name, other content
    new = NBGraphDataset(tmp_path / "nbg", "proteins", cache_dir=cache, path=table)
    assert len(calls) == 2 and len(_pt_files(tmp_path / "nbg")) == 2
    assert float(new[0].y) == pytest.approx(0.123) and float(ds[0].y) != pytest.approx(0.123)
    assert np.allclose(new._data.test.numpy(), ds._data.test.numpy())
    with pytest.raises(FileNotFoundError, match="path"):
        NBGraphDataset(tmp_path / "nbg", "proteins", path=tmp_path / "missing.bench")
