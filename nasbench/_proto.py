r"""Build protobuf message classes from a ``.proto`` file at run time, without ``protoc``.

The NAS-Bench-101 payload schema (:file:`nasbench/model_metrics.proto`) is small: proto2
messages with ``optional`` / ``required`` / ``repeated`` fields of scalar or message type and
an optional ``[default = ...]``. This module reads exactly that subset of the ``.proto``
language into a ``FileDescriptorProto``, registers it in a private ``DescriptorPool`` (so it
can never clash with another copy of the schema, e.g. the official ``nasbench`` package's)
and returns the generated message classes. Everything else in the language (enums, oneofs,
maps, imports, services) is rejected with a clear error rather than silently ignored.
"""
from __future__ import annotations

import functools
import re
from pathlib import Path

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

__all__ = ["parse_proto", "message_classes", "model_metrics_class"]

_F = descriptor_pb2.FieldDescriptorProto
_SCALARS = {
    "double": _F.TYPE_DOUBLE, "float": _F.TYPE_FLOAT, "int32": _F.TYPE_INT32,
    "int64": _F.TYPE_INT64, "uint32": _F.TYPE_UINT32, "uint64": _F.TYPE_UINT64,
    "sint32": _F.TYPE_SINT32, "sint64": _F.TYPE_SINT64, "fixed32": _F.TYPE_FIXED32,
    "fixed64": _F.TYPE_FIXED64, "sfixed32": _F.TYPE_SFIXED32, "sfixed64": _F.TYPE_SFIXED64,
    "bool": _F.TYPE_BOOL, "string": _F.TYPE_STRING, "bytes": _F.TYPE_BYTES,
}
_LABELS = {"optional": _F.LABEL_OPTIONAL, "required": _F.LABEL_REQUIRED,
           "repeated": _F.LABEL_REPEATED}
_TOKEN = re.compile(r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<word>[A-Za-z_][\w.]*|-?[\w.+-]+)'
                    r'|(?P<punct>[{}=;\[\],]))')
PROTO_PATH = Path(__file__).with_name("model_metrics.proto")


def _strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def _tokens(text: str) -> list[str]:
    text = _strip_comments(text)
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise ValueError(f".proto: cannot read {text[pos:pos + 30].strip()!r}")
        out.append(m.group(m.lastgroup))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, tokens: list[str], name: str) -> None:
        self.toks, self.i, self.name = tokens, 0, name

    def peek(self) -> str | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, expected: str | None = None) -> str:
        tok = self.peek()
        if tok is None:
            raise ValueError(f"{self.name}: unexpected end of file" + (f", expected {expected!r}" if expected else ""))
        if expected is not None and tok != expected:
            raise ValueError(f"{self.name}: expected {expected!r}, got {tok!r}")
        self.i += 1
        return tok

    def file(self) -> descriptor_pb2.FileDescriptorProto:
        fdp = descriptor_pb2.FileDescriptorProto(name=self.name, syntax="proto2")
        while self.peek() is not None:
            tok = self.take()
            if tok == "syntax":
                self.take("=")
                syntax = self.take().strip('"')
                self.take(";")
                if syntax != "proto2":
                    raise ValueError(f"{self.name}: only syntax = \"proto2\" is supported, got {syntax!r}")
            elif tok == "package":
                fdp.package = self.take()
                self.take(";")
            elif tok == "message":
                self.message(fdp.message_type.add())
            else:
                raise ValueError(f"{self.name}: unsupported top-level statement {tok!r}")
        return fdp

    def message(self, msg: descriptor_pb2.DescriptorProto) -> None:
        msg.name = self.take()
        self.take("{")
        while (tok := self.take()) != "}":
            if tok == "message":
                self.message(msg.nested_type.add())
                continue
            if tok not in _LABELS:
                raise ValueError(f"{self.name}: message {msg.name}: unsupported statement {tok!r} "
                                 "(expected optional / required / repeated field)")
            field = msg.field.add(label=_LABELS[tok])
            type_name = self.take()
            field.name = self.take()
            self.take("=")
            field.number = int(self.take())
            if type_name in _SCALARS:
                field.type = _SCALARS[type_name]
            else:
                field.type = _F.TYPE_MESSAGE
                field.type_name = type_name  # resolved in _resolve()
            if self.peek() == "[":
                self.take("[")
                while True:
                    key = self.take()
                    self.take("=")
                    value = self.take()
                    if key != "default":
                        raise ValueError(f"{self.name}: field {field.name}: unsupported option {key!r}")
                    field.default_value = value.strip('"')
                    if self.take() == "]":
                        break
            self.take(";")


def _resolve(fdp: descriptor_pb2.FileDescriptorProto) -> None:
    """Make message type names fully qualified (``.package.Name``), checking they exist."""
    known: set[str] = set()

    def collect(msgs, prefix):
        for m in msgs:
            known.add(f"{prefix}.{m.name}")
            collect(m.nested_type, f"{prefix}.{m.name}")

    root = f".{fdp.package}" if fdp.package else ""
    collect(fdp.message_type, root)

    def fix(msgs, scope):
        for m in msgs:
            inner = f"{scope}.{m.name}"
            for f in m.field:
                if f.type != _F.TYPE_MESSAGE or f.type_name.startswith("."):
                    continue
                # innermost scope first, as protoc does
                parts = inner.split(".")
                for k in range(len(parts), 0, -1):
                    cand = ".".join(parts[:k] + [f.type_name])
                    if cand in known:
                        f.type_name = cand
                        break
                else:
                    raise ValueError(f"{fdp.name}: field {m.name}.{f.name}: unknown type {f.type_name!r}")
            fix(m.nested_type, inner)

    fix(fdp.message_type, root)


def parse_proto(text: str, name: str = "schema.proto") -> descriptor_pb2.FileDescriptorProto:
    """Parse the supported subset of a proto2 ``.proto`` text into a ``FileDescriptorProto``.

    Args:
        text: the ``.proto`` source.
        name: file name recorded in the descriptor (and used in error messages).

    Raises:
        ValueError: on syntax outside the supported subset.
    """
    fdp = _Parser(_tokens(text), name).file()
    _resolve(fdp)
    return fdp


def message_classes(text: str, name: str = "schema.proto") -> dict[str, type]:
    """Message classes (by short name) for the messages of a ``.proto`` text.

    The descriptor goes into a fresh private ``DescriptorPool``: no global registry is touched.
    """
    fdp = parse_proto(text, name)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    out = {}
    for m in fdp.message_type:
        desc = pool.FindMessageTypeByName(f"{fdp.package}.{m.name}" if fdp.package else m.name)
        if hasattr(message_factory, "GetMessageClass"):
            out[m.name] = message_factory.GetMessageClass(desc)
        else:  # protobuf < 4.22
            out[m.name] = message_factory.MessageFactory(pool).GetPrototype(desc)
    return out


@functools.lru_cache(maxsize=1)
def model_metrics_class() -> type:
    """The ``ModelMetrics`` message class built from :file:`nasbench/model_metrics.proto`."""
    return message_classes(PROTO_PATH.read_text(encoding="utf-8"), PROTO_PATH.name)["ModelMetrics"]
