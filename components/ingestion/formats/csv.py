"""CSV input: a header line naming the columns, then one row per line.

`layout` reads and checks the header (an empty file, a header that is not
UTF-8, a repeated column name, a missing required column stop ingestion
before any row is read). `plan` cuts the body into line-aligned byte ranges
(`components.ingestion.lines`); `read` streams a range as chunks of whole
lines and parses each.

Parsing: checks that concern a whole line run first, mostly vectorized with
numpy over the chunk's bytes: blank lines (skipped: they hold no row), lines
over `max_line_bytes`, bytes that are not UTF-8, the header line repeated
mid-file, and the number of fields. Lines without quotes or stray carriage
returns (nearly all of them) are counted by their delimiters and, once they
have the right number of fields, parsed by pyarrow with quoting off: each
such line is exactly one record, so pyarrow's rows line up with the lines.
The few lines with a quote (or a carriage return inside) are parsed one by
one with Python's csv module, the parser CsvExampleGen uses, so quoting rules
match it and a malformed quote fails only its own line.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv

from components.ingestion import files
from components.ingestion.chunks import ParsedChunk, check_lines
from components.ingestion.formats import line_based
from components.ingestion.layout import FileLayout, header_layout
from components.ingestion.lines import (
    ByteRange,
    LineChunk,
    OversizedLine,
    read_first_line,
)
from components.ingestion.settings import IngestionConfig, IngestionError

_QUOTE = ord('"')
_CARRIAGE_RETURN = ord("\r")
DELIMITERS = (",", ";", "\t", "|")  # the ones `guess_delimiter` recognizes
_BOM = b"\xef\xbb\xbf"


def guess_delimiter(header: str) -> str | None:
    """The delimiter a header line seems to use: the candidate it holds most often, else None."""
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])  # ties: the earlier candidate
    return best if counts[best] else None


def delimiter_hint(header: str, delimiter: str, spec: str = "the data set spec") -> str:
    """A sentence naming the option to set when `header` seems split by another delimiter.

    Args:
      header: The file's header line, as text.
      delimiter: The delimiter it was read with.
      spec: The spec file to name. Defaults to "the data set spec".

    Returns:
      The sentence, with a leading space; "" when no other delimiter fits better.
    """
    guess = guess_delimiter(header)
    if guess is None or guess == delimiter or header.count(guess) <= header.count(delimiter):
        return ""
    as_yaml = '"\\t"' if guess == "\t" else repr(guess)  # YAML reads '\t' as backslash, t
    return (
        f" The header looks {as_yaml}-delimited, not {delimiter!r}: set "
        f"`source.delimiter: {as_yaml}` in {spec}."
    )


def layout(path: str, config: IngestionConfig) -> FileLayout:
    """Reads the header of `path` and maps its columns to `config.columns`.

    Args:
      path: The CSV file.
      config: The ingestion settings (columns and delimiter).

    Returns:
      The file's layout.

    Raises:
      IngestionError: the file is empty or (".gz") not GZIP, the header is not
        UTF-8 or has a repeated name, or a required column is missing (naming
        it; when the header seems split by another delimiter, saying so).
    """
    with files.gzip_errors_in_words(path):
        try:
            header_line, body_start = read_first_line(path, config.max_line_bytes)
        except ValueError as error:  # the header line is too long
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
            "mark them not required in the column spec."
            + delimiter_hint(text, config.delimiter, config.spec_name)
        )
    position = {name: i for i, name in enumerate(names)}
    if not any(c.name in position for c in config.columns):
        raise IngestionError(
            f"{path}, line 1: none of the expected columns is in the header "
            f"({', '.join(map(repr, names))}); is this the right file?"
            + delimiter_hint(text, config.delimiter, config.spec_name)
        )
    return header_layout(path, names, config, header_line, body_start)


plan = line_based.plan
count_rows = line_based.count_rows


def read(
    byte_range: ByteRange, file_layout: FileLayout, config: IngestionConfig
) -> Iterator[OversizedLine | tuple[LineChunk, ParsedChunk]]:
    """Yields the range's lines as (chunk of lines, its parsed columns), and oversized lines."""
    return line_based.read(byte_range, file_layout, config, parse_chunk)


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
