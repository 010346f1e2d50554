"""Every kind of malformed payload raises NASBenchFormatError naming record and offset."""
import base64
import json

import pytest

from nasbench import NASBench101, NASBenchFormatError

from ._fixtures import CHAIN, SKIP, build, eval_data, frame, key, model_metrics, payload

GOOD_MM = model_metrics([eval_data(epoch=0.0), eval_data(epoch=54.0), eval_data(epoch=108.0, valid=0.5)])


def _with_record(fx, index: int, bad: bytes):
    """The fixture file with record ``index`` replaced by ``bad`` (correctly framed)."""
    pays = list(fx.payloads)
    pays[index] = bad
    fx.path.write_bytes(b"".join(frame(p) for p in pays))
    offset = sum(16 + len(p) for p in pays[:index])
    return offset


def _spec_payload(**overrides):
    fields = {"hash": key(CHAIN), "epochs": 108, "adj": "010001000", "ops": ",".join(CHAIN[1]),
              "metrics": base64.b64encode(GOOD_MM).decode()}
    fields.update(overrides)
    return json.dumps([fields["hash"], fields["epochs"], fields["adj"], fields["ops"], fields["metrics"]]).encode()


CASES = {
    "bad json": (b'["abc", 108, ', "bad JSON"),
    "not utf8": (b'["\xff\xfe"]', "bad JSON"),
    "not a list": (b'{"hash": 1}', "expected a JSON list"),
    "short list": (b'["a", 1]', "expected a JSON list"),
    "bad hash": (_spec_payload(hash="XYZ"), "module_hash"),
    "upper hash": (_spec_payload(hash=key(CHAIN).upper()), "module_hash"),
    "bad epochs": (_spec_payload(epochs=0), "epochs"),
    "float epochs": (_spec_payload(epochs=10.5), "epochs"),
    "bool epochs": (_spec_payload(epochs=True), "epochs"),
    "adj not str": (json.dumps([key(CHAIN), 108, 10, "input,output", "AA=="]).encode(),
                    "raw_adjacency must be a string"),
    "adj chars": (_spec_payload(adj="01a001000"), "0/1"),
    "adj size": (_spec_payload(adj="01000"), "V\\*V"),
    "adj too big": (_spec_payload(adj="0" * 64), "V\\*V"),
    "adj lower": (_spec_payload(adj="010101000"), "upper-triangular"),
    "unknown op": (_spec_payload(ops="input,conv5x5-bn-relu,output"), "unknown operation name 'conv5x5-bn-relu'"),
    "no input": (_spec_payload(ops="conv3x3-bn-relu,conv3x3-bn-relu,output"), "start with 'input'"),
    "op count": (_spec_payload(hash="f" * 32, ops="input,output"), "3 vertices but raw_operations lists 2"),
    "bad base64": (_spec_payload(metrics="abc$"), "bad base64"),
    "bad padding": (_spec_payload(metrics="abcde"), "bad base64"),
    "bad protobuf": (_spec_payload(metrics=base64.b64encode(b"\x0a\xff\xff\xff").decode()), "not a valid ModelMetrics"),
    "wrong wire type": (_spec_payload(metrics=base64.b64encode(b"\x0d\x00").decode()), "not a valid ModelMetrics"),
    "two evals": (_spec_payload(metrics=base64.b64encode(model_metrics([b"", b""])).decode()), "2 evaluation_data"),
    "neg params": (_spec_payload(metrics=base64.b64encode(model_metrics([b"", b"", b""], params=2**32 - 5)).decode()),
                   "negative trainable_parameters"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_payload(case, tmp_path):
    fx = build(tmp_path / "f.tfrecord")
    bad, match = CASES[case]
    offset = _with_record(fx, 4, bad)
    with pytest.raises(NASBenchFormatError, match=match) as ei:
        NASBench101(fx.path, cache=False)
    err = ei.value
    assert isinstance(err, ValueError)
    assert (err.record, err.offset) == (4, offset)
    assert f"record 4, byte offset {offset}" in str(err) and str(fx.path) in str(err)


def test_same_hash_with_a_different_spec_is_rejected(tmp_path):
    fx = build(tmp_path / "f.tfrecord")
    chain_hash = fx.expected["chain"]
    wrong = payload(chain_hash, 108, *SKIP, GOOD_MM)
    pays = fx.payloads + [wrong]
    fx.path.write_bytes(b"".join(frame(p) for p in pays))
    with pytest.raises(NASBenchFormatError, match="record 9.*different adjacency"):
        NASBench101(fx.path, cache=False)


def test_empty_file(tmp_path):
    p = tmp_path / "empty.tfrecord"
    p.write_bytes(b"")
    with pytest.raises(NASBenchFormatError, match="no records"):
        NASBench101(p, cache=False)


def test_framing_errors_surface_through_the_api(tmp_path):
    fx = build(tmp_path / "f.tfrecord")
    data = bytearray(fx.path.read_bytes())
    data[fx.offsets[6] + 20] ^= 4
    fx.path.write_bytes(bytes(data))
    with pytest.raises(NASBenchFormatError, match=rf"record 6, byte offset {fx.offsets[6]}: data CRC mismatch"):
        NASBench101(fx.path, cache=False)
    data[fx.offsets[6] + 20] ^= 4
    fx.path.write_bytes(bytes(data[: fx.offsets[8] + 30]))
    with pytest.raises(NASBenchFormatError, match="truncated"):
        NASBench101(fx.path, cache=False, verify_crc=False)


def test_missing_file_is_not_a_format_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        NASBench101(tmp_path / "nope.tfrecord")


def test_format_error_survives_pickling():
    import pickle

    err = NASBenchFormatError("bad thing", record=3, offset=99, path="f.tfrecord")
    back = pickle.loads(pickle.dumps(err))
    assert str(back) == str(err) == "f.tfrecord, record 3, byte offset 99: bad thing"
    assert (back.record, back.offset, back.path) == (3, 99, "f.tfrecord")
