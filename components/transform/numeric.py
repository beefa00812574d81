"""Numeric features: z-score or min-max scaling, or quantile buckets, with missing flags."""

from __future__ import annotations

import tensorflow as tf
import tensorflow_transform as tft

from components.dataset import NumericFeature, NumericTransform, transformed_name
from components.transform.tensors import as_float, is_missing, map_values, to_dense


def scale_numeric_feature(raw, feature: NumericFeature):
    """Scales (z-score or min-max) or bucketizes a numeric feature.

    Without a fill value, the analyzers see only present values (missing rows
    do not pull the statistics towards a fill value), a missing value takes
    the training mean of the output (0 after z-scoring), and a missing flag is
    added. With one, missing cells take it first, and there is no flag.

    Returns:
      A dict of transformed name -> dense (batch,) tensor: the scaled value
      (or bucket id, `buckets` when missing), the missing flag, and, when the
      feature asks for it, its quantile bucket view (bucket `buckets` for a
      missing value).
    """
    values = as_float(raw)
    if feature.fill is not None:
        values = to_dense(values, float(feature.fill))
    if feature.log1p:
        values = map_values(values, lambda v: tf.math.log1p(tf.maximum(v, 0.0)))
    name = transformed_name(feature.name)
    missing_bucket = tf.constant(feature.buckets, tf.int64)
    if feature.transform is NumericTransform.BUCKETIZE:
        outputs = {name: to_dense(tft.bucketize(values, feature.buckets), missing_bucket)}
    else:
        # A missing value (only possible without a fill) takes the mean: 0 as a z-score.
        if feature.transform is NumericTransform.MINMAX:
            scaled = tft.scale_to_0_1(values)
            outputs = {name: to_dense(scaled, tft.mean(scaled))}
        else:
            outputs = {name: to_dense(tft.scale_to_z_score(values), 0.0)}
        if feature.buckets:
            bucket = tft.bucketize(values, feature.buckets)
            outputs[transformed_name(feature.name + "_bucket")] = to_dense(bucket, missing_bucket)
    if feature.fill is None:
        outputs[transformed_name(feature.name + "_missing")] = is_missing(raw)
    return outputs
