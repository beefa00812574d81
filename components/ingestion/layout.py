"""How one input file's columns map to the spec: the `FileLayout` every format's `layout` returns.

A format with a header (CSV's first line, Parquet's schema) maps the header's
columns to the spec's; a format whose rows name their values (JSON lines,
TFRecord) has no header, so every spec column is looked up by name in each
row (`keyed_layout`). Header problems stop ingestion before any row is read,
because they concern the whole file; an optional column may be absent from a
whole file (its Examples then lack the feature) and a column the spec does not
know is left out of the Examples; both are reported in the summary.
"""

from __future__ import annotations

import dataclasses

from components.ingestion.settings import IngestionConfig, RawColumn


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
      header: The file's column names in order; empty for a file without a header.
    """

    path: str
    header_line: bytes
    num_fields: int
    present: tuple[tuple[int, RawColumn], ...]
    ignored: tuple[str, ...]
    absent: tuple[str, ...]
    body_start: int
    header: tuple[str, ...] = ()


def header_layout(
    path: str,
    names: list[str],
    config: IngestionConfig,
    header_line: bytes = b"",
    body_start: int = 0,
) -> FileLayout:
    """The layout of a file whose header names `names`, in row order (already checked)."""
    position = {name: i for i, name in enumerate(names)}
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
        header=tuple(names),
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
