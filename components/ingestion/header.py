"""Reads and checks each input file's header line; maps its columns to the spec.

Header problems stop ingestion before any row is read, because they concern
the whole file: an empty file, a header that is not UTF-8, a repeated column
name, a missing required column. An optional column may be absent from a
whole file (its Examples then lack the feature) and a column the spec does
not know is left out of the Examples; both are reported in the summary.
"""

from __future__ import annotations

import csv
import dataclasses

from components.ingestion.lines import read_first_line
from components.ingestion.spec import ColumnSpec, IngestionConfig, IngestionError

_OTHER_DELIMITERS = (",", ";", "\t", "|")
_BOM = b"\xef\xbb\xbf"


@dataclasses.dataclass(frozen=True)
class FileLayout:
    """How one file's columns map to the spec.

    Attributes:
      path: The file.
      header_line: The header's bytes (without line ending), to spot it repeated.
      num_fields: Fields per row.
      present: (position in the row, spec) of each spec column in the header, in row order.
      ignored: Header columns not in the spec.
      absent: Optional spec columns missing from the header.
      body_start: Byte offset of the first data line.
    """

    path: str
    header_line: bytes
    num_fields: int
    present: tuple[tuple[int, ColumnSpec], ...]
    ignored: tuple[str, ...]
    absent: tuple[str, ...]
    body_start: int


def _delimiter_hint(header: str, delimiter: str) -> str:
    others = [d for d in _OTHER_DELIMITERS if d != delimiter and d in header]
    if not others:
        return ""
    return (
        f" The header contains {others[0]!r}: if that is the file's delimiter, pass "
        f"delimiter={others[0]!r} (the configured delimiter is {delimiter!r})."
    )


def keyed_layout(path: str, config: IngestionConfig) -> FileLayout:
    """The layout of a file without header whose rows name their values (JSON lines,
    TFRecord): every spec column is looked up by name in each row."""
    return FileLayout(
        path=path,
        header_line=b"",
        num_fields=len(config.columns),
        present=tuple(enumerate(config.columns)),
        ignored=(),
        absent=(),
        body_start=0,
    )


def read_layout(path: str, config: IngestionConfig) -> FileLayout:
    """Reads the header of `path` and maps its columns to `config.columns`.

    Args:
      path: The CSV file.
      config: The ingestion settings (columns and delimiter).

    Returns:
      The file's layout.

    JSON lines and TFRecord files have no header (`keyed_layout`); a Parquet
    file's schema is its header.

    Raises:
      IngestionError: the file is empty, the header is not UTF-8 or has a
        repeated name, or a required column is missing (naming it).
    """
    if config.format == "parquet":
        from components.ingestion.parquet import read_parquet_layout

        return read_parquet_layout(path, config)
    if config.format in ("jsonl", "tfrecord"):
        return keyed_layout(path, config)
    try:
        header_line, body_start = read_first_line(path, config.max_line_bytes)
    except ValueError as error:
        raise IngestionError(f"{error} Is this a CSV file with a header line?") from None
    if not header_line:
        raise IngestionError(
            f"{path}: the file is empty (or starts with a blank line); expected a header "
            "line naming the columns. Remove the file from the input or regenerate it."
        )
    if header_line.startswith(_BOM):  # spreadsheet exports often start with one
        header_line = header_line[len(_BOM) :]
    try:
        text = header_line.decode("utf-8")
    except UnicodeDecodeError as error:
        raise IngestionError(
            f"{path}, line 1: the header is not UTF-8 (byte {error.start + 1}); "
            "save the file as UTF-8."
        ) from None
    names = next(csv.reader([text], delimiter=config.delimiter))
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise IngestionError(
            f"{path}, line 1: column name(s) {', '.join(map(repr, repeated))} appear more than "
            "once in the header; rename or remove the copies."
        )
    missing = [c.name for c in config.columns if c.required and c.name not in names]
    if missing:
        raise IngestionError(
            f"{path}, line 1: missing required column(s) {', '.join(map(repr, missing))}. "
            f"The header has {', '.join(map(repr, names))}. Add the column(s) to the file, or "
            "mark them not required in the column spec." + _delimiter_hint(text, config.delimiter)
        )
    position = {name: i for i, name in enumerate(names)}
    if not any(c.name in position for c in config.columns):
        raise IngestionError(
            f"{path}, line 1: none of the expected columns is in the header "
            f"({', '.join(map(repr, names))}); is this the right file?"
            + _delimiter_hint(text, config.delimiter)
        )
    present = sorted(
        ((position[c.name], c) for c in config.columns if c.name in position), key=lambda p: p[0]
    )
    known = {c.name for c in config.columns}
    return FileLayout(
        path=path,
        header_line=header_line,
        num_fields=len(names),
        present=tuple(present),
        ignored=tuple(n for n in names if n not in known),
        absent=tuple(c.name for c in config.columns if c.name not in position),
        body_start=body_start,
    )
