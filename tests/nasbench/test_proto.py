import math

import pytest

from nasbench._proto import PROTO_PATH, message_classes, model_metrics_class, parse_proto

from ._fixtures import eval_data, model_metrics


def test_schema_matches_the_official_layout():
    fdp = parse_proto(PROTO_PATH.read_text(), PROTO_PATH.name)
    msgs = {m.name: {f.name: (f.number, f.type, f.label) for f in m.field} for m in fdp.message_type}
    # FieldDescriptorProto: TYPE_DOUBLE=1, TYPE_INT32=5, TYPE_STRING=9, TYPE_MESSAGE=11;
    # LABEL_OPTIONAL=1, LABEL_REPEATED=3
    assert msgs["ModelMetrics"] == {"evaluation_data": (1, 11, 3), "trainable_parameters": (2, 5, 1),
                                    "total_time": (3, 1, 1)}
    assert msgs["EvaluationData"] == {
        "current_epoch": (1, 1, 1), "training_time": (2, 1, 1), "train_accuracy": (3, 1, 1),
        "validation_accuracy": (4, 1, 1), "test_accuracy": (5, 1, 1), "checkpoint_path": (6, 9, 1)}


def test_decodes_hand_encoded_message_and_absent_fields_are_nan():
    mm = model_metrics_class()
    raw = model_metrics([eval_data(epoch=0.0), eval_data(epoch=2.0, valid=0.25),
                         eval_data(epoch=4.0, time=12.5, valid=0.5, ckpt="/x")], params=123)
    msg = mm.FromString(raw)
    assert msg.trainable_parameters == 123 and msg.HasField("trainable_parameters")
    assert math.isnan(msg.total_time) and not msg.HasField("total_time")
    final = msg.evaluation_data[2]
    assert (final.current_epoch, final.training_time, final.validation_accuracy) == (4.0, 12.5, 0.5)
    assert math.isnan(final.test_accuracy) and math.isnan(final.train_accuracy)
    assert final.checkpoint_path == "/x"


def test_private_pool_does_not_touch_the_default_pool():
    from google.protobuf import descriptor_pool

    with pytest.raises(KeyError):
        descriptor_pool.Default().FindMessageTypeByName("gemgraph.nasbench.ModelMetrics")


@pytest.mark.parametrize("text, match", [
    ('syntax = "proto3"; message A { optional int32 x = 1; }', "proto2"),
    ('syntax = "proto2"; enum E { A = 0; }', "unsupported top-level"),
    ('syntax = "proto2"; message A { map<int32, int32> m = 1; }', "cannot read"),
    ('syntax = "proto2"; message A { oneof o { int32 x = 1; } }', "unsupported statement"),
    ('syntax = "proto2"; message A { optional B b = 1; }', "unknown type"),
    ('syntax = "proto2"; message A { optional int32 x = 1 [packed = true]; }', "unsupported option"),
    ('syntax = "proto2"; message A { optional int32 x = 1', "unexpected end"),
])
def test_unsupported_proto_is_rejected(text, match):
    with pytest.raises(ValueError, match=match):
        message_classes(text)


def test_nested_and_qualified_types_resolve():
    cls = message_classes('syntax = "proto2"; package p.q; message A { message B { optional int32 x = 1; } '
                          'repeated B bs = 1; optional A.B one = 2; }')["A"]
    msg = cls.FromString(b"\x0a\x02\x08\x07\x12\x02\x08\x09")
    assert msg.bs[0].x == 7 and msg.one.x == 9
