"""Metrics of a model's predictions by task, computed exactly on whole arrays.

  binary:     accuracy (score > 0.5, Keras' rule) and exact AUC;
  multiclass: accuracy (argmax against the integer class id);
  regression: mean absolute error (mae) and root mean squared error (rmse).
A Trainer candidate is also scored by its log loss when it is a classifier
(`candidate_metrics`).

`TASK_METRICS` says, per task, how to compute them and which ones two models
(a TFLite copy and its Keras model, say) are compared by.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from components.dataset import Task

THRESHOLD = 0.5


def auc(labels: np.ndarray, scores: np.ndarray) -> float | None:
    """Exact ROC AUC by the rank-sum (Mann-Whitney) formula, tied scores counting half.

    AUC = (sum of the positives' ranks - P (P + 1) / 2) / (P N), ranks from 1,
    tied scores sharing their average rank. Keras' `AUC` metric approximates
    the same number over a fixed grid of thresholds.

    Args:
      labels: 0/1 labels.
      scores: Predicted scores, same length.

    Returns:
      The AUC, or None when the labels are all of one class (it is undefined).
    """
    labels = np.asarray(labels).ravel() > THRESHOLD
    scores = np.asarray(scores, dtype=np.float64).ravel()
    positives = int(labels.sum())
    negatives = labels.size - positives
    if positives == 0 or negatives == 0:
        return None
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = scores[order]
    ranks = np.empty(scores.size)
    # Each run of equal scores gets the mean of the ranks it spans.
    starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    ends = np.r_[starts[1:], scores.size]
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)
    rank_sum = ranks[labels].sum()
    return float((rank_sum - positives * (positives + 1) / 2.0) / (positives * negatives))


def accuracy(labels: np.ndarray, scores: np.ndarray) -> float:
    """Share of examples whose score is on the label's side of 0.5 (Keras' rule: score > 0.5)."""
    labels = np.asarray(labels).ravel() > THRESHOLD
    return float(np.mean((np.asarray(scores).ravel() > THRESHOLD) == labels))


def binary_metrics(labels: np.ndarray, scores: np.ndarray) -> dict[str, float | None]:
    """Accuracy at 0.5 and AUC of (N, 1) probabilities against 0/1 labels."""
    return {"accuracy": accuracy(labels, scores), "auc": auc(labels, scores)}


def multiclass_metrics(labels: np.ndarray, probabilities: np.ndarray) -> dict[str, float]:
    """Accuracy of (N, K) class probabilities: share whose argmax is the integer label.

    Ties go to the lowest class id, as in Keras' `SparseCategoricalAccuracy`.
    """
    predicted = np.argmax(np.asarray(probabilities), axis=-1)
    return {"accuracy": float(np.mean(predicted == np.asarray(labels).ravel()))}


def regression_metrics(labels: np.ndarray, predictions: np.ndarray) -> dict[str, float]:
    """Mean absolute error and root mean squared error of (N, 1) predictions."""
    errors = np.asarray(predictions, np.float64).ravel() - np.asarray(labels, np.float64).ravel()
    return {"mae": float(np.mean(np.abs(errors))), "rmse": float(np.sqrt(np.mean(errors**2)))}


@dataclasses.dataclass(frozen=True)
class TaskMetrics:
    """How a task's predictions are judged.

    Attributes:
      compute: (labels, predictions) -> {metric: value}.
      compared: The metrics each copy also reports as `<metric>_diff` (copy
        minus Keras); the first is the task's main one, which the Trainer logs.
    """

    compute: Callable[[np.ndarray, np.ndarray], dict[str, float | None]]
    compared: tuple[str, ...]


TASK_METRICS = {
    # No AUC difference: accuracy is what a user of the 0.5 threshold sees.
    Task.BINARY: TaskMetrics(binary_metrics, ("accuracy",)),
    Task.MULTICLASS: TaskMetrics(multiclass_metrics, ("accuracy",)),
    Task.REGRESSION: TaskMetrics(regression_metrics, ("rmse", "mae")),
}


# Probabilities are clipped to [EPSILON, 1 - EPSILON] in the log loss, so one confident
# mistake costs a finite -log(EPSILON) (about 16) rather than infinity.
EPSILON = 1e-7


def log_loss(task: Task, labels: np.ndarray, probabilities: np.ndarray) -> float:
    """Mean negative log-likelihood of the labels under predicted probabilities: a proper
    scoring rule, so it separates models whose accuracy (or AUC) is the same.

    Args:
      task: BINARY ((N, 1) probabilities of the positive class, 0/1 labels) or MULTICLASS
        ((N, K) class probabilities, integer class ids).
    """
    labels = np.asarray(labels).ravel()
    probabilities = np.clip(np.asarray(probabilities, np.float64), EPSILON, 1.0 - EPSILON)
    if task is Task.BINARY:
        p = probabilities.ravel()
        positive = labels > THRESHOLD
        return float(-np.mean(np.where(positive, np.log(p), np.log(1.0 - p))))
    picked = probabilities[np.arange(labels.size), labels.astype(np.int64)]
    return float(-np.mean(np.log(picked)))


def candidate_metrics(task: Task, labels: np.ndarray, predictions: np.ndarray) -> dict:
    """What a Trainer candidate is scored by: the task's metrics, and for a classifier its
    log loss (the tie-break of `families.selection.choose`)."""
    metrics = TASK_METRICS[task].compute(labels, predictions)
    if task is not Task.REGRESSION:
        metrics["log_loss"] = log_loss(task, labels, predictions)
    return metrics


def main_metric(task: Task | str) -> str:
    """The metric that sums up a copy for `task`: accuracy, or rmse for regression.

    Raises:
      ValueError: unknown `task`.
    """
    return TASK_METRICS[as_task(task)].compared[0]


def as_task(task: Task | str) -> Task:
    """`task` (a `Task` or its value) as a `Task`.

    Raises:
      ValueError: unknown `task`; the message lists the tasks.
    """
    try:
        return Task(task)
    except ValueError:
        raise ValueError(
            f"Unknown task {task!r}; choose one of {[t.value for t in Task]} "
            "(the model head's `Head.task`)."
        ) from None
