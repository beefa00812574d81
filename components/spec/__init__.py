"""The declarative data set spec: one YAML file drives ingestion, Transform, Trainer and Evaluator.

A spec names the raw data (`source`), the label (read from a column or derived,
e.g. `tips > 0.2 * fare`), what becomes of every column (`features`), the
Evaluator's `slices` and the train / eval / test `split`. See
`data/taxi/spec.yaml` for a complete example and `components.spec_inference`
to draft one from a CSV file.

Modules: `model` (the data set, source, label and split dataclasses),
`feature_specs` (one dataclass per column kind), `errors`, `parsing` (YAML in,
with file/line/path errors), `dumping` (YAML out), `expression` (the derive
grammar) and `registry` (conversion to `components.features.FeatureRegistry`).
"""

from components.spec.dumping import dump_spec, spec_to_dict
from components.spec.errors import SpecError
from components.spec.expression import Expression, ExpressionError, parse_expression
from components.spec.feature_specs import (
    CategoricalEncoding,
    CategoricalSpec,
    CategoricalTransform,
    FeatureSpec,
    IgnoredSpec,
    ImageEncoding,
    ImageSpec,
    ImageTransform,
    Kind,
    NumericSpec,
    NumericTransform,
    TextSpec,
    TextStandardize,
    TextTokenize,
    TextTransform,
)
from components.spec.model import (
    DatasetSpec,
    LabelKind,
    LabelSpec,
    SourceFormat,
    SourceSpec,
    SplitSpec,
)
from components.spec.parsing import load_spec, parse_spec
from components.spec.registry import (
    UnsupportedSpecError,
    registry_from_custom_config,
    spec_from_custom_config,
    to_custom_config,
    to_registry,
)

__all__ = [
    "CategoricalEncoding",
    "CategoricalSpec",
    "CategoricalTransform",
    "DatasetSpec",
    "Expression",
    "ExpressionError",
    "FeatureSpec",
    "IgnoredSpec",
    "ImageEncoding",
    "ImageSpec",
    "ImageTransform",
    "Kind",
    "LabelKind",
    "LabelSpec",
    "NumericSpec",
    "NumericTransform",
    "SourceFormat",
    "SourceSpec",
    "SpecError",
    "SplitSpec",
    "TextSpec",
    "TextStandardize",
    "TextTokenize",
    "TextTransform",
    "UnsupportedSpecError",
    "registry_from_custom_config",
    "spec_from_custom_config",
    "to_custom_config",
    "dump_spec",
    "load_spec",
    "parse_expression",
    "parse_spec",
    "spec_to_dict",
    "to_registry",
]
