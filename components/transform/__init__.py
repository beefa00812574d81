"""TF Transform's `preprocessing_fn`: the feature engineering baked into the served model.

Every statistic used here (means, variances, quantiles, vocabularies) is
computed once by Transform's analyzers over the training split and saved as
constants in the transform graph; the Trainer puts that graph inside the
exported model, so serving applies exactly the same transformation as training.

Missing values are handled explicitly: a numeric value that is absent is
standardized as if it were the mean (0 after z-scoring) and flagged in
`<name>_missing_xf`; a missing categorical value becomes its own id.

Modules, one per feature kind: `numeric`, `categorical`, `text`, `image`,
and `label`; `tensors` holds what they share. A new transform of a kind goes
into that kind's module (its option and outputs into `components.dataset`).
"""

from __future__ import annotations

from components import dataset
from components.dataset import transformed_name
from components.transform import categorical, image, label, numeric, text


def transform_features(inputs, spec: dataset.DatasetSpec):
    """Applies the spec's transforms to a dict of raw feature tensors.

    The label is produced only when its source columns are present, so the
    same function serves training (label in) and serving (label absent).
    """
    outputs = {}
    for feature in spec.numeric:
        outputs.update(numeric.scale_numeric_feature(inputs[feature.name], feature))
    for feature in spec.categorical:
        outputs[transformed_name(feature.name)] = categorical.encode_categorical_feature(
            inputs[feature.name], feature
        )
    for feature in spec.text:
        outputs[transformed_name(feature.name)] = text.text_feature(inputs[feature.name], feature)
    for feature in spec.images:
        outputs[transformed_name(feature.name)] = image.image_feature(inputs[feature.name], feature)
    if all(column in inputs for column in spec.label.source_columns):
        outputs[spec.label_key] = label.make_label(inputs, spec.label)
    return outputs


def preprocessing_fn(inputs, custom_config):
    """TFX Transform entry point: the transforms the data set spec asks for.

    Args:
      inputs: Map from raw column name to a (Sparse)Tensor, as parsed with the
        raw schema.
      custom_config: The Transform component's custom_config; the pipeline
        puts the data set spec in it (`components.dataset.to_custom_config`).

    Returns:
      Map from transformed feature name (`<name>_xf`) to a dense tensor.
    """
    return transform_features(inputs, dataset.spec_from_custom_config(custom_config))
