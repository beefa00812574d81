"""The first rows of a data file of any input format, as text cells: what `init-spec` profiles.

The format comes from the file's name (`format_of`): `.csv` (or `.tsv`),
`.jsonl`, `.parquet`, `.tfrecord`, each also with `.gz` for GZIP except
Parquet, which compresses inside. Every cell becomes the text ingestion
would check (a JSON number keeps its text, a Parquet float its shortest
form, a TFRecord feature its one value), so the draft spec describes the
values ingestion will see; an empty or absent value is "". A CSV file's
delimiter is guessed from its header line (`,`, `;`, a tab or `|`, the most
frequent), and a byte order mark is dropped.

A file this module cannot read raises one `IngestionError` naming the file,
the line or record when there is one, and what to do; never a codec's own
exception.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator

from components.dataset.profiling import DEFAULT_SAMPLE_ROWS, Sample
from components.dataset.source import SourceFormat
from components.ingestion import files
from components.ingestion.formats import csv as csv_format
from components.ingestion.formats import jsonl as jsonl_format
from components.ingestion.formats import tfrecord as tfrecord_format
from components.ingestion.settings import IngestionError

# File name endings (before any ".gz") and the format they mean.
_ENDINGS = {
    ".csv": SourceFormat.CSV,
    ".tsv": SourceFormat.CSV,
    ".jsonl": SourceFormat.JSONL,
    ".parquet": SourceFormat.PARQUET,
    ".tfrecord": SourceFormat.TFRECORD,
}
SUPPORTED = ".csv, .tsv, .jsonl, .parquet or .tfrecord (.gz for GZIP, except Parquet)"


def format_of(path: str) -> SourceFormat:
    """The input format a file's name says.

    Raises:
      IngestionError: the name ends in none of the known endings.
    """
    name = path.lower().removesuffix(files.GZIP_SUFFIX)
    for ending, file_format in _ENDINGS.items():
        if name.endswith(ending):
            if file_format is SourceFormat.PARQUET and files.is_gzip(path.lower()):
                break
            return file_format
    raise IngestionError(
        f"{path}: cannot tell the file's format from its name; name it {SUPPORTED}, "
        "after converting it to one of those formats if needed."
    )


def read_sample(path: str, sample_rows: int = DEFAULT_SAMPLE_ROWS) -> Sample:
    """Reads the first `sample_rows` rows of `path` as text cells, column by column.

    Args:
      path: The data file (its format from its name, see `format_of`).
      sample_rows: Rows read at most. Defaults to 100,000.

    Returns:
      The sample: every column the rows name, in their first-seen order (a
      CSV file's header order), with one cell per row.

    Raises:
      IngestionError: the format is unknown, the file is not of its format
        (not GZIP, not UTF-8, not Parquet, not TFRecord), or it has no
        header (CSV), a column named twice, or a row that cannot be read.
    """
    file_format = format_of(path)
    with files.gzip_errors_in_words(path):
        if file_format is SourceFormat.CSV:
            return _csv_sample(path, sample_rows)
        if file_format is SourceFormat.JSONL:
            return _jsonl_sample(path, sample_rows)
        if file_format is SourceFormat.PARQUET:
            return _parquet_sample(path, sample_rows)
        return _tfrecord_sample(path, sample_rows)


def _text_lines(path: str) -> Iterator[tuple[int, str]]:
    """The file's lines as (1-based number, text), a byte order mark dropped.

    Raises:
      IngestionError: a line is not UTF-8.
    """
    with files.open_content(path) as raw:
        for number, line in enumerate(raw, start=1):
            try:
                text = line.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as error:
                raise IngestionError(
                    f"{path}:{number}: not UTF-8 text (byte {error.start + 1} of the line); "
                    "save the file as UTF-8."
                ) from None
            yield number, text


def _csv_sample(path: str, sample_rows: int) -> Sample:
    numbered = _text_lines(path)
    first = next(numbered, None)
    if first is None or not first[1].strip():
        raise IngestionError(
            f"{path}: empty file (or a blank first line); a CSV file with a header row is needed."
        )
    header_text = first[1].rstrip("\r\n")
    delimiter = csv_format.guess_delimiter(header_text) or ","

    def texts():
        yield first[1]
        for _, text in numbered:
            yield text

    reader = csv.reader(texts(), delimiter=delimiter)
    header = next(reader)
    repeated = sorted({n for n in header if header.count(n) > 1})
    if repeated:
        raise IngestionError(f"{path}:1: columns named twice in the header: {repeated}.")
    columns: list[list[str]] = [[] for _ in header]
    try:
        for row in reader:
            if len(columns[0]) >= sample_rows:
                break
            if not row:
                continue
            if len(row) > len(header):
                raise IngestionError(
                    f"{path}:{reader.line_num}: {len(row)} cells but the header has "
                    f"{len(header)}; quote cells that contain {delimiter!r}."
                )
            row = row + [""] * (len(header) - len(row))  # a short row: trailing cells missing
            for cells, cell in zip(columns, row, strict=True):
                cells.append(cell)
    except csv.Error as error:
        raise IngestionError(
            f"{path}:{reader.line_num}: the line cannot be read as CSV ({error}); fix its quoting."
        ) from None
    return Sample(
        path=path,
        format=SourceFormat.CSV,
        columns=dict(zip(header, columns, strict=True)),
        delimiter=delimiter,
    )


def _keyed(rows: list[dict[str, str]]) -> dict[str, list[str]]:
    """Columns of rows that name their values; a value a row lacks is ""."""
    names = list(dict.fromkeys(name for row in rows for name in row))
    return {name: [row.get(name, "") for row in rows] for name in names}


def _jsonl_sample(path: str, sample_rows: int) -> Sample:
    decoder = jsonl_format.decoder()
    rows = []
    for number, text in _text_lines(path):
        if len(rows) >= sample_rows:
            break
        if not text.strip():
            continue
        try:
            record = decoder.decode(text)
        except json.JSONDecodeError as error:
            raise IngestionError(
                f"{path}:{number}: not valid JSON ({error.msg} at column {error.colno}); "
                "a JSON lines file holds one object per line."
            ) from None
        if not isinstance(record, dict):
            raise IngestionError(
                f"{path}:{number}: a JSON {type(record).__name__}, not an object of columns; "
                "a JSON lines file holds one object per line."
            )
        row = {}
        for name, value in record.items():
            cell = jsonl_format.cell(value)
            # A list or an object is not one value: as text, it profiles as a string column.
            row[name] = json.dumps(value) if cell is None else cell.decode("utf-8")
        rows.append(row)
    return Sample(path=path, format=SourceFormat.JSONL, columns=_keyed(rows))


def _parquet_sample(path: str, sample_rows: int) -> Sample:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from components.ingestion.formats import parquet as parquet_format

    try:
        with files.open_read(path) as f:
            parquet = pq.ParquetFile(f)
            schema = parquet.schema_arrow
            flat = [n for n in schema.names if not pa.types.is_nested(schema.field(n).type)]
            batches = parquet.iter_batches(batch_size=min(sample_rows, 65_536), columns=flat)
            columns: dict[str, list[str]] = {n: [] for n in schema.names}
            rows = 0
            for batch in batches:
                batch = batch.slice(0, sample_rows - rows)
                for name in flat:
                    text = parquet_format.as_text(batch.column(name))
                    columns[name] += [
                        v.decode("utf-8", "backslashreplace") for v in text.to_pylist()
                    ]
                rows += batch.num_rows
                if rows >= sample_rows:
                    break
    except (pa.ArrowException, OSError) as error:
        raise IngestionError(
            f"{path}: not a readable Parquet file ({error}). Check that the file is complete and "
            "is Parquet, or convert it to CSV."
        ) from None
    for name in schema.names:
        if name not in flat:  # lists or structs: no value per row, the draft ignores them
            columns[name] = [""] * rows
    return Sample(path=path, format=SourceFormat.PARQUET, columns=columns)


def _tfrecord_sample(path: str, sample_rows: int) -> Sample:
    from google.protobuf.message import DecodeError
    from tensorflow.core.example import example_pb2  # heavy: only for TFRecord files

    rows = []
    for number, record in enumerate(tfrecord_format.read_records(path), start=1):
        if len(rows) >= sample_rows:
            break
        try:
            example = example_pb2.Example.FromString(record)
        except DecodeError:
            raise IngestionError(
                f"{path}, record {number}: not a tf.train.Example; a TFRecord file of "
                "tf.train.Example records is needed."
            ) from None
        row = {}
        for name, feature in example.features.feature.items():
            value, count = tfrecord_format.cell(feature)
            row[name] = value.decode("utf-8", "backslashreplace") if count == 1 else ""
        rows.append(row)
    columns = _keyed(rows)
    return Sample(path=path, format=SourceFormat.TFRECORD, columns=dict(sorted(columns.items())))
