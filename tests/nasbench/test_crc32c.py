import numpy as np
import pytest

from nasbench import _crc32c
from nasbench._crc32c import _crc_py, crc32c, crc32c_many, mask, masked_crc32c

from ._fixtures import crc32c_ref, masked

# google-crc32c is a default dependency: both backends must be there (no silent skip)
BACKENDS = ["numpy", "google_crc32c"]


def test_default_install_uses_google_crc32c():
    assert _crc32c._gcrc is not None and _crc32c.BACKEND == "google_crc32c"


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


def test_google_backend_mixed_rows_match_the_numpy_fallback():
    """Short rows (length fields) take the vectorised numpy path, long ones the C calls: same CRCs."""
    rng = np.random.default_rng(3)
    buf = rng.integers(0, 256, 50_000, dtype=np.uint8).tobytes()
    starts = rng.integers(0, 48_000, 400)
    lengths = np.where(rng.random(400) < 0.5, 8, rng.integers(0, 1500, 400))
    lengths[:5] = [0, 1, 16, 17, 8]
    fallback = crc32c_many(buf, starts, lengths, backend="numpy")
    for b in (buf, np.frombuffer(buf, dtype=np.uint8), bytearray(buf)):
        assert crc32c_many(b, starts, lengths, backend="google_crc32c").tolist() == fallback.tolist()
    few = crc32c_many(buf, starts[:5], lengths[:5], backend="google_crc32c")  # too few short rows to vectorise
    assert few.tolist() == [crc32c_ref(buf[s:s + n]) for s, n in zip(starts[:5].tolist(), lengths[:5].tolist())]


def test_numpy_fallback_without_google_crc32c(monkeypatch, tmp_path):
    """With google_crc32c absent (or without its C extension) everything runs on the numpy code."""
    from nasbench._reader import parse_file

    from ._fixtures import build

    path = build(tmp_path / "f.tfrecord").path
    with_c = parse_file(path, verify_crc=True)
    monkeypatch.setattr(_crc32c, "_gcrc", None)
    monkeypatch.setattr(_crc32c, "BACKEND", "numpy")
    assert crc32c(b"123456789") == 0xE3069283
    with pytest.raises(ValueError, match="not installed"):
        crc32c_many(b"abc", np.array([0]), np.array([1]), backend="google_crc32c")
    without = parse_file(path, verify_crc=True)
    assert without.meta["crc_verified"] and without.hashes.tolist() == with_c.hashes.tolist()
    data = bytearray(path.read_bytes())
    data[30] ^= 1  # corrupt a payload byte: the fallback still catches it
    bad = tmp_path / "bad.tfrecord"
    bad.write_bytes(bytes(data))
    from nasbench import NASBenchFormatError

    with pytest.raises(NASBenchFormatError, match="CRC"):
        parse_file(bad, verify_crc=True)
