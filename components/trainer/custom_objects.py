"""Deepline's custom Keras loss, metric, layer and model, and the table to load them.

Every class is registered under the "deepline" package, so a model saved
with them (SavedModel or .keras) reloads wherever this module has been
imported; `CUSTOM_OBJECTS` (which also holds `regularization`'s Monte
Carlo dropout layers) passes them explicitly to loaders that take a
`custom_objects` argument.

* `HuberLoss` and `HuberMetric`: the Huber loss, quadratic for residuals up
  to `threshold` and linear beyond, and its streaming mean over all examples.
* `ResidualDenseBlock`: `x + f(x)` around a stack of dense layers.
* `ReconstructingModel`: a dense predictor with an auxiliary head that
  reconstructs its inputs, trained on `loss + weight * reconstruction MSE`.
"""

from __future__ import annotations

from collections.abc import Sequence

import tensorflow as tf
import tf_keras as keras

from components.trainer.regularization import MCAlphaDropout, MCDropout


def huber(y_true: tf.Tensor, y_pred: tf.Tensor, threshold: float) -> tf.Tensor:
    """Per-example Huber loss, averaged over the last axis.

    For a residual e = y_true - y_pred: `e ** 2 / 2` when |e| <= threshold,
    else `threshold * (|e| - threshold / 2)`. The two pieces meet with equal
    value and slope at |e| = threshold.

    Args:
      y_true: Targets, shaped like `y_pred`.
      y_pred: Predictions, shape (batch, ..., d).
      threshold: Residual size where the loss turns from quadratic to linear.

    Returns:
      Shape (batch, ...): `y_pred`'s shape without its last axis.
    """
    y_pred = tf.convert_to_tensor(y_pred)
    error = tf.abs(tf.cast(y_true, y_pred.dtype) - y_pred)
    threshold = tf.cast(threshold, y_pred.dtype)
    quadratic = 0.5 * tf.square(error)
    linear = threshold * (error - 0.5 * threshold)
    return tf.reduce_mean(tf.where(error <= threshold, quadratic, linear), axis=-1)


def _initializer(
    template: keras.initializers.Initializer, index: int
) -> keras.initializers.Initializer:
    """A copy of `template` for the `index`-th layer; a seeded one gets seed + index.

    One initializer instance shared by several layers would give all of them
    the same values (Keras warns about it), so each layer gets its own, and
    a seeded one a distinct seed.
    """
    config = keras.initializers.serialize(template)
    config["config"] = dict(config.get("config", {}))
    if config["config"].get("seed") is not None:
        config["config"]["seed"] += index
    return keras.initializers.get(config)


def _dense_stack(widths, activation, initializer, prefix: str) -> list[keras.layers.Dense]:
    """Dense layers of `widths`, each with its own copy of `initializer`, named prefix_i."""
    return [
        keras.layers.Dense(
            units,
            activation=activation,
            kernel_initializer=_initializer(initializer, i),
            name=f"{prefix}_{i}",
        )
        for i, units in enumerate(widths)
    ]


def _check_threshold(threshold: float) -> None:
    if threshold <= 0:
        raise ValueError(f"Huber threshold must be positive, got {threshold}.")


@keras.saving.register_keras_serializable(package="deepline")
class HuberLoss(keras.losses.Loss):
    """The Huber loss: less sensitive to outliers than squared error.

    Args:
      threshold: Residual size where the loss turns from quadratic to
        linear. Defaults to 1.0.
      reduction: How per-example losses are combined. Defaults to
        `keras.losses.Reduction.AUTO` (the mean over the batch).
      name: Defaults to "huber".

    Raises:
      ValueError: `threshold` is not positive.
    """

    def __init__(
        self,
        threshold: float = 1.0,
        reduction: str = keras.losses.Reduction.AUTO,
        name: str = "huber",
    ):
        _check_threshold(threshold)
        super().__init__(reduction=reduction, name=name)
        self.threshold = threshold

    def call(self, y_true, y_pred):
        return huber(y_true, y_pred, self.threshold)

    def get_config(self):
        return {**super().get_config(), "threshold": self.threshold}


@keras.saving.register_keras_serializable(package="deepline")
class HuberMetric(keras.metrics.Metric):
    """Mean Huber loss over every example seen since the last reset.

    It keeps the running sum and the running count (the sum of sample
    weights) as variables, so a large batch weighs more than a small one:
    the result is the mean over all examples, not the mean of batch means.

    Args:
      threshold: As in `HuberLoss`. Defaults to 1.0.
      name: Defaults to "huber".
      dtype: Dtype of the running sums. Defaults to Keras' float type.

    Raises:
      ValueError: `threshold` is not positive.
    """

    def __init__(self, threshold: float = 1.0, name: str = "huber", dtype=None):
        _check_threshold(threshold)
        super().__init__(name=name, dtype=dtype)
        self.threshold = threshold
        self.total = self.add_weight("total", initializer="zeros")
        self.count = self.add_weight("count", initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Adds a batch's losses to the running sum.

        Args:
          y_true: Targets, shaped like `y_pred`.
          y_pred: Predictions.
          sample_weight: Optional weight per example, shape (batch,) or
            (batch, 1). Defaults to 1 for every example.
        """
        values = tf.cast(huber(y_true, y_pred, self.threshold), self.dtype)
        if sample_weight is None:
            weights = tf.ones_like(values)
        else:
            weights = tf.cast(sample_weight, self.dtype)
            if weights.shape.rank == values.shape.rank + 1:
                # A (batch, 1) column of weights for (batch,) losses.
                weights = tf.squeeze(weights, axis=-1)
            weights = tf.broadcast_to(weights, tf.shape(values))
        self.total.assign_add(tf.reduce_sum(weights * values))
        self.count.assign_add(tf.reduce_sum(weights))

    def result(self):
        # 0 before any example, rather than NaN.
        return tf.math.divide_no_nan(self.total, self.count)

    def reset_state(self):
        self.total.assign(0.0)
        self.count.assign(0.0)

    def get_config(self):
        return {**super().get_config(), "threshold": self.threshold}


@keras.saving.register_keras_serializable(package="deepline")
class ResidualDenseBlock(keras.layers.Layer):
    """Residual block: `shortcut(x) + f(x)`, f a stack of `n_layers` dense layers.

    Every dense layer in f has the same width and activation (as in
    Géron's ResidualBlock, Hands-On ML ch. 12). The shortcut is x itself when
    x already has `units` features, else a linear projection
    (Dense without bias) to `units` features, so the sum is defined.

    Args:
      units: Width of every dense layer and of the output.
      n_layers: Dense layers in f. Defaults to 2.
      activation: Activation of every dense layer. Defaults to "relu".
      kernel_initializer: Of every dense layer and the projection. Defaults
        to "he_normal", which suits the ReLU family.
      **kwargs: Standard layer arguments (name, dtype, trainable).

    Raises:
      ValueError: `units` or `n_layers` is not positive.
    """

    def __init__(
        self,
        units: int,
        n_layers: int = 2,
        activation="relu",
        kernel_initializer="he_normal",
        **kwargs,
    ):
        if units <= 0 or n_layers <= 0:
            raise ValueError(
                f"ResidualDenseBlock needs positive units and n_layers, got {units}, {n_layers}."
            )
        super().__init__(**kwargs)
        self.units = units
        self.n_layers = n_layers
        self.activation = keras.activations.get(activation)
        # A template only: each dense layer gets its own copy.
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.hidden = _dense_stack(
            [units] * n_layers, self.activation, self.kernel_initializer, "dense"
        )
        self.projection = None

    def build(self, input_shape):
        input_shape = tf.TensorShape(input_shape)
        if input_shape[-1] != self.units:
            # Created here because the input width is unknown until now.
            self.projection = keras.layers.Dense(
                self.units,
                use_bias=False,
                kernel_initializer=_initializer(self.kernel_initializer, self.n_layers),
                name="projection",
            )
            self.projection.build(input_shape)
        shape = input_shape
        for layer in self.hidden:
            layer.build(shape)
            shape = layer.compute_output_shape(shape)
        super().build(input_shape)

    def call(self, inputs):
        z = inputs
        for layer in self.hidden:
            z = layer(z)
        shortcut = inputs if self.projection is None else self.projection(inputs)
        return shortcut + z

    def compute_output_shape(self, input_shape):
        return tf.TensorShape(input_shape)[:-1].concatenate([self.units])

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "n_layers": self.n_layers,
            "activation": keras.activations.serialize(self.activation),
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        }


@keras.saving.register_keras_serializable(package="deepline")
class ReconstructingModel(keras.Model):
    """A dense predictor that also learns to reconstruct its inputs.

    The hidden stack feeds two heads: the prediction, and a linear layer
    with one unit per input feature. `call` adds
    `reconstruction_weight * mean((inputs - reconstruction) ** 2)` to the
    model's losses, so `fit` minimizes the compiled loss plus that term: the
    hidden representation must keep what is needed to rebuild the inputs, a
    regularizer for small labelled data. The unweighted mean squared error
    is tracked as the metric "reconstruction_error" (at every call, so also
    in `evaluate`).

    Args:
      hidden_units: Width of each hidden dense layer, input side first.
        Defaults to (32, 16).
      output_units: Width of the prediction. Defaults to 1.
      output_activation: Of the prediction. Defaults to "sigmoid" (a
        probability, as in Deepline's main model).
      reconstruction_weight: Weight of the reconstruction loss. Defaults to 0.05.
      activation: Of the hidden layers. Defaults to "relu".
      kernel_initializer: Of the hidden layers. Defaults to "he_normal".
      **kwargs: Standard model arguments (name).

    Raises:
      ValueError: no hidden layer, or a negative `reconstruction_weight`.
    """

    def __init__(
        self,
        hidden_units: Sequence[int] = (32, 16),
        output_units: int = 1,
        output_activation="sigmoid",
        reconstruction_weight: float = 0.05,
        activation="relu",
        kernel_initializer="he_normal",
        **kwargs,
    ):
        if not hidden_units:
            raise ValueError("ReconstructingModel needs at least one hidden layer.")
        if reconstruction_weight < 0:
            raise ValueError(f"reconstruction_weight must be >= 0, got {reconstruction_weight}.")
        super().__init__(**kwargs)
        self.hidden_units = tuple(hidden_units)
        self.output_units = output_units
        self.output_activation = keras.activations.get(output_activation)
        self.reconstruction_weight = reconstruction_weight
        self.activation = keras.activations.get(activation)
        # A template only: each dense layer gets its own copy.
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.hidden = _dense_stack(
            self.hidden_units, self.activation, self.kernel_initializer, "hidden"
        )
        self.prediction = keras.layers.Dense(
            output_units, activation=self.output_activation, name="prediction"
        )
        self.reconstruction = None
        self.reconstruction_error = keras.metrics.Mean(name="reconstruction_error")

    def build(self, input_shape):
        input_shape = tf.TensorShape(input_shape)
        # One output per input feature: its width is known only now.
        self.reconstruction = keras.layers.Dense(input_shape[-1], name="reconstruction")
        # Sublayers are built here, not on first call, so `build(shape)` alone (as
        # load_model does with the recorded input shape) creates every variable.
        shape = input_shape
        for layer in self.hidden:
            layer.build(shape)
            shape = layer.compute_output_shape(shape)
        self.prediction.build(shape)
        self.reconstruction.build(shape)
        # Layer.build, not Model.build: the latter would trace `call` in a scratch
        # graph, adding a loss and a metric update there for nothing.
        keras.layers.Layer.build(self, input_shape)

    def call(self, inputs, training=None):
        z = inputs
        for layer in self.hidden:
            z = layer(z)
        reconstruction = self.reconstruction(z)
        error = tf.reduce_mean(tf.square(tf.cast(inputs, reconstruction.dtype) - reconstruction))
        self.add_loss(self.reconstruction_weight * error)
        self.reconstruction_error.update_state(error)
        return self.prediction(z)

    def get_config(self):
        return {
            "name": self.name,
            "hidden_units": list(self.hidden_units),
            "output_units": self.output_units,
            "output_activation": keras.activations.serialize(self.output_activation),
            "reconstruction_weight": self.reconstruction_weight,
            "activation": keras.activations.serialize(self.activation),
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        }


# Keyed by registered name ("deepline>HuberLoss"): that is the class name a saved config holds.
# The Monte Carlo dropout layers live in `regularization` but are loaded the same way.
CUSTOM_OBJECTS = {
    keras.saving.get_registered_name(cls): cls
    for cls in (
        HuberLoss,
        HuberMetric,
        ResidualDenseBlock,
        ReconstructingModel,
        MCDropout,
        MCAlphaDropout,
    )
}
