"""Layers of a parameter-efficient ensemble: k members that share one network's weights.

The members differ only by small per-member vectors (BatchEnsemble, Wen et al. 2020; as
TabM uses them, Gorishniy et al. 2024): member i's dense layer computes

  y_i = ((x_i * r_i) @ W) * s_i + b_i

with W shared by all members and r_i, s_i, b_i its own. A batch of inputs runs through
all k members at once as a (batch, k, features) tensor, so k members cost k times the
arithmetic of one network but hardly more weights.

Only the first layer's r starts different for each member (random signs, as in TabM);
every other adapter starts at 1 and the biases start equal across members, so the
members are k views of one network from the first step and drift apart by training.
"""

from __future__ import annotations

import math

import tensorflow as tf
import tf_keras as keras


def _uniform(fan_in: int, seed: int) -> keras.initializers.Initializer:
    """U(-1/sqrt(fan_in), 1/sqrt(fan_in)): PyTorch's default for a linear layer, as in TabM."""
    limit = 1 / math.sqrt(fan_in)
    return keras.initializers.RandomUniform(-limit, limit, seed=seed)


@keras.saving.register_keras_serializable(package="deepline")
class RandomSigns(keras.initializers.Initializer):
    """Each entry +1 or -1 with equal chance (the first adapter of a TabM ensemble)."""

    def __init__(self, seed: int = 0):
        self.seed = int(seed)

    def __call__(self, shape, dtype=None, **kwargs):
        bits = tf.random.stateless_uniform(shape, seed=[self.seed, 0], maxval=2, dtype=tf.int32)
        return tf.cast(2 * bits - 1, dtype or tf.float32)

    def get_config(self) -> dict:
        return {"seed": self.seed}


@keras.saving.register_keras_serializable(package="deepline")
class EnsembleDense(keras.layers.Layer):
    """A dense layer shared by `members` members, each with its own r, s and bias.

    Input (batch, members, d), or (batch, d): one input every member reads (the
    first layer). Output (batch, members, units).

    Args:
      units: Output width.
      members: k.
      random_input_signs: r starts at random signs per member (the first layer),
        else at 1.
      seed: Seed of the initializers.
    """

    def __init__(
        self, units: int, members: int, random_input_signs: bool = False, seed: int = 0, **kwargs
    ):
        super().__init__(**kwargs)
        self.units = int(units)
        self.members = int(members)
        self.random_input_signs = bool(random_input_signs)
        self.seed = int(seed)

    def build(self, input_shape):
        d = int(input_shape[-1])
        self.kernel = self.add_weight(
            name="kernel", shape=(d, self.units), initializer=_uniform(d, self.seed)
        )
        self.r = self.add_weight(
            name="r",
            shape=(self.members, d),
            initializer=RandomSigns(self.seed + 1) if self.random_input_signs else "ones",
        )
        self.s = self.add_weight(name="s", shape=(self.members, self.units), initializer="ones")
        draw = _uniform(d, self.seed + 2)

        def shared_bias(shape, dtype=None):
            # One bias vector drawn, repeated for every member.
            return tf.tile(draw((1, shape[1]), dtype), [shape[0], 1])

        self.bias = self.add_weight(
            name="bias", shape=(self.members, self.units), initializer=shared_bias
        )
        super().build(input_shape)

    def call(self, inputs):
        x = tf.cast(inputs, self.compute_dtype)
        if x.shape.rank == 2:
            x = tf.expand_dims(x, 1)  # every member reads the same input
        scaled = x * self.r  # (batch, members, d)
        d = scaled.shape[-1]
        # One matrix product for all members: rows are (example, member) pairs.
        product = tf.reshape(
            tf.reshape(scaled, [-1, d]) @ self.kernel, [-1, self.members, self.units]
        )
        return product * self.s + self.bias

    def compute_output_shape(self, input_shape):
        return tf.TensorShape([input_shape[0], self.members, self.units])

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "units": self.units,
            "members": self.members,
            "random_input_signs": self.random_input_signs,
            "seed": self.seed,
        }


@keras.saving.register_keras_serializable(package="deepline")
class MemberHeads(keras.layers.Layer):
    """An independent linear output per member: (batch, members, d) -> (batch, members, units).

    Args:
      units: Outputs per member (1, or the classes).
      activation: Applied per member: "sigmoid", "softmax" (over the units) or "linear".
      seed: Seed of the initializers.
    """

    def __init__(self, units: int, activation: str = "linear", seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.activation = keras.activations.get(activation)
        self.seed = int(seed)

    def build(self, input_shape):
        members, d = int(input_shape[1]), int(input_shape[2])
        self.kernel = self.add_weight(
            name="kernel", shape=(members, d, self.units), initializer=_uniform(d, self.seed)
        )
        self.bias = self.add_weight(name="bias", shape=(members, self.units), initializer="zeros")
        super().build(input_shape)

    def call(self, inputs):
        x = tf.cast(inputs, self.compute_dtype)
        return self.activation(tf.einsum("bkd,kdu->bku", x, self.kernel) + self.bias)

    def compute_output_shape(self, input_shape):
        return tf.TensorShape([input_shape[0], input_shape[1], self.units])

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "units": self.units,
            "activation": keras.activations.serialize(self.activation),
            "seed": self.seed,
        }
