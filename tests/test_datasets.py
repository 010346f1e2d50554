import pickle

import numpy as np
import pytest
import torch

from gemgraph import SearchSpace
from gemgraph.datasets import (
    CIFAR10_MEAN,
    CIFAR10_STD,
    CellDataset,
    CifarTensorDataset,
    augment_batch,
    balanced_indices,
    cifar10_proxy,
    cifar10_reference,
    find_cifar10,
)
from tests.conftest import need_data


# ------------------------------------------------------------------ augmentation
def test_augment_identity_without_padding_or_flip():
    x = torch.randint(0, 256, (5, 3, 8, 8), dtype=torch.uint8)
    assert torch.equal(augment_batch(x, torch.Generator().manual_seed(0), padding=0, flip=False), x)


def test_augment_outputs_are_crops_of_the_padded_input():
    g = torch.Generator().manual_seed(1)
    x = torch.randint(1, 256, (16, 2, 6, 6), dtype=torch.uint8)
    out = augment_batch(x, g, padding=2)
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2))
    flips_seen = set()
    for b in range(len(x)):
        matches = [
            (dy, dx, f)
            for dy in range(5) for dx in range(5) for f in (False, True)
            if torch.equal(out[b], (lambda c: c.flip(-1) if f else c)(padded[b, :, dy:dy + 6, dx:dx + 6]))
        ]
        assert matches, f"image {b} is not a (flipped) crop"
        flips_seen.update(m[2] for m in matches)
    assert flips_seen == {False, True}


def test_augment_reproducible_with_generator():
    x = torch.randint(0, 256, (8, 3, 8, 8), dtype=torch.uint8)
    a = augment_batch(x, torch.Generator().manual_seed(5))
    b = augment_batch(x, torch.Generator().manual_seed(5))
    c = augment_batch(x, torch.Generator().manual_seed(6))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_balanced_indices():
    y = np.repeat(np.arange(4), [10, 20, 30, 40])
    idx = balanced_indices(y, 12, seed=0)
    assert np.bincount(y[idx], minlength=4).tolist() == [3, 3, 3, 3]
    assert len(np.unique(idx)) == 12
    assert np.array_equal(idx, balanced_indices(y, 12, seed=0))
    with pytest.raises(ValueError, match="n:"):
        balanced_indices(y, 0)


# ------------------------------------------------------------------ dataset object
def test_tensor_dataset_normalisation_matches_torchvision():
    tv = pytest.importorskip("torchvision.transforms")
    x = torch.randint(0, 256, (4, 3, 32, 32), dtype=torch.uint8)
    ds = CifarTensorDataset(x, torch.tensor([0, 1, 2, 3]), train=False)
    img, label = ds[2]
    ref = tv.Normalize(CIFAR10_MEAN, CIFAR10_STD)(x[2].float() / 255)
    assert img.dtype == torch.float32 and img.shape == (3, 32, 32) and label == 2
    assert torch.allclose(img, ref, atol=1e-5)
    xb, yb = ds.batch(torch.tensor([2, 0]))
    assert torch.allclose(xb[0], ref, atol=1e-5) and yb.tolist() == [2, 0]


def test_tensor_dataset_errors():
    with pytest.raises(ValueError, match="data"):
        CifarTensorDataset(torch.zeros(2, 3, 4, 4), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="targets"):
        CifarTensorDataset(torch.zeros(2, 3, 4, 4, dtype=torch.uint8), torch.tensor([0]))


# ------------------------------------------------------------------ files
def _fake_torchvision(root, per_class=50, n_test=200, seed=0):
    """A tiny cifar-10-batches-py folder: 5 train batches + test_batch, official pickle format."""
    rng = np.random.default_rng(seed)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    labels = rng.permutation(np.repeat(np.arange(10), per_class))
    data = rng.integers(0, 256, (len(labels), 3072), dtype=np.uint8)
    data[:, 0] = np.arange(len(labels)) % 256  # an id in the first pixel
    for k, part in enumerate(np.array_split(np.arange(len(labels)), 5), start=1):
        with open(folder / f"data_batch_{k}", "wb") as f:
            pickle.dump({"data": data[part], "labels": labels[part].tolist()}, f)
    test_labels = rng.integers(0, 10, n_test)
    with open(folder / "test_batch", "wb") as f:
        pickle.dump({"data": rng.integers(0, 256, (n_test, 3072), dtype=np.uint8), "labels": test_labels.tolist()}, f)
    return data, labels, test_labels


def test_torchvision_files_draw(tmp_path):
    data, labels, test_labels = _fake_torchvision(tmp_path)
    train, val, test = cifar10_proxy(tmp_path, split=("train", "val", "test"))
    assert (len(train), len(val), len(test)) == (50, 10, 20)
    assert np.bincount(train.targets.numpy()).tolist() == [5] * 10
    assert np.bincount(val.targets.numpy()).tolist() == [1] * 10
    assert train.train and not val.train
    # exactly the documented draw (the one that produced cifar10_proxy.npz)
    rng = np.random.default_rng(0)
    tr_idx = np.sort(np.concatenate([rng.choice(np.flatnonzero(labels == c), 5, replace=False) for c in range(10)]))
    in_tr = np.isin(np.arange(len(labels)), tr_idx)
    rng = np.random.default_rng(1)
    va_idx = np.sort(np.concatenate([rng.choice(np.flatnonzero((labels == c) & ~in_tr), 1, replace=False)
                                     for c in range(10)]))
    expect = torch.from_numpy(data[tr_idx].reshape(-1, 3, 32, 32))
    assert torch.equal(train.data, expect)
    assert torch.equal(val.data, torch.from_numpy(data[va_idx].reshape(-1, 3, 32, 32)))
    assert test.targets.tolist() == test_labels[:20].tolist()
    # another seed, another draw; a larger fraction, more images
    other = cifar10_proxy(tmp_path, seed=1)
    assert not torch.equal(other.data, train.data)
    assert len(cifar10_proxy(tmp_path, fraction=0.2)) == 100


def test_root_from_environment(tmp_path, monkeypatch):
    _fake_torchvision(tmp_path)
    monkeypatch.setenv("GEMGRAPH_DATA", str(tmp_path))
    assert find_cifar10()[0] == "torchvision"
    assert len(cifar10_proxy(split="val")) == 10


def test_npz_layout(tmp_path):
    rng = np.random.default_rng(0)
    folder = tmp_path / "cifar10-proxy"
    folder.mkdir()
    arrays = {}
    for s, n in (("train", 20), ("val", 10), ("test", 10)):
        arrays[f"x_{s}"] = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
        arrays[f"y_{s}"] = np.arange(n) % 10
    np.savez(folder / "cifar10_proxy.npz", **arrays)
    train = cifar10_proxy(tmp_path)
    assert len(train) == 20 and train.data.shape == (20, 3, 32, 32)
    # HWC -> CHW
    assert torch.equal(train.data[3], torch.from_numpy(arrays["x_train"][3]).permute(2, 0, 1))
    with pytest.raises(ValueError, match="fraction/seed"):
        cifar10_proxy(tmp_path, fraction=0.05)
    with pytest.raises(ValueError, match="fraction/seed"):
        cifar10_proxy(tmp_path, seed=1)


def test_missing_data_message(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError) as err:
        cifar10_proxy(tmp_path / "nowhere")
    msg = str(err.value)
    assert "cifar-10-batches-py" in msg and "cifar10_proxy.npz" in msg and "download=True" in msg
    monkeypatch.delenv("GEMGRAPH_DATA", raising=False)
    with pytest.raises(FileNotFoundError, match="GEMGRAPH_DATA"):
        cifar10_proxy()


@pytest.mark.parametrize("kwargs, arg", [({"fraction": 0}, "fraction"), ({"split": "validation"}, "split"),
                                         ({"seed": -1}, "seed")])
def test_bad_arguments(tmp_path, kwargs, arg):
    with pytest.raises(ValueError, match=arg):
        cifar10_proxy(tmp_path, **kwargs)


@pytest.mark.realdata
def test_real_proxy_set():
    path = need_data("cifar10-proxy/cifar10_proxy.npz")
    root = path.parent.parent
    train, val, test = cifar10_proxy(root, split=("train", "val", "test"))
    assert (len(train), len(val), len(test)) == (5000, 1000, 1000)
    assert np.bincount(train.targets.numpy()).tolist() == [500] * 10
    assert np.bincount(val.targets.numpy()).tolist() == [100] * 10
    assert train.classes[0] == "airplane" and train.classes[9] == "truck"
    mean = train.data.float().mean((0, 2, 3)) / 255
    assert torch.allclose(mean, torch.tensor(CIFAR10_MEAN), atol=0.01)
    img, label = train[0]
    assert img.shape == (3, 32, 32) and isinstance(label, int)
    assert abs(float(val[0][0].mean())) < 2.0



def test_real_reference_set_is_disjoint_from_the_proxy():
    path = need_data("cifar10-ref/cifar10_ref.npz")
    root = path.parent.parent
    train, ev = cifar10_reference(root)
    assert (len(train), len(ev)) == (20_000, 5_000)
    assert np.bincount(train.targets.numpy()).tolist() == [2000] * 10
    assert np.bincount(ev.targets.numpy()).tolist() == [500] * 10
    with np.load(path, allow_pickle=False) as z, np.load(need_data("cifar10-proxy/cifar10_proxy.npz")) as p:
        ref_idx = set(z["train_index"].tolist()) | set(z["eval_index"].tolist())
        assert len(ref_idx) == 25_000
        if "train_index" in p.files:
            assert not ref_idx & (set(p["train_index"].tolist()) | set(p["val_index"].tolist()))
    small = cifar10_reference(path, split="eval", resolution=16)
    assert small.data.shape == (5000, 3, 16, 16) and small.split == "reference-eval"


def test_reference_set_errors(tmp_path, monkeypatch):
    monkeypatch.delenv("GEMGRAPH_DATA", raising=False)
    with pytest.raises(FileNotFoundError, match="reference set not found: no data root"):
        cifar10_reference()
    with pytest.raises(FileNotFoundError, match="cifar10_ref.npz"):
        cifar10_reference(tmp_path)
    with pytest.raises(ValueError, match="split"):
        cifar10_reference(tmp_path, split="test")
    with pytest.raises(ValueError, match="resolution"):
        cifar10_reference(tmp_path, resolution=12)
    bad = tmp_path / "cifar10_ref.npz"
    bad.write_bytes(b"not an npz")
    with pytest.raises(ValueError, match="not a readable npz"):
        cifar10_reference(tmp_path)


# ------------------------------------------------------------------ cells
def test_cell_dataset_in_memory():
    space = SearchSpace(num_nodes=10)
    ds = CellDataset(space=space, num_cells=20, seed=3, y=np.arange(20) / 20)
    assert len(ds) == 20
    cells = space.sample(20, seed=3)
    assert ds.cell(4) == cells[4]
    d = ds[4]
    assert d.adjacency.shape == (1, 10, 10) and float(d.y) == pytest.approx(0.2)
    from torch_geometric.loader import DataLoader

    batch = next(iter(DataLoader(ds, batch_size=8)))
    assert batch.adjacency.shape == (8, 10, 10) and batch.y.shape == (8,)
    assert "CellDataset(20" in repr(ds)


def test_cell_dataset_cached_on_disk(tmp_path):
    cells = SearchSpace(num_nodes=6).sample(5, seed=0)
    a = CellDataset(tmp_path, cells=cells)
    files = list((tmp_path / "processed").glob("cells_*.pt"))
    assert len(files) == 1
    b = CellDataset(tmp_path, cells=cells)
    assert [b.cell(i) for i in range(5)] == cells == [a.cell(i) for i in range(5)]


def test_cell_dataset_errors():
    with pytest.raises(ValueError, match="y"):
        CellDataset(space=SearchSpace(num_nodes=5), num_cells=3, y=[1.0])
    with pytest.raises(ValueError, match="num_cells"):
        CellDataset(space=SearchSpace(num_nodes=5), num_cells=0)
    with pytest.raises(ValueError, match="cells"):
        CellDataset(cells=[np.eye(3)])


def test_negative_and_out_of_range_index():
    x = torch.randint(0, 256, (3, 3, 8, 8), dtype=torch.uint8)
    ds = CifarTensorDataset(x, torch.tensor([0, 1, 2]))
    assert torch.equal(ds[-1][0], ds[2][0]) and ds[-1][1] == 2
    with pytest.raises(IndexError):
        ds[3]
    assert len(list(iter(ds))) == 3  # the old-style iteration protocol stops at IndexError


# ------------------------------------------------------------------ safety: no code from data files
class _Evil:
    """Unpickling this object would create ``marker`` (it must never happen)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        import os

        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_planted_batch_file_does_not_run(tmp_path, protocol):
    _fake_torchvision(tmp_path)
    marker = tmp_path / "pwned"
    with open(tmp_path / "cifar-10-batches-py" / "data_batch_3", "wb") as f:
        pickle.dump({"data": _Evil(marker), "labels": [0]}, f, protocol=protocol)
    with pytest.raises(ValueError, match=r"data_batch_3.*refused to load the global (posix|os|nt)\.system"):
        cifar10_proxy(tmp_path)
    assert not marker.exists()


def test_planted_builtin_eval_is_refused(tmp_path):
    _fake_torchvision(tmp_path)
    marker = tmp_path / "pwned"

    class EvalEvil:
        def __reduce__(self):
            return (eval, (f"open({str(marker)!r}, 'w')",))

    with open(tmp_path / "cifar-10-batches-py" / "test_batch", "wb") as f:
        pickle.dump(EvalEvil(), f)
    with pytest.raises(ValueError, match=r"test_batch.*builtins\.eval"):
        cifar10_proxy(tmp_path, split="test")
    assert not marker.exists()


def test_batch_formats_numpy_writes_are_admitted(tmp_path):
    """Protocols 2 (as the official Python 2 files), 4 and 5 all load with the restricted unpickler."""
    data, labels, _ = _fake_torchvision(tmp_path)
    folder = tmp_path / "cifar-10-batches-py"
    parts = np.array_split(np.arange(len(labels)), 5)
    for k, proto in ((1, 2), (2, 5)):
        with open(folder / f"data_batch_{k}", "wb") as f:
            pickle.dump({"batch_label": "training batch", "data": data[parts[k - 1]],
                         "labels": labels[parts[k - 1]].tolist(), "filenames": [b"a.png"] * len(parts[k - 1])},
                        f, protocol=proto)
    train = cifar10_proxy(tmp_path)
    assert len(train) == 50


def test_official_md5_list_matches_torchvision():
    from torchvision.datasets import CIFAR10

    from gemgraph.datasets.cifar import OFFICIAL_MD5

    listed = CIFAR10.train_list + CIFAR10.test_list + [[CIFAR10.meta["filename"], CIFAR10.meta["md5"]]]
    assert dict(listed) == OFFICIAL_MD5


def test_not_official_md5_is_logged(tmp_path, caplog):
    _fake_torchvision(tmp_path)
    with caplog.at_level("WARNING", logger="gemgraph.cifar.files"):
        cifar10_proxy(tmp_path, split="val")
    assert "not the official CIFAR-10 file" in caplog.text


# ------------------------------------------------------------------ contents checked on load
def _rewrite_batch(tmp_path, name, **entries):
    path = tmp_path / "cifar-10-batches-py" / name
    with open(path, "rb") as f:
        d = pickle.load(f)
    d.update(entries)
    with open(path, "wb") as f:
        pickle.dump(d, f)


@pytest.mark.parametrize("entries, match", [
    ({"labels": [58] * 100}, r"data_batch_2\['labels'\].*labels in \[0, 10\).*58"),
    ({"labels": [-1] * 100}, r"data_batch_2\['labels'\].*labels in \[0, 10\)"),
    ({"labels": [0] * 99}, r"data_batch_2\['labels'\].*expected 100 labels"),
    ({"labels": [0.5] * 100}, r"data_batch_2\['labels'\].*integer labels"),
    ({"data": np.zeros((100, 3 * 16 * 16), np.uint8)}, r"data_batch_2\['data'\].*32x32.*\(100, 768\)"),
    ({"data": np.zeros((100, 3072), np.float32)}, r"data_batch_2\['data'\].*uint8.*float32"),
    ({"data": [1, 2, 3]}, r"data_batch_2\['data'\].*list"),
])
def test_batch_contents_are_checked(tmp_path, entries, match):
    _fake_torchvision(tmp_path)
    _rewrite_batch(tmp_path, "data_batch_2", **entries)
    with pytest.raises(ValueError, match=match):
        cifar10_proxy(tmp_path)


def test_batch_that_is_not_a_dict(tmp_path):
    _fake_torchvision(tmp_path)
    with open(tmp_path / "cifar-10-batches-py" / "data_batch_1", "wb") as f:
        pickle.dump([1, 2, 3], f)
    with pytest.raises(ValueError, match="data_batch_1.*expected a dict"):
        cifar10_proxy(tmp_path)
    (tmp_path / "cifar-10-batches-py" / "data_batch_1").write_bytes(b"\x80\x04garbage")
    with pytest.raises(ValueError, match="data_batch_1.*not a readable CIFAR-10 batch"):
        cifar10_proxy(tmp_path)


def _npz(tmp_path, **change):
    rng = np.random.default_rng(0)
    folder = tmp_path / "cifar10-proxy"
    folder.mkdir(exist_ok=True)
    arrays = {}
    for s, n in (("train", 20), ("val", 10), ("test", 10)):
        arrays[f"x_{s}"] = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
        arrays[f"y_{s}"] = np.arange(n) % 10
    arrays.update(change)
    np.savez(folder / "cifar10_proxy.npz", **arrays)
    return folder / "cifar10_proxy.npz"


@pytest.mark.parametrize("change, match", [
    ({"y_train": np.arange(20) % 58}, r"\['y_train'\].*labels in \[0, 10\)"),
    ({"x_val": np.zeros((10, 16, 16, 3), np.uint8)}, r"\['x_val'\].*32x32.*\(10, 16, 16, 3\)"),
    ({"x_train": np.zeros((20, 3, 32, 32), np.uint8)}, r"\['x_train'\].*\(N, 32, 32, 3\)"),
    ({"x_test": np.zeros((10, 32, 32, 3), np.int16)}, r"\['x_test'\].*uint8.*int16"),
    ({"y_test": np.zeros(9, np.int64)}, r"\['y_test'\].*expected 10 labels"),
    ({"y_val": np.zeros(10, np.float64)}, r"\['y_val'\].*integer labels"),
    ({"classes": np.array([str(i) for i in range(58)])}, r"\['classes'\].*10 CIFAR-10 classes, got 58"),
])
def test_npz_contents_are_checked(tmp_path, change, match):
    _npz(tmp_path, **change)
    with pytest.raises(ValueError, match=match):
        cifar10_proxy(tmp_path)


def test_corrupt_npz_is_a_clear_error(tmp_path):
    path = _npz(tmp_path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ValueError, match="cifar10_proxy.npz"):
        cifar10_proxy(tmp_path)


def test_tensor_dataset_refuses_labels_beyond_the_classes():
    x = torch.zeros(3, 3, 4, 4, dtype=torch.uint8)
    with pytest.raises(ValueError, match=r"targets: expected labels in \[0, 10\)"):
        CifarTensorDataset(x, torch.tensor([0, 1, 57]), classes=[str(i) for i in range(10)])


# ------------------------------------------------------------------ resolution and the embedded subset
def test_downsample_is_the_rounded_block_mean():
    from gemgraph.datasets import downsample

    x = np.random.default_rng(0).integers(0, 256, (3, 3, 32, 32), dtype=np.uint8)
    y = downsample(x, 16)
    assert y.shape == (3, 3, 16, 16) and y.dtype == np.uint8
    ref = np.floor(x.reshape(3, 3, 16, 2, 16, 2).astype(np.float64).mean((3, 5)) + 0.5).astype(np.uint8)
    assert np.array_equal(y, ref)
    assert torch.equal(downsample(torch.from_numpy(x), 8), torch.from_numpy(downsample(x, 8)))
    assert downsample(x, 32) is x
    with pytest.raises(ValueError, match="size"):
        downsample(x, 12)
    with pytest.raises(ValueError, match="images"):
        downsample(x.astype(np.float32), 16)


def test_resolution_pools_the_files(tmp_path):
    from gemgraph.datasets import downsample

    data, labels, _ = _fake_torchvision(tmp_path)
    full = cifar10_proxy(tmp_path)
    half = cifar10_proxy(tmp_path, resolution=16)
    assert half.data.shape == (50, 3, 16, 16) and half.padding == 2 and full.padding == 4
    assert torch.equal(half.data, downsample(full.data, 16)) and torch.equal(half.targets, full.targets)
    with pytest.raises(ValueError, match="resolution"):
        cifar10_proxy(tmp_path, resolution=12)


def test_embedded_subset_without_a_data_root(monkeypatch):
    from gemgraph.datasets.cifar import EMBEDDED_PATH

    monkeypatch.delenv("GEMGRAPH_DATA", raising=False)
    assert EMBEDDED_PATH.stat().st_size < 5_000_000  # package data kept modest
    train, val = cifar10_proxy(split=("train", "val"), resolution=16)
    assert train.data.shape == (5000, 3, 16, 16) and val.data.shape == (1000, 3, 16, 16)
    assert np.bincount(train.targets.numpy()).tolist() == [500] * 10
    assert np.bincount(val.targets.numpy()).tolist() == [100] * 10
    assert train.train and not val.train and train.padding == 2 and train.classes[9] == "truck"
    mean = train.data.float().mean((0, 2, 3)) / 255  # pooling keeps the channel means
    assert torch.allclose(mean, torch.tensor(CIFAR10_MEAN), atol=0.01)
    assert cifar10_proxy(split="val", resolution=8).data.shape == (1000, 3, 8, 8)
    # what the embedded subset does not hold is a clear FileNotFoundError, not a silent substitute
    for kwargs in ({"resolution": 32}, {"split": "test", "resolution": 16}, {"seed": 1, "resolution": 16}):
        with pytest.raises(FileNotFoundError, match="embedded in the package holds only"):
            cifar10_proxy(**kwargs)
    # a data root given explicitly is never replaced by the embedded subset
    with pytest.raises(FileNotFoundError, match="looked for"):
        cifar10_proxy("/nonexistent/data", resolution=16)


def test_package_data_declares_the_embedded_subset():
    import tomllib
    from pathlib import Path

    pyproject = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())
    from gemgraph.cifar import EMBEDDED_PATH

    assert "data/*.npz" in pyproject["tool"]["setuptools"]["package-data"]["gemgraph.cifar"]
    assert EMBEDDED_PATH.parent == Path(__file__).resolve().parents[1] / "gemgraph" / "cifar" / "data"


@pytest.mark.realdata
def test_embedded_subset_is_the_pooled_proxy_set(monkeypatch):
    from gemgraph.datasets import downsample

    root = need_data("cifar10-proxy/cifar10_proxy.npz").parents[1]
    monkeypatch.delenv("GEMGRAPH_DATA", raising=False)
    emb = cifar10_proxy(split=("train", "val"), resolution=16)
    ref = np.load(root / "cifar10-proxy" / "cifar10_proxy.npz")
    for e, s in zip(emb, ("train", "val")):
        x = torch.from_numpy(ref[f"x_{s}"]).permute(0, 3, 1, 2).contiguous()
        assert torch.equal(e.data, downsample(x, 16))  # the same bytes as pooling the 32x32 set
        assert e.targets.tolist() == ref[f"y_{s}"].tolist()


# ------------------------------------------------------------------ --download, against a loopback server
@pytest.fixture
def cifar_server(tmp_path, monkeypatch):
    """A 127.0.0.1 HTTP server serving a small archive in the official cifar-10-python.tar.gz layout;
    torchvision's CIFAR10 URL and md5 sums are patched to it. Yields (request log, served dir)."""
    import hashlib
    import http.server
    import tarfile
    import threading
    from functools import partial

    from torchvision.datasets import CIFAR10

    src = tmp_path / "src"
    _fake_torchvision(src)
    with open(src / "cifar-10-batches-py" / "batches.meta", "wb") as f:
        pickle.dump({"label_names": list(range(10))}, f)
    served = tmp_path / "served"
    served.mkdir()
    with tarfile.open(served / "cifar-10-python.tar.gz", "w:gz") as tar:
        tar.add(src / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    md5 = lambda path: hashlib.md5(path.read_bytes()).hexdigest()  # noqa: E731
    folder = src / "cifar-10-batches-py"
    requests = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            requests.append(self.path)

        def copyfile(self, source, outputfile):
            try:
                super().copyfile(source, outputfile)
            except (BrokenPipeError, ConnectionResetError):
                pass  # torchvision's redirect probe closes the connection without reading the body

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(served)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setattr(CIFAR10, "url", f"http://127.0.0.1:{server.server_address[1]}/cifar-10-python.tar.gz")
    monkeypatch.setattr(CIFAR10, "tgz_md5", md5(served / "cifar-10-python.tar.gz"))
    monkeypatch.setattr(CIFAR10, "train_list",
                        [[f"data_batch_{k}", md5(folder / f"data_batch_{k}")] for k in range(1, 6)])
    monkeypatch.setattr(CIFAR10, "test_list", [["test_batch", md5(folder / "test_batch")]])
    yield requests, served
    server.shutdown()
    server.server_close()


def test_download_through_torchvision(tmp_path, cifar_server):
    requests, _ = cifar_server
    root = tmp_path / "data"
    with pytest.raises(FileNotFoundError):
        cifar10_proxy(root)
    train, test = cifar10_proxy(root, split=("train", "test"), download=True)
    assert len(train) == 50 and len(test) == 20 and set(requests) == {"/cifar-10-python.tar.gz"}
    assert find_cifar10(root)[0] == "torchvision"
    # the files are there and intact: no second download
    n = len(requests)
    assert len(cifar10_proxy(root, download=True, resolution=16)) == 50 and len(requests) == n


def test_download_with_a_wrong_checksum_is_refused(tmp_path, cifar_server, monkeypatch):
    from torchvision.datasets import CIFAR10

    monkeypatch.setattr(CIFAR10, "tgz_md5", "0" * 32)
    with pytest.raises(ValueError, match="download: fetching http://127.0.0.1"):
        cifar10_proxy(tmp_path / "data", download=True)


def test_trainer_download_flag_fetches_before_training(tmp_path, cifar_server):
    from gemgraph.app.runs import build_config, make_trainer

    requests, _ = cifar_server
    trainer = make_trainer(build_config("default"), device="cpu", data_root=str(tmp_path / "d"), download=True)
    trainer.check_data()
    assert set(requests) == {"/cifar-10-python.tar.gz"} and "train" not in trainer._cache
