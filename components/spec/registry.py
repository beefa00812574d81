"""From a data set spec to the `components.features.FeatureRegistry` Transform and the Trainer use.

The registry expresses the spec: numeric z-score, min-max or quantile buckets
(optionally after log1p, with a bucketized view, with a fill value);
categorical vocabulary / hash / identity ids for an embedding or one-hot;
text as token ids or TF-IDF; images; a binary label derived as
`a > ratio * b`; binary, multiclass or regression labels read from a column.
A derived label of another form is refused, naming the spec and its field.
"""

from __future__ import annotations

from collections.abc import Mapping

from components import features as features_lib
from components.spec import feature_specs as fs
from components.spec import model
from components.spec.dumping import spec_to_dict
from components.spec.errors import join_path
from components.spec.expression import BinaryOp, Column, Number
from components.spec.parsing import parse_spec

SPEC_KEY = "spec"  # in a TFX component's custom_config: the spec as plain data
SPEC_ORIGIN_KEY = "spec_origin"  # and where it was read from, for messages


class UnsupportedSpecError(ValueError):
    """The spec is valid but asks for something the feature registry cannot express yet."""


def to_custom_config(spec: model.DatasetSpec) -> dict:
    """The spec as `custom_config` entries of the components that need it (Transform, Trainer).

    The spec travels as plain data, not as a path: the components may run on
    other machines (Vertex, Dataflow), and a changed spec changes the
    component's parameters, so TFX does not reuse a result made with the old one.
    Its origin is shortened to `<folder>/<file>`: a machine-independent name for
    messages (a compiled pipeline holds no path of the machine it was compiled on).
    """
    origin = "/".join(spec.origin.replace("\\", "/").split("/")[-2:])
    return {SPEC_KEY: spec_to_dict(spec), SPEC_ORIGIN_KEY: origin}


def spec_from_custom_config(custom_config: Mapping | None) -> model.DatasetSpec:
    """The spec in a component's `custom_config` (put there with `to_custom_config`).

    Raises:
      ValueError: `custom_config` carries no spec.
      SpecError: the spec is not valid.
    """
    if not custom_config or SPEC_KEY not in custom_config:
        raise ValueError(
            "The component's custom_config has no data set spec: build the pipeline with "
            "pipeline.create_pipeline, which passes it (components.spec.to_custom_config)."
        )
    return parse_spec(custom_config[SPEC_KEY], custom_config.get(SPEC_ORIGIN_KEY) or "<spec>")


def registry_from_custom_config(custom_config: Mapping | None) -> features_lib.FeatureRegistry:
    """The feature registry of the spec in a component's `custom_config` (`to_custom_config`).

    Raises:
      ValueError: `custom_config` carries no spec.
      SpecError, UnsupportedSpecError: the spec is not valid, or not supported.
    """
    return to_registry(spec_from_custom_config(custom_config))


def to_registry(spec: model.DatasetSpec) -> features_lib.FeatureRegistry:
    """Builds the feature registry equivalent to `spec`.

    Ignored columns that the label is derived from are label sources in the
    registry, not ignored columns.

    Args:
      spec: The data set spec.

    Returns:
      The registry: numeric and categorical features in the spec's order.

    Raises:
      UnsupportedSpecError: A feature, option or label the registry cannot
        express; the message names the spec file and the YAML path.
    """
    numeric, categorical, text, images, ignored = [], [], [], [], []
    label = _label(spec)
    for feature in spec.features:
        if isinstance(feature, fs.NumericSpec):
            numeric.append(_numeric(feature))
        elif isinstance(feature, fs.CategoricalSpec):
            categorical.append(_categorical(feature))
        elif isinstance(feature, fs.TextSpec):
            text.append(
                features_lib.TextFeature(
                    feature.name,
                    features_lib.TextOutput(feature.transform.value),
                    standardize=feature.standardize.value,
                    tokenize=feature.tokenize.value,
                    vocabulary_size=feature.vocabulary_size,
                    max_tokens=feature.max_tokens,
                    embedding_size=feature.embedding_size,
                )
            )
        elif isinstance(feature, fs.ImageSpec):
            images.append(
                features_lib.ImageFeature(
                    feature.name,
                    feature.encoding.value,
                    feature.height,
                    feature.width,
                    feature.channels,
                    feature.transform.value,
                )
            )
        elif isinstance(feature, fs.IgnoredSpec):
            if feature.name not in label.source_columns:
                ignored.append(feature.name)
        else:
            raise _unsupported(
                spec,
                feature.name,
                "",
                f"{feature.kind.value} features are not supported by the feature registry yet; "
                "declare the column `ignore` to train without it",
            )
    return features_lib.FeatureRegistry(
        numeric=tuple(numeric),
        categorical=tuple(categorical),
        label=label,
        ignored=tuple(ignored),
        slice_columns=spec.slices,
        text=tuple(text),
        images=tuple(images),
    )


def _unsupported(spec: model.DatasetSpec, name: str, option: str, problem: str):
    path = join_path(join_path("features", name), option)
    return UnsupportedSpecError(f"{spec.origin or '<spec>'}: {path}: {problem}.")


def _numeric(feature: fs.NumericSpec) -> features_lib.NumericFeature:
    return features_lib.NumericFeature(
        feature.name,
        log1p=feature.log1p,
        buckets=feature.buckets,
        scale=features_lib.Scale(feature.transform.value),
        fill=feature.fill,
    )


def _categorical(feature: fs.CategoricalSpec) -> features_lib.CategoricalFeature:
    how = {
        "one_hot": feature.encoding is fs.CategoricalEncoding.ONE_HOT,
        "embedding_size": feature.embedding_size,
    }
    if feature.transform is fs.CategoricalTransform.VOCABULARY:
        return features_lib.CategoricalFeature(
            feature.name,
            features_lib.Encoding.VOCABULARY,
            top_k=feature.top_k,
            oov_buckets=feature.oov_buckets,
            frequency_threshold=feature.frequency_threshold,
            **how,
        )
    if feature.transform is fs.CategoricalTransform.HASH:
        return features_lib.CategoricalFeature(
            feature.name, features_lib.Encoding.HASH, hash_buckets=feature.bins, **how
        )
    return features_lib.CategoricalFeature(
        feature.name,
        features_lib.Encoding.IDENTITY,
        num_values=feature.num_values,
        offset=feature.offset,
        **how,
    )


def _label(spec: model.DatasetSpec) -> features_lib.Label:
    """A column label as it is; a derived one must match `a > r * b`, `a > b * r` or `a > b`."""
    label = spec.label
    where = f"{spec.origin or '<spec>'}: label"
    if label.derive is None:
        return features_lib.ColumnLabel(
            label.column, features_lib.Task(label.kind.value), label.classes
        )
    root = label.derive.root
    if isinstance(root, BinaryOp) and root.op == ">" and isinstance(root.left, Column):
        right = root.right
        if isinstance(right, Column):
            return features_lib.BinaryLabel(label.column, root.left.name, right.name, 1.0)
        if isinstance(right, BinaryOp) and right.op == "*":
            pairs = ((right.left, right.right), (right.right, right.left))
            for ratio, column in pairs:
                if isinstance(ratio, Number) and isinstance(column, Column):
                    return features_lib.BinaryLabel(
                        label.column, root.left.name, column.name, ratio.value
                    )
    raise UnsupportedSpecError(
        f"{where}.derive: the feature registry supports only 'a > ratio * b' "
        f"(e.g. 'tips > 0.2 * fare'), not {label.derive.text!r}."
    )
