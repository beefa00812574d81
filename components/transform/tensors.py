"""Tensor helpers every feature kind's transform shares: densifying, missing flags, casts.

Raw features whose schema allows them to be absent arrive as SparseTensors; a
transform turns them into dense (batch,) tensors with an explicit value (or
flag) for what was missing.
"""

from __future__ import annotations

import tensorflow as tf

MISSING_TOKEN = "__missing__"


def to_dense(tensor, default_value):
    """Densifies a rank-2 (batch, 0 or 1) feature to shape (batch,).

    Raw features whose schema allows them to be absent arrive as SparseTensors
    whose second dimension is 0 when no row of the batch has the value; the
    reshape to width 1 makes that case work too.
    """
    if isinstance(tensor, tf.SparseTensor):
        tensor = tf.sparse.to_dense(
            tf.SparseTensor(tensor.indices, tensor.values, [tensor.dense_shape[0], 1]),
            default_value=default_value,
        )
    elif isinstance(tensor, tf.RaggedTensor):
        tensor = tensor.to_tensor(default_value=default_value, shape=[None, 1])
    return tf.reshape(tensor, [-1])


def is_missing(tensor):
    """Returns a float (batch,) tensor: 1.0 where the feature had no value."""
    if isinstance(tensor, tf.SparseTensor):
        present = tf.sparse.to_dense(
            tf.SparseTensor(
                tensor.indices,
                tf.ones_like(tensor.values, dtype=tf.float32),
                [tensor.dense_shape[0], 1],
            )
        )
        return 1.0 - tf.reshape(present, [-1])
    batch = tf.shape(tensor)[0]
    return tf.zeros([batch], tf.float32)


def as_float(tensor):
    if isinstance(tensor, tf.SparseTensor):
        return tf.SparseTensor(
            tensor.indices, tf.cast(tensor.values, tf.float32), tensor.dense_shape
        )
    return tf.cast(tensor, tf.float32)


def map_values(tensor, fn):
    if isinstance(tensor, tf.SparseTensor):
        return tf.SparseTensor(tensor.indices, fn(tensor.values), tensor.dense_shape)
    return fn(tensor)


def as_strings(tensor):
    """`tensor` (dense or sparse) with its values as text: numbers written as strings."""
    return map_values(tensor, lambda v: v if v.dtype == tf.string else tf.strings.as_string(v))
