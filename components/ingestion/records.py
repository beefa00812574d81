"""Rows of a format without lines (Parquet, TFRecord) as the chunks the CSV path checks.

Such a reader hands over each column as binary cell texts (what a CSV cell
would hold; empty for a missing value). `rows_as_chunk` pairs them with a
`LineChunk` whose lines are the rows as JSON objects of those texts: what the
quarantine shows and, without a split key, what the split hashes. A row's
"line" is its 1-based position in the file (such a format's `has_lines` is
False in `components.ingestion.formats.FORMATS`).
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa

from components.ingestion.chunks import Failures, ParsedChunk
from components.ingestion.lines import LineChunk


def _row_text(names: list[str], cells: tuple[bytes, ...]) -> bytes:
    shown = (cell.decode("utf-8", "backslashreplace") for cell in cells)
    return json.dumps(dict(zip(names, shown, strict=True)), ensure_ascii=False).encode("utf-8")


def rows_as_chunk(
    columns: dict[str, pa.Array], first_row: int, failures: Failures | None = None
) -> tuple[LineChunk, ParsedChunk]:
    """The rows held in `columns` (binary arrays of equal length) as a checked-ready chunk.

    Args:
      columns: Column name -> binary cell texts, one per row.
      first_row: Index in the file of the first row (0-based).
      failures: Rows the reader already rejected (their cells are ignored).
        Defaults to None: none.
    """
    names = list(columns)
    rows = len(next(iter(columns.values()))) if columns else 0
    texts = [c.to_pylist() for c in columns.values()]
    lines = [_row_text(names, row) for row in zip(*texts, strict=True)]
    lengths = np.array([len(line) for line in lines], dtype=np.int64)
    ends = np.cumsum(lengths + 1, dtype=np.int64) - 1
    chunk = LineChunk(b"\n".join(lines) + b"\n", ends - lengths, ends, first_row, 0)
    failures = failures or Failures(rows)
    good = np.flatnonzero(~failures.failed)
    parsed_columns = {n: c.take(pa.array(good)) for n, c in columns.items()}
    return chunk, ParsedChunk(good.astype(np.int64), parsed_columns, failures, 0)
