"""TFMA evaluation config: metrics, slices and blessing thresholds from the feature registry."""

from __future__ import annotations

import dataclasses

import tensorflow_model_analysis as tfma

from components.features import FeatureRegistry
from components.trainer.export import PREDICTION_KEY, TRANSFORM_SIGNATURE

# Slack so that "not worse than the baseline" accepts an exact tie.
_TIE_TOLERANCE = 1e-10


@dataclasses.dataclass(frozen=True)
class BlessingThresholds:
    """When the Evaluator blesses a candidate model.

    Attributes:
      min_auc: The candidate's AUC on the evaluation split must reach this.
        Defaults to 0.90.
      min_accuracy: Its binary accuracy must reach this. Defaults to 0.85.
      min_auc_gain: Its AUC minus the live (latest blessed) model's AUC must be
        at least this; 0 means "no worse than the live model". Ignored on the
        first run, when there is no live model. Defaults to 0.0.
    """

    min_auc: float = 0.90
    min_accuracy: float = 0.85
    min_auc_gain: float = 0.0


def make_eval_config(registry: FeatureRegistry, thresholds: BlessingThresholds) -> tfma.EvalConfig:
    """Returns the TFMA config: metrics overall and per slice column, with thresholds.

    The model is fed raw eval examples through its serving signature; the
    label is derived from them by the model's own `transform_features`
    signature, so evaluation sees exactly what serving sees.
    """
    overall = [tfma.SlicingSpec()]
    thresholds_by_metric = {
        "binary_accuracy": tfma.MetricThreshold(
            value_threshold=tfma.GenericValueThreshold(
                lower_bound={"value": thresholds.min_accuracy}
            )
        ),
        "auc": tfma.MetricThreshold(
            value_threshold=tfma.GenericValueThreshold(lower_bound={"value": thresholds.min_auc}),
            change_threshold=tfma.GenericChangeThreshold(
                direction=tfma.MetricDirection.HIGHER_IS_BETTER,
                absolute={"value": thresholds.min_auc_gain - _TIE_TOLERANCE},
            ),
        ),
    }

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

    metrics = [
        tfma.MetricConfig(class_name="ExampleCount"),
        gated("BinaryAccuracy", thresholds_by_metric["binary_accuracy"]),
        gated("AUC", thresholds_by_metric["auc"]),
        tfma.MetricConfig(class_name="Precision"),
        tfma.MetricConfig(class_name="Recall"),
        tfma.MetricConfig(class_name="Calibration"),
        tfma.MetricConfig(class_name="CalibrationPlot", config='{"num_buckets": 10}'),
        tfma.MetricConfig(class_name="ConfusionMatrixPlot"),
    ]
    return tfma.EvalConfig(
        model_specs=[
            tfma.ModelSpec(
                signature_name="serving_default",
                prediction_key=PREDICTION_KEY,
                label_key=registry.label_key,
                preprocessing_function_names=[TRANSFORM_SIGNATURE],
            )
        ],
        metrics_specs=[tfma.MetricsSpec(metrics=metrics)],
        slicing_specs=overall
        + [tfma.SlicingSpec(feature_keys=[column]) for column in registry.slice_columns],
        # The model's own compiled metrics would duplicate names ("auc") above.
        options=tfma.Options(include_default_metrics={"value": False}),
    )
