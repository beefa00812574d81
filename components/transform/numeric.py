"""Numeric features: z-score, min-max or robust scaling, quantile buckets or a piecewise-linear
encoding over quantile bins, with missing flags."""

from __future__ import annotations

import tensorflow as tf
import tensorflow_transform as tft

from components.dataset import NumericFeature, NumericTransform, transformed_name
from components.transform.tensors import as_float, is_missing, map_values, to_dense

# Error tolerance of the quantile sketches (robust scaling, piecewise-linear buckets): a
# boundary is within 0.1% of the rank it stands for; the sketch holds ~25 KB per column.
QUANTILE_EPSILON = 0.001
# Smooth clipping of robust scaling: z / sqrt(1 + (z / c)^2) stays in (-c, c), about
# the identity near 0 (RealMLP, Holzmueller et al. 2024, use c = 3).
SMOOTH_CLIP = 3.0


def scale_numeric_feature(raw, feature: NumericFeature):
    """Scales (z-score, min-max, robust), bucketizes or piecewise-linearly encodes a feature.

    Without a fill value, the analyzers see only present values (missing rows
    do not pull the statistics towards a fill value), a missing value takes
    the output of a central value (the training mean, or the median for
    robust and piecewise_linear: 0 after z-scoring or robust scaling), and a
    missing flag is added. With one, missing cells take it first, and there
    is no flag.

    Returns:
      A dict of transformed name -> dense tensor: the scaled value (batch,)
      (or bucket id, `buckets` when missing; or the piecewise-linear encoding,
      (batch, buckets)), the missing flag, and, when the feature asks for it, its
      quantile bucket view (bucket `buckets` for a missing value).
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
    elif feature.transform is NumericTransform.PIECEWISE_LINEAR:
        outputs = {name: piecewise_linear(values, feature.buckets)}
    else:
        # A missing value (only possible without a fill) takes the mean: 0 as a z-score.
        if feature.transform is NumericTransform.MINMAX:
            scaled = tft.scale_to_0_1(values)
            outputs = {name: to_dense(scaled, tft.mean(scaled))}
        elif feature.transform is NumericTransform.ROBUST:
            outputs = {name: robust_scale(values)}
        else:
            outputs = {name: to_dense(tft.scale_to_z_score(values), 0.0)}
        if feature.buckets:
            bucket = tft.bucketize(values, feature.buckets)
            outputs[transformed_name(feature.name + "_bucket")] = to_dense(bucket, missing_bucket)
    if feature.fill is None:
        outputs[transformed_name(feature.name + "_missing")] = is_missing(raw)
    return outputs


def _present(values):
    """The values the analyzers see: a sparse column's present values only."""
    return values.values if isinstance(values, tf.SparseTensor) else values


def robust_scale(values):
    """(x - median) * factor over the training split, then smoothly clipped to (-3, 3).

    The factor is 1 / (q75 - q25). When over half the training values are
    equal (a count that is mostly 0), the interquartile range is 0: the factor
    is then 2 / (max - min), which still maps the training range to a width
    of 2; a constant column (max = min) gets 0, as it carries nothing the
    model could learn (RealMLP's rule, Holzmueller et al. 2024). Quantiles are
    order statistics of the training values (TF Transform's sketch, exact on
    small data). A missing value becomes 0, the median's output.

    Args:
      values: (batch, 1) Tensor or SparseTensor of floats.

    Returns:
      A dense (batch,) float tensor in (-3, 3).
    """
    present = _present(values)
    q25, median, q75 = tf.unstack(
        tft.quantiles(present, num_buckets=4, epsilon=QUANTILE_EPSILON)[0]
    )
    low, high = tft.min(present), tft.max(present)
    iqr, spread = q75 - q25, high - low
    factor = tf.where(
        iqr > 0,
        1.0 / tf.where(iqr > 0, iqr, 1.0),
        tf.where(spread > 0, 2.0 / tf.where(spread > 0, spread, 1.0), 0.0),
    )
    scaled = (to_dense(values, median) - median) * factor
    return scaled / tf.sqrt(1.0 + tf.square(scaled / SMOOTH_CLIP))


def piecewise_linear(values, buckets: int):
    """Piecewise-linear encoding over `buckets` quantile buckets of the training split.

    Bucket t (1..buckets) spans [b_{t-1}, b_t], with b_0 the training minimum, b_buckets
    the maximum and the others TF Transform's quantile boundaries; component t
    is 0 before the bin, 1 past it, and (x - b_{t-1}) / (b_t - b_{t-1}) inside
    (Gorishniy et al. 2022). Unlike the paper's, the outer buckets are clipped:
    a value beyond the training range encodes as the training extreme, as a
    tree would treat it, instead of extrapolating to a size the network never
    saw. A bucket of width 0 (a value repeated across a quantile) is a step: 1
    from b_t on. A missing value is encoded as the training median.

    Args:
      values: (batch, 1) Tensor or SparseTensor of floats.
      buckets: Number of quantile buckets, at least 2.

    Returns:
      A dense (batch, buckets) float tensor with values in [0, 1].
    """
    present = _present(values)
    inner = tft.quantiles(present, num_buckets=buckets, epsilon=QUANTILE_EPSILON)[0]
    median = tft.quantiles(present, num_buckets=2, epsilon=QUANTILE_EPSILON)[0][0]
    edges = tf.concat(
        [tf.reshape(tft.min(present), [1]), inner, tf.reshape(tft.max(present), [1])], 0
    )
    lower, upper = edges[:-1], edges[1:]
    x = tf.expand_dims(to_dense(values, median), -1)
    width = upper - lower
    inside = (x - lower) / tf.where(width > 0, width, 1.0)
    encoded = tf.where(
        width > 0, tf.clip_by_value(inside, 0.0, 1.0), tf.cast(x >= upper, tf.float32)
    )
    return tf.reshape(encoded, [-1, buckets])
