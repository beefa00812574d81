"""Checks raw CSV input before the pipeline starts, so bad files fail fast and by name.

TFX's CsvExampleGen fails deep inside Beam on an empty file or a short row,
and turns a stray word in a numeric column into a type change of the whole
column. This pass reads every input file once (streaming; memory does not grow
with file size) and reports the first problem it finds with file, line and
column, and what to do about it. Schema-level problems (an unexpected category,
an out-of-range value) are left to the data validator.
"""

from __future__ import annotations

import csv
import glob
import os

from components.dataset import DatasetSpec
from pipeline.config import SPAN_FOLDER, SPAN_PLACEHOLDER


class InputDataError(ValueError):
    """The raw input cannot be ingested; the message names file, line and column."""


def input_files(data_root: str, pattern: str) -> list[str]:
    """Returns the files matching `pattern` under `data_root`, sorted.

    Raises:
      InputDataError: nothing matches.
    """
    files = sorted(glob.glob(os.path.join(data_root, pattern)))
    if not files:
        raise InputDataError(
            f"No input file matches {os.path.join(data_root, pattern)}: pass --data with a CSV "
            "file or a folder of *.csv files."
        )
    return files


def check_csv_file(path: str, spec: DatasetSpec) -> int:
    """Checks one CSV file's header against the data set spec's columns.

    Row by row checks (field counts, numbers that parse) are the ingestion's:
    a bad row is quarantined there with its reason, not fatal here.

    Returns:
      The number of non-blank data lines.

    Raises:
      InputDataError: the file is empty, lacks a column, or has no rows.
    """
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        header = next(csv.reader([f.readline()]), None)
        if not header:
            raise InputDataError(f"{path}: the file is empty; expected a header line and rows.")
        missing = [c for c in spec.raw_columns if c not in header]
        if missing:
            raise InputDataError(
                f"{path}, line 1: missing column(s) {', '.join(missing)}. The header has "
                f"{', '.join(header)}. Add the columns, or describe this data in a spec of its "
                "own (deepline init-spec, then --spec)."
            )
        rows = sum(1 for line in f if line.strip())
    if rows == 0:
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


def count_lines(path: str) -> int:
    """Rows of a JSON lines file: its non-blank lines (ingestion checks each one)."""
    with open(path, "rb") as f:
        return sum(1 for line in f if line.strip())


def check_inputs(
    data_root: str, pattern: str, spec: DatasetSpec, file_format: str = "csv"
) -> dict[str, int]:
    """Checks every input file; returns rows per file.

    A CSV file's header must name the spec's columns; JSON lines, Parquet
    and TFRecord files are counted only (ingestion checks their columns).

    Raises:
      InputDataError: the first problem found, by file, line and column.
    """
    if file_format == "jsonl":
        return {path: count_lines(path) for path in input_files(data_root, pattern)}
    if file_format == "parquet":
        import pyarrow.parquet as pq

        return {path: pq.read_metadata(path).num_rows for path in input_files(data_root, pattern)}
    if file_format == "tfrecord":
        from components.ingestion.tfrecord import read_records

        return {
            path: sum(1 for _ in read_records(path)) for path in input_files(data_root, pattern)
        }
    return {path: check_csv_file(path, spec) for path in input_files(data_root, pattern)}
