"""Hidden-layer activations, as fresh serializable Keras layers, and the initializer each wants.

`make_activation(name)` returns a new layer for one of `ACTIVATIONS`. Built-in
Keras activations come wrapped in `keras.layers.Activation`; the ones Keras
lacks are defined here and registered under the package "deepline", so a
model using them reloads from a SavedModel (with `save_traces=False`, as the
exporter saves) as long as this module is imported, or with
`custom_objects=CUSTOM_OBJECTS`.

Which kernel initializer goes with which activation (Hands-On ML, ch. 11,
"Glorot and He Initialization"): the variance of a layer's outputs stays
close to that of its inputs when the initial weights have variance

  ========  =====================  ============================================
  Glorot    1 / fan_avg            none (linear), tanh, sigmoid, softmax
  He        2 / fan_in             ReLU family (ReLU, leaky, PReLU, RReLU),
                                   ELU, GELU, Swish, Mish
  LeCun     1 / fan_in             SELU (needed for self-normalization)
  ========  =====================  ============================================

`initializer_for(activation)` (`layer_choices`) returns the matching Keras initializer name.
"""

from __future__ import annotations

import tensorflow as tf
import tf_keras as keras

# The names live in a TF-free module, so that `HParams` (and the pipeline config) can check
# them without TensorFlow; re-exported here beside the layers they name.
from components.trainer.layer_choices import ACTIVATIONS, initializer_for  # noqa: F401

PACKAGE = "deepline"

# The slope range of Xu et al. 2015 ("Empirical Evaluation of Rectified
# Activations in Convolutional Network"), also PyTorch's RReLU defaults.
RRELU_LOWER = 1.0 / 8.0
RRELU_UPPER = 1.0 / 3.0

# The coefficient Hendrycks and Gimpel (2016, "Gaussian Error Linear Units")
# give for their sigmoid approximation of GELU.
SIGMOID_GELU_COEFFICIENT = 1.702


@keras.saving.register_keras_serializable(package=PACKAGE)
def sigmoid_gelu(x: tf.Tensor) -> tf.Tensor:
    """GELU approximated with a sigmoid: x * sigmoid(1.702 x).

    Cheaper than the erf-based GELU and, unlike Keras's own `approximate=True`
    (a tanh formula), the one given by name in Hands-On ML.

    Args:
      x: Input tensor.

    Returns:
      A tensor of the shape and dtype of `x`.
    """
    return x * tf.sigmoid(SIGMOID_GELU_COEFFICIENT * x)


@keras.saving.register_keras_serializable(package=PACKAGE)
class RReLU(keras.layers.Layer):
    """Randomized leaky ReLU: a random negative-side slope while training.

    In training every element's negative-side slope is drawn uniformly from
    [lower, upper], a regularizing noise; at inference the slope is the mean,
    (lower + upper) / 2, so inference equals a leaky ReLU with that slope.

    Args:
      lower: Smallest slope. Defaults to `RRELU_LOWER` (1/8).
      upper: Largest slope. Defaults to `RRELU_UPPER` (1/3).
      seed: Operation seed of the slope draws; None for unseeded. Defaults to None.
      **kwargs: Base layer arguments (name, dtype, ...).

    Raises:
      ValueError: unless 0 <= lower <= upper.
    """

    def __init__(
        self,
        lower: float = RRELU_LOWER,
        upper: float = RRELU_UPPER,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not 0.0 <= lower <= upper:
            raise ValueError(f"RReLU needs 0 <= lower <= upper, got lower={lower}, upper={upper}.")
        self.lower = float(lower)
        self.upper = float(upper)
        self.seed = seed
        self.supports_masking = True

    @property
    def mean_slope(self) -> float:
        """The inference slope, (lower + upper) / 2."""
        return (self.lower + self.upper) / 2.0

    def call(self, inputs: tf.Tensor, training: bool | tf.Tensor | None = None) -> tf.Tensor:
        if training is None:
            training = keras.backend.learning_phase()
        if isinstance(training, (bool, int)):
            return self._train(inputs) if training else self._infer(inputs)
        # A symbolic learning phase (legacy graph mode) decides only at run time.
        return tf.cond(
            tf.cast(training, tf.bool), lambda: self._train(inputs), lambda: self._infer(inputs)
        )

    def _train(self, inputs: tf.Tensor) -> tf.Tensor:
        slopes = tf.random.uniform(
            tf.shape(inputs), self.lower, self.upper, dtype=inputs.dtype, seed=self.seed
        )
        return tf.where(inputs >= 0, inputs, slopes * inputs)

    def _infer(self, inputs: tf.Tensor) -> tf.Tensor:
        return tf.nn.leaky_relu(inputs, alpha=self.mean_slope)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "lower": self.lower, "upper": self.upper, "seed": self.seed}


@keras.saving.register_keras_serializable(package=PACKAGE)
class ParametricSwish(keras.layers.Layer):
    """Swish with a learned sharpness per unit: z * sigmoid(beta * z).

    beta starts at 1 (plain Swish). As beta grows the unit tends to ReLU, as
    it nears 0 to the linear z / 2, so each unit learns how nonlinear to be.
    Units are the last axis of the input.

    Args:
      **kwargs: Base layer arguments (name, dtype, ...).
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def build(self, input_shape):
        units = tf.TensorShape(input_shape)[-1]
        if units is None:
            raise ValueError(
                f"ParametricSwish {self.name!r} needs a known last dimension, "
                f"got input shape {input_shape}."
            )
        self.beta = self.add_weight(name="beta", shape=(units,), initializer="ones", trainable=True)
        super().build(input_shape)

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        return inputs * tf.sigmoid(self.beta * inputs)

    def compute_output_shape(self, input_shape):
        return input_shape


# Keys are the registered names, which is what Keras looks up when reloading.
CUSTOM_OBJECTS = {
    keras.saving.get_registered_name(obj): obj for obj in (sigmoid_gelu, RReLU, ParametricSwish)
}


def make_activation(
    name: str,
    *,
    leaky_alpha: float = 0.2,
    seed: int | None = None,
    layer_name: str | None = None,
) -> keras.layers.Layer:
    """Returns a new activation layer, so each hidden layer gets its own parameters.

    Args:
      name: One of `ACTIVATIONS`.
      leaky_alpha: Negative-side slope of "leaky_relu", and the initial slope
        of every unit of "prelu". Defaults to 0.2.
      seed: Seed of the random slopes of "rrelu"; ignored by the others.
        Defaults to None.
      layer_name: Name of the returned layer. Defaults to None: Keras' automatic name.

    Returns:
      An unbuilt layer mapping a tensor to one of the same shape.

    Raises:
      ValueError: `name` is not one of `ACTIVATIONS`.
    """
    if name == "relu":
        return keras.layers.Activation("relu", name=layer_name)
    if name == "leaky_relu":
        return keras.layers.LeakyReLU(alpha=leaky_alpha, name=layer_name)
    if name == "prelu":
        # No shared axes: one learned slope per unit of a dense layer.
        return keras.layers.PReLU(
            alpha_initializer=keras.initializers.Constant(leaky_alpha), name=layer_name
        )
    if name == "rrelu":
        return RReLU(seed=seed, name=layer_name)
    if name in ("elu", "selu", "swish", "mish"):
        return keras.layers.Activation(name, name=layer_name)
    if name == "gelu":
        # Keras's "gelu" is the exact, erf-based one (approximate=False).
        return keras.layers.Activation("gelu", name=layer_name)
    if name == "gelu_approx":
        return keras.layers.Activation(sigmoid_gelu, name=layer_name)
    if name == "parametric_swish":
        return ParametricSwish(name=layer_name)
    raise ValueError(f"Unknown activation {name!r}; known: {', '.join(ACTIVATIONS)}.")
