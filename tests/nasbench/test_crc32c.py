import numpy as np
import pytest

from nasbench import _crc32c
from nasbench._crc32c import _crc_py, crc32c, crc32c_many, mask, masked_crc32c

from ._fixtures import crc32c_ref, masked

BACKENDS = ["numpy"] + (["google_crc32c"] if _crc32c._gcrc is not None else [])


def test_known_vectors():
    # RFC 3720 (iSCSI) B.4 and the classic check value
    assert crc32c(b"123456789") == 0xE3069283
    assert crc32c(b"") == 0
    assert crc32c(bytes(32)) == 0x8A9136AA
    assert crc32c(b"\xff" * 32) == 0x62A8AB43
    assert crc32c(bytes(range(32))) == 0x46DD794E
    assert _crc_py(b"123456789") == 0xE3069283  # the pure-Python path, whatever BACKEND is


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 63, 64, 65, 300, 1000])
def test_matches_bitwise_reference(n, backend):
    data = np.random.default_rng(n).integers(0, 256, n, dtype=np.uint8).tobytes()
    assert crc32c(data) == crc32c_ref(data) == _crc_py(data)
    assert crc32c_many(data, np.array([0]), np.array([n]), backend=backend)[0] == crc32c_ref(data)


@pytest.mark.parametrize("backend", BACKENDS)
def test_batch_matches_scalar_on_many_slices(backend):
    rng = np.random.default_rng(0)
    buf = rng.integers(0, 256, 20_000, dtype=np.uint8).tobytes()
    starts = rng.integers(0, 19_000, 500)
    lengths = rng.integers(0, 1000, 500)
    got = crc32c_many(buf, starts, lengths, backend=backend)
    want = [crc32c_ref(buf[s:s + n]) for s, n in zip(starts[:60].tolist(), lengths[:60].tolist())]
    assert got[:60].tolist() == want
    # the vectorised path (many rows) agrees with the scalar path on all of them
    assert got.tolist() == [crc32c(buf[s:s + n]) for s, n in zip(starts.tolist(), lengths.tolist())]


def test_long_rows_take_the_scalar_path(monkeypatch):
    monkeypatch.setattr(_crc32c, "_MAX_BATCH_WIDTH", 64)
    buf = np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8).tobytes()
    starts = np.array([0, 10, 100, 900] * 10)
    lengths = np.array([50, 100, 3000, 8] * 10)
    got = crc32c_many(buf, starts, lengths, backend="numpy")
    assert got.tolist() == [crc32c_ref(buf[s:s + n]) for s, n in zip(starts.tolist(), lengths.tolist())]


def test_mask_matches_tfrecord_definition():
    for c in (0, 1, 0xFFFFFFFF, 0x12345678, 0xE3069283):
        assert mask(c) == masked(c)
    arr = np.array([0, 1, 0xFFFFFFFF, 0x12345678], dtype=np.uint32)
    assert mask(arr).tolist() == [masked(int(c)) for c in arr]
    assert masked_crc32c(b"abc") == masked(crc32c_ref(b"abc"))


def test_bad_slices_rejected():
    with pytest.raises(ValueError, match="outside"):
        crc32c_many(b"abc", np.array([2]), np.array([5]))
    with pytest.raises(ValueError, match="shapes"):
        crc32c_many(b"abc", np.array([0, 1]), np.array([1]))
    with pytest.raises(ValueError, match="backend"):
        crc32c_many(b"abc", np.array([0]), np.array([1]), backend="zlib")
