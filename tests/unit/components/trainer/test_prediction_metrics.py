"""Metrics of predictions by task, against values worked out by hand."""

import numpy as np
import pytest

from components.dataset import Task
from components.trainer import prediction_metrics


@pytest.mark.parametrize(
    "labels, scores, expected",
    [
        # 3 of the 4 (positive, negative) pairs are ordered right.
        ([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], 0.75),
        # A tie counts half: pairs (0.5 vs 0.2) right, (0.5 vs 0.5) half -> 1.5 / 2.
        ([1, 0, 0], [0.5, 0.5, 0.2], 0.75),
        ([0, 1], [0.9, 0.1], 0.0),
    ],
    ids=["one-misordered-pair", "tie-counts-half", "all-wrong"],
)
def test_auc_by_hand(labels, scores, expected):
    assert prediction_metrics.auc(np.array(labels), np.array(scores)) == pytest.approx(expected)


def test_auc_of_one_class_is_undefined():
    assert prediction_metrics.auc(np.ones(3), np.array([0.2, 0.5, 0.9])) is None


def test_accuracy_uses_keras_strict_threshold():
    # 0.5 itself is a negative prediction, as in keras.metrics.BinaryAccuracy.
    assert prediction_metrics.accuracy(
        np.array([0, 1, 1]), np.array([0.5, 0.51, 0.5])
    ) == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    "labels, probabilities, expected",
    [
        # argmax: 0, 2, 0, 1 against 0, 2, 1, 2: the first two are right.
        (
            [0, 2, 1, 2],
            [[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.5, 0.4, 0.1], [0.3, 0.4, 0.3]],
            0.5,
        ),
        # Float (N, 1) labels, as the Trainer's batches hold them; a tie goes to class 0.
        ([[0.0], [1.0], [1.0]], [[0.5, 0.5, 0.0], [0.2, 0.8, 0.0], [0.1, 0.7, 0.2]], 1.0),
        ([1, 1], [[0.9, 0.1], [0.6, 0.4]], 0.0),
    ],
    ids=["half-right", "column-labels-and-tie", "all-wrong"],
)
def test_multiclass_accuracy_by_hand(labels, probabilities, expected):
    assert prediction_metrics.multiclass_metrics(np.array(labels), np.array(probabilities)) == {
        "accuracy": pytest.approx(expected)
    }


def test_regression_metrics_by_hand():
    # Errors 0, 0, -3, +4: MAE (3 + 4) / 4 = 1.75; RMSE sqrt((9 + 16) / 4) = 2.5.
    labels = np.array([1.0, 2.0, 3.0, 4.0])
    predictions = np.array([[1.0], [2.0], [0.0], [8.0]])
    assert prediction_metrics.regression_metrics(labels, predictions) == {
        "mae": pytest.approx(1.75),
        "rmse": pytest.approx(2.5),
    }


@pytest.mark.parametrize(
    "task, expected",
    [(Task.BINARY, "accuracy"), (Task.MULTICLASS, "accuracy"), ("regression", "rmse")],
    ids=["binary", "multiclass", "regression-by-value"],
)
def test_main_metric(task, expected):
    assert prediction_metrics.main_metric(task) == expected


def test_unknown_task_lists_the_tasks():
    with pytest.raises(ValueError, match=r"Unknown task 'ordinal'.*'multiclass'"):
        prediction_metrics.main_metric("ordinal")


def test_log_loss_by_hand():
    # Binary: -(ln 0.8 + ln 0.9 + ln 0.4) / 3 for P(1) = 0.2, 0.9, 0.6 and labels 0, 1, 0;
    # a certain mistake is clipped to -ln(1e-7).
    binary = prediction_metrics.log_loss(
        Task.BINARY, np.array([0, 1, 0]), np.array([[0.2], [0.9], [0.6]])
    )
    assert binary == pytest.approx(-(np.log(0.8) + np.log(0.9) + np.log(0.4)) / 3)
    certain = prediction_metrics.log_loss(Task.BINARY, np.array([1]), np.array([[0.0]]))
    assert certain == pytest.approx(-np.log(1e-7))
    # Multiclass: the probability of each row's class, [0.7, 0.6, 0.4].
    probabilities = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.5, 0.4, 0.1]])
    multiclass = prediction_metrics.log_loss(Task.MULTICLASS, np.array([0, 2, 1]), probabilities)
    assert multiclass == pytest.approx(-(np.log(0.7) + np.log(0.6) + np.log(0.4)) / 3)
    # A candidate's metrics: the task's, and the log loss for a classifier only.
    assert set(
        prediction_metrics.candidate_metrics(Task.MULTICLASS, np.array([0, 2, 1]), probabilities)
    ) == {"accuracy", "log_loss"}
    assert set(
        prediction_metrics.candidate_metrics(Task.REGRESSION, np.array([1.0]), np.array([[2.0]]))
    ) == {"mae", "rmse"}
