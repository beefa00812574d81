"""The input formats ingestion reads, in one table: `FORMATS[name]`.

`name` is the data set spec's `source.format` (a value of
`components.dataset.SourceFormat`) and `IngestionConfig.format`. Every
format is one module of this package with the same four functions:

- `layout(path, config) -> FileLayout`: how the file's columns map to the
  spec (CSV: its header line; Parquet: its schema; JSON lines and TFRecord
  have no header, each row names its values). Raises `IngestionError` for
  a file that cannot be ingested at all, naming it.
- `plan(layout, config, first_shard) -> list[ByteRange]`: the file's units of
  parallel work (CSV and JSON lines: line-aligned byte ranges; Parquet: row
  groups; TFRecord: the whole file), numbered from `first_shard`.
- `read(unit, layout, config)`: yields the unit's rows as
  `(LineChunk, ParsedChunk)` pairs, raw cell texts of the spec's columns
  ready for the value checks, and `OversizedLine`s.
- `count_rows(layout) -> int`: the file's rows, without parsing them (the
  pipeline's preflight).

Ingestion (`ingest` plans, `reader` reads) and `pipeline.preflight` choose a
format only through this table. Adding a format = one new module here with
those four functions + one `Format` entry in `FORMATS`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

from components.ingestion.chunks import ParsedChunk
from components.ingestion.formats import csv, jsonl, parquet, tfrecord
from components.ingestion.layout import FileLayout
from components.ingestion.lines import ByteRange, LineChunk, OversizedLine
from components.ingestion.settings import IngestionConfig


@dataclasses.dataclass(frozen=True)
class Format:
    """One input format: how its files are laid out, cut into units of work, and read.

    Attributes:
      name: The format's name (`source.format` in a spec); a local folder
        given as input means its `*.<name>` files.
      layout: `(path, config) -> FileLayout`.
      plan: `(layout, config, first_shard) -> list[ByteRange]`.
      read: `(unit, layout, config)` -> iterator of `(LineChunk, ParsedChunk)`
        and `OversizedLine`.
      count_rows: `(layout) -> int`.
      has_lines: True when the file is lines of text: a quarantined row is
        named by its line number in the file (the header is line 1). False:
        by its 1-based position among the file's rows.
    """

    name: str
    layout: Callable[[str, IngestionConfig], FileLayout]
    plan: Callable[[FileLayout, IngestionConfig, int], list[ByteRange]]
    read: Callable[
        [ByteRange, FileLayout, IngestionConfig],
        Iterator[OversizedLine | tuple[LineChunk, ParsedChunk]],
    ]
    count_rows: Callable[[FileLayout], int]
    has_lines: bool


FORMATS: dict[str, Format] = {
    format_.name: format_
    for format_ in (
        Format("csv", csv.layout, csv.plan, csv.read, csv.count_rows, has_lines=True),
        Format("jsonl", jsonl.layout, jsonl.plan, jsonl.read, jsonl.count_rows, has_lines=True),
        Format(
            "parquet",
            parquet.layout,
            parquet.plan,
            parquet.read,
            parquet.count_rows,
            has_lines=False,
        ),
        Format(
            "tfrecord",
            tfrecord.layout,
            tfrecord.plan,
            tfrecord.read,
            tfrecord.count_rows,
            has_lines=False,
        ),
    )
}


def get_format(name: str) -> Format:
    """Returns the format called `name`.

    Raises:
      ValueError: no format has that name.
    """
    try:
        return FORMATS[name]
    except KeyError:
        raise ValueError(f"format must be one of {tuple(FORMATS)}, got {name!r}.") from None


__all__ = ["FORMATS", "Format", "get_format"]
