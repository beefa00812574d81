"""What ingestion checks rows against: the raw columns, the label rule and the run settings.

A `RawColumn` says how one CSV column becomes a tf.Example feature (int64,
float or bytes), whether it may be empty and, for numbers, the values it may
hold. `LabelRule` is the label check hook: a list of allowed values or a
vectorized callable. `IngestionConfig` holds every setting with its default,
in one place. `components.ingestion.dataset` builds them from a data set's
spec and curated schema.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from components.dataset.options import RAW_TYPES, RawType

DEFAULT_SPLITS: tuple[tuple[str, int], ...] = (("train", 14), ("eval", 3), ("test", 3))
DEFAULT_MAX_FIELD_BYTES = 1 << 20
DEFAULT_MAX_LINE_BYTES = 64 << 20
DEFAULT_CHUNK_BYTES = 4 << 20
DEFAULT_RANGE_BYTES = 16 << 20
DEFAULT_COMPRESSION_LEVEL = 1


class IngestionError(ValueError):
    """The input cannot be ingested as asked; the message names the file and what to do."""


@dataclasses.dataclass(frozen=True)
class RawColumn:
    """One CSV column and the feature it becomes.

    Attributes:
      name: Column name in the CSV header; also the feature key.
      kind: "int" (int64_list), "float" (float_list) or "string" (bytes_list).
      required: An empty cell fails the row. Defaults to False (an empty cell
        becomes a feature with no values, as CsvExampleGen writes it).
      minimum: int and float only: a smaller value fails the row (inclusive
        bound; a data set spec's `features.<name>.min`). None: no lower bound.
        Defaults to None.
      maximum: int and float only: a larger value fails the row (the spec's
        `features.<name>.max`). None: no upper bound. Defaults to None.
    """

    name: str
    kind: RawType
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None

    def __post_init__(self):
        if self.kind not in RAW_TYPES:
            raise ValueError(
                f"Column {self.name!r}: kind must be one of {RAW_TYPES}, got {self.kind!r}."
            )
        bounds = [b for b in (self.minimum, self.maximum) if b is not None]
        if bounds and self.kind == "string":
            raise ValueError(f"Column {self.name!r}: a string column cannot have value bounds.")
        if not all(math.isfinite(b) for b in bounds):
            raise ValueError(f"Column {self.name!r}: value bounds must be finite, got {bounds}.")
        if len(bounds) == 2 and self.minimum > self.maximum:
            raise ValueError(
                f"Column {self.name!r}: minimum {self.minimum} is above maximum {self.maximum}."
            )


@dataclasses.dataclass(frozen=True)
class LabelRule:
    """The label check hook: which label values a row may carry.

    Exactly one of `allowed` and `check` is set. Empty label cells are not
    judged here (mark the label column `required` to reject them).

    Attributes:
      column: The label column (or the column the label is derived from).
      allowed: The allowed values, of the column's kind (e.g. (0, 1)).
      check: A picklable (module-level) function taking the column's values
        for a chunk of rows as a pyarrow array (int64, float64 or string, null
        where empty) and returning a boolean array, True where valid. Working
        on whole arrays keeps ingestion vectorized.
      description: What a valid value is, for the quarantine reason.
    """

    column: str
    allowed: tuple | None = None
    check: Callable[[pa.Array], pa.Array] | None = None
    description: str = ""

    def __post_init__(self):
        if (self.allowed is None) == (self.check is None):
            raise ValueError(f"Label rule for {self.column!r}: set exactly one of allowed, check.")

    def rejected(self, values: pa.Array) -> np.ndarray:
        """Returns a boolean mask, True where a present value fails the rule."""
        if self.allowed is not None:
            valid = pc.is_in(values, value_set=pa.array(list(self.allowed), type=values.type))
        else:
            valid = self.check(values)
        if isinstance(valid, (pa.Array, pa.ChunkedArray)):
            valid = valid.fill_null(True).to_numpy(zero_copy_only=False)
        valid = np.asarray(valid, dtype=bool)
        present = np.asarray(values.is_valid(), dtype=bool)
        return present & ~valid

    def explain(self) -> str:
        """Returns what a valid value is, for a quarantine reason."""
        if self.description:
            return self.description
        if self.allowed is not None:
            return "allowed values are " + ", ".join(map(repr, self.allowed))
        return f"rejected by {getattr(self.check, '__name__', 'the label check')}"


def non_negative(values: pa.Array) -> pa.Array:
    """Label check: True where the value is >= 0."""
    return pc.greater_equal(values, 0)


@dataclasses.dataclass(frozen=True)
class IngestionConfig:
    """Everything ingestion needs besides the input and output paths.

    Attributes:
      columns: The expected columns. Every `required` one must be in each
        file's header; an optional one may be absent from a whole file
        (reported in the summary). Header columns not listed here are
        ignored (kept out of the Examples, reported in the summary).
      label: The label check, or None for no label check. Defaults to None.
      format: The input format, a key of
        `components.ingestion.formats.FORMATS` (checked when ingestion
        starts): "csv" (a header line, then rows) or "jsonl" (one JSON
        object per line, keys naming the columns; numbers keep their exact
        text, null or an absent key is an empty value, keys not among
        `columns` are ignored) or "parquet" (typed columns turned into the
        text a CSV cell would hold) or "tfrecord" (`tf.train.Example`s); see
        the modules of `components.ingestion.formats`. Defaults to "csv".
      delimiter: CSV field separator, one character (a data set spec's
        `source.delimiter`). Defaults to ",".
      splits: (name, hash buckets) pairs; a row goes to the split owning
        `hash % total buckets`. Defaults to train 14, eval 3, test 3 of 20,
        as in the pipeline.
      split_key: A required column whose text is hashed to pick the split
        (rows sharing a key share a split), or None to hash the whole row
        text. Defaults to None.
      max_field_bytes: A longer field fails its row. Defaults to 1 MiB.
      max_line_bytes: A longer line fails without being held in memory.
        Defaults to 64 MiB.
      max_quarantined_fraction: Ingestion raises, after writing everything,
        when more rows than this fraction fail. Defaults to 0.0.
      chunk_bytes: Bytes of CSV read, checked and encoded at a time; bounds
        a worker's memory. Defaults to 4 MiB.
      range_bytes: Files are cut into line-aligned byte ranges of about
        this size; each range is one unit of parallel work and one output
        shard per split. Defaults to 16 MiB.
      spec_name: How error messages name where the settings come from (a
        data set spec's file name), e.g. where to set the delimiter.
        Defaults to "the data set spec".
      compression_level: zlib level of the GZIP TFRecord shards. Defaults to
        1. Measured on taxi Examples: level 1 compresses at ~150 MB/s to 16%
        of the raw size, level 6 (CsvExampleGen's) at ~50 MB/s to 13%; at
        level 6, compression alone would take longer than everything else.
    """

    columns: tuple[RawColumn, ...]
    label: LabelRule | None = None
    format: str = "csv"
    delimiter: str = ","
    splits: tuple[tuple[str, int], ...] = DEFAULT_SPLITS
    split_key: str | None = None
    max_field_bytes: int = DEFAULT_MAX_FIELD_BYTES
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
    max_quarantined_fraction: float = 0.0
    chunk_bytes: int = DEFAULT_CHUNK_BYTES
    range_bytes: int = DEFAULT_RANGE_BYTES
    compression_level: int = DEFAULT_COMPRESSION_LEVEL
    spec_name: str = "the data set spec"

    def __post_init__(self):
        names = [c.name for c in self.columns]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"Columns declared twice: {duplicates}.")
        if self.label is not None and self.label.column not in names:
            raise ValueError(f"Label column {self.label.column!r} is not among the columns.")
        if self.split_key is not None and not any(
            c.name == self.split_key and c.required for c in self.columns
        ):
            raise ValueError(f"Split key {self.split_key!r} must be a required column.")
        if len(self.delimiter) != 1 or self.delimiter in '"\r\n':
            raise ValueError(
                "The delimiter must be one character other than a quote or newline, "
                f"got {self.delimiter!r}."
            )
        split_names = [name for name, _ in self.splits]
        if not self.splits or len(set(split_names)) != len(split_names):
            raise ValueError(f"Splits need distinct names, got {split_names}.")
        if any(buckets < 1 for _, buckets in self.splits):
            raise ValueError(f"Every split needs at least one hash bucket, got {self.splits}.")
        if not 0.0 <= self.max_quarantined_fraction <= 1.0:
            raise ValueError("max_quarantined_fraction must be in [0, 1].")
        if self.max_line_bytes < self.max_field_bytes:
            raise ValueError("max_line_bytes must be at least max_field_bytes.")

    def column(self, name: str) -> RawColumn:
        """Returns the spec of column `name`."""
        return next(c for c in self.columns if c.name == name)


def split_names(config: IngestionConfig) -> Sequence[str]:
    """Returns the split names in order."""
    return [name for name, _ in config.splits]
