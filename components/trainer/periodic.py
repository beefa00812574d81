"""Periodic embeddings of numeric features (Gorishniy et al. 2022, "On Embeddings for
Numerical Features in Tabular Deep Learning", their PLR embedding).

A scaled value x becomes [sin(2 pi c x), cos(2 pi c x)] at m trainable frequencies c,
then a dense layer with ReLU of `width` units. The frequencies start at N(0, sigma^2):
sigma sets how wiggly the functions of x the network can start from are (the paper's
most important setting). Transform's output is the scaled value, so the embedding is
part of the Keras model and serving needs nothing more.

A numeric feature asks for it in the data set spec (`embedding: periodic`); the model
reads `TransformedFeature.periodic`.
"""

from __future__ import annotations

import math

import tensorflow as tf
import tf_keras as keras


@keras.saving.register_keras_serializable(package="deepline")
class PeriodicEmbedding(keras.layers.Layer):
    """(batch, columns) values -> (batch, columns * width) periodic embeddings.

    Each column has its own frequencies, kernel and bias:
      out[:, j] = relu(concat(sin(2 pi c_j x_j), cos(2 pi c_j x_j)) @ K_j + b_j)

    Args:
      frequencies: m, frequencies per column.
      width: Units of the dense layer after sin and cos, per column.
      sigma: Standard deviation of the frequencies' initial normal distribution.
      seed: Seed of the initializers.
    """

    def __init__(self, frequencies: int, width: int, sigma: float, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        if frequencies < 1 or width < 1 or not sigma > 0:
            raise ValueError(
                "A periodic embedding needs frequencies >= 1, width >= 1 and sigma > 0; got "
                f"frequencies {frequencies}, width {width}, sigma {sigma}."
            )
        self.frequencies = int(frequencies)
        self.width = int(width)
        self.sigma = float(sigma)
        self.seed = int(seed)

    def build(self, input_shape):
        columns = int(input_shape[-1])
        self.coefficients = self.add_weight(
            name="frequencies",
            shape=(columns, self.frequencies),
            initializer=keras.initializers.RandomNormal(stddev=self.sigma, seed=self.seed),
        )
        fan_in = 2 * self.frequencies
        # PyTorch's default linear init, as in the paper's code: U(-1/sqrt(fan_in), +).
        uniform = keras.initializers.RandomUniform(
            -1 / math.sqrt(fan_in), 1 / math.sqrt(fan_in), seed=self.seed + 1
        )
        self.kernel = self.add_weight(
            name="kernel", shape=(columns, fan_in, self.width), initializer=uniform
        )
        self.bias = self.add_weight(name="bias", shape=(columns, self.width), initializer=uniform)
        super().build(input_shape)

    def call(self, inputs):
        x = tf.cast(inputs, self.compute_dtype)
        angles = 2 * math.pi * tf.expand_dims(x, -1) * self.coefficients  # (batch, columns, m)
        periodic = tf.concat([tf.sin(angles), tf.cos(angles)], axis=-1)
        embedded = tf.nn.relu(tf.einsum("bcf,cfw->bcw", periodic, self.kernel) + self.bias)
        return tf.reshape(embedded, [-1, embedded.shape[1] * self.width])

    def compute_output_shape(self, input_shape):
        return tf.TensorShape([input_shape[0], int(input_shape[-1]) * self.width])

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "frequencies": self.frequencies,
            "width": self.width,
            "sigma": self.sigma,
            "seed": self.seed,
        }
