"""When the Evaluator blesses a candidate model: the bar of each metric, where it came from,
and a failed bar in words. TF-free, so the pipeline's configuration holds it without TFMA.

Each metric's bar comes from exactly one place, the first that sets it: the command line
(`BlessingThresholds`), the spec's `evaluation:` section (`EvaluationSpec`), or else the
trivial model of the task, measured on the same test split: the candidate must remove
`min_error_reduction` (5%) of the error of always predicting the majority class (accuracy),
of chance (AUC 0.5), or of always predicting the mean (RMSE). Independently of those, a
candidate must be no worse than the live model. `components.evaluation` turns the bars into
TFMA thresholds; `components.trivial_model` is the TFMA metric that measures the trivial
model.
"""

from __future__ import annotations

import dataclasses

from components.dataset import EvaluationSpec, Task

__all__ = ["Bar", "BlessingThresholds", "EvaluationSpec", "describe_failure", "resolve_bars"]

# Metric names as TFMA records them (`components.evaluation.task_metrics` computes them).
AUC = "auc"
BINARY_ACCURACY = "binary_accuracy"
MULTICLASS_ACCURACY = "sparse_categorical_accuracy"
RMSE = "root_mean_squared_error"
# `components.trivial_model`'s: the share of the trivial model's error the candidate removes
# (thresholded), and the trivial model's own accuracy or RMSE (reported).
ERROR_REDUCTION = "error_reduction_vs_trivial_model"
TRIVIAL_ACCURACY = "trivial_model_accuracy"
TRIVIAL_RMSE = "trivial_model_rmse"
CHANCE_AUC = 0.5

# Spec field -> the command-line option that overrides it.
OPTIONS = {"min_auc": "--min-auc", "min_accuracy": "--min-accuracy", "max_rmse": "max_rmse"}


@dataclasses.dataclass(frozen=True)
class BlessingThresholds:
    """The blessing bars given for this run (on the command line); None: not given.

    Attributes:
      min_auc: Binary labels: the AUC the candidate must reach on the test
        split. None: the spec's `evaluation.min_auc`, else beat chance.
        Defaults to None.
      min_accuracy: Binary and multiclass labels: the accuracy it must reach.
        None: the spec's `evaluation.min_accuracy`, else beat the majority
        class. Defaults to None.
      min_auc_gain: Its AUC minus the live (latest blessed) model's AUC must be
        at least this; 0 means "no worse than the live model". Ignored on the
        first run, when there is no live model. Defaults to 0.0.
      max_rmse: Regression labels: the root mean squared error it must not
        exceed, in the label's units. None: the spec's `evaluation.max_rmse`,
        else beat predicting the mean. Defaults to None.

    Every label kind must also be no worse than the live model on its main
    metric (AUC, accuracy, RMSE).
    """

    min_auc: float | None = None
    min_accuracy: float | None = None
    min_auc_gain: float = 0.0
    max_rmse: float | None = None


@dataclasses.dataclass(frozen=True)
class Bar:
    """The bar one metric must clear to bless a candidate.

    Attributes:
      metric: The metric's name as TFMA records it, e.g. "auc".
      value: The bar; None when it is relative to the trivial model (measured
        on the test split by `components.trivial_model`).
      source: Where the bar came from, e.g. "spec: evaluation.min_auc".
      higher_is_better: True for AUC and accuracy, False for RMSE.
    """

    metric: str
    value: float | None
    source: str
    higher_is_better: bool = True


def resolve_bars(
    thresholds: BlessingThresholds, evaluation: EvaluationSpec, task: Task
) -> tuple[Bar, ...]:
    """The bar of each thresholded metric of `task`, each from the first place that sets it.

    Args:
      thresholds: The bars given on the command line (None: not given).
      evaluation: The spec's `evaluation:` section.
      task: What the label is.

    Returns:
      Binary: AUC and accuracy bars; multiclass: accuracy; regression: RMSE.
    """
    margin = evaluation.min_error_reduction

    def bar(metric: str, field: str, trivial: Bar) -> Bar:
        given, declared = getattr(thresholds, field), getattr(evaluation, field)
        if given is not None:
            return Bar(metric, given, f"command line: {OPTIONS[field]}", trivial.higher_is_better)
        if declared is not None:
            return Bar(metric, declared, f"spec: evaluation.{field}", trivial.higher_is_better)
        return trivial

    share = f"{margin:.0%} of its error"
    accuracy = Bar(BINARY_ACCURACY, None, f"trivial model: the majority class, less {share}")
    if task is Task.BINARY:
        chance = Bar(
            AUC,
            CHANCE_AUC + margin * (1 - CHANCE_AUC),
            f"trivial model: chance auc {CHANCE_AUC}, less {share}",
        )
        return (bar(AUC, "min_auc", chance), bar(BINARY_ACCURACY, "min_accuracy", accuracy))
    if task is Task.MULTICLASS:
        accuracy = dataclasses.replace(accuracy, metric=MULTICLASS_ACCURACY)
        return (bar(MULTICLASS_ACCURACY, "min_accuracy", accuracy),)
    mean = Bar(RMSE, None, f"trivial model: predicting the mean, less {share}", False)
    return (bar(RMSE, "max_rmse", mean),)


def _show(metric: str, value: float) -> str:
    return f"{value:.4g}" if metric == RMSE else f"{value:.3f}"


def describe_failure(
    metric: str,
    is_diff: bool,
    value: float,
    metrics: dict[str, float],
    bars: tuple[Bar, ...],
    thresholds: BlessingThresholds,
    evaluation: EvaluationSpec,
) -> str:
    """One failed blessing threshold in words: the metric, its value, the bar and its source.

    Args:
      metric: The failed metric's name, as TFMA records it.
      is_diff: The failure is the change against the live model.
      value: The failed value (for a change, the candidate's minus the live model's).
      metrics: The candidate's overall metrics (name -> value).
      bars: `resolve_bars` of the run.
      thresholds: The run's command-line bars (for the required AUC gain).
      evaluation: The spec's `evaluation:` section (for the trivial model's margin).

    Returns:
      e.g. "auc 0.836 < 0.900 (spec: evaluation.min_auc)".
    """
    if metric == ERROR_REDUCTION:
        bar = next(b for b in bars if b.value is None)
        keep = 1 - evaluation.min_error_reduction
        if bar.metric == RMSE:
            trivial = metrics[TRIVIAL_RMSE]
            return (
                f"{RMSE} {_show(RMSE, (1 - value) * trivial)} > {_show(RMSE, keep * trivial)} "
                f"({bar.source}: its {RMSE} {_show(RMSE, trivial)} on the test split)"
            )
        trivial = metrics[TRIVIAL_ACCURACY]
        return (
            f"{bar.metric} {1 - (1 - value) * (1 - trivial):.3f} < {1 - keep * (1 - trivial):.3f} "
            f"({bar.source}: its accuracy {trivial:.3f} on the test split)"
        )
    if is_diff:
        candidate = metrics.get(metric)
        gain = thresholds.min_auc_gain if metric == AUC else 0.0
        if candidate is None:
            return f"{metric} changes by {value:+.4g} against the live model's; the bar: {gain:+g}"
        live = candidate - value
        sign = ">" if metric == RMSE else "<"
        needed = live + gain if metric != RMSE else live
        source = f"live model: its {metric}" + (f" + --min-auc-gain {gain:g}" if gain else "")
        return f"{metric} {_show(metric, candidate)} {sign} {_show(metric, needed)} ({source})"
    bar = next((b for b in bars if b.metric == metric and b.value is not None), None)
    if bar is None:
        return f"{metric} {_show(metric, value)}: below its bar"
    sign = "<" if bar.higher_is_better else ">"
    return f"{metric} {_show(metric, value)} {sign} {_show(metric, bar.value)} ({bar.source})"
