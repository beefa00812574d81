"""The Evaluator's blessing rule, checked with TFMA's own validator on chosen metric values."""

from pathlib import Path

import pytest
import tensorflow_model_analysis as tfma
from tensorflow_model_analysis.evaluators import metrics_validator
from tensorflow_model_analysis.metrics import metric_types

from components import dataset as S
from components.dataset import load_spec
from components.evaluation import BlessingThresholds, make_eval_config

TAXI = load_spec(Path(__file__).parents[3] / "data" / "taxi" / "spec.yaml")

OVERALL = ()
SMALL_SLICE = (("company", b"A one-trip company"),)


def _metrics(accuracy, auc, auc_diff):
    key = lambda name, diff=False: metric_types.MetricKey(  # noqa: E731
        name=name, example_weighted=False, is_diff=diff
    )
    return {
        key("binary_accuracy"): accuracy,
        key("auc"): auc,
        key("binary_accuracy", True): 0.0,
        key("auc", True): auc_diff,
    }


def _failures(slice_key, metrics, thresholds=None):
    config = make_eval_config(TAXI, thresholds or BlessingThresholds())
    result = metrics_validator.validate_metrics((slice_key, metrics), config)
    return sorted(
        (f.metric_key.name, f.metric_key.is_diff)
        for s in result.metric_validations_per_slice
        for f in s.failures
    )


@pytest.mark.parametrize(
    "accuracy, auc, auc_diff, failures",
    [
        (0.91, 0.96, 0.0, []),
        (0.91, 0.96, 0.002, []),
        (0.84, 0.96, 0.0, [("binary_accuracy", False)]),
        (0.91, 0.89, 0.0, [("auc", False)]),
        (0.91, 0.96, -0.001, [("auc", True)]),
    ],
    ids=["tie-with-baseline", "better", "accuracy-too-low", "auc-too-low", "worse-than-baseline"],
)
def test_overall_slice_decides_the_blessing(accuracy, auc, auc_diff, failures):
    assert _failures(OVERALL, _metrics(accuracy, auc, auc_diff)) == failures


def test_a_poor_small_slice_does_not_veto_the_model():
    assert _failures(SMALL_SLICE, _metrics(0.0, 0.0, -0.5)) == []


def test_required_gain_over_the_live_model_is_configurable():
    strict = BlessingThresholds(min_auc_gain=0.01)
    assert _failures(OVERALL, _metrics(0.91, 0.96, 0.005), strict) == [("auc", True)]
    assert _failures(OVERALL, _metrics(0.91, 0.96, 0.011), strict) == []


def test_slices_and_label_come_from_the_spec():
    config = make_eval_config(TAXI, BlessingThresholds())
    slices = [list(s.feature_keys) for s in config.slicing_specs]
    assert slices == [[], ["payment_type"], ["company"]]
    assert config.model_specs[0].label_key == "big_tipper_xf"
    assert list(config.model_specs[0].preprocessing_function_names) == ["transform_features"]
    # Its signatures only, not a Keras model rebuilt: the trees' and the ensemble's too.
    assert config.model_specs[0].model_type == tfma.TF_GENERIC


def _validate(spec, metrics: dict, thresholds: BlessingThresholds) -> list:
    config = make_eval_config(spec, thresholds)
    key = lambda name, diff: metric_types.MetricKey(  # noqa: E731
        name=name, example_weighted=False, is_diff=diff
    )
    values = {key(name, diff): value for (name, diff), value in metrics.items()}
    result = metrics_validator.validate_metrics((OVERALL, values), config)
    return sorted(
        (f.metric_key.name, f.metric_key.is_diff)
        for s in result.metric_validations_per_slice
        for f in s.failures
    )


SOURCE = S.SourceSpec(S.SourceFormat.CSV, "rows.csv")
MULTICLASS = S.DatasetSpec(
    SOURCE,
    S.LabelSpec("species", S.Task.MULTICLASS, classes=("a", "b", "c")),
    (S.NumericFeature("x"),),
)
REGRESSION = S.DatasetSpec(SOURCE, S.LabelSpec("y", S.Task.REGRESSION), (S.NumericFeature("x"),))


@pytest.mark.parametrize(
    "accuracy, diff, expected",
    [
        (0.90, 0.01, []),
        (0.90, 0.0, []),  # a tie with the live model is not worse
        (0.80, 0.01, [("sparse_categorical_accuracy", False)]),
        (0.90, -0.01, [("sparse_categorical_accuracy", True)]),
    ],
    ids=["better", "tie", "below-bar", "worse-than-live"],
)
def test_a_multiclass_model_needs_the_accuracy_bar_and_no_worse_than_live(accuracy, diff, expected):
    metrics = {("sparse_categorical_accuracy", False): accuracy}
    metrics[("sparse_categorical_accuracy", True)] = diff
    assert _validate(MULTICLASS, metrics, BlessingThresholds(min_accuracy=0.85)) == expected


@pytest.mark.parametrize(
    "rmse, diff, max_rmse, expected",
    [
        (2.0, -0.1, None, []),
        (2.0, 0.0, None, []),
        (2.0, 0.1, None, [("root_mean_squared_error", True)]),
        (2.0, -0.1, 1.5, [("root_mean_squared_error", False)]),
        (1.0, -0.1, 1.5, []),
    ],
    ids=["lower", "tie", "higher-than-live", "above-max", "under-max"],
)
def test_a_regression_model_must_not_err_more_than_live_or_max_rmse(rmse, diff, max_rmse, expected):
    metrics = {("root_mean_squared_error", False): rmse, ("root_mean_squared_error", True): diff}
    # Without max_rmse the bar is the trivial model's, which this candidate beats.
    metrics[("error_reduction_vs_trivial_model", False)] = 0.5
    assert _validate(REGRESSION, metrics, BlessingThresholds(max_rmse=max_rmse)) == expected


def test_each_label_kind_evaluates_its_own_metrics_and_prediction():
    def names(spec):
        config = make_eval_config(spec, BlessingThresholds())
        return (
            config.model_specs[0].prediction_key,
            [m.class_name for m in config.metrics_specs[0].metrics],
        )

    # Neither spec sets a bar: both are judged against the trivial model too.
    assert names(MULTICLASS) == (
        "probabilities",
        [
            "ExampleCount",
            "SparseCategoricalAccuracy",
            "MultiClassConfusionMatrixPlot",
            "ErrorReductionVsTrivialModel",
        ],
    )
    assert names(REGRESSION) == (
        "prediction",
        [
            "ExampleCount",
            "RootMeanSquaredError",
            "MeanAbsoluteError",
            "MeanSquaredError",
            "ErrorReductionVsTrivialModel",
        ],
    )
    assert names(TAXI)[0] == "probability"
