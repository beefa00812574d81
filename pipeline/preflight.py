"""Checks the input files before the pipeline starts, so bad files fail fast and by name.

TFX's CsvExampleGen fails deep inside Beam on an empty file or a short row,
and turns a stray word in a numeric column into a type change of the whole
column. This pass opens every input file once, with ingestion's own reading
of its format (`components.ingestion.formats.FORMATS`): the file's layout
(CSV: its header line; Parquet: its schema) with ingestion's header checks,
then its rows, counted (streaming; memory does not grow with file size). It
reports the first problem it finds with file, line and column, and what to
do about it. Row by row checks (field counts, numbers that parse) are the
ingestion's: a bad row is quarantined there with its reason, not fatal here.
Schema-level problems (an unexpected category, an out-of-range value) are
left to the data validator.
"""

from __future__ import annotations

import os

from components.dataset import DatasetSpec
from components.ingestion import IngestionConfig, IngestionError, RawColumn, get_format
from components.ingestion import input_files as ingestion_input_files
from components.ingestion.formats import csv as csv_format
from components.ingestion.layout import FileLayout
from pipeline.config import SPAN_FOLDER, SPAN_PLACEHOLDER


class InputDataError(IngestionError):
    """The raw input cannot be ingested; the message names file, line and column."""


def input_files(data_root: str, pattern: str, file_format: str = "csv") -> list[str]:
    """Returns the files matching `pattern` under `data_root`, sorted.

    Args:
      data_root: The data folder.
      pattern: A glob pattern under it (a folder means its *.<file_format> files).
      file_format: The files' format, a key of `FORMATS`. Defaults to "csv".

    Raises:
      InputDataError: nothing matches.
    """
    try:
        return ingestion_input_files(os.path.join(data_root, pattern), file_format)
    except IngestionError as error:
        raise InputDataError(f"{error} Pass them with --data, or in the spec's source.") from None


def _header_config(spec: DatasetSpec, file_format: str) -> IngestionConfig:
    """The data set's raw columns, none of them required: a missing one is reported below,
    all of them at once, rather than by ingestion's check of required columns."""
    columns = tuple(RawColumn(name, "string") for name in spec.raw_columns)
    return IngestionConfig(
        columns=columns,
        format=file_format,
        delimiter=spec.source.delimiter,
        spec_name=_spec_name(spec),
    )


def _spec_name(spec: DatasetSpec) -> str:
    return os.path.basename(spec.origin) if spec.origin else "the data set spec"


def check_layout(path: str, spec: DatasetSpec, file_format: str = "csv") -> FileLayout:
    """Checks one file's layout (its header) against the data set spec's columns, rows unread.

    Every format gets ingestion's own checks of a whole file (CSV: an empty
    file, a header that is not UTF-8 or repeats a name; Parquet: not
    Parquet, a column of lists). A file with a header line (CSV) must also
    name every raw column of the data set. `deepline run` (through
    `check_file`) and `deepline ingest` share this check, so both refuse the
    same files with the same words.

    Args:
      path: The file.
      spec: The data set spec (its raw columns).
      file_format: The file's format, a key of `FORMATS`. Defaults to "csv".

    Returns:
      The file's layout.

    Raises:
      InputDataError: the file is empty or unreadable, or (CSV) lacks a column.
    """
    try:
        layout = get_format(file_format).layout(path, _header_config(spec, file_format))
    except IngestionError as error:
        raise InputDataError(str(error)) from None
    if layout.header_line and layout.absent:
        hint = csv_format.delimiter_hint(
            layout.header_line.decode("utf-8"), spec.source.delimiter, _spec_name(spec)
        )
        raise InputDataError(
            f"{path}, line 1: missing column(s) {', '.join(layout.absent)}. The header has "
            f"{', '.join(layout.header)}. Add the columns, or describe this data in a spec of "
            "its own (deepline init-spec, then --spec)." + hint
        )
    return layout


def check_file(path: str, spec: DatasetSpec, file_format: str = "csv") -> int:
    """Checks one file's layout (`check_layout`) and counts its rows.

    A file with a header line (CSV) must hold at least one row; other formats
    are only counted (ingestion checks their rows' columns).

    Args:
      path: The file.
      spec: The data set spec (its raw columns).
      file_format: The file's format, a key of `FORMATS`. Defaults to "csv".

    Returns:
      The number of rows (CSV, JSON lines: non-blank data lines).

    Raises:
      InputDataError: the file is empty or unreadable, or (CSV) lacks a
        column or has no rows.
    """
    layout = check_layout(path, spec, file_format)
    try:
        rows = get_format(file_format).count_rows(layout)
    except IngestionError as error:
        raise InputDataError(str(error)) from None
    if layout.header_line and rows == 0:
        raise InputDataError(f"{path}: the file has a header but no rows.")
    return rows


def span_pattern(data_root: str, pattern: str, span: int | None) -> tuple[str, int]:
    """Resolves a `span-{SPAN}/...` pattern to one span's files.

    Args:
      data_root: Folder holding the `span-<N>` folders.
      pattern: File pattern with the `{SPAN}` placeholder.
      span: The span asked for, or None for the newest.

    Returns:
      (pattern of that span's files, the span number).

    Raises:
      InputDataError: there is no span folder, or not the one asked for.
    """
    spans = sorted(
        int(m.group(1)) for name in os.listdir(data_root) if (m := SPAN_FOLDER.fullmatch(name))
    )
    if not spans:
        raise InputDataError(f"{data_root}: no span-<N> folders found.")
    chosen = spans[-1] if span is None else span
    if chosen not in spans:
        raise InputDataError(
            f"{data_root}: span {chosen} not found (no folder span-{chosen}); "
            f"the spans there are {', '.join(map(str, spans))}. Pass one of them with --span, "
            "or leave --span out for the newest."
        )
    return pattern.replace(SPAN_PLACEHOLDER, str(chosen)), chosen


def check_inputs(
    data_root: str, pattern: str, spec: DatasetSpec, file_format: str = "csv"
) -> dict[str, int]:
    """Checks every input file (`check_file`); returns rows per file.

    Raises:
      InputDataError: the first problem found, by file, line and column.
    """
    return {
        path: check_file(path, spec, file_format)
        for path in input_files(data_root, pattern, file_format)
    }
