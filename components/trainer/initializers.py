"""Kernel initializers by name, and the weight variance each one aims for.

Every initializer here is variance scaling (Hands-On ML, ch. 11): weights are
drawn with variance `scale / fan`, where fan is the layer's fan_in, fan_out
or their mean fan_avg, from a uniform or a normal distribution truncated at
two standard deviations (Keras widens a truncated normal so its variance is
still `scale / fan`). Glorot is (1, fan_avg), He (2, fan_in), LeCun (1, fan_in);
`activations.initializer_for` says which suits which activation.
"""

from __future__ import annotations

import tf_keras as keras

# The names and their scalings are TF-free, for `HParams`; re-exported here.
from components.trainer.layer_choices import INITIALIZERS, SCALINGS, Scaling

MODES = ("fan_in", "fan_out", "fan_avg")
# Keras's "normal" is an alias of "truncated_normal"; one spelling is enough.
DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")


# The named Keras classes, so a saved config reads "HeNormal", not a bare
# VarianceScaling with the same numbers.
_KERAS_CLASSES = {
    "glorot_normal": keras.initializers.GlorotNormal,
    "glorot_uniform": keras.initializers.GlorotUniform,
    "he_normal": keras.initializers.HeNormal,
    "he_uniform": keras.initializers.HeUniform,
    "lecun_normal": keras.initializers.LecunNormal,
    "lecun_uniform": keras.initializers.LecunUniform,
}


def _scaling(name: str) -> Scaling:
    if name not in SCALINGS:
        raise ValueError(f"Unknown initializer {name!r}; known: {', '.join(INITIALIZERS)}.")
    return SCALINGS[name]


def variance_scaling(
    scale: float, mode: str, distribution: str, seed: int | None
) -> keras.initializers.VarianceScaling:
    """Returns a Keras initializer drawing weights with variance `scale / fan`.

    Args:
      scale: Target variance times the fan; 2 for He, 1 for Glorot and LeCun.
      mode: Which fan: "fan_in", "fan_out" or "fan_avg".
      distribution: "truncated_normal", "untruncated_normal" or "uniform".
      seed: Seed of the draws; None for unseeded.

    Returns:
      A `keras.initializers.VarianceScaling`.

    Raises:
      ValueError: `scale` is not positive, or `mode` or `distribution` is unknown.
    """
    if not scale > 0:
        raise ValueError(f"Variance scale must be positive, got {scale}.")
    if mode not in MODES:
        raise ValueError(f"Unknown variance scaling mode {mode!r}; known: {', '.join(MODES)}.")
    if distribution not in DISTRIBUTIONS:
        raise ValueError(
            f"Unknown variance scaling distribution {distribution!r}; "
            f"known: {', '.join(DISTRIBUTIONS)}."
        )
    return keras.initializers.VarianceScaling(
        scale=scale, mode=mode, distribution=distribution, seed=seed
    )


def make_initializer(name: str, seed: int) -> keras.initializers.Initializer:
    """Returns a new, seeded kernel initializer.

    A new one per layer: Keras warns when one unseeded initializer is reused,
    and a seeded one reused gives every layer the same weights.

    Args:
      name: One of `INITIALIZERS`.
      seed: Seed of the draws; give each layer its own.

    Returns:
      A `keras.initializers.VarianceScaling` (a named subclass where Keras has one).

    Raises:
      ValueError: `name` is not one of `INITIALIZERS`.
    """
    scaling = _scaling(name)
    if name in _KERAS_CLASSES:
        return _KERAS_CLASSES[name](seed=seed)
    return variance_scaling(scaling.scale, scaling.mode, scaling.distribution, seed)


def expected_variance(name: str, fan_in: int, fan_out: int) -> float:
    """Returns the weight variance initializer `name` aims for: scale / fan.

    Args:
      name: One of `INITIALIZERS`.
      fan_in: Inputs of the layer (rows of a dense kernel).
      fan_out: Outputs of the layer (columns of a dense kernel).

    Returns:
      The variance, e.g. 2 / fan_in for "he_normal".

    Raises:
      ValueError: `name` is unknown, or a fan is not positive.
    """
    scaling = _scaling(name)
    if fan_in <= 0 or fan_out <= 0:
        raise ValueError(f"Fans must be positive, got fan_in={fan_in}, fan_out={fan_out}.")
    fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[scaling.mode]
    return scaling.scale / fan
