"""Exports the trained model with the Transform graph inside it.

Two signatures:
  serving_default:    serialized raw `tf.train.Example`s under the input name
                      `examples` (raw column names, label absent, any feature
                      may be missing) -> {<prediction key>: the head's
                      output}: "probability" (batch, 1) for a binary label,
                      "probabilities" (batch, classes), "prediction" (batch, 1)
                      for regression (`heads.Head.prediction_key`).
  transform_features: serialized raw examples -> transformed features,
                      including the label; the Evaluator uses it to derive
                      the label from raw eval data.
and, when `mc_dropout_samples` > 0, a third:
  mc_dropout:         serialized raw examples -> {"mean", "stddev"} of the
                      probability over that many dropout samples (batch norm
                      in inference mode), an uncertainty estimate.
With `fold_batch_norm`, the served network has every batch normalization
that follows a dense layer folded into it: the same predictions (within
float rounding) with fewer operations.
Because both parse raw data and run the same saved Transform graph the model
was trained on, training and serving cannot skew.
"""

from __future__ import annotations

import tensorflow as tf
import tensorflow_transform as tft
import tf_keras as keras

from components.dataset import DatasetSpec
from components.trainer import folding, mc_dropout
from components.trainer.heads import Head
from components.trainer.hparams import HParams
from components.trainer.model import as_model_inputs

SERVING_INPUT = "examples"
TRANSFORM_SIGNATURE = "transform_features"
MC_DROPOUT_SIGNATURE = "mc_dropout"


def serving_feature_spec(tf_transform_output: tft.TFTransformOutput, spec: DatasetSpec):
    """Raw feature spec of a serving request: every raw column but label-only ones."""
    label_only = set(spec.label.source_columns) - set(spec.feature_columns)
    return {
        name: spec
        for name, spec in tf_transform_output.raw_feature_spec().items()
        if name not in label_only
    }


def export_serving_model(
    model: keras.Model,
    tf_transform_output: tft.TFTransformOutput,
    spec: DatasetSpec,
    export_dir: str,
    hparams: HParams | None = None,
) -> None:
    """Saves `model` with its serving and transform signatures to `export_dir`.

    Args:
      model: The trained model over transformed features.
      tf_transform_output: The Transform graph it was trained with.
      spec: The data set spec (which raw columns a request carries).
      export_dir: Where the SavedModel goes.
      hparams: Resolved hyperparameters: `fold_batch_norm` and
        `mc_dropout_samples` shape the export. Defaults to None: neither.
    """
    hparams = hparams or HParams(fold_batch_norm=False, mc_dropout_samples=0)
    trained = model
    if hparams.fold_batch_norm:
        model = folding.fold_batch_norm(model)
    # Tracked as an attribute so the transform graph's assets and variables
    # are saved with the model.
    model.tft_layer = tf_transform_output.transform_features_layer()
    input_names = set(model.input_names)
    serving_spec = serving_feature_spec(tf_transform_output, spec)
    prediction_key = Head.for_spec(spec).prediction_key
    raw_spec = tf_transform_output.raw_feature_spec()

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=SERVING_INPUT)])
    def serve(examples):
        raw = tf.io.parse_example(examples, serving_spec)
        transformed = model.tft_layer(raw)
        inputs = as_model_inputs({k: v for k, v in transformed.items() if k in input_names})
        return {prediction_key: model(inputs, training=False)}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=SERVING_INPUT)])
    def transform(examples):
        raw = tf.io.parse_example(examples, raw_spec)
        return model.tft_layer(raw)

    signatures = {
        "serving_default": serve.get_concrete_function(),
        TRANSFORM_SIGNATURE: transform.get_concrete_function(),
    }
    if hparams.mc_dropout_samples:
        # From the trained (unfolded) network: folding drops nothing dropout needs,
        # but the sampled model must share the trained weights as they are.
        sample = mc_dropout.make_mc_dropout_fn(
            trained, hparams.mc_dropout_samples, seed=hparams.seed
        )
        if model is not trained:
            # Tracked, so the unfolded network's variables are saved with the model.
            model.mc_network = trained

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=SERVING_INPUT)])
        def serve_mc_dropout(examples):
            raw = tf.io.parse_example(examples, serving_spec)
            transformed = model.tft_layer(raw)
            return sample(
                as_model_inputs({k: v for k, v in transformed.items() if k in input_names})
            )

        signatures[MC_DROPOUT_SIGNATURE] = serve_mc_dropout.get_concrete_function()
    model.save(
        export_dir,
        save_format="tf",
        # Per-layer call traces are only needed to reload custom layers without
        # their code; our custom layers are registered and rebuilt from their
        # configs, so skip them (a third faster). TF-DF's tree models have no
        # config to rebuild from: with trees inside, keep the traces, or Keras
        # (warm start, the report) cannot load the model back.
        save_traces=holds_trees(model),
        signatures=signatures,
    )


def holds_trees(model: keras.Model) -> bool:
    """Whether `model` or a model nested in it is a TF-DF model."""
    for layer in [model, *model.submodules]:
        if type(layer).__module__.startswith("tensorflow_decision_forests"):
            return True
    return False


def layer_table(model: keras.Model, prefix: str = "") -> list[dict]:
    """One row per layer of `model` (name, kind, output shape, weights, trainable), as in
    `model.summary()`; the layers of a model nested in it (the members of an ensemble) are
    listed in its place, named `<member>/<layer>`. The Trainer records it for the report,
    which would otherwise load the whole model back to read it."""
    rows = []
    for layer in model.layers:
        if isinstance(layer, keras.Model) and layer.layers:
            rows.extend(layer_table(layer, f"{prefix}{layer.name}/"))
            continue
        try:
            shape = str(layer.output_shape)
        except AttributeError:  # layers with several outputs
            shape = "multiple"
        rows.append(
            {
                "name": f"{prefix}{layer.name}",
                "kind": type(layer).__name__,
                "output_shape": shape,
                "params": int(layer.count_params()),
                "trainable": bool(layer.trainable),
            }
        )
    return rows
