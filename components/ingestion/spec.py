"""What ingestion checks rows against: column specs, the label rule and the run settings.

A `ColumnSpec` says how one CSV column becomes a tf.Example feature (int64,
float or bytes) and whether it may be empty. `dataset_config()` takes the
columns from a data set's curated schema when it has one (so the schema stays
the one place the column types are written down), else from its spec.
`LabelRule` is the label check hook: a list of allowed values or a vectorized
callable.
`IngestionConfig` holds every setting with its default, in one place.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from components.features import Encoding, FeatureRegistry, Task
from components.spec.model import DatasetSpec

Kind = Literal["int", "float", "string"]
KINDS: tuple[str, ...] = ("int", "float", "string")
# Input formats: CSV with a header line, JSON lines (one object per line), Parquet, and
# TFRecord files of tf.train.Example.
FORMATS: tuple[str, ...] = ("csv", "jsonl", "parquet", "tfrecord")

DEFAULT_SPLITS: tuple[tuple[str, int], ...] = (("train", 14), ("eval", 3), ("test", 3))
DEFAULT_MAX_FIELD_BYTES = 1 << 20
DEFAULT_MAX_LINE_BYTES = 64 << 20
DEFAULT_CHUNK_BYTES = 4 << 20
DEFAULT_RANGE_BYTES = 16 << 20
DEFAULT_COMPRESSION_LEVEL = 1


class IngestionError(ValueError):
    """The input cannot be ingested as asked; the message names the file and what to do."""


@dataclasses.dataclass(frozen=True)
class ColumnSpec:
    """One CSV column and the feature it becomes.

    Attributes:
      name: Column name in the CSV header; also the feature key.
      kind: "int" (int64_list), "float" (float_list) or "string" (bytes_list).
      required: An empty cell fails the row. Defaults to False (an empty cell
        becomes a feature with no values, as CsvExampleGen writes it).
    """

    name: str
    kind: Kind
    required: bool = False

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(
                f"Column {self.name!r}: kind must be one of {KINDS}, got {self.kind!r}."
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
      format: "csv" (a header line, then rows) or "jsonl" (one JSON object
        per line, keys naming the columns; numbers keep their exact text,
        null or an absent key is an empty value, keys not among `columns`
        are ignored) or "parquet" (typed columns turned into the text a CSV
        cell would hold; see `components.ingestion.parquet`) or "tfrecord"
        (`tf.train.Example`s; see `components.ingestion.tfrecord`). Defaults
        to "csv".
      delimiter: CSV field separator, one character. Defaults to ",".
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
      compression_level: zlib level of the GZIP TFRecord shards. Defaults to
        1. Measured on taxi Examples: level 1 compresses at ~150 MB/s to 16%
        of the raw size, level 6 (CsvExampleGen's) at ~50 MB/s to 13%; at
        level 6, compression alone would take longer than everything else.
    """

    columns: tuple[ColumnSpec, ...]
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
        if self.format not in FORMATS:
            raise ValueError(f"format must be one of {FORMATS}, got {self.format!r}.")
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

    def column(self, name: str) -> ColumnSpec:
        """Returns the spec of column `name`."""
        return next(c for c in self.columns if c.name == name)


_SCHEMA_KINDS = {"INT": "int", "FLOAT": "float", "BYTES": "string"}


def schema_columns(schema_path: str | Path) -> tuple[ColumnSpec, ...]:
    """Returns a column spec per schema feature: type from `type`, required from presence.

    A feature is required when the schema says every example has it
    (`presence.min_fraction: 1.0`).

    Args:
      schema_path: A TFMD schema in text format.

    Returns:
      The specs, in schema order.

    Raises:
      ValueError: a feature has a type other than INT, FLOAT or BYTES.
    """
    from google.protobuf import text_format
    from tensorflow_metadata.proto.v0 import schema_pb2

    schema = text_format.Parse(Path(schema_path).read_text(), schema_pb2.Schema())
    specs = []
    for feature in schema.feature:
        type_name = schema_pb2.FeatureType.Name(feature.type)
        if type_name not in _SCHEMA_KINDS:
            raise ValueError(
                f"{schema_path}, feature {feature.name!r}: type {type_name} has no CSV kind; "
                "use INT, FLOAT or BYTES."
            )
        required = feature.HasField("presence") and feature.presence.min_fraction >= 1.0
        specs.append(ColumnSpec(feature.name, _SCHEMA_KINDS[type_name], required))
    return tuple(specs)


def registry_columns(registry: FeatureRegistry) -> tuple[ColumnSpec, ...]:
    """Returns the column specs a data set without a curated schema is read with.

    Numeric features and the columns a derived label is computed from are
    floats; identity-encoded categorical columns are ints; other categorical,
    text, image (encoded bytes) and ignored columns are strings. A label read
    from a column is required: a regression label is a float, class names
    are strings, a 0 / 1 binary label is an int.

    Args:
      registry: The data set's feature registry.

    Returns:
      One spec per raw column, features first, in the registry's order.
    """
    columns = [ColumnSpec(f.name, "float") for f in registry.numeric]
    for feature in registry.categorical:
        kind = "int" if feature.encoding is Encoding.IDENTITY else "string"
        columns.append(ColumnSpec(feature.name, kind))
    columns += [ColumnSpec(f.name, "string") for f in registry.text]
    columns += [ColumnSpec(f.name, "string") for f in registry.images]  # encoded bytes
    declared = {c.name for c in columns}
    label = registry.label
    if label.derived:
        columns += [ColumnSpec(c, "float") for c in label.source_columns if c not in declared]
    elif label.task is Task.REGRESSION:
        columns.append(ColumnSpec(label.name, "float", required=True))
    else:
        columns.append(ColumnSpec(label.name, "string" if label.classes else "int", True))
    columns += [ColumnSpec(name, "string") for name in registry.ignored]
    return tuple(columns)


def label_rule(registry: FeatureRegistry, columns: Sequence[ColumnSpec]) -> LabelRule | None:
    """Returns the check of a label read from a column: its value must be one of the classes.

    A binary label without classes must be 0 or 1. Regression and derived
    labels get no rule beyond their column's type check (NaN and infinities
    are quarantined there).

    Args:
      registry: The data set's feature registry.
      columns: The columns the data is read with: the allowed values take
        the label column's kind (a schema may declare class ids as INT).

    Raises:
      IngestionError: The label column is not among `columns`, or a class
        is not a value of its kind.
    """
    label = registry.label
    if label.derived or label.task is Task.REGRESSION:
        return None
    column = next((c for c in columns if c.name == label.name), None)
    if column is None:
        raise IngestionError(
            f"The label column {label.name!r} is not among the columns the data is read "
            f"with ({', '.join(c.name for c in columns)}); add it to the schema."
        )
    classes = label.classes or ("0", "1")
    try:
        allowed = tuple(
            int(c) if column.kind == "int" else float(c) if column.kind == "float" else c
            for c in classes
        )
    except ValueError:
        raise IngestionError(
            f"The label column {label.name!r} is read as {column.kind}, but its classes "
            f"{list(classes)} are not all {column.kind} values; declare it as text (BYTES) "
            "in the schema, or fix the classes in the spec."
        ) from None
    return LabelRule(
        column=label.name,
        allowed=allowed,
        description=f"the classes of {label.name!r} are {', '.join(map(str, classes))}",
    )


def dataset_config(
    registry: FeatureRegistry, schema: str | Path | None = None, **overrides
) -> IngestionConfig:
    """Returns the ingestion settings for a data set; `overrides` replace any field.

    Args:
      registry: The data set's feature registry (from its spec).
      schema: A curated schema giving the column types, or None to take them
        from the registry (`registry_columns`).
      **overrides: IngestionConfig fields, e.g. `splits` or `max_quarantined_fraction`.
    """
    columns = schema_columns(schema) if schema else registry_columns(registry)
    return IngestionConfig(columns=columns, label=label_rule(registry, columns), **overrides)


def spec_config(
    spec: DatasetSpec, schema: str | Path | None = None, **overrides
) -> IngestionConfig:
    """Returns the ingestion settings a data set spec asks for; `overrides` replace any field.

    The splits and the split key come from the spec's `split` (a row without
    a key value cannot be split by it, so the key column is required).

    Args:
      spec: The data set spec.
      schema: A curated schema giving the column types. Defaults to None: the
        spec's own `schema` if it names one, else the types the spec implies
        (`registry_columns`).
      **overrides: IngestionConfig fields, e.g. `max_quarantined_fraction`.
    """
    if spec.source.format.value not in FORMATS:
        raise IngestionError(
            f"{spec.origin or '<spec>'}: source.format {spec.source.format.value!r}: ingestion "
            f"reads {', '.join(FORMATS)} so far; convert the data to one of them."
        )
    buckets = spec.split.hash_buckets()
    overrides.setdefault("format", spec.source.format.value)
    overrides.setdefault("splits", tuple(zip(("train", "eval", "test"), buckets, strict=True)))
    key = overrides.pop("split_key", spec.split.key)
    if schema is None and spec.schema:
        schema = spec.resolve(spec.schema)
    config = dataset_config(spec.to_registry(), schema, **overrides)
    if key is None:
        return config
    columns = tuple(
        dataclasses.replace(c, required=True) if c.name == key else c for c in config.columns
    )
    return dataclasses.replace(config, columns=columns, split_key=key)


def split_names(config: IngestionConfig) -> Sequence[str]:
    """Returns the split names in order."""
    return [name for name, _ in config.splits]
