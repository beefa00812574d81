"""Candidates on the eval split: the average of several models, their scores, the choice.

The choice reads the eval split only. The test split belongs to the Evaluator, which
judges the chosen model once; choosing on it would make that judgement optimistic.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf
import tf_keras as keras

from components.trainer.families.base import Trained
from components.trainer.heads import Head
from components.trainer.prediction_metrics import candidate_metrics

# Between candidates equal on the head's quality metric (accuracy ties are common on a small
# eval split), the lower eval log loss wins: how much probability each put on the truth.
TIE_BREAK = "log_loss"


@dataclasses.dataclass
class Candidate:
    """A model that may be served, with its eval-split scores.

    Attributes:
      name: A family's name, or "ensemble".
      model: Keras model over `as_model_inputs(transformed)` (the serving contract): what
        is served if it is chosen.
      eval_metrics: The head's metrics on the eval split, computed exactly, of the model
        trained without the eval rows (`Trained.scored_model`: `model` itself, unless it
        was refitted on train + eval).
      seconds: Wall seconds its training took (for an ensemble, its members').
    """

    name: str
    model: keras.Model
    eval_metrics: dict[str, float | None]
    seconds: float


def predictions(model: keras.Model, dataset: tf.data.Dataset) -> tuple[np.ndarray, np.ndarray]:
    """(labels, predictions) of `model` over every (features, label) batch of `dataset`."""
    labels, predicted = [], []
    for features, label in dataset:
        labels.append(np.asarray(label))
        predicted.append(np.asarray(model(features, training=False), dtype=np.float64))
    if not labels:
        raise ValueError(
            "Trainer: the eval split holds no example, so no candidate can be scored. Check "
            "that the input has rows and that the spec's `split` leaves some to eval."
        )
    return np.concatenate(labels), np.concatenate(predicted)


def score(model: keras.Model, dataset: tf.data.Dataset, head: Head) -> dict[str, float | None]:
    """The head's metrics of `model` on `dataset` (accuracy/AUC, accuracy, or RMSE/MAE), and
    a classifier's log loss."""
    labels, predicted = predictions(model, dataset)
    return candidate_metrics(head.task, labels, predicted)


def average(models: dict[str, keras.Model], element_spec: dict, head: Head) -> keras.Model:
    """One model whose prediction is the mean of `models`' predictions.

    Probabilities are averaged as probabilities (a mean of two probability vectors is
    one); regression predictions in the label's units. The members are tracked as
    sub-models, so the averaged model saves as one SavedModel.

    Args:
      models: The members by name; each takes the feature dict of `element_spec`.
      element_spec: The features' `tf.TensorSpec`s by name (a dataset's
        `element_spec[0]`), for the averaged model's inputs.
      head: Names the averaged output.
    """
    inputs = {
        name: keras.Input(shape=spec.shape[1:], dtype=spec.dtype, name=name)
        for name, spec in element_spec.items()
    }
    outputs = [
        keras.layers.Activation("linear", dtype="float32", name=f"{name}_prediction")(
            member(inputs, training=False)
        )
        for name, member in models.items()
    ]
    mean = keras.layers.Average(dtype="float32", name=head.prediction_key)(outputs)
    return keras.Model(inputs, mean, name="ensemble")


def candidates(
    trained: dict[str, Trained],
    seconds: dict[str, float],
    eval_ds: tf.data.Dataset,
    head: Head,
    ensemble: str | None = None,
) -> list[Candidate]:
    """The trained families as candidates scored on `eval_ds`, and their average if asked.

    Each is scored by its `Trained.scored_model` (never a model fitted on the eval rows);
    the average is served as the mean of the served models and scored as the mean of the
    scored ones.

    Args:
      trained: Each family's trained model, by family name, in the plan's order.
      seconds: Wall seconds of each family's training, by name.
      eval_ds: The eval split's (features, label) batches.
      head: The head the metrics are the head's of.
      ensemble: The average's candidate name; None for no average.
    """
    result = [
        Candidate(name, t.model, score(t.scored_model, eval_ds, head), seconds[name])
        for name, t in trained.items()
    ]
    if ensemble is None:
        return result
    element_spec = eval_ds.element_spec[0]
    served = average({name: t.model for name, t in trained.items()}, element_spec, head)
    scored = served
    if any(t.eval_model is not None for t in trained.values()):
        members = {name: t.scored_model for name, t in trained.items()}
        scored = average(members, element_spec, head)
    result.append(Candidate(ensemble, served, score(scored, eval_ds, head), sum(seconds.values())))
    return result


def choose(candidates: list[Candidate], head: Head) -> tuple[Candidate, str]:
    """The candidate with the best eval score by the head's quality metric, and why.

    A tie on that metric goes to the lower eval log loss (`TIE_BREAK`, scored for
    classifiers), then to the earlier candidate. A candidate whose metric is undefined
    (AUC of a one-class eval split) ranks last.
    """
    metric = head.quality_metric
    sign = 1.0 if head.higher_is_better else -1.0

    def primary(candidate: Candidate) -> float:
        value = candidate.eval_metrics.get(metric)
        return -np.inf if value is None else sign * value

    def key(candidate: Candidate) -> tuple[float, float]:
        loss = candidate.eval_metrics.get(TIE_BREAK)
        return primary(candidate), -np.inf if loss is None else -loss

    best = candidates[0]
    for candidate in candidates[1:]:
        if key(candidate) > key(best):
            best = candidate
    others = ", ".join(
        f"{c.name} {_fmt(c.eval_metrics.get(metric))}" for c in candidates if c is not best
    )
    direction = "highest" if head.higher_is_better else "lowest"
    reason = f"{best.name}: {direction} eval {metric} {_fmt(best.eval_metrics.get(metric))}" + (
        f" (against {others})" if others else ""
    )
    tied = [c.name for c in candidates if c is not best and primary(c) == primary(best)]
    if tied and best.eval_metrics.get(TIE_BREAK) is not None:
        reason += (
            f"; tied with {', '.join(tied)}, it has the lowest eval log loss "
            f"{_fmt(best.eval_metrics[TIE_BREAK])}"
        )
    return best, reason


def refit_note(chosen: Candidate, trained: dict[str, Trained]) -> str:
    """What the reason for choosing `chosen` should add when the served model holds a family
    refitted on train + eval after its eval scores were taken ("" when none was)."""
    members = [chosen.name] if chosen.name in trained else list(trained)
    refitted = [name for name in members if trained[name].eval_model is not None]
    if not refitted:
        return ""
    return (
        f"; served with {', '.join(refitted)} refitted on train + eval, "
        "scored on eval before the refit"
    )


def _fmt(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.4f}"
