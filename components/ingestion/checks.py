"""Value checks on parsed columns, vectorized with pyarrow compute; typed values out.

For each spec column present in the file, in row order, a row fails at the
first of: a field over `max_field_bytes`; an empty required value; a value
that is not a number (int: optional sign and digits; float: decimal or
exponent notation); NaN or an infinity; a value outside int64, or a float
that overflows float32 (tf.Example stores float32); a value below the
column's minimum or above its maximum (`out_of_bounds`; inclusive bounds from
the spec's `min` / `max`, compared before the float32 cast, so a value written
as the bound passes; empty cells are not judged); and, for the label column,
the label rule. Only rows that fail pay for a Python-level reason.

The accepted number syntax is INT_SYNTAX / FLOAT_SYNTAX below. A column is
first cast by pyarrow as a whole, which is fast and, for floats, accepts
nothing outside that syntax (plus NaN and infinities, caught next); for
ints it also accepts hex ("0x1f"), so a cast column is searched for an "x".
Only a column whose cast fails is matched against the regular expressions
(RE2, still vectorized) to find the rows at fault. Python's int()/float(),
which CsvExampleGen uses, also take " 5" and "1_000"; those are refused:
padding and underscores in a numeric column usually mean a mis-split line.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from components.dataset.errors import show_number
from components.ingestion.chunks import Failures, ParsedChunk, preview
from components.ingestion.layout import FileLayout
from components.ingestion.settings import IngestionConfig, RawColumn

INT_SYNTAX = r"^[+-]?[0-9]+$"
FLOAT_SYNTAX = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"
NAN_SYNTAX = r"^[+-]?nan$"
INF_SYNTAX = r"^[+-]?inf(inity)?$"
_INT64 = np.iinfo(np.int64)


@dataclasses.dataclass
class CheckedChunk:
    """The rows of a chunk that passed every check, with typed values.

    Attributes:
      lines: Line index (in the chunk) of each accepted row.
      values: Column name -> typed array (int64, float32 or binary) for the
        accepted rows; null where the cell is empty.
      failures: All failed lines of the chunk, line and value checks together.
      blank: Number of blank lines.
    """

    lines: np.ndarray
    values: dict[str, pa.Array]
    failures: Failures
    blank: int


def _mask(array: pa.Array) -> np.ndarray:
    return np.asarray(array.fill_null(False), dtype=bool)


def _with_nulls(values: pa.Array, empty: np.ndarray) -> pa.Array:
    if not empty.any():
        return values
    return pc.if_else(pa.array(empty), pa.scalar(None, values.type), values)


def _literal(text: pa.Array, mask: np.ndarray, syntax: str) -> np.ndarray:
    """Narrows `mask` (a few rows) to the rows whose text matches `syntax`, ignoring case."""
    pattern = re.compile(syntax, re.IGNORECASE)
    found = np.zeros(len(mask), dtype=bool)
    for i in np.flatnonzero(mask).tolist():
        found[i] = bool(pattern.match(text[i].as_py()))
    return found


def _ints(text: pa.Array, empty: np.ndarray, name: str, add) -> pa.Array:
    """Checks int syntax and range; returns int64 values."""
    nullable = _with_nulls(text, empty)
    try:
        values = pc.cast(nullable, pa.int64())
        # pyarrow's cast also reads hex ("0x1f"); anything else it takes matches INT_SYNTAX.
        if not pc.any(pc.match_substring(nullable, "x", ignore_case=True)).as_py():
            return values
    except pa.ArrowInvalid:
        pass
    ok = _mask(pc.match_substring_regex(text, INT_SYNTAX))
    add(
        ~empty & ~ok,
        "not_a_number",
        lambda i: f"column '{name}': {preview(text[i].as_py())} is not an integer",
    )
    kept = pc.if_else(pa.array(ok), pc.utf8_ltrim(text, characters="+"), None)
    try:
        return pc.cast(kept, pa.int64())
    except pa.ArrowInvalid:
        pass  # some value is outside int64: find which, the slow way
    values = [int(v) if v is not None else None for v in kept.to_pylist()]
    outside = np.array([v is not None and not _INT64.min <= v <= _INT64.max for v in values])
    add(
        outside,
        "out_of_range",
        lambda i: f"column '{name}': {preview(text[i].as_py())} is outside int64",
    )
    return pa.array([None if o else v for v, o in zip(values, outside, strict=True)], pa.int64())


def _floats(text: pa.Array, empty: np.ndarray, name: str, add) -> tuple[pa.Array, pa.Array]:
    """Checks float syntax, NaN, infinities and float32 range.

    Returns:
      The values as float32 (what the Example holds) and as parsed, float64.
    """
    try:
        # Everything pyarrow's cast takes matches FLOAT_SYNTAX, NAN_SYNTAX or INF_SYNTAX.
        doubles = pc.cast(_with_nulls(text, empty), pa.float64())
        nan = _mask(pc.is_nan(doubles))
        infinite = _literal(text, _mask(pc.is_inf(doubles)), INF_SYNTAX)
    except pa.ArrowInvalid:
        ok = _mask(pc.match_substring_regex(text, FLOAT_SYNTAX))
        other = ~empty & ~ok
        nan = _literal(text, other, NAN_SYNTAX)
        infinite = _literal(text, other, INF_SYNTAX)
        add(
            other & ~nan & ~infinite,
            "not_a_number",
            lambda i: f"column '{name}': {preview(text[i].as_py())} is not a number",
        )
        doubles = pc.cast(
            pc.if_else(pa.array(ok), pc.utf8_ltrim(text, characters="+"), None), pa.float64()
        )
    add(
        nan,
        "nan",
        lambda i: (
            f"column '{name}': {preview(text[i].as_py())} (NaN) is not a value; "
            "leave the cell empty for a missing value"
        ),
    )
    add(infinite, "infinite", lambda i: f"column '{name}': {preview(text[i].as_py())} is infinite")
    floats = pc.cast(doubles, pa.float32(), safe=False)
    overflow = _mask(pc.is_inf(floats)) & ~infinite
    add(
        overflow,
        "out_of_range",
        lambda i: (
            f"column '{name}': {preview(text[i].as_py())} overflows float32, "
            "the float type of tf.Example"
        ),
    )
    return floats, doubles


def _bounds(spec: RawColumn, text: pa.Array, values: pa.Array, add) -> None:
    """Fails the rows whose value is below `spec.minimum` or above `spec.maximum`."""
    for bound, compare, side, option in (
        (spec.minimum, pc.less, "below its minimum", "min"),
        (spec.maximum, pc.greater, "above its maximum", "max"),
    ):
        if bound is None:
            continue
        add(
            _mask(compare(values, pa.scalar(bound, pa.float64()))),
            "out_of_bounds",
            lambda i, b=bound, side=side, option=option: (
                f"column '{spec.name}': {preview(text[i].as_py())} is {side} "
                f"{show_number(b)} (spec: features.{spec.name}.{option})"
            ),
        )


def _typed(spec: RawColumn, raw: pa.Array, empty: np.ndarray, add) -> pa.Array:
    """Checks one column's values; returns them typed, null where empty."""
    if spec.kind == "string":
        return _with_nulls(raw, empty)
    text = raw.view(pa.string())  # lines that are not UTF-8 never get here
    if spec.kind == "int":
        values = compared = _ints(text, empty, spec.name, add)
    else:
        values, compared = _floats(text, empty, spec.name, add)
    if spec.minimum is not None or spec.maximum is not None:
        _bounds(spec, text, compared, add)
    return values


def check_chunk(parsed: ParsedChunk, layout: FileLayout, config: IngestionConfig) -> CheckedChunk:
    """Runs the value checks on the parsed rows of a chunk.

    Args:
      parsed: The chunk's rows as binary columns.
      layout: The file's layout.
      config: The ingestion settings.

    Returns:
      The accepted rows and their typed values; failed rows are added to
      `parsed.failures`.
    """
    failures, rows = parsed.failures, parsed.rows

    def add(mask, check, reason):
        failures.add(mask, check, reason, lines=rows)

    typed = {}
    for _, spec in layout.present:
        raw = parsed.columns[spec.name]
        sizes = np.asarray(pc.binary_length(raw), dtype=np.int64)
        add(
            sizes > config.max_field_bytes,
            "field_too_large",
            lambda i, n=spec.name, sizes=sizes: (
                f"column '{n}': the field has {sizes[i]} bytes, more than "
                f"max_field_bytes={config.max_field_bytes}"
            ),
        )
        empty = sizes == 0
        if spec.required:
            add(
                empty,
                "missing_value",
                lambda i, n=spec.name: f"column '{n}': the value is required but empty",
            )
        typed[spec.name] = _typed(spec, raw, empty, add)
        label = config.label
        if label is not None and label.column == spec.name:
            values = typed[spec.name]
            if spec.kind == "string":
                values = values.cast(pa.string())  # allowed values are str, checks see str
            rejected = label.rejected(values)
            add(
                rejected,
                "label",
                lambda i, n=spec.name, v=values, label=label: (
                    f"label column '{n}': {preview(str(v[i].as_py()))} fails the label check: "
                    f"{label.explain()}"
                ),
            )
    accepted = ~failures.failed[rows]
    keep = pa.array(accepted)
    return CheckedChunk(
        lines=rows[accepted],
        values={name: array.filter(keep) for name, array in typed.items()},
        failures=failures,
        blank=parsed.blank,
    )
