"""Robust scaling and piecewise-linear encoding on a handful of in-memory rows, exact values.

TF Transform's quantile sketch is exact on so few values and returns order statistics:
over 1..8, the quartile boundaries are 3, 5 and 7 (so the median is 5, not 4.5).
"""

import math
import tempfile

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform.beam as tft_beam
from tensorflow_transform.tf_metadata import dataset_metadata, schema_utils

from components import dataset as S
from components import transform

ONE_TO_EIGHT = [[float(v)] for v in range(1, 9)]


def _smooth_clip(z: float) -> float:
    return z / math.sqrt(1 + (z / 3) ** 2)


def _run(feature: S.NumericFeature, train: list, serve: list | None = None) -> dict:
    """Analyzes `train` (values of column x, [] for missing) and transforms `serve` (defaults
    to `train`) as `feature` asks; returns the transformed columns and their feature spec."""
    spec = S.DatasetSpec(
        S.SourceSpec(S.SourceFormat.CSV, "rows.csv"),
        S.LabelSpec("y", S.Task.REGRESSION),
        (feature,),
    )
    raw = {"x": tf.io.VarLenFeature(tf.float32), "y": tf.io.VarLenFeature(tf.float32)}
    metadata = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec(raw))
    rows = lambda values: [{"x": v, "y": [0.0]} for v in values]  # noqa: E731
    with tempfile.TemporaryDirectory() as tmp, tft_beam.Context(temp_dir=tmp):
        transform_fn = (rows(train), metadata) | tft_beam.AnalyzeDataset(
            lambda inputs: transform.transform_features(inputs, spec)
        )
        (out, out_metadata) = (
            (rows(train if serve is None else serve), metadata),
            transform_fn,
        ) | tft_beam.TransformDataset(output_record_batches=False)
    columns = {k: np.array([row[k] for row in out]) for k in out[0] if k != "y_xf"}
    return columns, out_metadata.dataset_metadata.schema


def test_robust_scales_by_the_interquartile_range_around_the_median_then_clips_smoothly():
    out, _ = _run(S.NumericFeature("x", S.NumericTransform.ROBUST), [*ONE_TO_EIGHT, []])
    # Median 5, interquartile range 7 - 3 = 4; the missing value takes the median: 0.
    expected = [_smooth_clip((v - 5) / 4) for v in range(1, 9)] + [0.0]
    np.testing.assert_allclose(out["x_xf"], expected, rtol=1e-5, atol=1e-7)
    assert out["x_xf"][0] == pytest.approx(-0.948683, abs=1e-6)  # -1 / sqrt(1 + 1/9)
    np.testing.assert_array_equal(out["x_missing_xf"], [0] * 8 + [1])


def test_robust_falls_back_to_half_the_range_when_the_interquartile_range_is_0():
    # Mostly 0: every quartile is 0, so the scale is (max - min) / 2 = 4.
    out, _ = _run(S.NumericFeature("x", S.NumericTransform.ROBUST), [[0.0]] * 5 + [[4.0], [8.0]])
    expected = [0.0] * 5 + [_smooth_clip(1.0), _smooth_clip(2.0)]
    np.testing.assert_allclose(out["x_xf"], expected, rtol=1e-5)


def test_robust_maps_a_constant_column_to_0_and_bounds_serving_outliers_by_3():
    constant, _ = _run(
        S.NumericFeature("x", S.NumericTransform.ROBUST), [[2.0]] * 4, [[2.0], [9.0]]
    )
    np.testing.assert_array_equal(constant["x_xf"], [0.0, 0.0])
    feature = S.NumericFeature("x", S.NumericTransform.ROBUST, fill=0.0)
    out, _ = _run(feature, ONE_TO_EIGHT, [[1e6], [-1e6], []])
    # Far outside the training range: +-3 (in float32); the missing value is filled with 0.
    np.testing.assert_allclose(out["x_xf"], [3.0, -3.0, _smooth_clip(-5 / 4)], rtol=1e-5)
    assert set(out) == {"x_xf"}  # a fill: no missing flag


def test_robust_after_log1p_uses_the_quantiles_of_the_logs():
    values = [[math.e**k - 1] for k in range(1, 9)]  # log1p: 1..8
    out, _ = _run(S.NumericFeature("x", S.NumericTransform.ROBUST, log1p=True), values)
    expected = [_smooth_clip((k - 5) / 4) for k in range(1, 9)]
    np.testing.assert_allclose(out["x_xf"], expected, rtol=1e-5, atol=1e-6)


def test_piecewise_linear_encodes_how_far_x_is_through_each_quantile_bin():
    feature = S.NumericFeature("x", S.NumericTransform.PIECEWISE_LINEAR, buckets=4)
    out, schema = _run(feature, [*ONE_TO_EIGHT, []])
    # Edges: min 1, quartile boundaries 3, 5, 7, max 8; bins [1,3] [3,5] [5,7] [7,8].
    expected = [
        [0, 0, 0, 0],  # 1
        [0.5, 0, 0, 0],  # 2
        [1, 0, 0, 0],  # 3
        [1, 0.5, 0, 0],  # 4
        [1, 1, 0, 0],  # 5
        [1, 1, 0.5, 0],  # 6
        [1, 1, 1, 0],  # 7
        [1, 1, 1, 1],  # 8
        [1, 1, 0, 0],  # missing: the median, 5
    ]
    np.testing.assert_allclose(out["x_xf"], expected, rtol=1e-6)
    np.testing.assert_array_equal(out["x_missing_xf"], [0] * 8 + [1])
    # A fixed-width vector, as `TransformedFeature.width` tells the Trainer.
    spec = schema_utils.schema_as_feature_spec(schema).feature_spec
    assert spec["x_xf"] == tf.io.FixedLenFeature([4], tf.float32)
    assert feature.outputs()[0] == S.TransformedFeature("x_xf", False, width=4)


def test_piecewise_linear_clips_values_beyond_the_training_range_at_serving():
    feature = S.NumericFeature("x", S.NumericTransform.PIECEWISE_LINEAR, buckets=4)
    out, _ = _run(feature, ONE_TO_EIGHT, [[-100.0], [7.5], [100.0]])
    np.testing.assert_allclose(out["x_xf"], [[0, 0, 0, 0], [1, 1, 1, 0.5], [1, 1, 1, 1]])


def test_piecewise_linear_bin_of_width_0_is_a_step():
    # 0 five times: min and the boundaries below the top are 0; bins [0,0] [0,0] [0,8].
    feature = S.NumericFeature("x", S.NumericTransform.PIECEWISE_LINEAR, buckets=3, fill=0.0)
    out, _ = _run(feature, [[0.0]] * 5 + [[4.0], [8.0]], [[0.0], [4.0], [], [-1.0]])
    np.testing.assert_allclose(
        out["x_xf"], [[1, 1, 0], [1, 1, 0.5], [1, 1, 0], [0, 0, 0]], rtol=1e-6
    )
