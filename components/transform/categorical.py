"""Categorical features: vocabulary ids with OOV buckets, hash bins, or identity ids."""

from __future__ import annotations

import tensorflow as tf
import tensorflow_transform as tft

from components.dataset import CategoricalFeature, CategoricalTransform
from components.transform.tensors import MISSING_TOKEN, as_strings, is_missing, map_values, to_dense


def encode_categorical_feature(raw, feature: CategoricalFeature):
    """Turns a categorical feature into dense int64 ids of shape (batch,)."""
    if feature.transform is CategoricalTransform.IDENTITY:
        missing_id = feature.num_values
        ids = to_dense(map_values(raw, lambda v: tf.cast(v, tf.int64)), -1)
        ids = ids - feature.offset
        # Out-of-range values share the missing id rather than crash the lookup.
        in_range = (ids >= 0) & (ids < feature.num_values)
        missing = is_missing(raw) > 0
        return tf.where(in_range & ~missing, ids, tf.constant(missing_id, tf.int64))

    strings = as_strings(raw)
    strings = to_dense(strings, MISSING_TOKEN)
    if feature.transform is CategoricalTransform.VOCABULARY:
        return tft.compute_and_apply_vocabulary(
            strings,
            top_k=feature.top_k,
            frequency_threshold=feature.frequency_threshold or None,
            num_oov_buckets=feature.oov_buckets,
            vocab_filename=feature.name,
        )
    return tft.hash_strings(strings, feature.bins)
