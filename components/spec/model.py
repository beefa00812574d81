"""The data set spec as typed, frozen dataclasses, with the invariants each part must keep.

A `DatasetSpec` says where the raw data is (`SourceSpec`), what the label is
(`LabelSpec`), what becomes of every column (one feature spec per column, see
`components.spec.feature_specs`), which columns the Evaluator slices by, and how
rows are split. `components.spec.parsing` builds it from YAML; the checks here
run however a spec is built, and raise `SpecError` with a path relative to the
part being checked, which the parser prefixes and locates in the file.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import os

from components.spec.errors import SpecError, join_path
from components.spec.expression import Expression
from components.spec.feature_specs import FeatureSpec, Kind


class SourceFormat(str, enum.Enum):
    CSV = "csv"
    PARQUET = "parquet"
    JSONL = "jsonl"
    TFRECORD = "tfrecord"


class LabelKind(str, enum.Enum):
    BINARY = "binary"
    MULTICLASS = "multiclass"
    REGRESSION = "regression"


@dataclasses.dataclass(frozen=True)
class SourceSpec:
    """Where the raw data is.

    Attributes:
      format: csv, parquet, jsonl or tfrecord.
      path: A file or folder, relative to the spec file's folder (or absolute, or gs://).
      pattern: Glob of the files inside `path` (inside each span folder with
        `spans`). Defaults to None: `path` itself, or `*.<format>` files in it.
      spans: Folder layout of spans inside `path`, with `{SPAN}` where the span
        number goes, e.g. `span-{SPAN}`. Defaults to None (no spans).
    """

    format: SourceFormat
    path: str
    pattern: str | None = None
    spans: str | None = None

    def __post_init__(self):
        if not self.path:
            raise SpecError("path", "must name a file or folder")
        if self.spans is not None and (self.spans.count("{SPAN}") != 1 or "/" in self.spans):
            raise SpecError(
                "spans",
                f"must be one folder name with one {{SPAN}}, e.g. span-{{SPAN}}; got "
                f"{self.spans!r}",
            )

    @property
    def file_pattern(self) -> str | None:
        """Files to read relative to `path` (e.g. `span-{SPAN}/*.csv`); None when `path` is them."""
        if self.pattern is None and self.spans is None:
            return None
        pattern = self.pattern or f"*.{self.format.value}"
        return f"{self.spans}/{pattern}" if self.spans else pattern


@dataclasses.dataclass(frozen=True)
class LabelSpec:
    """What the model predicts.

    Attributes:
      column: The label's name: a raw column, or the new column `derive` makes.
      kind: binary, multiclass or regression.
      derive: binary only: a comparison over other columns that computes the
        label, e.g. `tips > 0.2 * fare`. Defaults to None (the column is in the data).
      classes: multiclass: the class values (2 or more); binary: optionally
        the [negative, positive] values. Defaults to ().
    """

    column: str
    kind: LabelKind
    derive: Expression | None = None
    classes: tuple[str, ...] = ()

    def __post_init__(self):
        if not self.column:
            raise SpecError("column", "must name the label column")
        if self.derive is not None:
            if self.kind is not LabelKind.BINARY:
                raise SpecError(
                    "derive", f"only binary labels can be derived, not {self.kind.value}"
                )
            if not self.derive.is_comparison:
                raise SpecError(
                    "derive", f"{self.derive.text!r} must be a comparison, e.g. 'tips > 0.2 * fare'"
                )
        if len(set(self.classes)) != len(self.classes):
            raise SpecError("classes", f"lists a class twice: {list(self.classes)}")
        if self.kind is LabelKind.MULTICLASS and len(self.classes) < 2:
            raise SpecError("classes", "a multiclass label needs its classes (2 or more)")
        if self.kind is LabelKind.BINARY and len(self.classes) not in (0, 2):
            raise SpecError("classes", "a binary label has exactly 2 classes: [negative, positive]")
        if self.kind is LabelKind.REGRESSION and self.classes:
            raise SpecError("classes", "a regression label has no classes")
        if self.derive is not None and self.classes:
            raise SpecError("classes", "a derived label is 0/1; remove classes")


@dataclasses.dataclass(frozen=True)
class SplitSpec:
    """How ingested rows are split into train / eval / test, by hash.

    Attributes:
      train: Fraction for training. Defaults to 0.7.
      eval: Fraction for early stopping and model selection. Defaults to 0.15.
      test: Fraction the Evaluator blesses on. Defaults to 0.15.
      key: Column whose value is hashed, so a row keeps its split when
        ingested again; None hashes the whole row. Defaults to None.
    """

    train: float = 0.7
    eval: float = 0.15
    test: float = 0.15
    key: str | None = None

    def __post_init__(self):
        for name in ("train", "eval", "test"):
            value = getattr(self, name)
            if not (math.isfinite(value) and 0 < value < 1):
                raise SpecError(name, f"must be a fraction between 0 and 1, got {value}")
        total = self.train + self.eval + self.test
        if abs(total - 1.0) > 1e-6:
            raise SpecError("", f"train + eval + test must be 1, got {total:g}")

    def hash_buckets(self) -> tuple[int, int, int]:
        """The smallest whole numbers of hash buckets in these ratios (per mille precision).

        Returns:
          (train, eval, test) buckets, e.g. (14, 3, 3) for 0.7 / 0.15 / 0.15.
        """
        parts = [max(1, round(1000 * r)) for r in (self.train, self.eval, self.test)]
        divisor = math.gcd(*parts)
        return tuple(p // divisor for p in parts)


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """A whole data set: source, label, features, slices and split.

    Attributes:
      source: Where the raw data is.
      label: What the model predicts.
      features: One spec per raw column, in the spec's order.
      slices: Columns the Evaluator computes metrics by. Defaults to ().
      split: Train / eval / test split. Defaults to 70 / 15 / 15.
      name: Short name of the data set, e.g. "taxi". Defaults to "".
      schema: A curated TFMD schema (text format) the data is validated
        against, relative to the spec file's folder (or absolute, or gs://).
        Defaults to None: the pipeline infers one from the data it ingests.
      origin: Where the spec came from, for messages. Not compared.
    """

    source: SourceSpec
    label: LabelSpec
    features: tuple[FeatureSpec, ...]
    slices: tuple[str, ...] = ()
    split: SplitSpec = SplitSpec()
    name: str = ""
    schema: str | None = None
    origin: str = dataclasses.field(default="", compare=False, repr=False)

    def __post_init__(self):
        if not self.features:
            raise SpecError("features", "declare at least one column")
        seen: set[str] = set()
        for feature in self.features:
            if feature.name in seen:
                raise SpecError(join_path("features", feature.name), "declared twice; keep one")
            seen.add(feature.name)
        if self.label.column in seen:
            raise SpecError(
                "label.column",
                f"{self.label.column!r} is also under features; the label must not be a model "
                f"input: remove features.{self.label.column}",
            )
        self._check_derive()
        for index, column in enumerate(self.slices):
            self._check_column(f"slices[{index}]", column, "slice by")
            if self.feature(column).kind in (Kind.TEXT, Kind.IMAGE):
                raise SpecError(
                    f"slices[{index}]",
                    f"{column!r} is a {self.feature(column).kind.value} "
                    "column; slice by a numeric, categorical or ignored column",
                )
        if len(set(self.slices)) != len(self.slices):
            raise SpecError("slices", f"lists a column twice: {list(self.slices)}")
        if self.split.key is not None:
            self._check_column("split.key", self.split.key, "split by")

    def _check_column(self, path: str, column: str, purpose: str) -> None:
        if column not in self.feature_names:
            raise SpecError(
                path,
                f"{column!r} is not declared under features; declare it (kind: ignore "
                f"if it is not a model input) or {purpose} one of {list(self.feature_names)}",
            )

    def _check_derive(self) -> None:
        if self.label.derive is None:
            return
        for column in self.label.derive.columns:
            self._check_column("label.derive", column, "derive from")
            kind = self.feature(column).kind
            if kind not in (Kind.NUMERIC, Kind.IGNORE):
                raise SpecError(
                    "label.derive",
                    f"{column!r} is a {kind.value} column; derive from numeric or ignored columns",
                )

    @property
    def feature_names(self) -> tuple[str, ...]:
        """Every declared column, in the spec's order."""
        return tuple(f.name for f in self.features)

    def feature(self, name: str) -> FeatureSpec:
        """Returns the spec of column `name`.

        Raises:
          KeyError: No such column is declared.
        """
        for feature in self.features:
            if feature.name == name:
                return feature
        raise KeyError(f"No feature {name!r} in the spec; declared: {list(self.feature_names)}.")

    def resolve(self, path: str) -> str:
        """`path` as written in the spec (source path, schema) as the pipeline opens it.

        Relative paths are relative to the spec file's folder; absolute paths
        and URIs (gs://...) are returned as they are, as are all paths of a
        spec not read from a file.
        """
        if not self.origin or os.path.isabs(path) or "://" in path:
            return path
        return os.path.join(os.path.dirname(os.path.abspath(self.origin)), path)

    def to_registry(self):
        """The equivalent `components.features.FeatureRegistry`; see `registry.to_registry`."""
        from components.spec.registry import to_registry  # registry imports this module

        return to_registry(self)
