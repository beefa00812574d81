"""A data set's ingestion settings, from its spec and its curated schema.

The columns come from the curated schema when the data set has one (so the
schema stays the one place the column types are written down), else from the
types the spec implies; the label check from the label's classes; the splits
from the spec's `split`; the value bounds from each column's `min` / `max`;
the format and the CSV delimiter from its `source`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from components.dataset import DatasetSpec, Task
from components.ingestion.formats import FORMATS
from components.ingestion.settings import (
    IngestionConfig,
    IngestionError,
    LabelRule,
    RawColumn,
)

_SCHEMA_KINDS = {"INT": "int", "FLOAT": "float", "BYTES": "string"}


def unreadable_schema(schema_path: str | Path, error: Exception) -> str:
    """The one-paragraph message for a curated schema that cannot be read or parsed."""
    return (
        f"{schema_path}: cannot read the schema ({type(error).__name__}: {error}). Fix the "
        "file (a text-format tensorflow_metadata Schema) or pass another with --schema."
    )


def schema_columns(schema_path: str | Path) -> tuple[RawColumn, ...]:
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
        specs.append(RawColumn(feature.name, _SCHEMA_KINDS[type_name], required))
    return tuple(specs)


def spec_columns(spec: DatasetSpec) -> tuple[RawColumn, ...]:
    """Returns the column specs a data set without a curated schema is read with.

    Each model input is read as its feature kind's `raw_type` (numbers for
    numeric features, integers for identity ids, text otherwise); the columns
    a derived label is computed from are floats. A label read from a column is
    required: a regression label is a float, class names are strings, a 0 / 1
    binary label is an int. Other ignored columns are strings.

    Args:
      spec: The data set spec.

    Returns:
      One spec per raw column: model inputs by kind (numeric, categorical,
      text, images) in the spec's order, then the label's, then ignored ones.
    """
    inputs = (*spec.numeric, *spec.categorical, *spec.text, *spec.images)
    columns = [RawColumn(f.name, f.raw_type) for f in inputs]
    declared = {c.name for c in columns}
    label = spec.label
    if label.derived:
        columns += [RawColumn(c, "float") for c in label.source_columns if c not in declared]
    elif label.kind is Task.REGRESSION:
        columns.append(RawColumn(label.column, "float", required=True))
    else:
        columns.append(RawColumn(label.column, "string" if label.classes else "int", True))
    columns += [RawColumn(name, "string") for name in spec.ignored]
    return tuple(columns)


def label_rule(spec: DatasetSpec, columns: Sequence[RawColumn]) -> LabelRule | None:
    """Returns the check of a label read from a column: its value must be one of the classes.

    A binary label without classes must be 0 or 1. Regression and derived
    labels get no rule beyond their column's type check (NaN and infinities
    are quarantined there).

    Args:
      spec: The data set spec.
      columns: The columns the data is read with: the allowed values take
        the label column's kind (a schema may declare class ids as INT).

    Raises:
      IngestionError: The label column is not among `columns`, or a class
        is not a value of its kind.
    """
    label = spec.label
    if label.derived or label.kind is Task.REGRESSION:
        return None
    column = next((c for c in columns if c.name == label.column), None)
    if column is None:
        raise IngestionError(
            f"The label column {label.column!r} is not among the columns the data is read "
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
            f"The label column {label.column!r} is read as {column.kind}, but its classes "
            f"{list(classes)} are not all {column.kind} values; declare it as text (BYTES) "
            "in the schema, or fix the classes in the spec."
        ) from None
    return LabelRule(
        column=label.column,
        allowed=allowed,
        description=f"the classes of {label.column!r} are {', '.join(map(str, classes))}",
    )


def spec_config(
    spec: DatasetSpec, schema: str | Path | None = None, **overrides
) -> IngestionConfig:
    """Returns the ingestion settings a data set spec asks for; `overrides` replace any field.

    The splits and the split key come from the spec's `split` (a row without
    a key value cannot be split by it, so the key column is required); each
    column's value bounds from its `min` and `max`.

    Args:
      spec: The data set spec.
      schema: A curated schema giving the column types. Defaults to None: the
        spec's own `schema` if it names one, else the types the spec implies
        (`spec_columns`).
      **overrides: IngestionConfig fields, e.g. `max_quarantined_fraction`.

    Raises:
      IngestionError: The spec's source format is not one ingestion reads, or
        a column with bounds is read as text or not read at all.
    """
    if spec.source.format.value not in FORMATS:
        raise IngestionError(
            f"{spec.origin or '<spec>'}: source.format {spec.source.format.value!r}: ingestion "
            f"reads {', '.join(FORMATS)} so far; convert the data to one of them."
        )
    buckets = spec.split.hash_buckets()
    overrides.setdefault("format", spec.source.format.value)
    overrides.setdefault("delimiter", spec.source.delimiter)
    if spec.origin:
        overrides.setdefault("spec_name", Path(spec.origin).name)
    overrides.setdefault("splits", tuple(zip(("train", "eval", "test"), buckets, strict=True)))
    key = overrides.pop("split_key", spec.split.key)
    if schema is None and spec.schema:
        schema = spec.resolve(spec.schema)
    read_with = schema_columns(schema) if schema else spec_columns(spec)
    config = IngestionConfig(columns=read_with, label=label_rule(spec, read_with), **overrides)
    columns = tuple(
        dataclasses.replace(c, required=True) if c.name == key else c
        for c in _bounded(spec, config.columns, schema)
    )
    return dataclasses.replace(config, columns=columns, split_key=key)


def _bounded(
    spec: DatasetSpec, columns: Sequence[RawColumn], schema: str | Path | None
) -> list[RawColumn]:
    """`columns` with the value bounds (`min`, `max`) the spec declares for them."""
    bounds = {
        f.name: (f.min, f.max)
        for f in spec.features
        if getattr(f, "min", None) is not None or getattr(f, "max", None) is not None
    }
    where = spec.origin or "<spec>"
    result = []
    for column in columns:
        if column.name not in bounds:
            result.append(column)
            continue
        minimum, maximum = bounds.pop(column.name)
        if column.kind == "string":
            why = (
                f"the schema {schema} types it BYTES"
                if schema
                else "an ignored column the label is not derived from"
            )
            raise IngestionError(
                f"{where}: features.{column.name}: column {column.name!r} has min/max, but "
                f"ingestion reads it as text ({why}), and bounds apply to numbers. Remove min "
                "and max, or have it read as a number (kind numeric, or INT / FLOAT in a schema)."
            )
        result.append(dataclasses.replace(column, minimum=minimum, maximum=maximum))
    if bounds:  # declared in the spec, but not in the schema the columns come from
        name = next(iter(bounds))
        raise IngestionError(
            f"{where}: features.{name}: column {name!r} has min/max, but ingestion does not "
            f"read it: it is not in the schema {schema}. Add it to the schema, or remove min "
            "and max."
        )
    return result
