"""TFRecord input: files of serialized `tf.train.Example`s, one unit of work per file.

TFRecord files cannot be cut at arbitrary offsets, so each file is one unit
of work (its `ByteRange` is `[0, 1)`); files ending in ".gz" are read as GZIP.
Records are framed by hand (length, CRC, data, CRC; the CRCs are not
verified), so a worker needs no TensorFlow runtime to read them.

Each spec column's feature becomes the text a CSV cell would hold, so the
checks, the encoding, the split and the quarantine are the CSV ones: a
bytes value as it is (an encoded image stays binary), an int in decimal, a
float in the shortest form that reads back to the same float32; a feature
that is absent or has no value is empty. A record that is not an Example, or
a feature with several values, fails alone. Rows are numbered by their
position in the file (`components.ingestion.records`).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

import numpy as np
import pyarrow as pa

from components.ingestion import files
from components.ingestion.chunks import Failures, ParsedChunk
from components.ingestion.layout import FileLayout, keyed_layout
from components.ingestion.lines import ByteRange, LineChunk
from components.ingestion.records import rows_as_chunk
from components.ingestion.settings import IngestionConfig, IngestionError

RECORDS_PER_CHUNK = 4_096
_HEADER = struct.Struct("<QI")  # record length, its masked CRC


def read_records(path: str) -> Iterator[bytes]:
    """Yields the records of a TFRecord file.

    Raises:
      IngestionError: the file ends inside a record (truncated or not TFRecord),
        or a ".gz" file is not GZIP.
    """
    with files.gzip_errors_in_words(path), files.open_content(path) as f:
        number = 0
        while True:
            header = f.read(_HEADER.size)
            if not header:
                return
            number += 1
            if len(header) < _HEADER.size:
                raise IngestionError(
                    f"{path}: record {number} is cut short; is it a TFRecord file?"
                )
            (length, _) = _HEADER.unpack(header)
            data = f.read(length + 4)
            if len(data) < length + 4:
                raise IngestionError(
                    f"{path}: record {number} claims {length} bytes but the file ends first "
                    "(truncated, or not a TFRecord file; GZIP files must end in .gz)."
                )
            yield data[:length]


def layout(path: str, config: IngestionConfig) -> FileLayout:
    """Every spec column, looked up by feature name in each Example (nothing is read)."""
    return keyed_layout(path, config)


def plan(file_layout: FileLayout, config: IngestionConfig, first_shard: int) -> list[ByteRange]:
    """A TFRecord file is one unit of work."""
    return [ByteRange(file_layout.path, 0, 1, first_shard)]


def count_rows(file_layout: FileLayout) -> int:
    """The file's records.

    Raises:
      IngestionError: the file ends inside a record.
    """
    return sum(1 for _ in read_records(file_layout.path))


def _float_text(value: float) -> bytes:
    # The shortest decimal that reads back to the same float32.
    return np.format_float_positional(np.float32(value), unique=True, trim="-").encode()


def cell(feature) -> tuple[bytes, int]:
    """The text of a feature's value (b"" when it has none), and how many values it has."""
    kind = feature.WhichOneof("kind")
    values = getattr(feature, kind).value if kind else ()
    if len(values) != 1:
        return b"", len(values)
    value = values[0]
    if kind == "bytes_list":
        return value, 1
    if kind == "int64_list":
        return str(value).encode(), 1
    return _float_text(value), 1


def read(
    byte_range: ByteRange, file_layout: FileLayout, config: IngestionConfig
) -> Iterator[tuple[LineChunk, ParsedChunk]]:
    """Yields the file's Examples as chunks of rows (see `rows_as_chunk`)."""
    from tensorflow.core.example import example_pb2  # heavy: only a worker reading TFRecords

    names = [spec.name for _, spec in file_layout.present]
    first = 0
    records = read_records(byte_range.path)
    while True:
        batch = [record for _, record in zip(range(RECORDS_PER_CHUNK), records, strict=False)]
        if not batch:
            return
        failures = Failures(len(batch))
        cells = {name: [] for name in names}
        for i, record in enumerate(batch):
            row = [b""] * len(names)
            try:
                example = example_pb2.Example.FromString(record)
            except Exception:  # noqa: BLE001 - protobuf's DecodeError, by any name
                failures.reject(i, "not_an_example", "the record is not a tf.train.Example")
            else:
                features = example.features.feature
                for k, name in enumerate(names):
                    row[k], count = cell(features[name]) if name in features else (b"", 0)
                    if count > 1:
                        failures.reject(
                            i, "not_one_value", f"column '{name}': {count} values, not one"
                        )
            for name, value in zip(names, row, strict=True):
                cells[name].append(value)
        columns = {n: pa.array(v, pa.binary()) for n, v in cells.items()}
        yield rows_as_chunk(columns, first, failures)
        first += len(batch)
