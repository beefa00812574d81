"""What every model family shares: what it is given, what it returns, what it supports.

A model family is one way of turning Transform's output into a trained Keras model
that honours the serving contract (`components.trainer.export`): called on
`model.as_model_inputs(transformed features)`, the model returns the head's
prediction (`heads.Head.prediction_key`): P(positive) as (batch, 1) for a binary
label, (batch, classes) probabilities, or (batch, 1) in the label's units for
regression. The export wraps any such model with the Transform graph, so every
family serves raw `tf.Example`s the same way.

The table of families and the options each honours is `families/__init__.py`.
"""

from __future__ import annotations

import abc
import dataclasses
from typing import Any

import tensorflow as tf
import tensorflow_transform as tft
import tf_keras as keras

from components.dataset import DatasetSpec, TransformedFeature
from components.trainer.heads import Head
from components.trainer.hparams import HParams


@dataclasses.dataclass(frozen=True)
class TrainingContext:
    """Everything a family trains from; built once by `run.run_fn`.

    Attributes:
      spec: The data set spec.
      head: Output, loss and metrics by what the label is.
      hparams: Resolved hyperparameters (`HParams.resolve()`).
      features: The transformed features the model reads.
      cardinalities: Ids of each categorical feature, by transformed name.
      train_ds: Shuffled (features, label) training batches of Transform's output,
        features already shaped by `model.as_model_inputs`.
      eval_ds: The eval split's batches, in file order. Used for early stopping and
        to choose between candidates; the test split is never here.
      strategy: The distribution strategy to build and train under.
      run_dir: The Trainer's model-run folder (logs, plots, per-candidate files).
      tf_transform_output: The Transform graph the features came from.
      base_model: The live model's SavedModel to warm-start from, or None.
    """

    spec: DatasetSpec
    head: Head
    hparams: HParams
    features: tuple[TransformedFeature, ...]
    cardinalities: dict[str, int]
    train_ds: tf.data.Dataset
    eval_ds: tf.data.Dataset
    strategy: tf.distribute.Strategy
    run_dir: str
    tf_transform_output: tft.TFTransformOutput
    base_model: str | None = None


@dataclasses.dataclass
class Trained:
    """A family's trained model and what its training recorded.

    Attributes:
      model: Keras model over `as_model_inputs(transformed)` returning the head's
        prediction (the serving contract above).
      record: JSON-ready training record (epochs, history, best epoch, warm start…),
        written to the Trainer's history file under the family's name.
      network: The trained network the DNN-only export options (folding, MC dropout,
        TFLite) work on; None for families that have none.
      eval_model: The model the eval split scores when `model` was refitted on rows
        that include the eval split's (its scores there would flatter it); None when
        `model` never saw them.
    """

    model: keras.Model
    record: dict[str, Any]
    network: keras.Model | None = None
    eval_model: keras.Model | None = None

    @property
    def scored_model(self) -> keras.Model:
        """The model whose eval-split scores stand for this one in the choice."""
        return self.model if self.eval_model is None else self.eval_model


class ModelFamily(abc.ABC):
    """One way of building and training a model; its row in `FAMILIES` says what it honours."""

    @abc.abstractmethod
    def train(self, context: TrainingContext) -> Trained:
        """Builds and trains a model on `context.train_ds`; returns it with its record.

        `context.hparams` asks only for options the family's row supports (the config
        builder and `families.plan` refused the others before training started).
        """
