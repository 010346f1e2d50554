import os
import stat

import numpy as np
import pytest

import nasbench._table as table_mod
from nasbench import NASBench101
from nasbench._cache import cache_candidates, user_cache_dir

from ._fixtures import build, frame


def _same(a: NASBench101, b: NASBench101) -> None:
    assert np.array_equal(a.hashes, b.hashes) and np.array_equal(a.matrices, b.matrices)
    assert np.array_equal(a.op_labels, b.op_labels) and np.array_equal(a.num_repeats, b.num_repeats)
    for m in ("validation_accuracy", "test_accuracy", "training_time", "total_time", "trainable_parameters"):
        for e in a.epochs:
            assert np.array_equal(a.metric_array(m, e), b.metric_array(m, e), equal_nan=True)


def test_cache_next_to_a_writable_file_and_reload(tmp_path):
    fx = build(tmp_path / "f.tfrecord")
    first = NASBench101(fx.path)
    beside = tmp_path / "f.tfrecord.gemgraph-cache.npz"
    assert first.load_info["source"] == "parsed" and first.load_info["cache_path"] == str(beside)
    assert beside.is_file()
    again = NASBench101(fx.path)
    assert again.load_info["source"] == "cache"
    assert again.load_info["records_per_s"] == first.load_info["records_per_s"]  # the parse figure is kept
    _same(first, again)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]


def test_read_only_folder_falls_back_to_user_cache(tmp_path, monkeypatch):
    ro = tmp_path / "ro"
    ro.mkdir()
    fx = build(ro / "f.tfrecord")
    os.chmod(ro, stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP)
    try:
        monkeypatch.setenv("GEMGRAPH_CACHE", str(tmp_path / "user"))
        nb = NASBench101(fx.path)
        assert os.listdir(ro) == ["f.tfrecord"]  # nothing written beside the data, even as root
        assert nb.load_info["cache_path"].startswith(str(tmp_path / "user" / "nasbench"))
        assert NASBench101(fx.path).load_info["source"] == "cache"
        assert user_cache_dir() == tmp_path / "user" / "nasbench"
    finally:
        os.chmod(ro, stat.S_IRWXU)


def test_explicit_cache_folder_and_no_cache(tmp_path):
    fx = build(tmp_path / "f.tfrecord")
    nb = NASBench101(fx.path, cache=tmp_path / "c")
    assert nb.load_info["cache_path"].startswith(str(tmp_path / "c"))
    assert NASBench101(fx.path, cache=tmp_path / "c").load_info["source"] == "cache"
    assert NASBench101(fx.path, cache=False).load_info["source"] == "parsed"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c", "f.tfrecord"]


def test_corrupt_cache_is_ignored_and_rebuilt(tmp_path, caplog):
    fx = build(tmp_path / "f.tfrecord")
    good = NASBench101(fx.path, cache=tmp_path / "c")
    path = cache_candidates(fx.path, tmp_path / "c")[0]
    for junk in (b"", b"PK\x03\x04garbage", path.read_bytes()[: path.stat().st_size // 2]):
        path.write_bytes(junk)
        nb = NASBench101(fx.path, cache=tmp_path / "c")
        assert nb.load_info["source"] == "parsed"
        _same(good, nb)
        assert "ignoring unreadable" in caplog.text
        assert NASBench101(fx.path, cache=tmp_path / "c").load_info["source"] == "cache"


def test_changed_file_invalidates_the_cache(tmp_path):
    fx = build(tmp_path / "f.tfrecord")
    NASBench101(fx.path, cache=tmp_path / "c")
    fx.path.write_bytes(b"".join(frame(p) for p in fx.payloads[:-1]))  # drop the last model
    nb = NASBench101(fx.path, cache=tmp_path / "c")
    assert nb.load_info["source"] == "parsed" and len(nb) == 2


def test_unverified_cache_is_not_used_when_crcs_are_requested(tmp_path):
    fx = build(tmp_path / "f.tfrecord")
    assert NASBench101(fx.path, cache=tmp_path / "c", verify_crc=False).load_info["crc_verified"] is False
    assert NASBench101(fx.path, cache=tmp_path / "c", verify_crc=False).load_info["source"] == "cache"
    nb = NASBench101(fx.path, cache=tmp_path / "c")
    assert nb.load_info["source"] == "parsed" and nb.load_info["crc_verified"] is True
    assert NASBench101(fx.path, cache=tmp_path / "c", verify_crc=False).load_info["source"] == "cache"


def test_interrupted_write_leaves_no_cache(tmp_path, monkeypatch):
    fx = build(tmp_path / "f.tfrecord")

    def boom(f, **arrays):
        f.write(b"PK\x03\x04 half a zip")
        raise KeyboardInterrupt

    monkeypatch.setattr(table_mod.np, "savez", boom)
    with pytest.raises(KeyboardInterrupt):
        NASBench101(fx.path, cache=tmp_path / "c")
    assert list((tmp_path / "c").iterdir()) == []  # neither a torn cache nor a temp file
    monkeypatch.undo()
    assert NASBench101(fx.path, cache=tmp_path / "c").load_info["source"] == "parsed"


def _edit_in_place_keeping_mtime(path, offset: int) -> None:
    """Flip one byte at ``offset`` in place (same size, same inode), then restore atime/mtime."""
    st = os.stat(path)
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0x01]))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    after = os.stat(path)
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (st.st_size, st.st_mtime_ns, st.st_ino)


@pytest.mark.realdata
def test_in_place_change_in_the_middle_with_mtime_restored_invalidates_the_cache(tmp_path):
    """On a copy of the 21 MB NB101 sample: a byte flipped 10 MB from either end, size, inode
    and mtime unchanged, is not served from the cache."""
    import shutil

    from nasbench.errors import NASBenchFormatError
    from tests.conftest import need_data

    path = tmp_path / "nb.tfrecord"
    shutil.copyfile(need_data("nasbench101/nb101_dev_20k.tfrecord"), path)
    size = path.stat().st_size
    assert size > 8 << 20
    assert NASBench101(path, cache=tmp_path / "c").load_info["source"] == "parsed"
    assert NASBench101(path, cache=tmp_path / "c").load_info["source"] == "cache"
    _edit_in_place_keeping_mtime(path, size // 2)  # far from the first and last MiB
    with pytest.raises(NASBenchFormatError, match="CRC"):  # parsed again (not the stale cache): the CRC catches it
        NASBench101(path, cache=tmp_path / "c")
    _edit_in_place_keeping_mtime(path, size // 2)  # undone: the content is the cached one again
    assert NASBench101(path, cache=tmp_path / "c").load_info["source"] == "cache"  # by the content hash


def test_in_place_change_with_mtime_restored_small_file(tmp_path):
    """The same on the small fixture: a changed byte inside a record's payload."""
    from nasbench.errors import NASBenchFormatError

    fx = build(tmp_path / "f.tfrecord")
    NASBench101(fx.path, cache=tmp_path / "c")
    _edit_in_place_keeping_mtime(fx.path, fx.path.stat().st_size // 2)
    with pytest.raises(NASBenchFormatError, match="CRC"):
        NASBench101(fx.path, cache=tmp_path / "c")


def test_an_unchanged_file_is_not_hashed_on_reload(tmp_path, monkeypatch):
    import nasbench._cache as cache_mod

    fx = build(tmp_path / "f.tfrecord")
    NASBench101(fx.path, cache=tmp_path / "c")
    monkeypatch.setattr(cache_mod, "content_hash", lambda p: pytest.fail("an untouched file was hashed"))
    assert NASBench101(fx.path, cache=tmp_path / "c").load_info["source"] == "cache"


def test_a_copy_with_the_same_content_and_mtime_reuses_the_cache(tmp_path):
    import shutil

    fx = build(tmp_path / "f.tfrecord")
    NASBench101(fx.path, cache=tmp_path / "c")
    shutil.copy2(fx.path, tmp_path / "g")  # another inode, same bytes and mtime
    os.replace(tmp_path / "g", fx.path)
    assert NASBench101(fx.path, cache=tmp_path / "c").load_info["source"] == "cache"
