"""The names of the hidden-layer activations and kernel initializers, and which suits which.

TF-free, so that `HParams` (and with it the pipeline's configuration) can check a choice
without importing TensorFlow; `activations` and `initializers` build the Keras objects
these names stand for and re-export them.

Which kernel initializer goes with which activation (Hands-On ML, ch. 11): see the
table in `components.trainer.activations`. Every initializer is variance scaling:
weights drawn with variance `scale / fan` (see `components.trainer.initializers`).
"""

from __future__ import annotations

import dataclasses

ACTIVATIONS = (
    "relu",
    "leaky_relu",
    "prelu",
    "rrelu",
    "elu",
    "selu",
    "gelu",
    "gelu_approx",
    "swish",
    "parametric_swish",
    "mish",
)

# Activations whose output variance is not halved by a dead side, so the
# weights need no factor 2 (Glorot); "none" and "linear" mean no activation.
_GLOROT_ACTIVATIONS = ("none", "linear", "tanh", "sigmoid", "softmax")
_LECUN_ACTIVATIONS = ("selu",)
_HE_ACTIVATIONS = tuple(a for a in ACTIVATIONS if a not in _LECUN_ACTIVATIONS)


@dataclasses.dataclass(frozen=True)
class Scaling:
    """A variance-scaling initializer: variance `scale / fan` of `mode`, from `distribution`."""

    scale: float
    mode: str
    distribution: str


SCALINGS = {
    "glorot_normal": Scaling(1.0, "fan_avg", "truncated_normal"),
    "glorot_uniform": Scaling(1.0, "fan_avg", "uniform"),
    "he_normal": Scaling(2.0, "fan_in", "truncated_normal"),
    "he_uniform": Scaling(2.0, "fan_in", "uniform"),
    "lecun_normal": Scaling(1.0, "fan_in", "truncated_normal"),
    "lecun_uniform": Scaling(1.0, "fan_in", "uniform"),
    # He's factor 2 with another fan: fan_avg is Hands-On ML's He variant that
    # also keeps the backward-pass variance in check.
    "variance_scaling_fan_in": Scaling(2.0, "fan_in", "truncated_normal"),
    "variance_scaling_fan_avg": Scaling(2.0, "fan_avg", "truncated_normal"),
    "variance_scaling_fan_out": Scaling(2.0, "fan_out", "truncated_normal"),
}
INITIALIZERS = tuple(SCALINGS)


def initializer_for(activation: str) -> str:
    """Returns the Keras kernel initializer name that suits `activation`.

    Args:
      activation: One of `ACTIVATIONS`, or "none", "linear", "tanh",
        "sigmoid", "softmax".

    Returns:
      "glorot_uniform", "he_normal" or "lecun_normal" (see the table in `activations`).

    Raises:
      ValueError: `activation` is none of those.
    """
    if activation in _GLOROT_ACTIVATIONS:
        return "glorot_uniform"
    if activation in _LECUN_ACTIVATIONS:
        return "lecun_normal"
    if activation in _HE_ACTIVATIONS:
        return "he_normal"
    known = _GLOROT_ACTIVATIONS + ACTIVATIONS
    raise ValueError(
        f"No initializer known for activation {activation!r}; known: {', '.join(known)}."
    )
