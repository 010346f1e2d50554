"""Builders for tiny NAS-Bench-101 files in the official layout, independent of ``nasbench``.

Framing, CRC-32C (bit-by-bit reference), JSON and the ModelMetrics protobuf are all written
here by hand (struct), so reader tests do not just check ``nasbench`` against itself.
"""
from __future__ import annotations

import base64
import json
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nasbench import hash_module

OPS = {"input": -1, "output": -2, "conv3x3-bn-relu": 0, "conv1x1-bn-relu": 1, "maxpool3x3": 2}


def crc32c_ref(data: bytes) -> int:
    """Bit-by-bit CRC-32C (Castagnoli, reflected 0x82F63B78): the textbook definition."""
    c = 0xFFFFFFFF
    for b in data:
        c ^= b
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    return c ^ 0xFFFFFFFF


def masked(c: int) -> int:
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def frame(payload: bytes) -> bytes:
    head = struct.pack("<Q", len(payload))
    return (head + struct.pack("<I", masked(crc32c_ref(head))) + payload
            + struct.pack("<I", masked(crc32c_ref(payload))))


# ---------------------------------------------------------------- protobuf by hand
def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _double(fnum: int, x: float) -> bytes:
    return bytes([fnum << 3 | 1]) + struct.pack("<d", x)


def _bytes_field(fnum: int, payload: bytes) -> bytes:
    return bytes([fnum << 3 | 2]) + _varint(len(payload)) + payload


def eval_data(epoch: float | None = None, time: float | None = None, train: float | None = None,
              valid: float | None = None, test: float | None = None, ckpt: str | None = None) -> bytes:
    out = b""
    for fnum, val in ((1, epoch), (2, time), (3, train), (4, valid), (5, test)):
        if val is not None:
            out += _double(fnum, val)
    if ckpt is not None:
        out += _bytes_field(6, ckpt.encode())
    return out


def model_metrics(evals: list[bytes], params: int | None = None, total: float | None = None) -> bytes:
    out = b"".join(_bytes_field(1, e) for e in evals)
    if params is not None:
        out += bytes([2 << 3 | 0]) + _varint(params)
    if total is not None:
        out += _double(3, total)
    return out


def payload(module_hash: str, epochs: int, matrix, ops: list[str], metrics: bytes) -> bytes:
    adj = "".join(str(int(x)) for x in np.asarray(matrix).ravel())
    return json.dumps([module_hash, epochs, adj, ",".join(ops), base64.b64encode(metrics).decode()]).encode()


# ---------------------------------------------------------------- the fixture
INCEPTION = (
    [[0, 1, 1, 1, 0, 1, 0],
     [0, 0, 0, 0, 0, 0, 1],
     [0, 0, 0, 0, 0, 0, 1],
     [0, 0, 0, 0, 1, 0, 0],
     [0, 0, 0, 0, 0, 0, 1],
     [0, 0, 0, 0, 0, 0, 1],
     [0, 0, 0, 0, 0, 0, 0]],
    ["input", "conv1x1-bn-relu", "conv3x3-bn-relu", "conv3x3-bn-relu", "conv3x3-bn-relu",
     "maxpool3x3", "output"],
)
CHAIN = ([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"])
SKIP = ([[0, 1], [0, 0]], ["input", "output"])


def key(spec) -> str:
    matrix, ops = spec
    return hash_module(np.array(matrix), [OPS[o] for o in ops])


@dataclass
class Fixture:
    path: Path
    payloads: list[bytes]
    offsets: list[int]  # header offset of each record
    expected: dict = field(default_factory=dict)


def build(path: Path) -> Fixture:
    """Three models, two budgets, up to 3 repeats, some fields deliberately absent.

    * INCEPTION: 12 and 108 epochs x 3 repeats, every field present.
    * CHAIN: 108 epochs x 2 repeats; no test accuracy in repeat 1; no trainable_parameters in
      its first record (present in the second); no halfway numbers.
    * SKIP: 108 epochs x 1 repeat, final validation accuracy only.
    Records are interleaved across models, as in a real file.
    """
    ki, kc, ks = key(INCEPTION), key(CHAIN), key(SKIP)
    recs: list[bytes] = []
    for rep in range(3):
        for ep in (12, 108):
            mm = model_metrics(
                [eval_data(epoch=0.0, time=0.0, train=0.1, valid=0.1, test=0.1),
                 eval_data(epoch=ep / 2, time=10.0 * ep + rep, train=0.5 + rep / 100, valid=0.45 + rep / 100,
                           test=0.44 + rep / 100),
                 eval_data(epoch=float(ep), time=20.0 * ep + rep, train=0.9 + rep / 100,
                           valid=0.85 + rep / 100 + ep / 10000, test=0.84 + rep / 100, ckpt=f"/m/{rep}")],
                params=1_234_567, total=30.0 * ep + rep)
            recs.append(payload(ki, ep, *INCEPTION, mm))
        if rep < 2:
            mm = model_metrics(
                [eval_data(epoch=0.0), eval_data(epoch=54.0),
                 eval_data(epoch=108.0, time=100.0 + rep, train=0.7, valid=0.6 + rep / 10,
                           test=None if rep == 1 else 0.55)],
                params=None if rep == 0 else 4242)
            recs.append(payload(kc, 108, *CHAIN, mm))
    mm = model_metrics([eval_data(epoch=0.0), eval_data(epoch=54.0), eval_data(epoch=108.0, valid=0.11)])
    recs.append(payload(ks, 108, *SKIP, mm))
    data = b""
    offsets = []
    for p in recs:
        offsets.append(len(data))
        data += frame(p)
    path.write_bytes(data)
    return Fixture(path, recs, offsets, {"inception": ki, "chain": kc, "skip": ks})
