"""The trivial model of a task as a TFMA metric: the share of its error a candidate removes.

The trivial model predicts without looking at the features: the majority class
of the evaluated split (classification) or its mean (regression). Measured on
the very split the candidate is evaluated on, it is the best constant
predictor there, so the bar it sets is at least as hard to clear as one from
the training split's majority class or mean (an RMSE of the training mean is
the test split's spread plus the squared shift of its mean).

`ErrorReductionVsTrivialModel` records, in one pass over the examples:
  error_reduction_vs_trivial_model  1 - candidate error / trivial error, with
      error = 1 - accuracy (classification) or RMSE (regression); 1 is a
      perfect candidate, 0 no better than the trivial model;
  trivial_model_accuracy / trivial_model_rmse  the trivial model's own
      accuracy (the majority-class rate) or RMSE (the split's standard deviation).
When the trivial model makes no error (one class, or a constant label, in the
split), a candidate cannot beat it: the reduction is 0 for a perfect
candidate and -1 otherwise.

A classifier's prediction is its class of highest probability (binary: the
probability above 0.5), as Keras's accuracy metrics count it.
"""

from __future__ import annotations

import math
from typing import Any

import apache_beam as beam
import numpy as np
from tensorflow_model_analysis.metrics import metric_types, metric_util

from components.blessing import ERROR_REDUCTION, TRIVIAL_ACCURACY, TRIVIAL_RMSE

CLASSIFICATION_TASKS = ("binary", "multiclass")


class ErrorReductionVsTrivialModel(metric_types.Metric):
    """The share of the trivial model's error the candidate removes (see the module)."""

    def __init__(self, name: str = ERROR_REDUCTION, task: str = "binary"):
        """Args:
        name: The thresholded metric's name. Defaults to `ERROR_REDUCTION`.
        task: The label kind: binary, multiclass or regression. Defaults to binary.
        """
        super().__init__(
            metric_util.merge_per_key_computations(_computations), name=name, task=task
        )


def _computations(
    name: str = ERROR_REDUCTION,
    task: str = "binary",
    eval_config=None,
    model_name: str = "",
    output_name: str = "",
    example_weighted: bool = False,
) -> metric_types.MetricComputations:
    def key(metric: str) -> metric_types.MetricKey:
        return metric_types.MetricKey(
            name=metric,
            model_name=model_name,
            output_name=output_name,
            example_weighted=example_weighted,
        )

    trivial = TRIVIAL_ACCURACY if task in CLASSIFICATION_TASKS else TRIVIAL_RMSE
    keys = (key(name), key(trivial))
    return [
        metric_types.MetricComputation(
            keys=list(keys),
            preprocessors=None,
            combiner=_TrivialModelCombiner(keys, task, eval_config, example_weighted),
        )
    ]


class _Accumulator:
    """Weighted sums: classification by class counts, regression by label moments."""

    __slots__ = ("weight", "correct", "class_weights", "labels", "squared_labels", "squared_errors")

    def __init__(self):
        self.weight = 0.0
        self.correct = 0.0
        self.class_weights: dict[int, float] = {}
        self.labels = 0.0
        self.squared_labels = 0.0
        self.squared_errors = 0.0


class _TrivialModelCombiner(beam.CombineFn):
    def __init__(self, keys, task: str, eval_config, example_weighted: bool):
        self._keys = keys
        self._task = task
        self._eval_config = eval_config
        self._example_weighted = example_weighted

    def create_accumulator(self) -> _Accumulator:
        return _Accumulator()

    def add_input(
        self, accumulator: _Accumulator, element: metric_types.StandardMetricInputs
    ) -> _Accumulator:
        for label, prediction, weight in metric_util.to_label_prediction_example_weight(
            element,
            eval_config=self._eval_config,
            model_name=self._keys[0].model_name,
            output_name=self._keys[0].output_name,
            example_weighted=self._example_weighted,
            flatten=False,
        ):
            label, prediction = np.ravel(label), np.ravel(prediction)
            weight = float(np.ravel(weight)[0])
            accumulator.weight += weight
            if self._task == "regression":
                y, error = float(label[0]), float(prediction[0]) - float(label[0])
                accumulator.labels += weight * y
                accumulator.squared_labels += weight * y * y
                accumulator.squared_errors += weight * error * error
                continue
            if self._task == "binary":
                actual, predicted = int(round(float(label[0]))), int(float(prediction[0]) > 0.5)
            else:
                actual = int(label[0]) if label.size == 1 else int(np.argmax(label))
                predicted = int(np.argmax(prediction))
            accumulator.class_weights[actual] = accumulator.class_weights.get(actual, 0.0) + weight
            accumulator.correct += weight * (actual == predicted)
        return accumulator

    def merge_accumulators(self, accumulators) -> _Accumulator:
        accumulators = iter(accumulators)
        merged = next(accumulators)
        for other in accumulators:
            merged.weight += other.weight
            merged.correct += other.correct
            for label, weight in other.class_weights.items():
                merged.class_weights[label] = merged.class_weights.get(label, 0.0) + weight
            merged.labels += other.labels
            merged.squared_labels += other.squared_labels
            merged.squared_errors += other.squared_errors
        return merged

    def extract_output(self, accumulator: _Accumulator) -> dict[Any, float]:
        reduction_key, trivial_key = self._keys
        total = accumulator.weight
        if total <= 0:
            return {reduction_key: float("nan"), trivial_key: float("nan")}
        if self._task == "regression":
            mean = accumulator.labels / total
            trivial = math.sqrt(max(accumulator.squared_labels / total - mean * mean, 0.0))
            error, trivial_error = math.sqrt(accumulator.squared_errors / total), trivial
        else:
            trivial = max(accumulator.class_weights.values()) / total
            error, trivial_error = 1 - accumulator.correct / total, 1 - trivial
        if trivial_error <= 0:
            reduction = 0.0 if error <= 0 else -1.0
        else:
            reduction = 1 - error / trivial_error
        return {reduction_key: reduction, trivial_key: trivial}
