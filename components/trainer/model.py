"""Builds the Keras DNN over Transform's outputs.

Real-valued features are concatenated as they are (Transform already
standardized them); each categorical id feature gets its own embedding. The
hidden stack follows the deep-network defaults of `HParams`: He
initialization, ReLU for a shallow net, Swish with batch normalization for a
deep one. The output is one sigmoid unit: the probability of the positive class.
"""

from __future__ import annotations

import math

import tensorflow as tf
import tf_keras as keras

from components.features import TransformedFeature
from components.trainer.hparams import HParams


def embedding_width(cardinality: int, max_width: int) -> int:
    """Embedding width for `cardinality` ids: min(max_width, ceil(1.6 * n ** 0.56))."""
    return max(1, min(max_width, math.ceil(1.6 * cardinality**0.56)))


def as_model_inputs(features: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
    """Reshapes Transform's (batch,) outputs to the model's (batch, 1) inputs."""
    return {
        name: tf.expand_dims(value, -1) if value.shape.rank == 1 else value
        for name, value in features.items()
    }


def build_model(
    features: tuple[TransformedFeature, ...],
    cardinalities: dict[str, int],
    hparams: HParams,
) -> keras.Model:
    """Returns an uncompiled Keras model over the transformed features.

    Args:
      features: The transformed features, from the feature registry.
      cardinalities: Number of ids of every categorical feature, by
        transformed name (vocabulary sizes are known only after Transform).
      hparams: Architecture hyperparameters.

    Raises:
      ValueError: a categorical feature has no known cardinality.
    """
    inputs, parts = {}, []
    for feature in features:
        if feature.is_categorical:
            if feature.name not in cardinalities:
                raise ValueError(f"No cardinality known for categorical feature {feature.name!r}.")
            n = cardinalities[feature.name]
            ids = keras.Input(shape=(1,), name=feature.name, dtype="int64")
            width = embedding_width(feature.max_ids or n, hparams.embedding_dim)
            embedded = keras.layers.Embedding(n, width, name=f"{feature.name}_embedding")(ids)
            inputs[feature.name] = ids
            parts.append(keras.layers.Flatten()(embedded))
        else:
            value = keras.Input(shape=(1,), name=feature.name, dtype="float32")
            inputs[feature.name] = value
            parts.append(value)

    x = keras.layers.Concatenate(name="features")(parts)
    activation = hparams.resolved_activation
    batch_norm = hparams.resolved_batch_norm
    for i, units in enumerate(hparams.hidden_units):
        # With batch norm right after, a dense bias is redundant (BN has its own shift).
        x = keras.layers.Dense(
            units,
            kernel_initializer=keras.initializers.get(
                {"class_name": hparams.initializer, "config": {"seed": hparams.seed + i}}
            ),
            use_bias=not batch_norm,
            name=f"hidden_{i}",
        )(x)
        if batch_norm:
            x = keras.layers.BatchNormalization(name=f"hidden_{i}_bn")(x)
        x = keras.layers.Activation(activation, name=f"hidden_{i}_{activation}")(x)
        if hparams.dropout:
            x = keras.layers.Dropout(hparams.dropout, seed=hparams.seed + i)(x)
    output = keras.layers.Dense(1, activation="sigmoid", name="probability")(x)
    return keras.Model(inputs=inputs, outputs=output, name="deepline_dnn")


def skip_autograph(model: keras.Model) -> keras.Model:
    """Traces `model`'s train and test steps without AutoGraph; returns the model.

    AutoGraph rewrites the Python source of every layer, loss and metric it
    meets (~25 s of CPU for this model on the first epoch). Nothing in these
    steps branches on tensor values, so plain tracing builds the same graph
    (the first epoch of the taxi model drops from ~27 s to ~5 s here).
    """
    model.train_step = tf.autograph.experimental.do_not_convert(model.train_step)
    model.test_step = tf.autograph.experimental.do_not_convert(model.test_step)
    return model
