"""The model's head: its output layer, loss and metrics, chosen by what the label is.

binary      one sigmoid unit, P(positive); binary cross-entropy; accuracy, AUC.
multiclass  one softmax unit per class; sparse categorical cross-entropy; accuracy.
regression  one linear unit rescaled to the label's mean and spread (measured on
            training batches, so the network learns a standardized target while
            the served model predicts in the label's own units); mean squared
            error; RMSE, MAE.

The head also names the prediction in the served model's output and the metric
that says how good a model is (for the Tuner's objective and the logs).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf
import tf_keras as keras

from components.dataset import DatasetSpec, Task

# The layers that make the prediction from the last hidden layer's output,
# over all heads: warm start never reuses them (the task may have changed).
OUTPUT_LAYERS = ("probability", "probabilities", "standardized_prediction")


@dataclasses.dataclass(frozen=True)
class Head:
    """What the network outputs and is trained and judged by.

    Attributes:
      task: binary, multiclass or regression.
      num_classes: Classes of a multiclass label. Defaults to 2.
    """

    task: Task = Task.BINARY
    num_classes: int = 2

    def __post_init__(self):
        if self.task is Task.MULTICLASS and self.num_classes < 2:
            raise ValueError(f"A multiclass head needs 2 or more classes, got {self.num_classes}.")

    @classmethod
    def for_spec(cls, spec: DatasetSpec) -> Head:
        """The head for the data set's label."""
        return cls(spec.task, max(spec.num_classes, 2))

    @property
    def units(self) -> int:
        return self.num_classes if self.task is Task.MULTICLASS else 1

    @property
    def activation(self) -> str:
        return {Task.BINARY: "sigmoid", Task.MULTICLASS: "softmax"}.get(self.task, "linear")

    @property
    def prediction_key(self) -> str:
        """The name of the prediction: the output layer and the served output."""
        return {Task.BINARY: "probability", Task.MULTICLASS: "probabilities"}.get(
            self.task, "prediction"
        )

    @property
    def quality_metric(self) -> str:
        """The training metric that says how good a model is: AUC, accuracy or RMSE."""
        return {Task.BINARY: "auc", Task.MULTICLASS: "accuracy"}.get(self.task, "rmse")

    @property
    def higher_is_better(self) -> bool:
        return self.task is not Task.REGRESSION

    def loss(self, reduction: str = keras.losses.Reduction.AUTO) -> keras.losses.Loss:
        """A fresh loss; the custom loop asks for `Reduction.NONE` (it averages per replica)."""
        if self.task is Task.BINARY:
            return keras.losses.BinaryCrossentropy(reduction=reduction)
        if self.task is Task.MULTICLASS:
            return keras.losses.SparseCategoricalCrossentropy(reduction=reduction)
        return keras.losses.MeanSquaredError(reduction=reduction)

    def metrics(self) -> list[keras.metrics.Metric]:
        """Fresh training metrics, named as the history reports them (`val_<name>`)."""
        if self.task is Task.BINARY:
            return [keras.metrics.BinaryAccuracy(name="accuracy"), keras.metrics.AUC(name="auc")]
        if self.task is Task.MULTICLASS:
            return [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
        return [
            keras.metrics.RootMeanSquaredError(name="rmse"),
            keras.metrics.MeanAbsoluteError(name="mae"),
        ]

    def output(self, x: tf.Tensor) -> tf.Tensor:
        """The output layer(s) on top of the last hidden layer's output `x`."""
        # float32 even under mixed precision: a float16 sigmoid or softmax
        # saturates and its loss overflows.
        if self.task is not Task.REGRESSION:
            return keras.layers.Dense(
                self.units, activation=self.activation, dtype="float32", name=self.prediction_key
            )(x)
        standardized = keras.layers.Dense(1, dtype="float32", name="standardized_prediction")(x)
        # Set from the training labels by `adapt_target_scale`.
        return keras.layers.Rescaling(1.0, 0.0, dtype="float32", name=self.prediction_key)(
            standardized
        )


def adapt_prior_bias(model: keras.Model, dataset: tf.data.Dataset, batches: int) -> None:
    """Starts a classification head's output bias at the training labels' base rates.

    With zero weights into the output, the model then predicts each class's
    frequency (a binary head's bias is the log odds, log(positives /
    negatives); a multiclass head's, the log of each class's count, centred),
    instead of spending its first steps learning them while the hidden layers
    receive gradients about the class balance rather than the features. A
    class absent from the batches counts once. Does nothing for a regression
    head (its output scale and offset are `adapt_target_scale`'s).

    Args:
      model: A model from `components.trainer.model.build_model`.
      dataset: (features, label) training batches.
      batches: How many batches to count the labels over.
    """
    layers = {layer.name: layer for layer in model.layers}
    binary, multiclass = Head(Task.BINARY), Head(Task.MULTICLASS)
    output = layers.get(binary.prediction_key) or layers.get(multiclass.prediction_key)
    if output is None:
        return
    labels = training_labels(dataset, batches)
    task = Task.BINARY if output.name == binary.prediction_key else Task.MULTICLASS
    bias = prior_bias(labels, task, output.units)
    output.bias.assign(bias.astype(np.float32))


def adapt_target_scale(model: keras.Model, dataset: tf.data.Dataset, batches: int) -> None:
    """Sets a regression head's output scale to the label's mean and standard deviation.

    Does nothing for a model without a regression head.

    Args:
      model: A model from `components.trainer.model.build_model`.
      dataset: (features, label) training batches.
      batches: How many batches to measure the label over.
    """
    head = next(
        (layer for layer in model.layers if isinstance(layer, keras.layers.Rescaling)), None
    )
    if head is None or head.name != Head(Task.REGRESSION).prediction_key:
        return
    labels = training_labels(dataset, batches)
    std = float(np.std(labels))
    head.scale = std if std > 0 else 1.0
    head.offset = float(np.mean(labels))


BINARY_HEAD = Head()  # the default where a head is optional


def prior_bias(labels: np.ndarray, task: Task, units: int) -> np.ndarray:
    """The output bias at which a classifier with zero weights predicts the base rates.

    Binary: the log odds, log(positives / negatives). Multiclass: the log of each
    class's count, centred. A class absent from `labels` counts once.

    Args:
      labels: Training labels (0/1, or class ids).
      task: binary or multiclass.
      units: Output units (1, or the classes).
    """
    if task is Task.BINARY:
        positives = int(np.sum(labels > 0.5))
        return np.log([max(positives, 1) / max(labels.size - positives, 1)])
    counts = np.bincount(labels.astype(np.int64), minlength=units)[:units]
    log_counts = np.log(np.maximum(counts, 1))
    return log_counts - log_counts.mean()


def training_labels(dataset: tf.data.Dataset, batches: int) -> np.ndarray:
    """The labels of the first `batches` (features, label) batches, flattened.

    Raises:
      ValueError: the dataset holds no example.
    """
    labels = [y.numpy().ravel() for _, y in dataset.take(batches)]
    if not labels:
        raise ValueError(
            "Trainer: the training split holds no example, so the model cannot be fitted to "
            "its labels. Check that the input data has rows and that the spec's `split` "
            "leaves some to train."
        )
    return np.concatenate(labels)
