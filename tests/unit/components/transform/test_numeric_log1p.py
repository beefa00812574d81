"""`log1p` of a numeric feature: negative values are clamped at 0 first (log1p(-1) would be
-inf, and below -1 NaN), with exact values on a few rows through TF Transform."""

import math
import tempfile

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform.beam as tft_beam
from tensorflow_transform.tf_metadata import dataset_metadata, schema_utils

from components import dataset as S
from components import transform


def _numeric(feature: S.NumericFeature, values: list) -> dict:
    """Analyzes and transforms one float column (`values`, [] for missing) declared by
    `feature`, beside a regression label; transformed name -> values per row."""
    dataset_spec = S.DatasetSpec(
        S.SourceSpec(S.SourceFormat.CSV, "rows.csv"),
        S.LabelSpec("y", S.Task.REGRESSION),
        (feature,),
    )
    spec = {feature.name: tf.io.VarLenFeature(tf.float32), "y": tf.io.VarLenFeature(tf.float32)}
    rows = [{feature.name: value, "y": [0.0]} for value in values]
    metadata = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec(spec))
    with tempfile.TemporaryDirectory() as tmp, tft_beam.Context(temp_dir=tmp):
        (transformed, _), _ = (rows, metadata) | tft_beam.AnalyzeAndTransformDataset(
            lambda inputs: transform.transform_features(inputs, dataset_spec),
            output_record_batches=False,
        )
    return {k: np.array([row[k] for row in transformed]) for k in transformed[0] if k != "y_xf"}


@pytest.mark.parametrize(
    "negatives",
    [[-1.0], [-5.0], [-1e6]],
    ids=["minus-one-would-be-inf", "below-minus-one-would-be-nan", "large-negative"],
)
def test_log1p_clamps_negative_values_at_zero(negatives):
    feature = S.NumericFeature("x", S.NumericTransform.MINMAX, log1p=True)
    out = _numeric(feature, [negatives, [0.0], [math.e - 1], [math.e**2 - 1]])
    # log1p(max(x, 0)): 0, 0, 1, 2; min-max over them: 0, 0, 0.5, 1.
    np.testing.assert_allclose(out["x_xf"], [0.0, 0.0, 0.5, 1.0], rtol=1e-6, atol=1e-7)
    assert np.isfinite(out["x_xf"]).all()


def test_log1p_with_z_score_keeps_a_negative_value_finite_and_equal_to_zero():
    feature = S.NumericFeature("x", S.NumericTransform.ZSCORE, log1p=True)
    out = _numeric(feature, [[-3.0], [0.0], [math.e - 1], [math.e - 1]])
    # log1p(max(x, 0)): 0, 0, 1, 1: mean 0.5, standard deviation 0.5, so z = -1, -1, 1, 1.
    np.testing.assert_allclose(out["x_xf"], [-1.0, -1.0, 1.0, 1.0], rtol=1e-5)
