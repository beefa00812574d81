"""The data set spec: one description that ingestion, Transform, the Trainer and the Evaluator read.

A `DatasetSpec` says where the raw data is (`SourceSpec`), what the label is
(`LabelSpec`), what becomes of every column (one feature per column, see
`components.dataset.features`), which columns the Evaluator slices by, how
rows are split, the blessing bars, if any (`EvaluationSpec`), and the drift thresholds
(`DriftSpec`).
`components.dataset.parsing` builds it from YAML; the checks here run however
a spec is built, and raise `SpecError` with a path relative to the part being
checked, which the parser prefixes and locates in the file.
"""

from __future__ import annotations

import dataclasses
import os

from components.dataset.drift_spec import DriftSpec
from components.dataset.errors import SpecError, join_path
from components.dataset.evaluation_spec import EvaluationSpec
from components.dataset.features import (
    CategoricalFeature,
    Feature,
    IgnoredColumn,
    ImageFeature,
    NumericFeature,
    TextFeature,
)
from components.dataset.label import LabelSpec, Task
from components.dataset.options import Kind
from components.dataset.source import SourceSpec, SplitSpec
from components.dataset.transformed import TransformedFeature, transformed_name


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """A whole data set: source, label, features, slices and split.

    Attributes:
      source: Where the raw data is.
      label: What the model predicts.
      features: One feature per raw column, in the spec's order.
      slices: Columns the Evaluator computes metrics by. Defaults to ().
      split: Train / eval / test split. Defaults to 70 / 15 / 15.
      name: Short name of the data set, e.g. "taxi". Defaults to "".
      schema: A curated TFMD schema (text format) the data is validated
        against, relative to the spec file's folder (or absolute, or gs://).
        Defaults to None: the pipeline infers one from the data it ingests.
      evaluation: Absolute blessing bars on the test split; without them the
        candidate must beat the trivial model. Defaults to `EvaluationSpec()`.
      drift: How far the data may move from the live model's training data, and what
        drift does to a run. Defaults to `DriftSpec()`: the default thresholds, drift stops it.
      origin: Where the spec came from, for messages. Not compared.
    """

    source: SourceSpec
    label: LabelSpec
    features: tuple[Feature, ...]
    slices: tuple[str, ...] = ()
    split: SplitSpec = SplitSpec()
    name: str = ""
    schema: str | None = None
    evaluation: EvaluationSpec = EvaluationSpec()
    drift: DriftSpec = DriftSpec()
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
        try:
            self.evaluation.check_task(self.task)
        except SpecError as error:
            raise SpecError(join_path("evaluation", error.path), error.problem) from None

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

    def feature(self, name: str) -> Feature:
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

    # What Transform, the Trainer and the Evaluator read, all derived from the fields above.

    @property
    def numeric(self) -> tuple[NumericFeature, ...]:
        """The numeric features, in the spec's order."""
        return self._of_kind(NumericFeature)

    @property
    def categorical(self) -> tuple[CategoricalFeature, ...]:
        """The categorical features, in the spec's order."""
        return self._of_kind(CategoricalFeature)

    @property
    def text(self) -> tuple[TextFeature, ...]:
        """The text features, in the spec's order."""
        return self._of_kind(TextFeature)

    @property
    def images(self) -> tuple[ImageFeature, ...]:
        """The image features, in the spec's order."""
        return self._of_kind(ImageFeature)

    @property
    def ignored(self) -> tuple[str, ...]:
        """Ignored columns other than the label's sources: in the data, read by nothing."""
        sources = self.label.source_columns
        return tuple(f.name for f in self._of_kind(IgnoredColumn) if f.name not in sources)

    def _of_kind(self, cls) -> tuple:
        return tuple(f for f in self.features if isinstance(f, cls))

    @property
    def feature_columns(self) -> tuple[str, ...]:
        """Raw columns the model reads: numeric, categorical, text, images, each in spec order."""
        kinds = (self.numeric, self.categorical, self.text, self.images)
        return tuple(f.name for features in kinds for f in features)

    @property
    def raw_columns(self) -> tuple[str, ...]:
        """Every column the raw data must have (model inputs, label sources, ignored)."""
        inputs = self.feature_columns
        label_only = tuple(c for c in self.label.source_columns if c not in inputs)
        return inputs + label_only + self.ignored

    @property
    def numeric_columns(self) -> tuple[str, ...]:
        """Raw columns whose values must parse as numbers."""
        identity = tuple(f.name for f in self.categorical if f.raw_type == "int")
        label_sources = tuple(c for c in self.label.source_columns if c not in self.feature_columns)
        if not self.label.derived and self.label.classes:
            label_sources = ()  # class names: text
        return tuple(f.name for f in self.numeric) + identity + label_sources

    @property
    def task(self) -> Task:
        """What the model predicts (the label's kind)."""
        return self.label.kind

    @property
    def num_classes(self) -> int:
        """Classes of a classification label (2 for binary); 0 for regression."""
        if self.task is Task.REGRESSION:
            return 0
        return len(self.label.classes) or 2

    @property
    def label_key(self) -> str:
        """Name of the transformed label."""
        return transformed_name(self.label.column)

    def transformed_features(self) -> tuple[TransformedFeature, ...]:
        """Every model input Transform produces: numeric, categorical, text, then images."""
        kinds = (self.numeric, self.categorical, self.text, self.images)
        return tuple(output for features in kinds for f in features for output in f.outputs())
