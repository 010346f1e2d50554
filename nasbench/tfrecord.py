r"""TFRecord framing: streaming reader and writer, no TensorFlow.

A TFRecord file is a sequence of records, each

==========  ============================================================
 8 bytes    ``L``, the payload length, uint64 little-endian
 4 bytes    masked CRC-32C of those 8 bytes, uint32 little-endian
 ``L``      the payload
 4 bytes    masked CRC-32C of the payload, uint32 little-endian
==========  ============================================================

with mask ``((c >> 15) | (c << 17)) + 0xa282ead8`` (mod 2**32).

:func:`iter_batches` reads the file in fixed-size chunks (bounded memory: one chunk plus the
largest single record) and yields the framed records of each chunk as arrays of offsets, with
both CRCs checked for the whole chunk at once (:func:`nasbench._crc32c.crc32c_many`). A length
field is only trusted after its own CRC matched (or, with ``verify_crc=False``, after it was
checked against the bytes left in the file), so a corrupt length never drives an allocation.
"""
from __future__ import annotations

import os
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from ._crc32c import crc32c_many, mask
from .errors import NASBenchFormatError

__all__ = ["RecordBatch", "iter_batches", "iter_records", "write_records", "encode_records"]

_HEADER = 12  # length (8) + length CRC (4)
_FOOTER = 4  # data CRC
_U64 = struct.Struct("<Q")
DEFAULT_CHUNK_BYTES = 16 << 20


@dataclass(frozen=True)
class RecordBatch:
    r"""The records framed in one chunk of a TFRecord file.

    Attributes:
        buf: the chunk's bytes; payload ``i`` is ``buf[starts[i] : starts[i] + lengths[i]]``.
        starts: payload offsets into ``buf``, shape (k,) int64.
        lengths: payload lengths, shape (k,) int64.
        first_record: global index of the batch's first record.
        file_offset: offset of ``buf[0]`` in the file; record ``i``'s header is at
            ``file_offset + starts[i] - 12``.
    """

    buf: bytes
    starts: np.ndarray
    lengths: np.ndarray
    first_record: int
    file_offset: int

    def __len__(self) -> int:
        return int(self.starts.size)

    def payload(self, i: int) -> bytes:
        """Payload of the batch's record ``i`` (a copy)."""
        a = int(self.starts[i])
        return self.buf[a:a + int(self.lengths[i])]

    def header_offset(self, i: int) -> int:
        """File offset of the batch's record ``i`` (its length field)."""
        return self.file_offset + int(self.starts[i]) - _HEADER

    def __repr__(self) -> str:
        return (f"RecordBatch(records={len(self)}, first_record={self.first_record}, "
                f"file_offset={self.file_offset})")


def _u32_at(arr: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Little-endian uint32 at each byte offset of ``arr``, vectorised; (k,) -> (k,) uint32."""
    b = arr[offsets[:, None] + np.arange(4)].astype(np.uint32)
    return b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16) | (b[:, 3] << 24)


def _first_bad_header(buf: bytes, hdr: np.ndarray) -> int | None:
    """Index into ``hdr`` (header offsets in ``buf``) of the first length-CRC mismatch, or None."""
    if not hdr.size:
        return None
    arr = np.frombuffer(buf, dtype=np.uint8)
    got = mask(crc32c_many(buf, hdr, np.full(hdr.size, 8, dtype=np.int64)))
    bad = np.flatnonzero(got != _u32_at(arr, hdr + 8))
    return int(bad[0]) if bad.size else None


def _header_error(arr: np.ndarray, hdr_off: int, record: int, file_off: int, path: str) -> NASBenchFormatError:
    stored = int(_u32_at(arr, np.array([hdr_off + 8]))[0])
    computed = int(mask(crc32c_many(arr, np.array([hdr_off]), np.array([8]))[0]))
    what = ("not a TFRecord file (its first 12 bytes are not a record header), or its first length field is corrupt"
            if file_off == 0 else "the length field is corrupt")
    return NASBenchFormatError(
        f"length CRC mismatch (stored 0x{stored:08x}, computed 0x{computed:08x}): {what}",
        record=record, offset=file_off, path=path)


def iter_batches(path: str | os.PathLike, *, verify_crc: bool = True,
                 chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> Iterator[RecordBatch]:
    r"""Stream the records of a TFRecord file, one chunk at a time.

    Args:
        path: the file.
        verify_crc: check both CRCs of every record (vectorised per chunk).
        chunk_bytes: bytes read per chunk; memory stays near ``chunk_bytes`` plus the largest
            record.

    Yields:
        :class:`RecordBatch` objects, in file order, together covering every record.

    Raises:
        NASBenchFormatError: on a truncated file, a corrupt length or a CRC mismatch; the
            message names the record index and its byte offset.
    """
    path = os.fspath(path)
    if chunk_bytes < 64:
        raise ValueError(f"chunk_bytes: expected >= 64, got {chunk_bytes}")
    unpack = _U64.unpack_from
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        buf = b""
        buf_off = 0  # file offset of buf[0]
        record = 0
        eof = False
        need = chunk_bytes
        while True:
            if not eof:
                data = f.read(max(need, chunk_bytes))
                eof = buf_off + len(buf) + len(data) >= size or not data
                buf = buf + data if buf else data
            n = len(buf)
            pos = 0
            hdrs: list[int] = []
            lens: list[int] = []
            stop_len = None  # length of the record that did not fit, if any
            while pos + _HEADER <= n:
                (length,) = unpack(buf, pos)
                end = pos + _HEADER + length + _FOOTER
                if end > n:
                    stop_len = length
                    break
                hdrs.append(pos)
                lens.append(length)
                pos = end
            arr = np.frombuffer(buf, dtype=np.uint8)
            hdr = np.array(hdrs, dtype=np.int64)
            ln = np.array(lens, dtype=np.int64)
            if verify_crc and hdr.size:
                bad = _first_bad_header(buf, hdr)
                if bad is not None:
                    raise _header_error(arr, int(hdr[bad]), record + bad, buf_off + int(hdr[bad]), path)
                got = mask(crc32c_many(buf, hdr + _HEADER, ln))  # bytes: sliced without a copy
                stored = _u32_at(arr, hdr + _HEADER + ln)
                badd = np.flatnonzero(got != stored)
                if badd.size:
                    k = int(badd[0])
                    raise NASBenchFormatError(
                        f"data CRC mismatch (stored 0x{int(stored[k]):08x}, computed 0x{int(got[k]):08x}) "
                        f"over the {int(ln[k])}-byte payload", record=record + k,
                        offset=buf_off + int(hdr[k]), path=path)
            if hdr.size:
                yield RecordBatch(buf, hdr + _HEADER, ln, record, buf_off)
                record += hdr.size
            # What is left is the start of the next record (or nothing).
            rest = n - pos
            if rest == 0 and eof:
                return
            if stop_len is not None:
                # The next header is complete: check it before trusting its length.
                remaining = size - (buf_off + pos)
                if verify_crc and _first_bad_header(arr, np.array([pos], dtype=np.int64)) is not None:
                    raise _header_error(arr, pos, record, buf_off + pos, path)
                if _HEADER + stop_len + _FOOTER > remaining:
                    what = "truncated file" if verify_crc else "truncated file or corrupt length field"
                    if buf_off + pos == 0 and not verify_crc:
                        what = "not a TFRecord file, or a truncated one or one with a corrupt length field"
                    raise NASBenchFormatError(
                        f"{what}: the record declares a {stop_len}-byte payload "
                        f"({_HEADER + stop_len + _FOOTER} bytes framed) but only {remaining} bytes "
                        "are left in the file", record=record, offset=buf_off + pos, path=path)
                need = _HEADER + stop_len + _FOOTER - rest  # checked: fits in the file
            elif eof:
                what = "not a TFRecord file" if buf_off + pos == 0 else "truncated file"
                raise NASBenchFormatError(
                    f"{what}: {rest} {'' if buf_off + pos == 0 else 'trailing '}bytes, too short for a record header "
                    f"({_HEADER} bytes)", record=record, offset=buf_off + pos, path=path)
            else:
                need = chunk_bytes
            buf = buf[pos:]
            buf_off += pos


def iter_records(path: str | os.PathLike, *, verify_crc: bool = True) -> Iterator[bytes]:
    """Yield every record payload of a TFRecord file, in order (see :func:`iter_batches`)."""
    for batch in iter_batches(path, verify_crc=verify_crc):
        for i in range(len(batch)):
            yield batch.payload(i)


def encode_records(payloads: Iterable[bytes]) -> bytes:
    """Frame payloads as TFRecord bytes (length, masked CRCs), CRCs computed in one batch."""
    payloads = [bytes(p) for p in payloads]
    if not payloads:
        return b""
    lens = np.array([len(p) for p in payloads], dtype=np.int64)
    heads = b"".join(_U64.pack(int(n)) for n in lens)
    head_crc = mask(crc32c_many(heads, np.arange(lens.size, dtype=np.int64) * 8, np.full(lens.size, 8)))
    body = b"".join(payloads)
    starts = np.concatenate([[0], np.cumsum(lens)[:-1]]).astype(np.int64)
    data_crc = mask(crc32c_many(body, starts, lens))
    out = []
    for i, p in enumerate(payloads):
        out.append(heads[8 * i:8 * i + 8])
        out.append(struct.pack("<I", int(head_crc[i])))
        out.append(p)
        out.append(struct.pack("<I", int(data_crc[i])))
    return b"".join(out)


def write_records(file: str | os.PathLike | BinaryIO, payloads: Iterable[bytes]) -> int:
    """Write payloads as a TFRecord file; returns the number of bytes written.

    Args:
        file: a path (written atomically: temporary file, then ``os.replace``) or a binary
            file object.
        payloads: the record payloads.
    """
    data = encode_records(payloads)
    if hasattr(file, "write"):
        file.write(data)  # type: ignore[union-attr]
        return len(data)
    path = os.fspath(file)  # type: ignore[arg-type]
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return len(data)
