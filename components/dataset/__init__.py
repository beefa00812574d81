"""The data set spec: one description of a data set, read by every stage of a run.

A spec (one YAML file per data set, e.g. `data/taxi/spec.yaml`) names the raw
data (`source`), the label (read from a column or derived, e.g.
`tips > 0.2 * fare`), what becomes of every column (`features`), the
Evaluator's `slices` and the train / eval / test `split`. Ingestion reads its
columns, bounds and split; Transform its features' transforms; the Trainer
its transformed features and task; the Evaluator its label and slices. There
is no second model translated from it.

Modules: `model` (`DatasetSpec`, and what the stages read from it), `source`
(source and split), `label`, `features` (one class per feature kind: options,
defaults, checks, outputs), `options` (the enums the options take),
`transformed` (the model inputs Transform makes), `expression` (the derive
grammar), `errors`, `parsing` (YAML in, with file/line/path errors),
`dumping` (YAML out), `evaluation_spec` (the blessing bars a spec may set), `drift_spec`
(how far the data may drift from the live model's),
`custom_config` (the spec inside a TFX component's parameters) and `inference`
(a draft spec from a CSV file).
"""

from components.dataset.custom_config import spec_from_custom_config, to_custom_config
from components.dataset.drift_spec import DriftAction, DriftSpec
from components.dataset.dumping import dump_spec, spec_to_dict
from components.dataset.errors import SpecError
from components.dataset.evaluation_spec import EvaluationSpec
from components.dataset.expression import Expression, ExpressionError, parse_expression
from components.dataset.features import (
    CategoricalFeature,
    Feature,
    IgnoredColumn,
    ImageFeature,
    NumericFeature,
    TextFeature,
)
from components.dataset.label import LabelSpec, Task
from components.dataset.model import DatasetSpec
from components.dataset.options import (
    CategoricalEncoding,
    CategoricalTransform,
    ImageEncoding,
    ImageTransform,
    Kind,
    NumericEmbedding,
    NumericTransform,
    TextStandardize,
    TextTokenize,
    TextTransform,
)
from components.dataset.parsing import load_spec, parse_spec
from components.dataset.source import SourceFormat, SourceSpec, SplitSpec
from components.dataset.transformed import TransformedFeature, transformed_name

__all__ = [
    "CategoricalEncoding",
    "CategoricalFeature",
    "CategoricalTransform",
    "DatasetSpec",
    "DriftAction",
    "DriftSpec",
    "EvaluationSpec",
    "Expression",
    "ExpressionError",
    "Feature",
    "IgnoredColumn",
    "ImageEncoding",
    "ImageFeature",
    "ImageTransform",
    "Kind",
    "LabelSpec",
    "NumericEmbedding",
    "NumericFeature",
    "NumericTransform",
    "SourceFormat",
    "SourceSpec",
    "SpecError",
    "SplitSpec",
    "Task",
    "TextFeature",
    "TextStandardize",
    "TextTokenize",
    "TextTransform",
    "TransformedFeature",
    "dump_spec",
    "load_spec",
    "parse_expression",
    "parse_spec",
    "spec_from_custom_config",
    "spec_to_dict",
    "to_custom_config",
    "transformed_name",
]
