"""The Evaluator's blessing rule, checked with TFMA's own validator on chosen metric values."""

import pytest
from tensorflow_model_analysis.evaluators import metrics_validator
from tensorflow_model_analysis.metrics import metric_types

from components.evaluation import BlessingThresholds, make_eval_config
from components.features import TAXI

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


def test_slices_and_label_come_from_the_registry():
    config = make_eval_config(TAXI, BlessingThresholds())
    slices = [list(s.feature_keys) for s in config.slicing_specs]
    assert slices == [[], ["payment_type"], ["company"]]
    assert config.model_specs[0].label_key == "big_tipper_xf"
    assert list(config.model_specs[0].preprocessing_function_names) == ["transform_features"]
