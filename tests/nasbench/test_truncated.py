"""A NAS-Bench-101 file cut exactly at a record boundary passes every framing check (each record
is whole, every CRC right): it is refused when it has a published file's name but not its counts,
and loudly reported (the models lacking budgets named) otherwise."""
from __future__ import annotations

import logging
import shutil
import struct
from pathlib import Path

import pytest

from nasbench import NASBench101, NASBenchFormatError
from tests.conftest import need_data

from ._fixtures import CHAIN, INCEPTION, SKIP, eval_data, frame, key, model_metrics, payload

EPOCHS = (4, 12, 36, 108)


def _complete_file(path: Path) -> list[int]:
    """Three models, each with every budget (one repeat), model by model as the official
    generator writes them; returns the records' header offsets (and the end offset last)."""
    data, offsets = b"", []
    for spec in (INCEPTION, CHAIN, SKIP):
        for ep in EPOCHS:
            mm = model_metrics([eval_data(epoch=0.0), eval_data(epoch=ep / 2),
                                eval_data(epoch=float(ep), valid=0.5 + ep / 1000)], params=10)
            offsets.append(len(data))
            data += frame(payload(key(spec), ep, *spec, mm))
    offsets.append(len(data))
    path.write_bytes(data)
    return offsets


def test_complete_file_loads_without_a_warning(tmp_path, caplog):
    _complete_file(tmp_path / "f.tfrecord")
    with caplog.at_level(logging.WARNING, logger="nasbench"):
        nb = NASBench101(tmp_path / "f.tfrecord", cache=False)
    assert len(nb) == 3 and nb.load_info["incomplete_models"] == 0 and not caplog.records


def test_cut_at_a_record_boundary_is_reported_naming_what_is_missing(tmp_path, caplog):
    path = tmp_path / "f.tfrecord"
    offsets = _complete_file(path)
    path.write_bytes(path.read_bytes()[: offsets[10]])  # SKIP keeps its 4 and 12 epoch records only
    with caplog.at_level(logging.WARNING, logger="nasbench"):
        nb = NASBench101(path, cache=False)
    assert len(nb) == 3 and nb.load_info["incomplete_models"] == 1
    (rec,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    msg = rec.getMessage()
    assert "1 of 3 models lack records" in msg and key(SKIP) in msg and "has 4, 12 epochs, not 36, 108" in msg, msg
    assert "truncated at a record boundary" in msg
    with caplog.at_level(logging.WARNING, logger="nasbench"):  # the cache keeps the report
        caplog.clear()
        NASBench101(path, cache=tmp_path / "c")
        NASBench101(path, cache=tmp_path / "c")
    assert len([r for r in caplog.records if "lack records" in r.getMessage()]) == 2


def test_published_file_name_with_other_counts_is_refused(tmp_path):
    src = tmp_path / "f.tfrecord"
    _complete_file(src)
    path = tmp_path / "nasbench_only108.tfrecord"
    shutil.copy(src, path)
    with pytest.raises(NASBenchFormatError, match=r"expected 423,624 models in 1,270,872 records \(the published "
                                                  r"nasbench_only108.tfrecord\), found 3 models in 12 records"):
        NASBench101(path, cache=False)
    from nasbench.bench import KNOWN_FILES

    assert KNOWN_FILES["nasbench_full.tfrecord"] == (423_624, 5_083_488)


def _record_offset(path: Path, k: int) -> int:
    """Byte offset of record ``k``'s header (the framing read by hand)."""
    with open(path, "rb") as f:
        off = 0
        for _ in range(k):
            f.seek(off)
            (n,) = struct.unpack("<Q", f.read(8))
            off += 8 + 4 + n + 4
    return off


@pytest.mark.realdata
def test_real_dev_file_cut_at_a_record_boundary(tmp_path, caplog, capsys):
    dev = need_data("nasbench101/nb101_dev_20k.tfrecord")
    cut = _record_offset(dev, 40_002)  # 10,000 whole models, and 2 of the next one's 4 records
    with open(dev, "rb") as f:
        head = f.read(cut)
    named = tmp_path / "as-published" / "nb101_dev_20k.tfrecord"
    named.parent.mkdir()
    named.write_bytes(head)
    with pytest.raises(NASBenchFormatError, match=r"expected 20,001 models in 80,004 records .* found 10,001 models "
                                                  r"in 40,002 records: the file is truncated"):
        NASBench101(named, cache=False)
    other = tmp_path / "mine.tfrecord"
    other.write_bytes(head)
    with caplog.at_level(logging.WARNING, logger="nasbench"):
        nb = NASBench101(other, cache=False)
    assert len(nb) == 10_001 and nb.load_info["incomplete_models"] == 1
    assert any("1 of 10001 models lack records" in r.getMessage() and "has 4, 12 epochs, not 36, 108" in r.getMessage()
               for r in caplog.records)
    from gemgraph.app.cli import main

    assert main(["ablation", "nb101", "--data", str(named), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--data:" in err and "expected 20,001 models" in err, err
