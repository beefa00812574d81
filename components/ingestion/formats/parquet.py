"""Parquet input: row groups in, the same raw text columns as CSV out.

A Parquet file is cut into its row groups, one unit of work each (the
`ByteRange` of a row group `g` is `[g, g + 1)`). Each value becomes the text
a CSV cell would hold, so the value checks, the encoding, the split and the
quarantine are the ones CSV rows get: integers and strings as they are, floats
in their shortest round-trip form, booleans as true / false, null as an empty
value. A row's "line" is its 1-based row number in the file
(`components.ingestion.records`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from components.ingestion import files
from components.ingestion.chunks import ParsedChunk
from components.ingestion.layout import FileLayout, header_layout
from components.ingestion.lines import ByteRange, LineChunk
from components.ingestion.records import rows_as_chunk
from components.ingestion.settings import IngestionConfig, IngestionError

ROWS_PER_CHUNK = 65_536


@contextlib.contextmanager
def _open(path: str) -> Iterator[pq.ParquetFile]:
    with files.open_read(path) as f:
        yield pq.ParquetFile(f)


def layout(path: str, config: IngestionConfig) -> FileLayout:
    """Maps the columns of a Parquet file's schema (its header) to `config.columns`.

    Raises:
      IngestionError: the file is not Parquet, a required column is missing,
        or a spec column holds lists or structs (not one value per row).
    """
    try:
        with _open(path) as parquet:
            schema = parquet.schema_arrow
    except (pa.ArrowInvalid, OSError) as error:
        raise IngestionError(f"{path}: not a readable Parquet file ({error}).") from None
    names = schema.names
    missing = [c.name for c in config.columns if c.required and c.name not in names]
    if missing:
        raise IngestionError(
            f"{path}: missing required column(s) {', '.join(map(repr, missing))}. The file has "
            f"{', '.join(map(repr, names))}. Add the column(s), or fix the spec."
        )
    nested = [
        c.name
        for c in config.columns
        if c.name in names and pa.types.is_nested(schema.field(c.name).type)
    ]
    if nested:
        raise IngestionError(
            f"{path}: column(s) {', '.join(map(repr, nested))} hold lists or structs, not one "
            "value per row; flatten them, or declare them `ignore` in the spec."
        )
    return header_layout(path, names, config)


def plan(file_layout: FileLayout, config: IngestionConfig, first_shard: int) -> list[ByteRange]:
    """One unit of work per row group of the file."""
    path = file_layout.path
    with _open(path) as parquet:
        groups = parquet.metadata.num_row_groups
    return [ByteRange(path, g, g + 1, first_shard + g) for g in range(groups)]


def count_rows(file_layout: FileLayout) -> int:
    """The file's rows, from its metadata."""
    with _open(file_layout.path) as parquet:
        return parquet.metadata.num_rows


def as_text(column: pa.Array) -> pa.Array:
    """Binary cell texts of a column; null becomes empty."""
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    if pa.types.is_boolean(column.type) or not (
        pa.types.is_string(column.type)
        or pa.types.is_large_string(column.type)
        or pa.types.is_binary(column.type)
        or pa.types.is_large_binary(column.type)
    ):
        column = pc.cast(column, pa.string())
    return pc.fill_null(pc.cast(column, pa.binary()), b"")


def read(
    byte_range: ByteRange, file_layout: FileLayout, config: IngestionConfig
) -> Iterator[tuple[LineChunk, ParsedChunk]]:
    """Yields the rows of one row group as (rows as text lines, parsed columns) chunks.

    See `components.ingestion.records.rows_as_chunk`.
    """
    with _open(byte_range.path) as parquet:
        metadata = parquet.metadata
        first = sum(metadata.row_group(g).num_rows for g in range(byte_range.start))
        names = [spec.name for _, spec in file_layout.present]
        for batch in parquet.iter_batches(
            batch_size=ROWS_PER_CHUNK, row_groups=[byte_range.start], columns=names
        ):
            yield rows_as_chunk({n: as_text(batch.column(n)) for n in names}, first)
            first += batch.num_rows
