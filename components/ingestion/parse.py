"""Line-level checks and parsing of a chunk of CSV lines into columns of raw bytes.

Checks that concern a whole line run first, mostly vectorized with numpy
over the chunk's bytes: blank lines (skipped: they hold no row), lines over
`max_line_bytes`, bytes that are not UTF-8, the header line repeated
mid-file, and the number of fields.

Lines without quotes or stray carriage returns (nearly all of them) are
counted by their delimiters and, once they have the right number of fields,
parsed by pyarrow with quoting off: each such line is exactly one record, so
pyarrow's rows line up with the lines. The few lines with a quote (or a
carriage return inside) are parsed one by one with Python's csv module, the
parser CsvExampleGen uses, so quoting rules match it and a malformed quote
fails only its own line.
"""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv

from components.ingestion.header import FileLayout
from components.ingestion.lines import LineChunk
from components.ingestion.spec import IngestionConfig

_QUOTE = ord('"')
_CARRIAGE_RETURN = ord("\r")
_PREVIEW_CHARS = 40


def preview(value: bytes | str) -> str:
    """Returns a short printable form of a value, for a quarantine reason."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="backslashreplace")
    if len(value) > _PREVIEW_CHARS:
        value = value[:_PREVIEW_CHARS] + "..."
    return repr(value)


class Failures:
    """The first failed check of each line of a chunk: a code and a human reason."""

    def __init__(self, size: int):
        self.failed = np.zeros(size, dtype=bool)
        self.reasons: dict[int, tuple[str, str]] = {}

    def add(self, mask: np.ndarray, check: str, reason: Callable[[int], str], lines=None) -> None:
        """Records `check` for lines where `mask` is set and nothing failed before.

        Args:
          mask: One flag per line, or per entry of `lines`.
          check: Short code of the check, e.g. "not_a_number".
          reason: Builds the reason for an index into `mask`.
          lines: Line index of each entry of `mask`; None when `mask` is per line.
        """
        lines = np.arange(len(mask)) if lines is None else lines
        new = np.flatnonzero(mask & ~self.failed[lines])
        for i in new:
            self.reasons[int(lines[i])] = (check, reason(int(i)))
        self.failed[lines[new]] = True

    def reject(self, line: int, check: str, reason: str) -> None:
        """Records `check` for one line, unless it failed before."""
        if not self.failed[line]:
            self.reasons[line] = (check, reason)
            self.failed[line] = True


@dataclasses.dataclass
class ParsedChunk:
    """The lines of a chunk that passed the line checks, as columns of raw bytes.

    Attributes:
      rows: Line index (in the chunk) of each parsed row, increasing.
      columns: Column name -> binary array with one value per row, for the
        spec columns present in the file.
      failures: The lines that failed, with reasons.
      blank: Number of blank lines (not rows).
    """

    rows: np.ndarray
    columns: dict[str, pa.Array]
    failures: Failures
    blank: int


def _lines_of(positions: np.ndarray, chunk: LineChunk) -> np.ndarray:
    """Returns the index of the line holding each byte position (positions inside line text)."""
    lines = np.searchsorted(chunk.starts, positions, side="right") - 1
    return lines[positions < chunk.ends[lines]]


def _header_repeats(chunk: LineChunk, header: bytes) -> list[int]:
    found, position = [], chunk.data.find(header)
    while position >= 0:
        line = int(np.searchsorted(chunk.starts, position, side="right")) - 1
        if chunk.starts[line] == position and chunk.ends[line] == position + len(header):
            found.append(line)
        position = chunk.data.find(header, position + 1)
    return found


def check_utf8(chunk: LineChunk, failures: Failures) -> None:
    """Rejects each line holding bytes that are not UTF-8, naming the first one."""
    if chunk.data.isascii():
        return
    try:
        chunk.data.decode("utf-8")
        return
    except UnicodeDecodeError:
        pass
    for i in range(len(chunk)):
        line = chunk.line(i)
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as error:
            failures.reject(
                i,
                "not_utf8",
                f"byte 0x{line[error.start]:02x} at position {error.start + 1} of the line is "
                "not UTF-8; save the file as UTF-8",
            )


def _parse_plain(chunk: LineChunk, lines: np.ndarray, layout: FileLayout, config: IngestionConfig):
    """Parses unquoted lines with pyarrow; returns one binary array per present spec column."""
    if len(lines) == len(chunk) and np.array_equal(lines, np.arange(len(chunk))):
        buffer = chunk.data  # every line is parsed: no copy
    else:
        buffer = b"\n".join([chunk.line(i) for i in lines.tolist()])
    names = [f"f{i}" for i in range(layout.num_fields)]
    wanted = [f"f{i}" for i, _ in layout.present]
    # open_csv, not read_csv: on Python 3.10 read_csv scans the whole heap with
    # gc.get_referrers (a workaround for a CPython bug), ~50 ms a call once TensorFlow is loaded.
    reader = pa_csv.open_csv(
        pa.py_buffer(buffer),
        read_options=pa_csv.ReadOptions(
            column_names=names, use_threads=False, block_size=max(1 << 20, len(buffer) + 1)
        ),
        parse_options=pa_csv.ParseOptions(
            delimiter=config.delimiter, quote_char=False, newlines_in_values=False
        ),
        convert_options=pa_csv.ConvertOptions(
            include_columns=wanted,
            column_types={n: pa.binary() for n in wanted},
            strings_can_be_null=False,
            check_utf8=False,
        ),
    )
    table = reader.read_all()
    if table.num_rows != len(lines):
        raise RuntimeError(
            f"{layout.path}: pyarrow read {table.num_rows} rows from {len(lines)} lines at byte "
            f"{chunk.offset}; this is a bug in the line splitting."
        )
    return [table.column(n).combine_chunks() for n in wanted]


def _parse_special(chunk, lines, layout, config, failures) -> tuple[list[int], list[list[bytes]]]:
    """Parses lines with quotes or carriage returns with the csv module, one at a time."""
    parsed_lines, values = [], [[] for _ in layout.present]
    for i in lines.tolist():
        text = chunk.line(i).decode("utf-8")
        try:
            fields = next(csv.reader([text], delimiter=config.delimiter, strict=True))
        except csv.Error as error:
            reason = f"the line's quoting is malformed ({error}); a value may not span lines"
            failures.reject(i, "bad_quoting", reason)
            continue
        if len(fields) != layout.num_fields:
            reason = (
                f"{len(fields)} field(s) where the header has {layout.num_fields}: "
                "a truncated line or stray delimiters"
            )
            failures.reject(i, "field_count", reason)
            continue
        parsed_lines.append(i)
        for column, (position, _) in zip(values, layout.present, strict=True):
            column.append(fields[position].encode("utf-8"))
    return parsed_lines, values


def check_lines(chunk: LineChunk, config: IngestionConfig) -> tuple[Failures, np.ndarray]:
    """The checks every line-based format runs first: blank, too long, not UTF-8.

    Returns:
      The failures so far (a blank line counts as failed: it is skipped, not
      quarantined) and the mask of blank lines.
    """
    lengths = chunk.ends - chunk.starts
    blank = lengths == 0
    failures = Failures(len(chunk))
    failures.failed |= blank
    failures.add(
        lengths > config.max_line_bytes,
        "line_too_long",
        lambda i: (
            f"the line has {lengths[i]} bytes, more than max_line_bytes={config.max_line_bytes}"
        ),
    )
    check_utf8(chunk, failures)
    return failures, blank


def parse_chunk(chunk: LineChunk, layout: FileLayout, config: IngestionConfig) -> ParsedChunk:
    """Runs the line checks on a chunk and parses the lines that pass.

    Args:
      chunk: Whole lines of one file.
      layout: The file's header layout.
      config: The ingestion settings.

    Returns:
      The parsed rows, as binary columns, and the failed lines.
    """
    failures, blank = check_lines(chunk, config)
    repeats = np.zeros(len(chunk), dtype=bool)
    repeats[_header_repeats(chunk, layout.header_line)] = True
    failures.add(
        repeats,
        "header_repeated",
        lambda _: (
            "the header line appears again inside the file (files joined with their "
            "headers?); remove the repeated header line"
        ),
    )
    array = np.frombuffer(chunk.data, dtype=np.uint8)
    special = np.zeros(len(chunk), dtype=bool)
    if b'"' in chunk.data or b"\r" in chunk.data:
        marks = np.flatnonzero((array == _QUOTE) | (array == _CARRIAGE_RETURN))
        special[_lines_of(marks, chunk)] = True
    delimiters = np.flatnonzero(array == ord(config.delimiter))
    fields = np.searchsorted(delimiters, chunk.ends) - np.searchsorted(delimiters, chunk.starts) + 1
    failures.add(
        ~special & (fields != layout.num_fields),
        "field_count",
        lambda i: (
            f"{fields[i]} field(s) where the header has {layout.num_fields}: a truncated line, "
            f"stray {config.delimiter!r} or another delimiter"
        ),
    )
    plain = np.flatnonzero(~special & ~failures.failed)
    special_lines, special_values = _parse_special(
        chunk, np.flatnonzero(special & ~failures.failed), layout, config, failures
    )
    names = [spec.name for _, spec in layout.present]
    columns = _parse_plain(chunk, plain, layout, config) if len(plain) else None
    if not special_lines:
        rows = plain
        if columns is None:
            columns = [pa.array([], pa.binary()) for _ in names]
    else:
        extra = [pa.array(v, pa.binary()) for v in special_values]
        rows = np.concatenate((plain, np.array(special_lines, dtype=np.int64)))
        order = np.argsort(rows, kind="stable")
        rows = rows[order]
        if columns is None:
            columns = extra
        else:
            columns = [pa.concat_arrays([c, e]) for c, e in zip(columns, extra, strict=True)]
        columns = [c.take(pa.array(order)) for c in columns]
    return ParsedChunk(
        rows=rows.astype(np.int64),
        columns=dict(zip(names, columns, strict=True)),
        failures=failures,
        blank=int(np.count_nonzero(blank)),
    )
