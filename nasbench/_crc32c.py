r"""CRC-32C (Castagnoli), the checksum of TFRecord framing, without a compiled extension.

Two code paths, both table driven ("slicing-by-8", Intel's scheme, see e.g. Kounavis & Berry,
"A Systematic Approach to Building High Performance Software-based CRC Generators", 2005):

* :func:`crc32c_many` checks a whole batch of records at once. Records are right-aligned in a
  zero-padded ``(records, width)`` byte matrix and the 8-byte slicing step runs as numpy
  gathers over *all records at the same time*, so the Python-level loop is over byte columns
  (about ``width / 8`` steps), not over records. Left zero padding is free because the CRC
  register is linear over GF(2): a register of 0 stays 0 on zero bytes, and the effect of the
  ``0xFFFFFFFF`` initial value depends on the length alone, so it is added afterwards from a
  per-length table.
* :func:`crc32c` checks one buffer with plain Python ints (slicing-by-8).

``google_crc32c`` (a default dependency, C implementation) is used instead when it is
installed with its C extension: for single buffers and for the longer slices of a batch (the
8-byte TFRecord length fields stay on the vectorised numpy path, which is cheaper for them
than one C call each). Results are identical; the numpy code stays as the fallback (a
``google_crc32c`` without its C extension, or none at all) and is tested against it.

``masked_crc32c`` applies TFRecord's mask ``((c >> 15) | (c << 17)) + 0xa282ead8``.
"""
from __future__ import annotations

import functools
import struct

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["crc32c", "crc32c_many", "masked_crc32c", "mask", "BACKEND"]

_POLY = 0x82F63B78  # CRC-32C, reflected
_MASK_DELTA = 0xA282EAD8
#: Rows longer than this are checked one at a time (no NB101 record comes close).
_MAX_BATCH_WIDTH = 1 << 14
#: Cells (rows * width) of one padded block; bounds the temporary memory of a batch.
_BLOCK_CELLS = 1 << 22  # 4 MiB
#: Fewer rows than this are checked with plain Python ints (numpy's per-call cost dominates).
_MIN_VECTOR_ROWS = 24
#: With google_crc32c, rows up to this length still take the vectorised numpy path.
_SHORT_ROW = 16

try:  # optional accelerator; never required
    import google_crc32c as _gcrc  # type: ignore[import-not-found]

    if getattr(_gcrc, "implementation", "c") != "c":  # its pure-Python fallback is slower
        _gcrc = None
except ImportError:  # pragma: no cover - depends on the environment
    _gcrc = None

#: Which implementation :func:`crc32c` uses for single buffers: ``"google_crc32c"`` or ``"numpy"``.
BACKEND = "google_crc32c" if _gcrc is not None else "numpy"


@functools.lru_cache(maxsize=1)
def _tables() -> np.ndarray:
    """Slicing-by-8 tables, shape (8, 256) uint32: ``T[k][b]`` = CRC step of byte b then k zeros."""
    c = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        c = np.where(c & 1, (c >> np.uint32(1)) ^ np.uint32(_POLY), c >> np.uint32(1))
    t = np.empty((8, 256), dtype=np.uint32)
    t[0] = c
    for k in range(1, 8):
        t[k] = (t[k - 1] >> np.uint32(8)) ^ t[0][t[k - 1] & 0xFF]
    t.setflags(write=False)
    return t


@functools.lru_cache(maxsize=1)
def _init_effect() -> np.ndarray:
    """``E[L]`` = register after L zero bytes from ``0xFFFFFFFF``, L <= _MAX_BATCH_WIDTH; uint32."""
    t0 = _tables()[0].tolist()
    out = [0] * (_MAX_BATCH_WIDTH + 1)
    c = 0xFFFFFFFF
    out[0] = c
    for n in range(1, _MAX_BATCH_WIDTH + 1):
        c = t0[c & 0xFF] ^ (c >> 8)
        out[n] = c
    arr = np.array(out, dtype=np.uint32)
    arr.setflags(write=False)
    return arr


@functools.lru_cache(maxsize=1)
def _py_tables() -> tuple[list[int], ...]:
    return tuple(row.tolist() for row in _tables())


def _crc_py(data: bytes | memoryview, crc: int = 0) -> int:
    """CRC-32C of one buffer with plain Python ints (slicing-by-8); fastest for a few rows."""
    t0, t1, t2, t3, t4, t5, t6, t7 = _py_tables()
    c = crc ^ 0xFFFFFFFF
    data = bytes(data)
    n8 = len(data) // 8 * 8
    for lo, hi in struct.iter_unpack("<II", data[:n8]):
        c ^= lo
        c = (t7[c & 0xFF] ^ t6[(c >> 8) & 0xFF] ^ t5[(c >> 16) & 0xFF] ^ t4[c >> 24]
             ^ t3[hi & 0xFF] ^ t2[(hi >> 8) & 0xFF] ^ t1[(hi >> 16) & 0xFF] ^ t0[hi >> 24])
    for b in data[n8:]:
        c = t0[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def _raw_rows(block: np.ndarray) -> np.ndarray:
    """Register (init 0, no final xor) after each row of ``block``; block (g, W) uint8, W % 8 == 0.

    The block is viewed as 64-bit words and transposed, so that every step reads one
    contiguous column of words; each 8-byte step is eight table gathers over all g rows.
    """
    t0, t1, t2, t3, t4, t5, t6, t7 = _tables()
    g = block.shape[0]
    words = np.ascontiguousarray(np.ascontiguousarray(block).view(np.uint64).T)  # (W/8, g)
    s = np.zeros(g, dtype="<u4")
    acc = np.empty(g, dtype="<u4")
    tmp = np.empty(g, dtype="<u4")
    for j in range(words.shape[0]):
        wb = words[j].view(np.uint8).reshape(g, 8)  # the 8 bytes of this step, in file order
        sb = s.view(np.uint8).reshape(g, 4)  # register bytes, least significant first
        t7.take(sb[:, 0] ^ wb[:, 0], out=acc)
        for tab, idx in ((t6, sb[:, 1] ^ wb[:, 1]), (t5, sb[:, 2] ^ wb[:, 2]),
                         (t4, sb[:, 3] ^ wb[:, 3]), (t3, wb[:, 4]), (t2, wb[:, 5]),
                         (t1, wb[:, 6]), (t0, wb[:, 7])):
            tab.take(idx, out=tmp)
            acc ^= tmp
        s, acc = acc, s
    return s.astype(np.uint32)


def _crc_rows(buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """CRC-32C of ``buf[starts[i] : starts[i] + lengths[i]]`` for rows of similar length."""
    if starts.size < _MIN_VECTOR_ROWS:
        view = memoryview(buf).cast("B")
        return np.array([_crc_py(view[a:a + n]) for a, n in zip(starts.tolist(), lengths.tolist())],
                        dtype=np.uint32)
    max_len = int(lengths.max(initial=0))
    width = max(-(-max_len // 8) * 8, 8)
    ends = starts + lengths
    # Row i = the `width` bytes that end where slice i ends (one gather through a sliding
    # window view), then the bytes before the slice are zeroed: the slice ends up
    # right-aligned behind zeros, and leading zeros leave a register that starts at 0 at 0.
    if int(ends.min()) < width:  # a window would start before the buffer: pad in front
        buf = np.concatenate([np.zeros(width, dtype=np.uint8), buf])
        ends = ends + width
    block = sliding_window_view(buf, width)[ends - width]
    lead = width - int(lengths.min())
    if lead:
        keep = np.arange(lead, dtype=np.int64)[None, :] >= (width - lengths)[:, None]
        block[:, :lead] *= keep
    raw = _raw_rows(block)
    return raw ^ _init_effect()[lengths] ^ np.uint32(0xFFFFFFFF)


def crc32c_many(buf: np.ndarray | bytes | bytearray | memoryview, starts: np.ndarray,
                lengths: np.ndarray, *, backend: str | None = None) -> np.ndarray:
    r"""CRC-32C of many slices of one buffer, vectorised over the slices.

    Args:
        buf: the bytes (anything exposing the buffer protocol, or a uint8 array).
        starts: start offset of each slice, shape (n,), integers.
        lengths: length of each slice, shape (n,), integers; slices must lie inside ``buf``.
        backend: ``"numpy"`` (always available) or ``"google_crc32c"`` (one C call per slice,
            faster, see ``benchmarks/nasbench_parse.py``; only if that package is installed). Default: :data:`BACKEND`.

    Returns:
        uint32 array, shape (n,): the (unmasked) CRC-32C of each slice.

    Shapes: buf (B,), starts (n,), lengths (n,) -> (n,)
    """
    backend = BACKEND if backend is None else backend
    if backend not in ("numpy", "google_crc32c"):
        raise ValueError(f"backend: expected 'numpy' or 'google_crc32c', got {backend!r}")
    if backend == "google_crc32c" and _gcrc is None:
        raise ValueError("backend: google_crc32c is not installed (pip install google-crc32c)")
    arr = buf if isinstance(buf, np.ndarray) else np.frombuffer(buf, dtype=np.uint8)
    starts = np.asarray(starts, dtype=np.int64)
    lengths = np.asarray(lengths, dtype=np.int64)
    if starts.shape != lengths.shape or starts.ndim != 1:
        raise ValueError(f"starts and lengths: expected equal 1-D shapes, got {starts.shape} and {lengths.shape}")
    if starts.size and (starts.min() < 0 or lengths.min() < 0 or (starts + lengths).max() > arr.size):
        raise ValueError("starts/lengths: a slice reaches outside the buffer")
    out = np.empty(starts.size, dtype=np.uint32)
    if not starts.size:
        return out
    if backend == "google_crc32c":
        # Short rows (TFRecord length fields: 8 bytes) are cheaper as one vectorised numpy step
        # than as one C call each; the rest is one C call per slice of the bytes (no copy of
        # the buffer when it is given as bytes).
        short = lengths <= _SHORT_ROW
        if short.sum() >= _MIN_VECTOR_ROWS:
            out[short] = crc32c_many(arr, starts[short], lengths[short], backend="numpy")
            rest = np.flatnonzero(~short)
        else:
            rest = np.arange(starts.size)
        data = buf if isinstance(buf, bytes) else arr.tobytes()
        value = _gcrc.value  # type: ignore[union-attr]
        out[rest] = np.fromiter((value(data[a:a + n]) for a, n in zip(starts[rest].tolist(), lengths[rest].tolist())),
                                dtype=np.uint32, count=rest.size)
        return out
    # Bucket rows by length (64-byte classes) so padding stays small; long rows go one by one.
    bucket = (lengths + 63) // 64
    long_rows = lengths > _MAX_BATCH_WIDTH
    for b in np.unique(bucket[~long_rows]).tolist():
        sel = np.flatnonzero((bucket == b) & ~long_rows)
        rows = max(1, _BLOCK_CELLS // max(int(b) * 64, 8))
        for i in range(0, sel.size, rows):
            part = sel[i:i + rows]
            out[part] = _crc_rows(arr, starts[part], lengths[part])
    for k in np.flatnonzero(long_rows).tolist():
        out[k] = _crc_py(arr[starts[k]:starts[k] + lengths[k]].tobytes())
    return out


def crc32c(data: bytes | bytearray | memoryview | np.ndarray) -> int:
    """CRC-32C of one buffer (unmasked), as a Python int.

    Args:
        data: bytes-like object or uint8 array.
    """
    if _gcrc is not None:
        return int(_gcrc.value(bytes(data) if isinstance(data, np.ndarray) else data))
    if isinstance(data, np.ndarray):
        data = data.tobytes()
    return _crc_py(data)


def mask(crc: np.ndarray | int) -> np.ndarray | int:
    """TFRecord's CRC mask, ``((c >> 15) | (c << 17)) + 0xa282ead8`` mod 2**32 (scalars or arrays)."""
    if isinstance(crc, np.ndarray):
        c = crc.astype(np.uint32)
        return ((c >> np.uint32(15)) | (c << np.uint32(17))) + np.uint32(_MASK_DELTA)
    c = int(crc) & 0xFFFFFFFF
    return (((c >> 15) | (c << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def masked_crc32c(data: bytes | bytearray | memoryview | np.ndarray) -> int:
    """Masked CRC-32C of one buffer, as stored in TFRecord files."""
    return mask(crc32c(data))  # type: ignore[return-value]
