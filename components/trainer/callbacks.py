"""Training callbacks that record and report: per-step rates, one log line per epoch."""

from __future__ import annotations

import logging

import tf_keras as keras

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
        optimizer = self.model.optimizer
        self.learning_rate.append(float(keras.backend.get_value(optimizer.learning_rate)))
        momentum = getattr(optimizer, "momentum", None)
        if momentum is None:
            momentum = getattr(optimizer, "beta_1", None)
        if momentum is not None:
            self.momentum.append(float(keras.backend.get_value(momentum)))


class EpochLogger(keras.callbacks.Callback):
    """Logs one line per epoch (loss, metrics, learning rate) through `logging`.

    Keras' own progress output goes straight to stdout; a log record lets the
    CLI show it, hide it (-q) or emit it as JSON (--log-format json).
    """

    def on_epoch_end(self, epoch, logs=None):
        values = ", ".join(f"{k} {v:.4f}" for k, v in sorted((logs or {}).items()))
        logger.info("epoch %d: %s", epoch + 1, values)
