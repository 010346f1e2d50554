"""Exception types of the :mod:`nasbench` package."""
from __future__ import annotations

__all__ = ["NASBenchFormatError"]


class NASBenchFormatError(ValueError):
    r"""A NAS-Bench-101 file (or cache) is malformed.

    Raised for every defect of an input file: a truncated record, a corrupt length field, a
    CRC mismatch, bad JSON, bad base64, an undecodable ``ModelMetrics`` protobuf, an unknown
    operation name or an impossible adjacency matrix. The message names the record index and
    its byte offset in the file whenever they are known; both are also kept as attributes.

    Args:
        message: what is wrong.
        record: 0-based index of the offending record, if known.
        offset: byte offset of the offending record's header in the file, if known.
        path: the file, if known.
    """

    def __init__(self, message: str, *, record: int | None = None, offset: int | None = None,
                 path: str | None = None) -> None:
        where = []
        if path is not None:
            where.append(str(path))
        if record is not None:
            where.append(f"record {record}")
        if offset is not None:
            where.append(f"byte offset {offset}")
        full = f"{', '.join(where)}: {message}" if where else message
        super().__init__(full)
        self.message = message
        self.record = record
        self.offset = offset
        self.path = path

    def __reduce__(self):  # keep the keyword-only context through pickling (multiprocessing)
        return (_rebuild, (self.message, self.record, self.offset, self.path))


def _rebuild(message: str, record: int | None, offset: int | None, path: str | None) -> NASBenchFormatError:
    return NASBenchFormatError(message, record=record, offset=offset, path=path)
