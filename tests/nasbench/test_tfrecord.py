import struct

import numpy as np
import pytest

from nasbench import NASBenchFormatError
from nasbench.tfrecord import encode_records, iter_batches, iter_records, write_records

from ._fixtures import frame


def _payloads(n=50, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, int(rng.integers(0, 400)), dtype=np.uint8).tobytes() for _ in range(n)]


def test_writer_matches_reference_framing(tmp_path):
    pays = _payloads()
    assert encode_records(pays) == b"".join(frame(p) for p in pays)
    path = tmp_path / "x.tfrecord"
    write_records(path, pays)
    assert list(iter_records(path)) == pays


@pytest.mark.parametrize("chunk", [64, 100, 1000, 1 << 20])
def test_chunking_never_changes_the_records(tmp_path, chunk):
    pays = _payloads(80, seed=chunk) + [b"x" * 5000]  # one record bigger than small chunks
    path = tmp_path / "x.tfrecord"
    path.write_bytes(b"".join(frame(p) for p in pays))
    got, first, offsets = [], [], []
    for b in iter_batches(path, chunk_bytes=chunk):
        first.append(b.first_record)
        for i in range(len(b)):
            got.append(b.payload(i))
            offsets.append(b.header_offset(i))
    assert got == pays
    want_offsets = np.cumsum([0] + [16 + len(p) for p in pays[:-1]]).tolist()
    assert offsets == want_offsets
    assert first[0] == 0 and first == sorted(first)


def test_empty_file_has_no_records(tmp_path):
    path = tmp_path / "empty.tfrecord"
    path.write_bytes(b"")
    assert list(iter_records(path)) == []


def _file(tmp_path, n=5):
    pays = [f"record {i}".encode() * (i + 1) for i in range(n)]
    data = bytearray(b"".join(frame(p) for p in pays))
    offsets = np.cumsum([0] + [16 + len(p) for p in pays[:-1]]).tolist()
    return tmp_path / "f.tfrecord", data, pays, offsets


def _read(path, **kw):
    return list(iter_records(path, **kw))


def test_truncated_inside_header(tmp_path):
    path, data, pays, offs = _file(tmp_path)
    path.write_bytes(bytes(data[:offs[3] + 5]))
    with pytest.raises(NASBenchFormatError, match=rf"record 3, byte offset {offs[3]}: truncated file") as ei:
        _read(path)
    assert ei.value.record == 3 and ei.value.offset == offs[3]
    assert isinstance(ei.value, ValueError)


@pytest.mark.parametrize("cut", [12, 14, -1])  # after the header, mid-payload, before the last CRC byte
def test_truncated_inside_record(tmp_path, cut):
    path, data, pays, offs = _file(tmp_path)
    end = offs[4] + cut if cut > 0 else len(data) + cut
    path.write_bytes(bytes(data[:end]))
    with pytest.raises(NASBenchFormatError, match=rf"record 4, byte offset {offs[4]}: truncated file"):
        _read(path)


def test_corrupt_length_is_caught_by_its_crc(tmp_path):
    path, data, pays, offs = _file(tmp_path)
    struct.pack_into("<Q", data, offs[2], 2**62)  # absurd length: must not be allocated
    path.write_bytes(bytes(data))
    with pytest.raises(NASBenchFormatError, match=rf"record 2, byte offset {offs[2]}: length CRC mismatch"):
        _read(path)


def test_corrupt_small_length_is_caught_by_its_crc(tmp_path):
    path, data, pays, offs = _file(tmp_path)
    struct.pack_into("<Q", data, offs[1], 3)  # plausible length: framing would go astray
    path.write_bytes(bytes(data))
    with pytest.raises(NASBenchFormatError, match=rf"record 1, byte offset {offs[1]}: length CRC mismatch"):
        _read(path)


def test_corrupt_length_without_crc_check_is_still_bounded(tmp_path):
    path, data, pays, offs = _file(tmp_path)
    struct.pack_into("<Q", data, offs[2], 2**62)
    path.write_bytes(bytes(data))
    with pytest.raises(NASBenchFormatError, match=r"record 2.*corrupt length field"):
        _read(path, verify_crc=False)


def test_data_crc_mismatch_names_record_and_offset(tmp_path):
    path, data, pays, offs = _file(tmp_path)
    data[offs[3] + 12 + 2] ^= 0x01  # flip one payload bit
    path.write_bytes(bytes(data))
    with pytest.raises(NASBenchFormatError, match=rf"record 3, byte offset {offs[3]}: data CRC mismatch"):
        _read(path)
    assert len(_read(path, verify_crc=False)) == 5  # the framing itself is intact


def test_footer_crc_mismatch(tmp_path):
    path, data, pays, offs = _file(tmp_path)
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(NASBenchFormatError, match=rf"record 4, byte offset {offs[4]}: data CRC mismatch"):
        _read(path)


def test_header_crc_mismatch(tmp_path):
    path, data, pays, offs = _file(tmp_path)
    data[offs[0] + 8] ^= 0x10
    path.write_bytes(bytes(data))
    with pytest.raises(NASBenchFormatError, match=r"record 0, byte offset 0: length CRC mismatch"):
        _read(path)


def test_first_error_wins_across_chunks(tmp_path):
    path, data, pays, offs = _file(tmp_path, n=40)
    data[offs[30] + 12] ^= 1
    data[offs[35] + 12] ^= 1
    path.write_bytes(bytes(data))
    for chunk in (64, 300, 1 << 20):
        with pytest.raises(NASBenchFormatError, match=r"record 30,"):
            list(iter_batches(path, chunk_bytes=chunk))


@pytest.mark.parametrize("content", [b'{"models": [1, 2, 3]}\n' * 50, b"PK\x03\x04" + bytes(500), b"hello"])
def test_a_file_of_another_format_says_not_a_tfrecord_file(tmp_path, content):
    path = tmp_path / "other.json"
    path.write_bytes(content)
    for verify in (True, False):
        with pytest.raises(NASBenchFormatError, match=r"record 0, byte offset 0: .*not a TFRecord file"):
            list(iter_batches(path, verify_crc=verify))
