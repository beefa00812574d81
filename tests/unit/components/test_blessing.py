"""Blessing relative to the trivial model: where each bar comes from, the trivial model's
metric on a few examples with exact values, and a not-blessed reason in words."""

from pathlib import Path

import numpy as np
import pytest
from tensorflow_model_analysis.evaluators import metrics_validator
from tensorflow_model_analysis.metrics import metric_specs, metric_types, metric_util

from components import dataset as S
from components.blessing import (
    BlessingThresholds,
    EvaluationSpec,
    describe_failure,
    resolve_bars,
)
from components.evaluation import make_eval_config
from components.trivial_model import ErrorReductionVsTrivialModel

TAXI = S.load_spec(Path(__file__).parents[3] / "data" / "taxi" / "spec.yaml")
SOURCE = S.SourceSpec(S.SourceFormat.CSV, "rows.csv")


def _spec(task: S.Task, evaluation: EvaluationSpec | None = None) -> S.DatasetSpec:
    classes = ("a", "b", "c") if task is S.Task.MULTICLASS else ()
    label = S.LabelSpec("y", task, classes=classes)
    return S.DatasetSpec(
        SOURCE, label, (S.NumericFeature("x"),), evaluation=evaluation or EvaluationSpec()
    )


MAJORITY = "trivial model: the majority class, less {}% of its error"


@pytest.mark.parametrize(
    "thresholds, evaluation, expected",
    [
        (
            BlessingThresholds(),
            EvaluationSpec(),
            [
                ("auc", 0.525, "trivial model: chance auc 0.5, less 5% of its error"),
                ("binary_accuracy", None, MAJORITY.format(5)),
            ],
        ),
        (
            BlessingThresholds(),
            EvaluationSpec(min_auc=0.9),
            [
                ("auc", 0.9, "spec: evaluation.min_auc"),
                ("binary_accuracy", None, MAJORITY.format(5)),
            ],
        ),
        (
            BlessingThresholds(min_auc=0.8, min_accuracy=0.7),
            EvaluationSpec(min_auc=0.9, min_accuracy=0.85, min_error_reduction=0.2),
            [
                ("auc", 0.8, "command line: --min-auc"),
                ("binary_accuracy", 0.7, "command line: --min-accuracy"),
            ],
        ),
        (
            BlessingThresholds(),
            EvaluationSpec(min_error_reduction=0.2),
            [
                ("auc", 0.6, "trivial model: chance auc 0.5, less 20% of its error"),
                ("binary_accuracy", None, MAJORITY.format(20)),
            ],
        ),
    ],
    ids=["trivial", "spec-auc-trivial-accuracy", "command-line-over-spec", "spec-margin"],
)
def test_each_bar_comes_from_the_command_line_else_the_spec_else_the_trivial_model(
    thresholds, evaluation, expected
):
    bars = resolve_bars(thresholds, evaluation, S.Task.BINARY)
    assert [(b.metric, b.value and round(b.value, 6), b.source) for b in bars] == expected


def test_taxi_keeps_its_absolute_bars_and_needs_no_trivial_model():
    config = make_eval_config(TAXI, BlessingThresholds())
    bars = {
        m.class_name: m.per_slice_thresholds[0].threshold.value_threshold.lower_bound.value
        for m in config.metrics_specs[0].metrics
        if m.per_slice_thresholds
    }
    assert bars == {"BinaryAccuracy": 0.85, "AUC": 0.90}


def test_without_bars_the_trivial_model_metric_is_thresholded_and_tfma_can_load_it():
    config = make_eval_config(_spec(S.Task.BINARY), BlessingThresholds())
    metric = config.metrics_specs[0].metrics[-1]
    assert (metric.class_name, metric.module) == (
        "ErrorReductionVsTrivialModel",
        "components.trivial_model",
    )
    assert metric.per_slice_thresholds[0].threshold.value_threshold.lower_bound.value == 0.05
    instance = metric_specs.metric_instance(metric)
    assert isinstance(instance, ErrorReductionVsTrivialModel)
    assert instance.kwargs["task"] == "binary"


def _trivial_model_metrics(task: str, examples: list[tuple]) -> dict[str, float]:
    """The metric's values over (label, prediction) examples, added in two halves and merged."""
    computation = ErrorReductionVsTrivialModel(task=task).computations()[0]
    combiner = computation.combiner
    halves = []
    for half in (examples[: len(examples) // 2], examples[len(examples) // 2 :]):
        accumulator = combiner.create_accumulator()
        for label, prediction in half:
            inputs = metric_util.to_standard_metric_inputs(
                {
                    "labels": np.array(label, dtype=float),
                    "predictions": np.array(prediction, dtype=float),
                    "example_weights": np.array([1.0]),
                }
            )
            accumulator = combiner.add_input(accumulator, inputs)
        halves.append(accumulator)
    output = combiner.extract_output(combiner.merge_accumulators(halves))
    return {key.name: value for key, value in output.items()}


def test_binary_error_reduction_against_the_majority_class():
    # Labels 1, 1, 1, 0, 0: majority rate 0.6 (error 0.4). Predictions above 0.5 are 1:
    # 1, 1, 0, 0, 1 -> 3 of 5 right (error 0.4): no better than the trivial model.
    examples = [([1], [0.9]), ([1], [0.7]), ([1], [0.2]), ([0], [0.4]), ([0], [0.6])]
    metrics = _trivial_model_metrics("binary", examples)
    assert metrics == pytest.approx(
        {"error_reduction_vs_trivial_model": 0.0, "trivial_model_accuracy": 0.6}
    )
    # One more right (4 of 5, error 0.2): half the trivial model's error removed.
    examples[2] = ([1], [0.8])
    assert _trivial_model_metrics("binary", examples)[
        "error_reduction_vs_trivial_model"
    ] == pytest.approx(0.5)


def test_multiclass_error_reduction_against_the_majority_class():
    # Classes 2, 2, 0, 1: majority rate 0.5. Argmax predictions 2, 0, 0, 1: 3 of 4 right.
    examples = [
        ([2], [0.1, 0.2, 0.7]),
        ([2], [0.5, 0.2, 0.3]),
        ([0], [0.6, 0.3, 0.1]),
        ([1], [0.2, 0.7, 0.1]),
    ]
    metrics = _trivial_model_metrics("multiclass", examples)
    # 1 - 0.25 / 0.5
    assert metrics == pytest.approx(
        {"error_reduction_vs_trivial_model": 0.5, "trivial_model_accuracy": 0.5}
    )


def test_regression_error_reduction_against_predicting_the_mean():
    # Labels 1, 2, 3, 6: mean 3, population std sqrt((4 + 1 + 0 + 9) / 4) = sqrt(3.5).
    # Errors 1, -1, 1, -1: RMSE 1.
    examples = [([1], [2]), ([2], [1]), ([3], [4]), ([6], [5])]
    metrics = _trivial_model_metrics("regression", examples)
    assert metrics == pytest.approx(
        {"error_reduction_vs_trivial_model": 1 - 1 / 3.5**0.5, "trivial_model_rmse": 3.5**0.5}
    )


def test_a_trivial_model_without_error_cannot_be_beaten():
    assert (
        _trivial_model_metrics("binary", [([1], [0.9]), ([1], [0.8])])[
            "error_reduction_vs_trivial_model"
        ]
        == 0.0
    )
    assert (
        _trivial_model_metrics("binary", [([1], [0.9]), ([1], [0.1])])[
            "error_reduction_vs_trivial_model"
        ]
        == -1.0
    )


def _reasons(spec, thresholds, metrics: dict) -> list[str]:
    """TFMA's validator on `metrics` (candidate, overall slice), its failures in words; the
    candidate ties with the live model unless `metrics` gives a change."""
    config = make_eval_config(spec, thresholds)
    metrics = dict(metrics)
    for name in ("auc", "root_mean_squared_error"):
        if (name, False) in metrics:
            metrics.setdefault((name, True), 0.0)
    keys = {
        metric_types.MetricKey(name=name, example_weighted=False, is_diff=diff): value
        for (name, diff), value in metrics.items()
    }
    result = metrics_validator.validate_metrics(((), keys), config)
    plain = {name: value for (name, diff), value in metrics.items() if not diff}
    bars = resolve_bars(thresholds, spec.evaluation, spec.task)
    return [
        describe_failure(
            f.metric_key.name,
            f.metric_key.is_diff,
            f.metric_value.double_value.value,
            plain,
            bars,
            thresholds,
            spec.evaluation,
        )
        for s in result.metric_validations_per_slice
        for f in s.failures
    ]


def test_a_data_set_where_the_trivial_model_wins_is_not_blessed_and_says_why():
    # The labels of the example above: majority rate 0.6, and a candidate right 3 times in 5.
    examples = [([1], [0.9]), ([1], [0.7]), ([1], [0.2]), ([0], [0.4]), ([0], [0.6])]
    trivial = _trivial_model_metrics("binary", examples)
    metrics = {(name, False): value for name, value in trivial.items()}
    metrics.update({("binary_accuracy", False): 0.6, ("auc", False): 0.667})
    reasons = _reasons(_spec(S.Task.BINARY), BlessingThresholds(), metrics)
    assert reasons == [
        "binary_accuracy 0.600 < 0.620 (trivial model: the majority class, less 5% of its "
        "error: its accuracy 0.600 on the test split)"
    ]
    # Clearly better than the majority class (4 in 5 right), and it is blessed.
    metrics[("error_reduction_vs_trivial_model", False)] = 0.5
    assert _reasons(_spec(S.Task.BINARY), BlessingThresholds(), metrics) == []


def test_a_regression_model_no_better_than_the_mean_says_so_in_the_labels_units():
    metrics = {
        ("root_mean_squared_error", False): 653.0,
        ("error_reduction_vs_trivial_model", False): 1 - 653.0 / 660.0,
        ("trivial_model_rmse", False): 660.0,
    }
    assert _reasons(_spec(S.Task.REGRESSION), BlessingThresholds(), metrics) == [
        "root_mean_squared_error 653 > 627 (trivial model: predicting the mean, less 5% of its "
        "error: its root_mean_squared_error 660 on the test split)"
    ]


@pytest.mark.parametrize(
    "thresholds, evaluation, metrics, expected",
    [
        (
            BlessingThresholds(),
            EvaluationSpec(min_auc=0.9, min_accuracy=0.85),
            {("auc", False): 0.836, ("binary_accuracy", False): 0.9},
            ["auc 0.836 < 0.900 (spec: evaluation.min_auc)"],
        ),
        (
            BlessingThresholds(min_accuracy=0.95),
            EvaluationSpec(min_auc=0.8, min_accuracy=0.85),
            {("auc", False): 0.836, ("binary_accuracy", False): 0.9},
            ["binary_accuracy 0.900 < 0.950 (command line: --min-accuracy)"],
        ),
        (
            BlessingThresholds(min_auc_gain=0.01),
            EvaluationSpec(min_auc=0.8, min_accuracy=0.85),
            {("auc", False): 0.9, ("auc", True): 0.004, ("binary_accuracy", False): 0.9},
            ["auc 0.900 < 0.906 (live model: its auc + --min-auc-gain 0.01)"],
        ),
        (
            BlessingThresholds(),
            EvaluationSpec(min_accuracy=0.5),
            {("auc", False): 0.51, ("binary_accuracy", False): 0.9},
            ["auc 0.510 < 0.525 (trivial model: chance auc 0.5, less 5% of its error)"],
        ),
    ],
    ids=["spec-bar", "command-line-bar", "live-model", "chance-auc"],
)
def test_every_reason_names_the_metric_its_value_the_bar_and_its_source(
    thresholds, evaluation, metrics, expected
):
    assert _reasons(_spec(S.Task.BINARY, evaluation), thresholds, metrics) == expected
