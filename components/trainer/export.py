"""Exports the trained model with the Transform graph inside it.

Two signatures:
  serving_default:    serialized raw `tf.train.Example`s under the input name
                      `examples` (raw column names, label absent, any feature
                      may be missing) -> {"probability": (batch, 1)}.
  transform_features: serialized raw examples -> transformed features,
                      including the label; the Evaluator uses it to derive
                      the label from raw eval data.
Because both parse raw data and run the same saved Transform graph the model
was trained on, training and serving cannot skew.
"""

from __future__ import annotations

import tensorflow as tf
import tensorflow_transform as tft
import tf_keras as keras

from components.features import FeatureRegistry
from components.trainer.model import as_model_inputs

SERVING_INPUT = "examples"
PREDICTION_KEY = "probability"
TRANSFORM_SIGNATURE = "transform_features"


def serving_feature_spec(tf_transform_output: tft.TFTransformOutput, registry: FeatureRegistry):
    """Raw feature spec of a serving request: every raw column but label-only ones."""
    label_only = set(registry.label.source_columns) - set(registry.feature_columns)
    return {
        name: spec
        for name, spec in tf_transform_output.raw_feature_spec().items()
        if name not in label_only
    }


def export_serving_model(
    model: keras.Model,
    tf_transform_output: tft.TFTransformOutput,
    registry: FeatureRegistry,
    export_dir: str,
) -> None:
    """Saves `model` with its serving and transform signatures to `export_dir`."""
    # Tracked as an attribute so the transform graph's assets and variables
    # are saved with the model.
    model.tft_layer = tf_transform_output.transform_features_layer()
    input_names = set(model.input_names)
    serving_spec = serving_feature_spec(tf_transform_output, registry)
    raw_spec = tf_transform_output.raw_feature_spec()

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=SERVING_INPUT)])
    def serve(examples):
        raw = tf.io.parse_example(examples, serving_spec)
        transformed = model.tft_layer(raw)
        inputs = as_model_inputs({k: v for k, v in transformed.items() if k in input_names})
        return {PREDICTION_KEY: model(inputs, training=False)}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=SERVING_INPUT)])
    def transform(examples):
        raw = tf.io.parse_example(examples, raw_spec)
        return model.tft_layer(raw)

    model.save(
        export_dir,
        save_format="tf",
        # Per-layer call traces are only needed to reload custom layers without
        # their code; every layer here is a built-in, so skip them (a third faster).
        save_traces=False,
        signatures={
            "serving_default": serve.get_concrete_function(),
            TRANSFORM_SIGNATURE: transform.get_concrete_function(),
        },
    )
