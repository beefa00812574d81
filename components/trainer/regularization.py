"""Regularization building blocks for the Trainer: weight penalties, dropout, max-norm.

* `make_regularizer` turns the (l1, l2) hyperparameters into a Keras
  regularizer, or None when both are zero.
* `make_dropout` builds a dropout layer by name, including the Monte Carlo
  variants `MCDropout` and `MCAlphaDropout`, which drop units at inference
  too; `mc_predict` averages many such stochastic predictions into a mean and
  a spread (an uncertainty estimate).
* `max_norm_constraint` caps the norm of each neuron's incoming weights;
  `apply_constraints` enforces every variable's constraint by hand, for
  updates that do not go through `optimizer.apply_gradients`.
"""

from __future__ import annotations

import numpy as np
import tf_keras as keras

DROPOUT_KINDS = ("dropout", "alpha_dropout", "mc_dropout", "mc_alpha_dropout")


def make_regularizer(l1: float, l2: float) -> keras.regularizers.Regularizer | None:
    """Returns the weight penalty `l1 * sum(|w|) + l2 * sum(w ** 2)`.

    Args:
      l1: L1 factor; 0 for none.
      l2: L2 factor; 0 for none.

    Returns:
      None when both factors are 0 (no penalty, no extra loss term); else
      `L1`, `L2`, or `L1L2` when both are set.

    Raises:
      ValueError: a factor is negative.
    """
    if l1 < 0 or l2 < 0:
        raise ValueError(f"Regularization factors must be >= 0, got l1={l1}, l2={l2}.")
    if l1 and l2:
        return keras.regularizers.L1L2(l1=l1, l2=l2)
    if l1:
        return keras.regularizers.L1(l1)
    if l2:
        return keras.regularizers.L2(l2)
    return None


@keras.saving.register_keras_serializable(package="deepline")
class MCDropout(keras.layers.Dropout):
    """Dropout that is always on, in training and at inference alike.

    Monte Carlo dropout: calling a model that contains this layer several
    times gives different predictions, whose spread estimates the model's
    uncertainty (Gal & Ghahramani, 2016). The `training` argument is ignored
    on purpose, so the rest of the model (batch normalization above all) can
    be called with `training=False` and stay in inference mode while only
    these layers sample. A model exported with this layer serves random
    predictions: use it for uncertainty estimates, not as the served model.
    """

    def call(self, inputs, training=None):
        return super().call(inputs, training=True)


@keras.saving.register_keras_serializable(package="deepline")
class MCAlphaDropout(keras.layers.AlphaDropout):
    """Alpha dropout that is always on, in training and at inference alike.

    The Monte Carlo variant of `AlphaDropout`, for self-normalizing (SELU)
    networks; `training` is ignored as in `MCDropout`. Unlike inverted
    dropout, alpha dropout keeps the mean only of standardized inputs: for a
    fixed input x, the mean over samples is `a * (1 - rate) * x` with
    `a = ((1 - rate) * (1 + rate * alpha_p ** 2)) ** -0.5`, not x itself.
    """

    def call(self, inputs, training=None):
        return super().call(inputs, training=True)

    def get_config(self):
        # AlphaDropout's own config leaves out noise_shape, so a reloaded layer would lose it.
        return {**super().get_config(), "noise_shape": self.noise_shape}


_DROPOUT_CLASSES = {
    "dropout": keras.layers.Dropout,
    "alpha_dropout": keras.layers.AlphaDropout,
    "mc_dropout": MCDropout,
    "mc_alpha_dropout": MCAlphaDropout,
}


def make_dropout(kind: str, rate: float, seed: int, name: str | None = None) -> keras.layers.Layer:
    """Returns a dropout layer of the given kind.

    Args:
      kind: One of `DROPOUT_KINDS`: "dropout", "alpha_dropout" (for SELU
        nets), or their always-on Monte Carlo variants "mc_dropout",
        "mc_alpha_dropout".
      rate: Fraction of units dropped, in [0, 1).
      seed: Seed of the dropout masks.
      name: Layer name. Defaults to Keras' automatic name.

    Returns:
      The layer.

    Raises:
      ValueError: `kind` is unknown or `rate` is outside [0, 1).
    """
    if kind not in _DROPOUT_CLASSES:
        raise ValueError(f"Unknown dropout kind {kind!r}; choose one of {list(DROPOUT_KINDS)}.")
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"Dropout rate must be in [0, 1), got {rate}.")
    return _DROPOUT_CLASSES[kind](rate, seed=seed, name=name)


def max_norm_constraint(r: float) -> keras.constraints.MaxNorm:
    """Returns a constraint rescaling each neuron's incoming weights to norm <= r.

    A Dense kernel has shape (inputs, units), so the incoming weights of unit
    j are column j: the norm is taken over axis 0.

    Args:
      r: The largest allowed L2 norm.

    Returns:
      `MaxNorm(r, axis=0)`; pass it as a layer's `kernel_constraint`.

    Raises:
      ValueError: `r` is not positive.
    """
    if r <= 0:
        raise ValueError(f"Max-norm radius must be positive, got {r}.")
    return keras.constraints.MaxNorm(r, axis=0)


def apply_constraints(model: keras.Model) -> int:
    """Projects every trainable variable of `model` that has a constraint onto it.

    Keras sets a layer's `kernel_constraint`, `bias_constraint` etc. on the
    variable itself, and `optimizer.apply_gradients` (in `fit`, and in any
    custom loop that calls it) re-applies it after each update. Only weights
    changed some other way (`assign_sub` in a hand-written update,
    `set_weights`, averaging replicas) need this call. Like the optimizer,
    it leaves frozen (non-trainable) variables alone.

    Args:
      model: A built model; nested models and layers are included.

    Returns:
      The number of variables that have a constraint.
    """
    constrained = [v for v in model.trainable_variables if v.constraint is not None]
    for variable in constrained:
        variable.assign(variable.constraint(variable))
    return len(constrained)


def mc_predict(model: keras.Model, inputs, samples: int) -> tuple[np.ndarray, np.ndarray]:
    """Monte Carlo dropout prediction: mean and spread of `samples` stochastic passes.

    Every pass calls `model(inputs, training=False)`: batch normalization
    uses its moving statistics and standard dropout is off, while the
    `MCDropout`/`MCAlphaDropout` layers draw new masks. (Calling the model
    with `training=True` instead would also put batch normalization in
    training mode, normalizing by the statistics of this very batch.)

    Args:
      model: A model with a single output tensor and at least one MC dropout layer.
      inputs: What the model takes: a tensor, array, or dict of them.
      samples: Number of stochastic passes, at least 2.

    Returns:
      `(mean, std)` over the passes, both numpy arrays shaped like one
      prediction; std is the population standard deviation (ddof=0).

    Raises:
      ValueError: `samples` < 2, or `model` has no MC dropout layer (its
        predictions would all be equal and the spread a misleading 0).
    """
    if samples < 2:
        raise ValueError(f"mc_predict needs at least 2 samples to measure a spread, got {samples}.")
    if not any(isinstance(m, (MCDropout, MCAlphaDropout)) for m in model.submodules):
        raise ValueError(
            f"Model {model.name!r} has no MCDropout or MCAlphaDropout layer, so its "
            "predictions are deterministic; build it with make_dropout('mc_dropout', ...)."
        )
    predictions = np.stack(
        [np.asarray(model(inputs, training=False)) for _ in range(samples)], axis=0
    )
    return predictions.mean(axis=0), predictions.std(axis=0)
