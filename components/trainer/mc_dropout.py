"""Monte Carlo dropout: a serving function that reports the spread of the prediction.

Running a dropout network several times with dropout on and averaging is an
approximate Bayesian posterior predictive; the spread across the runs is an
uncertainty estimate (Gal & Ghahramani, 2016). Calling the model with
`training=True` would do that, but it would also switch batch normalization to
the statistics of the request batch, so predictions would depend on which other
examples share the request. Instead the model is cloned with every Dropout
replaced by `regularization.MCDropout` (AlphaDropout by `MCAlphaDropout`),
which drops whatever `training` says, and the
clone is called with `training=False`; all other layers are the original
objects, so the clone shares the trained weights and adds no variables.

The samples are one vectorized call: each example is repeated `samples` times
in the batch, so a request of b examples runs the network on b * samples rows.
"""

from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf
import tf_keras as keras

from components.trainer.regularization import MCAlphaDropout, MCDropout

MEAN_KEY = "mean"
STDDEV_KEY = "stddev"
# Each dropout layer Keras has, and its always-on (Monte Carlo) counterpart.
_ALWAYS_ON = {keras.layers.Dropout: MCDropout, keras.layers.AlphaDropout: MCAlphaDropout}


def with_dropout_always_on(model: keras.Model, seed: int | None = None) -> keras.Model:
    """Returns a clone of functional `model` whose Dropout layers drop at inference.

    Every other layer is shared with `model` (same weights); nested functional
    models are cloned the same way.

    Args:
      model: A functional Keras model.
      seed: Base seed of the dropout masks: the k-th Dropout layer cloned gets
        `seed + k`. None keeps each layer's own seed.

    Returns:
      The clone.

    Raises:
      ValueError: `model` holds a Dropout subclass (e.g. SpatialDropout1D),
        whose own `call` this replacement would lose.
    """
    cloned = 0

    def clone_layer(layer: keras.layers.Layer) -> keras.layers.Layer:
        nonlocal cloned
        if isinstance(layer, keras.Model) and getattr(layer, "_is_graph_network", False):
            return keras.models.clone_model(layer, clone_function=clone_layer)
        always_on = _ALWAYS_ON.get(type(layer))
        if always_on is None:
            if isinstance(layer, tuple(_ALWAYS_ON)) and not isinstance(
                layer, tuple(_ALWAYS_ON.values())
            ):
                raise ValueError(
                    "MC dropout supports keras.layers.Dropout and AlphaDropout only; layer "
                    f"{layer.name!r} of {model.name!r} is a {type(layer).__name__}."
                )
            return layer  # not a dropout, or already always on
        config = layer.get_config()
        if seed is not None:
            config["seed"] = seed + cloned
        cloned += 1
        return always_on.from_config(config)

    return keras.models.clone_model(model, clone_function=clone_layer)


def make_mc_dropout_fn(
    model: keras.Model, samples: int, seed: int | None = None
) -> Callable[[dict[str, tf.Tensor]], dict[str, tf.Tensor]]:
    """Builds a function giving the mean and spread of `samples` dropout predictions.

    The function is traceable in a `tf.function` with an input signature, so
    it can back a SavedModel signature of `model` (it uses only `model`'s
    variables; the dropout masks come from stateful random ops).

    Args:
      model: A functional Keras model with a single output of shape (batch, outputs).
      samples: Number of dropout samples per example, at least 2.
      seed: Base seed of the dropout masks (see `with_dropout_always_on`).

    Returns:
      A function from the model's input dict to {"mean": (batch, outputs),
      "stddev": (batch, outputs)}; stddev is the population standard deviation
      over the samples (0 where dropout cannot change the output).

    Raises:
      ValueError: `samples` < 2, or `model` has more than one output.
    """
    if samples < 2:
        raise ValueError(f"MC dropout needs at least 2 samples to measure a spread, got {samples}.")
    if len(model.outputs) != 1:
        raise ValueError(
            f"MC dropout needs a single-output model; {model.name!r} has {len(model.outputs)}."
        )
    mc_model = with_dropout_always_on(model, seed)

    # Nothing here branches on tensor values, so plain tracing builds the same
    # graph as AutoGraph; skipping AutoGraph's rewrite of every layer's source
    # cuts tracing a signature from ~20 s to well under 1 s.
    @tf.autograph.experimental.do_not_convert
    def mc_dropout(inputs: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        # Example-major repetition: rows [i * samples, (i + 1) * samples) are example i.
        repeated = tf.nest.map_structure(lambda x: tf.repeat(x, samples, axis=0), inputs)
        predictions = mc_model(repeated, training=False)
        per_example = tf.reshape(
            predictions, tf.concat([[-1, samples], tf.shape(predictions)[1:]], axis=0)
        )
        return {
            MEAN_KEY: tf.reduce_mean(per_example, axis=1),
            STDDEV_KEY: tf.math.reduce_std(per_example, axis=1),
        }

    return mc_dropout
