"""Training callbacks that record and report (per-step rates, one log line per epoch,
per-layer weight and gradient norms for TensorBoard), and early stopping with a relative margin."""

from __future__ import annotations

import logging
import os

import numpy as np
import tensorflow as tf
import tf_keras as keras

from components.trainer.custom_loop import current_learning_rate

logger = logging.getLogger(__name__)


class StepRecorder(keras.callbacks.Callback):
    """Records the learning rate and momentum in force at every training step.

    Momentum is SGD's `momentum`, or Adam's `beta_1` (its momentum analogue).
    """

    def __init__(self):
        super().__init__()
        self.learning_rate: list[float] = []
        self.momentum: list[float] = []

    def on_train_batch_begin(self, batch, logs=None):
        self.record(self.model.optimizer)

    def record(self, optimizer) -> None:
        """Records `optimizer`'s rate and momentum for the step about to run.

        The custom training loop, which calls no Keras callbacks, calls this directly.
        """
        # Not `optimizer.learning_rate`: under a schedule that is the last step's rate.
        self.learning_rate.append(current_learning_rate(optimizer))
        momentum = getattr(optimizer, "momentum", None)
        if momentum is None:
            momentum = getattr(optimizer, "beta_1", None)
        if momentum is not None:
            self.momentum.append(float(keras.backend.get_value(momentum)))


class MarginEarlyStopping(keras.callbacks.EarlyStopping):
    """Keras' `EarlyStopping`, where an improvement must beat the best by a share of it.

    An epoch counts as an improvement only when the monitored value is better
    than the best counted so far by at least `relative_min_delta` times that
    best (Keras' own `min_delta` is absolute, so its meaning would change with
    the loss's scale: cross-entropy near 0.03 on easy data, near 0.3 on hard
    data, any size for a regression's squared error). Patience counts epochs
    since the last counted improvement; `restore_best_weights` restores the
    weights of the epoch with the best value seen, counted or not (the epoch the
    Trainer reports as best).

    Args:
      relative_min_delta: Smallest improvement that counts, as a fraction of
        the best value counted so far; 0 counts any improvement.
      **kwargs: `keras.callbacks.EarlyStopping` arguments (not `min_delta`).

    Raises:
      ValueError: `relative_min_delta` is negative or not below 1.
    """

    def __init__(self, relative_min_delta: float, **kwargs):
        if not 0.0 <= relative_min_delta < 1.0:
            raise ValueError(
                f"relative_min_delta must be in [0, 1), got {relative_min_delta}: it is a "
                "fraction of the best eval loss (e.g. 0.01 for 1%)."
            )
        super().__init__(**kwargs)
        self.relative_min_delta = relative_min_delta

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self._best_seen = None

    def on_epoch_end(self, epoch, logs=None):
        current = self.get_monitor_value(logs)
        if current is not None and (
            self._best_seen is None or self.monitor_op(current, self._best_seen)
        ):
            # The best value so far, though maybe not by the margin: its weights are the
            # ones to restore; Keras replaces them only on a counted improvement.
            self._best_seen = current
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
                self.best_epoch = epoch
        super().on_epoch_end(epoch, logs)

    def _is_improvement(self, monitor_value, reference_value):
        if not np.isfinite(reference_value):  # nothing counted yet
            return super()._is_improvement(monitor_value, reference_value)
        margin = self.relative_min_delta * abs(reference_value)
        if self.monitor_op == np.less:
            return monitor_value < reference_value - margin
        return monitor_value > reference_value + margin


class EpochLogger(keras.callbacks.Callback):
    """Logs one line per epoch (loss, metrics, learning rate) through `logging`.

    Keras' own progress output goes straight to stdout; a log record lets the
    CLI show it, hide it (-q) or emit it as JSON (--log-format json).
    """

    def on_epoch_end(self, epoch, logs=None):
        values = ", ".join(f"{k} {v:.4f}" for k, v in sorted((logs or {}).items()))
        logger.info("epoch %d: %s", epoch + 1, values)


class NormLogger(keras.callbacks.Callback):
    """Writes each layer's weight norm and gradient norm to TensorBoard once per epoch.

    Exploding or vanishing gradients show as gradient norms growing or
    shrinking layer by layer. The gradient is taken on one fixed training
    batch at the end of each epoch (the loss the model is compiled with,
    regularization included), so epochs are comparable.

    Args:
      log_dir: TensorBoard folder; events go to its `train/` subfolder, next to
        Keras' own epoch scalars.
      batch: A (features, labels) batch to take the gradients on.
    """

    def __init__(self, log_dir: str, batch):
        super().__init__()
        self._writer = tf.summary.create_file_writer(os.path.join(log_dir, "train"))
        self._features, self._labels = tf.nest.map_structure(tf.convert_to_tensor, batch)

    def norms(self) -> dict[str, tuple[float, float]]:
        """Variable name -> (weight norm, gradient norm) on the fixed batch, now."""
        variables = self.model.trainable_variables
        with tf.GradientTape() as tape:
            predictions = self.model(self._features, training=False)
            # The compiled loss plus the model's regularization losses.
            loss = self.model.compute_loss(self._features, self._labels, predictions)
        gradients = tape.gradient(loss, variables)
        return {
            v.name: (
                float(tf.norm(v)),
                0.0 if g is None else float(tf.norm(tf.convert_to_tensor(g))),
            )
            for v, g in zip(variables, gradients, strict=True)
        }

    def on_epoch_end(self, epoch, logs=None):
        with self._writer.as_default():
            for name, (weight_norm, gradient_norm) in self.norms().items():
                tag = name.replace(":", "_")
                tf.summary.scalar(f"weight_norm/{tag}", weight_norm, step=epoch)
                tf.summary.scalar(f"gradient_norm/{tag}", gradient_norm, step=epoch)
        self._writer.flush()
