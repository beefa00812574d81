"""TFMA evaluation config: metrics, slices and blessing thresholds from the data set spec.

What blesses a candidate depends on the label:
  binary      AUC >= its bar, accuracy >= its bar, AUC - live AUC >= min_auc_gain;
  multiclass  accuracy >= its bar, and no lower than the live model's;
  regression  RMSE <= its bar, and no higher than the live model's.
Each bar is the command line's, else the spec's (`evaluation:`), else the trivial
model's (`components.blessing`): AUC 0.5 + 5% of 0.5; for accuracy and RMSE, the
`components.trivial_model` metric on the test split, which must show 5% less error
than the majority class or the mean.
"""

from __future__ import annotations

import json
import math

import tensorflow_model_analysis as tfma

from components.blessing import (
    AUC,
    BINARY_ACCURACY,
    MULTICLASS_ACCURACY,
    RMSE,
    BlessingThresholds,
    resolve_bars,
)
from components.dataset import DatasetSpec, Task
from components.trainer.export import TRANSFORM_SIGNATURE
from components.trainer.heads import Head
from components.trivial_model import ErrorReductionVsTrivialModel

# Slack so that "not worse than the baseline" accepts an exact tie.
_TIE_TOLERANCE = 1e-10


def _threshold(
    lower: float | None = None,
    upper: float | None = None,
    *,
    higher_is_better: bool,
    gain: float = 0.0,
) -> tfma.MetricThreshold:
    """A value bar (when given) and a change bar: at least `gain` better than the live model."""
    threshold = tfma.MetricThreshold(
        change_threshold=tfma.GenericChangeThreshold(
            direction=(
                tfma.MetricDirection.HIGHER_IS_BETTER
                if higher_is_better
                else tfma.MetricDirection.LOWER_IS_BETTER
            ),
            absolute={"value": (gain - _TIE_TOLERANCE) * (1 if higher_is_better else -1)},
        )
    )
    if lower is not None:
        threshold.value_threshold.lower_bound.value = lower
    if upper is not None:
        threshold.value_threshold.upper_bound.value = upper
    return threshold


def _value_bar(lower: float) -> tfma.MetricThreshold:
    return tfma.MetricThreshold(
        value_threshold=tfma.GenericValueThreshold(lower_bound={"value": lower})
    )


def task_metrics(spec: DatasetSpec, thresholds: BlessingThresholds) -> list[tuple]:
    """(TFMA metric class, threshold or config or None[, module]) tuples evaluated for the
    spec's label; each bar is the first of the command line's, the spec's and the trivial
    model's (`components.blessing.resolve_bars`)."""
    task = spec.task
    bars = {bar.metric: bar for bar in resolve_bars(thresholds, spec.evaluation, task)}
    metrics: list[tuple] = []
    if any(bar.value is None for bar in bars.values()):
        # A bar relative to the trivial model: the share of its error the candidate removes.
        metrics.append(
            (
                ErrorReductionVsTrivialModel.__name__,
                _value_bar(spec.evaluation.min_error_reduction),
                ErrorReductionVsTrivialModel.__module__,
                json.dumps({"task": task.value}),
            )
        )

    def value(metric: str) -> float | None:
        return bars[metric].value

    if task is Task.BINARY:
        accuracy = value(BINARY_ACCURACY)
        return [
            ("BinaryAccuracy", None if accuracy is None else _value_bar(accuracy)),
            (
                "AUC",
                _threshold(lower=value(AUC), higher_is_better=True, gain=thresholds.min_auc_gain),
            ),
            ("Precision", None),
            ("Recall", None),
            ("Calibration", None),
            ("CalibrationPlot", '{"num_buckets": 10}'),
            ("ConfusionMatrixPlot", None),
        ] + metrics
    if task is Task.MULTICLASS:
        return [
            (
                "SparseCategoricalAccuracy",
                # A value bar of 0 without its own: see the regression case below.
                _threshold(lower=value(MULTICLASS_ACCURACY) or 0.0, higher_is_better=True),
            ),
            ("MultiClassConfusionMatrixPlot", None),
        ] + metrics
    max_rmse = value(RMSE)
    return [
        # Always a value bar (infinite when none is set): TFMA counts a threshold that
        # has only a change bar as missing when there is no live model to compare with.
        (
            "RootMeanSquaredError",
            _threshold(upper=math.inf if max_rmse is None else max_rmse, higher_is_better=False),
        ),
        ("MeanAbsoluteError", None),
        ("MeanSquaredError", None),
    ] + metrics


def make_eval_config(spec: DatasetSpec, thresholds: BlessingThresholds) -> tfma.EvalConfig:
    """Returns the TFMA config: metrics overall and per slice column, with thresholds.

    The model is fed raw eval examples through its serving signature; the
    label is derived from them by the model's own `transform_features`
    signature, so evaluation sees exactly what serving sees.
    """
    overall = [tfma.SlicingSpec()]

    # Thresholds decide the blessing on the overall slice only: per-slice values
    # are reported, but a slice with a handful of examples must not veto a model.
    # (They sit on the MetricConfig: MetricsSpec.per_slice_thresholds is for
    # metrics compiled into the model.)
    def gated(class_name, threshold):
        return tfma.MetricConfig(
            class_name=class_name,
            per_slice_thresholds=[
                tfma.PerSliceMetricThreshold(slicing_specs=overall, threshold=threshold)
            ],
        )

    metrics = [tfma.MetricConfig(class_name="ExampleCount")]
    for class_name, extra, *custom in task_metrics(spec, thresholds):
        if custom:  # one of ours: its module, and its arguments as JSON
            module, arguments = custom
            config = gated(class_name, extra)
            config.module, config.config = module, arguments
            metrics.append(config)
        elif isinstance(extra, tfma.MetricThreshold):
            metrics.append(gated(class_name, extra))
        else:
            metrics.append(tfma.MetricConfig(class_name=class_name, config=extra or ""))
    return tfma.EvalConfig(
        model_specs=[
            tfma.ModelSpec(
                signature_name="serving_default",
                prediction_key=Head.for_spec(spec).prediction_key,
                label_key=spec.label_key,
                preprocessing_function_names=[TRANSFORM_SIGNATURE],
                # The signatures are all TFMA calls: loaded as a plain SavedModel, not
                # rebuilt layer by layer as a Keras model (4.6 of 49 s, and 120 MB, on
                # 738 test rows; the same metrics: README, "Where the seconds go").
                model_type=tfma.TF_GENERIC,
            )
        ],
        metrics_specs=[tfma.MetricsSpec(metrics=metrics)],
        slicing_specs=overall + [tfma.SlicingSpec(feature_keys=[column]) for column in spec.slices],
        # The model's own compiled metrics would duplicate names ("auc") above.
        options=tfma.Options(include_default_metrics={"value": False}),
    )
