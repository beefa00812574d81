"""JSON lines input: one JSON object per line, its keys naming the columns.

There is no header (`components.ingestion.layout.keyed_layout`); the file is
cut into line-aligned byte ranges and read in chunks of whole lines, as CSV.

Each value becomes the text a CSV cell would hold, so the value checks, the
encoding and the quarantine are the ones CSV rows get: numbers keep their exact
JSON text (`1e3` stays `1e3`, no float round trip), strings their characters,
true / false become `true` / `false`, and null or an absent key an empty value.
A line that is not a JSON object, or holds a list or an object as a column's
value, fails alone, with its reason. A UTF-8 byte order mark at the start of
the file is not part of the first object.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import numpy as np
import pyarrow as pa

from components.ingestion.chunks import ParsedChunk, check_lines, preview
from components.ingestion.formats import line_based
from components.ingestion.layout import FileLayout, keyed_layout
from components.ingestion.lines import (
    ByteRange,
    LineChunk,
    OversizedLine,
)
from components.ingestion.settings import IngestionConfig

_LITERALS = {True: b"true", False: b"false"}
_BOM = "\ufeff"


def layout(path: str, config: IngestionConfig) -> FileLayout:
    """Every spec column, looked up by key in each line's object (no row is read).

    Raises:
      IngestionError: a ".gz" file is not GZIP.
    """
    line_based.check_readable(path)
    return keyed_layout(path, config)


plan = line_based.plan
count_rows = line_based.count_rows


def read(
    byte_range: ByteRange, file_layout: FileLayout, config: IngestionConfig
) -> Iterator[OversizedLine | tuple[LineChunk, ParsedChunk]]:
    """Yields the range's lines as (chunk of lines, its parsed columns), and oversized lines."""
    return line_based.read(byte_range, file_layout, config, parse_jsonl_chunk)


def decoder() -> json.JSONDecoder:
    """A JSON decoder keeping numbers as their text."""
    # Numbers as their own text: the value checks parse them as they parse CSV.
    return json.JSONDecoder(parse_float=str, parse_int=str, parse_constant=str)


def cell(value) -> bytes | None:
    """The raw text of one JSON value; None for a list or an object."""
    if value is None:
        return b""
    if isinstance(value, bool):
        return _LITERALS[value]
    if isinstance(value, str):
        return value.encode("utf-8")
    return None


def parse_jsonl_chunk(chunk: LineChunk, layout: FileLayout, config: IngestionConfig) -> ParsedChunk:
    """Runs the line checks on a chunk of JSON lines and parses the lines that pass.

    Args:
      chunk: Whole lines of one file.
      layout: The file's layout (every spec column, looked up by key).
      config: The ingestion settings.

    Returns:
      The parsed rows, as binary columns, and the failed lines.
    """
    failures, blank = check_lines(chunk, config)
    names = [spec.name for _, spec in layout.present]
    json_decoder = decoder()
    rows, values = [], [[] for _ in names]
    for i in np.flatnonzero(~failures.failed).tolist():
        text = chunk.line(i).decode("utf-8")
        if chunk.offset == 0 and i == 0:  # the file's first line
            text = text.removeprefix(_BOM)
        try:
            record = json_decoder.decode(text)
        except json.JSONDecodeError as error:
            failures.reject(i, "not_json", f"not valid JSON: {error.msg} at column {error.colno}")
            continue
        if not isinstance(record, dict):
            failures.reject(
                i, "not_json_object", f"a JSON {type(record).__name__}, not an object of columns"
            )
            continue
        cells = [cell(record.get(name)) for name in names]
        nested = next((n for n, c in zip(names, cells, strict=True) if c is None), None)
        if nested is not None:
            failures.reject(
                i,
                "not_one_value",
                # Shown as written (the decoder keeps numbers as text).
                f"column '{nested}': {preview(json.dumps(json.loads(text)[nested]))} is a "
                "list or an object, not one value",
            )
            continue
        rows.append(i)
        for column, text_of_cell in zip(values, cells, strict=True):
            column.append(text_of_cell)
    return ParsedChunk(
        rows=np.array(rows, dtype=np.int64),
        columns={n: pa.array(v, pa.binary()) for n, v in zip(names, values, strict=True)},
        failures=failures,
        blank=int(np.count_nonzero(blank)),
    )
