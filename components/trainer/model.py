"""Builds the Keras DNN over Transform's outputs.

Real-valued features are concatenated as they are (Transform already
standardized them); each categorical id feature gets its own embedding. The
hidden stack is what the resolved `HParams` say: initializer matched to the
activation, batch normalization before or after it, dropout of the chosen
kind, weight penalties and max-norm, optionally residual blocks. The output is
the head's (`components.trainer.heads`): a sigmoid probability for a binary
label, softmax probabilities for classes, a rescaled linear unit for regression.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf
import tf_keras as keras

from components.dataset import TransformedFeature
from components.trainer import activations, initializers, periodic, regularization
from components.trainer.heads import BINARY_HEAD, Head
from components.trainer.hparams import HParams

STANDARDIZE_INPUTS = "standardize_inputs"
# The network's name; warm start finds it by this name inside an ensemble.
DNN_NAME = "deepline_dnn"
MIN_STANDARDIZED_VARIANCE = 1e-6


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
    head: Head = BINARY_HEAD,
) -> keras.Model:
    """Returns an uncompiled Keras model over the transformed features.

    Unresolved hyperparameters are resolved first (`HParams.resolve()`).

    Args:
      features: The transformed features, from the data set spec.
      cardinalities: Number of ids of every categorical feature, by
        transformed name (vocabulary sizes are known only after Transform).
      hparams: Architecture hyperparameters, resolved (`HParams.resolve()`).
      head: The output layer, by what the label is. Defaults to binary: one
        sigmoid unit.

    Raises:
      ValueError: a categorical feature has no known cardinality.
    """
    hparams = hparams.resolve()
    inputs, parts = feature_inputs(features, cardinalities, hparams)
    x = keras.layers.Concatenate(name="features")(parts)
    if hparams.preset == "self_normalizing":
        # SELU self-normalizes only over standardized inputs; embeddings and
        # 0/1 missing flags are not, so the concatenated vector is standardized
        # (`adapt_input_standardization` sets the statistics before training).
        x = keras.layers.Normalization(axis=-1, name=STANDARDIZE_INPUTS)(x)
    x = _hidden_stack(x, hparams)
    return keras.Model(inputs=inputs, outputs=head.output(x), name=DNN_NAME)


def feature_inputs(
    features: tuple[TransformedFeature, ...],
    cardinalities: dict[str, int],
    hparams: HParams,
) -> tuple[dict[str, tf.Tensor], list[tf.Tensor]]:
    """The model's inputs and what each feature becomes before the layers every family adds.

    Categorical ids go through an embedding (or one-hot), token ids through an
    embedding bag, large images through a small conv stem, real values with
    `periodic` through a periodic embedding (`periodic.PeriodicEmbedding`); other real
    values are used as they are. Every family reads its features this way.

    Args:
      features: The transformed features, from the data set spec.
      cardinalities: Number of ids of every categorical feature, by transformed name.
      hparams: Resolved hyperparameters (embedding widths, periodic embeddings, seed).

    Returns:
      (Keras inputs by transformed name, one (batch, n) tensor per feature in order).

    Raises:
      ValueError: a categorical feature has no known cardinality.
    """
    inputs, parts = {}, []
    for feature in features:
        if feature.is_categorical:
            if feature.name not in cardinalities:
                raise ValueError(f"No cardinality known for categorical feature {feature.name!r}.")
            n = cardinalities[feature.name]
            ids = keras.Input(shape=(feature.width,), name=feature.name, dtype="int64")
            width = feature.embedding_size or embedding_width(
                feature.max_ids or n, hparams.embedding_dim
            )
            inputs[feature.name] = ids
            if feature.one_hot:
                # A frozen identity embedding: row i is the one-hot vector of id i. Keras'
                # CategoryEncoding computes the same with a bincount, which TFLite cannot run.
                one_hot = keras.layers.Embedding(
                    n,
                    n,
                    embeddings_initializer=keras.initializers.Identity(),
                    trainable=False,
                    name=f"{feature.name}_one_hot",
                )(ids)
                parts.append(keras.layers.Flatten()(one_hot))
            elif feature.width == 1:
                embedded = keras.layers.Embedding(n, width, name=f"{feature.name}_embedding")(ids)
                parts.append(keras.layers.Flatten()(embedded))
            else:
                # A sequence of token ids: the mean of their embeddings (an
                # embedding bag); id 0 is padding and masked out of the mean.
                embedded = keras.layers.Embedding(
                    n, width, mask_zero=True, name=f"{feature.name}_embedding"
                )(ids)
                parts.append(
                    keras.layers.GlobalAveragePooling1D(name=f"{feature.name}_bag")(embedded)
                )
        else:
            value = keras.Input(shape=(feature.width,), name=feature.name, dtype="float32")
            inputs[feature.name] = value
            if feature.image_shape and feature.image_shape[0] * feature.image_shape[1] >= 256:
                parts.append(_conv_stem(value, feature, hparams))
            elif feature.periodic:
                parts.append(
                    periodic.PeriodicEmbedding(
                        hparams.periodic_frequencies,
                        hparams.periodic_width,
                        hparams.periodic_sigma,
                        seed=hparams.seed + 200 + len(parts),
                        name=f"{feature.name}_periodic",
                    )(value)
                )
            else:
                parts.append(value)  # small images: their pixels; scaled values as they are
    return inputs, parts


def _conv_stem(pixels, feature: TransformedFeature, hparams: HParams):
    """Two conv + max-pool blocks and a global average: the image's features.

    For images of 16 x 16 pixels and more; smaller ones go to the dense stack as pixels.
    """
    x = keras.layers.Reshape(feature.image_shape, name=f"{feature.name}_image")(pixels)
    for i, filters in enumerate((32, 64)):
        x = keras.layers.Conv2D(
            filters,
            3,
            padding="same",
            activation="relu",
            kernel_initializer=initializers.make_initializer("he_normal", hparams.seed + 100 + i),
            name=f"{feature.name}_conv_{i}",
        )(x)
        x = keras.layers.MaxPooling2D(name=f"{feature.name}_pool_{i}")(x)
    return keras.layers.GlobalAveragePooling2D(name=f"{feature.name}_features")(x)


def _hidden_layer(x, units: int, i: int, hparams: HParams):
    """Dense, batch norm (before or after the activation), activation, dropout."""
    batch_norm = hparams.batch_norm
    before = batch_norm and hparams.batch_norm_position == "before"
    x = keras.layers.Dense(
        units,
        kernel_initializer=initializers.make_initializer(hparams.initializer, hparams.seed + i),
        kernel_regularizer=regularization.make_regularizer(hparams.l1, hparams.l2),
        kernel_constraint=(
            regularization.max_norm_constraint(hparams.max_norm) if hparams.max_norm else None
        ),
        # With batch norm right after, a dense bias is redundant (BN has its own shift).
        use_bias=not before,
        name=f"hidden_{i}",
    )(x)
    if before:
        x = _batch_norm(x, i, hparams)
    x = activations.make_activation(
        hparams.activation,
        leaky_alpha=hparams.leaky_relu_alpha,
        seed=hparams.seed + i,
        layer_name=f"hidden_{i}_{hparams.activation}",
    )(x)
    if batch_norm and not before:
        x = _batch_norm(x, i, hparams)
    if hparams.dropout:
        x = regularization.make_dropout(
            hparams.dropout_kind, hparams.dropout, seed=hparams.seed + i, name=f"hidden_{i}_dropout"
        )(x)
    return x


def _batch_norm(x, i: int, hparams: HParams):
    return keras.layers.BatchNormalization(
        momentum=hparams.batch_norm_momentum, name=f"hidden_{i}_bn"
    )(x)


def _hidden_stack(x, hparams: HParams):
    """The hidden layers; with `residual`, equal-width pairs become x + f(x) blocks."""
    units = hparams.hidden_units
    i = 0
    while i < len(units):
        pair = i + 1 < len(units) and units[i] == units[i + 1]
        if hparams.residual and pair:
            shortcut = x
            if x.shape[-1] != units[i]:
                shortcut = keras.layers.Dense(
                    units[i], use_bias=False, name=f"hidden_{i}_projection"
                )(x)
            x = _hidden_layer(x, units[i], i, hparams)
            x = _hidden_layer(x, units[i + 1], i + 1, hparams)
            x = keras.layers.Add(name=f"hidden_{i}_{i + 1}_residual")([shortcut, x])
            i += 2
        else:
            x = _hidden_layer(x, units[i], i, hparams)
            i += 1
    return x


def adapt_input_standardization(model: keras.Model, dataset: tf.data.Dataset, batches: int):
    """Sets the self-normalizing net's input standardization from training batches.

    Does nothing for a model without that layer.

    Args:
      model: A model from `build_model`.
      dataset: (features, label) batches.
      batches: How many batches to compute the mean and variance over.
    """
    try:
        standardize = model.get_layer(STANDARDIZE_INPUTS)
    except ValueError:
        return
    features = keras.Model(model.inputs, model.get_layer("features").output)
    # Plain tracing: AutoGraph's rewrite of the model call costs seconds here.
    concatenated = tf.autograph.experimental.do_not_convert(
        lambda x, _: features(x, training=False)
    )
    standardize.adapt(dataset.take(batches).map(concatenated))
    # A column constant in the sample (a rare missing flag, say) would be divided
    # by ~0 when it does vary later, and blow up the SELU stack: leave its scale.
    mean, variance, count = standardize.get_weights()
    variance = np.where(variance < MIN_STANDARDIZED_VARIANCE, 1.0, variance)
    standardize.set_weights([mean, variance, count])


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
