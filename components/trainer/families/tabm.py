"""The tabm family: k members sharing one MLP's weights, served as their mean prediction.

The TabM idea (Gorishniy et al. 2024): a BatchEnsemble MLP (`batch_ensemble`) whose k
members differ only by per-member scaling vectors r and s and biases in every hidden
layer, and an output layer of their own. The variant is TabM's full one, not TabM-mini
(adapters in the first layer only): the adapters in every layer cost k * (d + units)
weights per layer, nothing next to the shared kernels, and the arithmetic is the same.
Each member is trained on its own loss (the loss is their mean), so the members make
different errors; the served model averages their predictions (probabilities as
probabilities) in the same Keras model, so one SavedModel serves the ensemble.

The features are read as every family reads them (`model.feature_inputs`: embeddings,
one-hot, periodic embeddings of numeric features), concatenated, and read by all members.

The training recipe for tabular data (Holzmueller et al. 2024, RealMLP; TabM's own):
AdamW with weight decay (none on biases and the multiplicative adapters, which would
be pulled to 0 rather than to their neutral 1), label smoothing of the classification
loss, a flat-then-cosine learning rate (`schedules.FlatCosine`), and the best epoch on
the eval split, judged by the served prediction's loss on the true labels, restored at
the end. Hyperparameters are `HParams.tabm_*` (and the shared `periodic_*`, `seed`,
`prior_output_bias`, `early_stopping_patience`).

Warm start copies the base model's layers when it is a tabm with the same shapes;
otherwise the family trains from scratch and its record says why.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import tensorflow as tf
import tf_keras as keras

from components import serving_ops
from components.dataset import Task, TransformedFeature
from components.trainer import callbacks as training_callbacks
from components.trainer import heads, model, prepare, schedules, warm_start
from components.trainer.batch_ensemble import EnsembleDense, MemberHeads
from components.trainer.families.base import ModelFamily, Trained, TrainingContext
from components.trainer.heads import Head
from components.trainer.hparams import HParams

logger = logging.getLogger(__name__)

FIRST_BLOCK = "tabm_block_0"
MEMBER_HEADS = "tabm_heads"
MEMBER_SCALE = "tabm_member_scale"
# Early stopping watches the served (mean) prediction's loss on the eval split.
SERVED_LOSS = "served_loss"
MONITOR = f"val_{SERVED_LOSS}"
# Variables AdamW does not decay: biases and the per-member adapters r and s.
NO_DECAY = r"/(bias|r|s):"


def build_tabm(
    features: tuple[TransformedFeature, ...],
    cardinalities: dict[str, int],
    hparams: HParams,
    head: Head,
) -> tuple[keras.Model, keras.Model]:
    """The tabm network, as (served model, members model); both share every layer.

    The served model returns the head's prediction (the serving contract); the
    members model returns each member's, (batch, members, units), for training.

    Args:
      features: The transformed features, from the data set spec.
      cardinalities: Number of ids of every categorical feature, by transformed name.
      hparams: Resolved hyperparameters (`tabm_*`, `periodic_*`, `seed`).
      head: Output units, activation and the prediction's name.
    """
    inputs, parts = model.feature_inputs(features, cardinalities, hparams)
    x = keras.layers.Concatenate(name="features")(parts)
    for i, units in enumerate(hparams.tabm_hidden_units):
        x = EnsembleDense(
            units,
            hparams.tabm_members,
            random_input_signs=i == 0,
            seed=hparams.seed + 10 * i,
            name=f"tabm_block_{i}",
        )(x)
        x = keras.layers.ReLU(name=f"tabm_block_{i}_relu")(x)
        if hparams.tabm_dropout:
            x = keras.layers.Dropout(
                hparams.tabm_dropout, seed=hparams.seed + 10 * i + 5, name=f"tabm_block_{i}_dropout"
            )(x)
    # float32 even under mixed precision: a float16 sigmoid or softmax saturates.
    members = MemberHeads(
        head.units, head.activation, seed=hparams.seed + 1000, dtype="float32", name=MEMBER_HEADS
    )(x)
    if head.task is Task.REGRESSION:
        # Members learn a standardized target; set from the training labels.
        members = keras.layers.Rescaling(1.0, 0.0, dtype="float32", name=MEMBER_SCALE)(members)
    served = keras.layers.GlobalAveragePooling1D(dtype="float32", name=head.prediction_key)(members)
    return (
        keras.Model(inputs, served, name="deepline_tabm"),
        keras.Model(inputs, members, name="deepline_tabm_members"),
    )


def member_loss(
    labels: tf.Tensor,
    predictions: tf.Tensor,
    task: Task,
    label_smoothing: float = 0.0,
    target_scale: float = 1.0,
) -> tf.Tensor:
    """The mean over members of each member's mean loss on the batch.

    Binary: cross-entropy against labels smoothed to y (1 - e) + e / 2; multiclass:
    against one-hot labels smoothed to y (1 - e) + e / classes; regression: squared
    error in units of `target_scale` (the label's spread, so the loss is that of a
    standardized target).

    Args:
      labels: (batch,) or (batch, 1) labels: 0/1, class ids, or values.
      predictions: (batch, members, units) member predictions: probabilities, or
        values in the label's units.
      task: What the label is.
      label_smoothing: e, in [0, 1); classification only.
      target_scale: Regression only. Defaults to 1.
    """
    units = predictions.shape[-1]
    members = tf.shape(predictions)[1]
    flat = tf.reshape(predictions, [-1, units])
    # Row (example, member) of `flat` goes with the example's label.
    repeated = tf.repeat(tf.reshape(labels, [-1, 1]), members, axis=0)
    if task is Task.BINARY:
        loss = keras.losses.BinaryCrossentropy(label_smoothing=label_smoothing)
        return loss(tf.cast(repeated, flat.dtype), flat)
    if task is Task.MULTICLASS:
        loss = keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing)
        return loss(tf.one_hot(tf.cast(repeated[:, 0], tf.int32), units, dtype=flat.dtype), flat)
    return tf.reduce_mean(tf.square((flat - tf.cast(repeated, flat.dtype)) / target_scale))


def _served_loss(task: Task) -> keras.metrics.Metric:
    """The served prediction's loss on the true labels, as a metric."""
    if task is Task.BINARY:
        return keras.metrics.BinaryCrossentropy(name=SERVED_LOSS)
    if task is Task.MULTICLASS:
        return keras.metrics.SparseCategoricalCrossentropy(name=SERVED_LOSS)
    return keras.metrics.MeanSquaredError(name=SERVED_LOSS)


class MemberTraining(keras.Model):
    """Trains a members model on `member_loss`; reports metrics of the members' mean.

    Never saved: after training, the served model (same layers) is what is exported.

    Args:
      members: The members model of `build_tabm`.
      head: The task, and the metrics to report.
      label_smoothing: Of the training loss.
      target_scale: The label's spread (regression).
    """

    def __init__(self, members: keras.Model, head: Head, label_smoothing: float, target_scale=1.0):
        super().__init__(name="tabm_training")
        self.members = members
        self.task = head.task
        self.label_smoothing = label_smoothing
        self.target_scale = target_scale
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.served_metrics = [_served_loss(head.task), *head.metrics()]

    def call(self, inputs, training=False):
        return self.members(inputs, training=training)

    @property
    def metrics(self):
        return [self.loss_tracker, *self.served_metrics]

    def _loss(self, labels, predictions):
        loss = member_loss(labels, predictions, self.task, self.label_smoothing, self.target_scale)
        if self.members.losses:
            loss += tf.add_n(self.members.losses)
        return loss

    def train_step(self, data):
        features, labels = data
        with tf.GradientTape() as tape:
            predictions = self.members(features, training=True)
            loss = self._loss(labels, predictions)
        self.optimizer.minimize(loss, self.members.trainable_variables, tape=tape)
        return self._record(loss, labels, predictions)

    def test_step(self, data):
        features, labels = data
        predictions = self.members(features, training=False)
        return self._record(self._loss(labels, predictions), labels, predictions)

    def _record(self, loss, labels, predictions):
        self.loss_tracker.update_state(loss)
        served = tf.reduce_mean(predictions, axis=1)
        for metric in self.served_metrics:
            metric.update_state(labels, served)
        return {metric.name: metric.result() for metric in self.metrics}


def _fit_output_to_labels(members: keras.Model, labels: np.ndarray, head: Head, prior: bool):
    """A regression head's scale from the labels (returned); a classifier's prior bias."""
    if head.task is Task.REGRESSION:
        std = float(np.std(labels))
        scale = members.get_layer(MEMBER_SCALE)
        scale.scale, scale.offset = (std if std > 0 else 1.0), float(np.mean(labels))
        return scale.scale
    if prior:
        output = members.get_layer(MEMBER_HEADS)
        bias = heads.prior_bias(labels, head.task, head.units).astype(np.float32)
        output.bias.assign(np.tile(bias, (output.bias.shape[0], 1)))
    return 1.0


def _warm_start(served: keras.Model, base_model: str) -> dict:
    """Copies a tabm base model's layers into `served`; says what was reused, or why not."""
    serving_ops.register()  # the base model may hold TF-DF trees
    base = keras.models.load_model(base_model, compile=False)
    record = {"base_model": base_model, "reused_layers": []}
    names = {layer.name for layer in base.layers}
    if FIRST_BLOCK not in names:
        record["why_not"] = (
            "the base model is not a tabm (it has no layer "
            f"{FIRST_BLOCK!r}), so tabm trained from scratch"
        )
        return record
    tabm_layers = [layer.name for layer in served.layers if layer.name.startswith("tabm_")]
    mismatched = [
        name
        for name in tabm_layers
        if name in names
        and [w.shape for w in served.get_layer(name).get_weights()]
        != [w.shape for w in base.get_layer(name).get_weights()]
    ]
    if mismatched or not set(tabm_layers) <= names:
        record["why_not"] = (
            "the base tabm's layers differ in shape or number (members, widths, features or "
            f"classes changed: {', '.join(mismatched) or 'layer count'}), so tabm trained "
            "from scratch"
        )
        return record
    record["reused_layers"] = warm_start.copy_matching_layers(served, base, base_model)
    return record


class TabM(ModelFamily):
    """`--model tabm`."""

    def train(self, context: TrainingContext) -> Trained:
        hparams, head, strategy = context.hparams, context.head, context.strategy
        batch = hparams.tabm_batch_size * strategy.num_replicas_in_sync
        train_ds = context.train_ds.unbatch().batch(batch)
        with strategy.scope():
            served, members = build_tabm(context.features, context.cardinalities, hparams, head)
        labels = heads.training_labels(train_ds, prepare.STANDARDIZATION_BATCHES)
        target_scale = _fit_output_to_labels(members, labels, head, hparams.prior_output_bias)
        warm = _warm_start(served, context.base_model) if context.base_model else None
        if warm and "why_not" in warm:
            logger.info("tabm warm start: %s.", warm["why_not"])

        steps_per_epoch = max(1, int(train_ds.reduce(0, lambda n, _: n + 1)))
        epochs = max(hparams.tabm_epochs, math.ceil(hparams.tabm_min_steps / steps_per_epoch))
        rate = schedules.FlatCosine(
            hparams.tabm_learning_rate, epochs * steps_per_epoch, hparams.tabm_flat_fraction
        )
        with strategy.scope():
            trainer = MemberTraining(members, head, hparams.tabm_label_smoothing, target_scale)
            optimizer = keras.optimizers.AdamW(
                learning_rate=rate, weight_decay=hparams.tabm_weight_decay, jit_compile=False
            )
            optimizer.exclude_from_weight_decay(var_names=[NO_DECAY])
            trainer.compile(optimizer=optimizer)
        model.skip_autograph(trainer)
        steps = training_callbacks.StepRecorder()
        history = trainer.fit(
            train_ds,
            validation_data=context.eval_ds,
            epochs=epochs,
            callbacks=[
                steps,
                training_callbacks.EpochLogger(),
                keras.callbacks.EarlyStopping(
                    monitor=MONITOR,
                    patience=hparams.early_stopping_patience,
                    restore_best_weights=True,
                ),
            ],
            verbose=0,
        ).history
        best = int(np.argmin(history[MONITOR]))
        logger.info(
            "tabm: %d members, stopped after %d of %d epochs; best epoch %d: %s.",
            hparams.tabm_members,
            len(history["loss"]),
            epochs,
            best + 1,
            ", ".join(f"{k} {v[best]:.4f}" for k, v in sorted(history.items()) if k[:4] == "val_"),
        )
        record = {
            "epochs": len(history["loss"]),
            "planned_epochs": epochs,
            "best_epoch": best + 1,
            "steps_per_epoch": steps_per_epoch,
            "members": hparams.tabm_members,
            "hparams": hparams.to_dict(),
            "history": {k: [float(v) for v in vs] for k, vs in history.items()},
            "steps": {"learning_rate": steps.learning_rate},
            "warm_start": warm,
        }
        return Trained(model=served, record=record, network=None)


FAMILY = TabM()
