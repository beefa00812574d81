"""The label: derived by its comparison, or a class index, a 0 / 1 value or a real number."""

from __future__ import annotations

import tensorflow as tf

from components.dataset import LabelSpec, Task
from components.transform.tensors import as_float, as_strings, map_values, to_dense


def make_label(inputs, label: LabelSpec):
    """Returns the (batch,) label the model is trained on.

    A derived label is its comparison (`label.derive`, e.g. `tips > 0.2 *
    fare`) as int64 0 / 1, a missing value counting as 0; a class label is
    the index of its value in `label.classes` (int64; -1 for a value outside
    them, which ingestion quarantines) or, for a binary label without
    classes, the 0 / 1 value itself; a regression label is its float32 value.
    """
    if label.derive is not None:
        columns = {c: to_dense(as_float(inputs[c]), 0.0) for c in label.derive.columns}
        return tf.cast(label.derive.evaluate_tensor(columns), tf.int64)
    raw = inputs[label.column]
    if label.kind is Task.REGRESSION:
        return to_dense(as_float(raw), 0.0)
    if not label.classes:
        return to_dense(map_values(raw, lambda v: tf.cast(v, tf.int64)), -1)
    values = as_strings(raw)
    values = to_dense(values, "")
    matches = tf.equal(tf.expand_dims(values, -1), tf.constant(label.classes)[tf.newaxis, :])
    index = tf.argmax(tf.cast(matches, tf.int64), axis=-1)
    return tf.where(tf.reduce_any(matches, axis=-1), index, tf.constant(-1, tf.int64))
