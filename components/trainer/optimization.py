"""Optimizer and training-length policy: what to step with and when to stop.

AdamW (decoupled weight decay) or SGD with Nesterov momentum; the learning
rate drops when the eval loss plateaus, and training stops when it has not
improved for a while, restoring the best weights seen (Hands-On ML, ch. 11).
"""

from __future__ import annotations

import tf_keras as keras

from components.trainer import callbacks as training_callbacks
from components.trainer.hparams import HParams

MONITOR = "val_loss"


def make_optimizer(hparams: HParams) -> keras.optimizers.Optimizer:
    """Returns the optimizer named by `hparams.optimizer`."""
    if hparams.optimizer == "adamw":
        return keras.optimizers.AdamW(
            learning_rate=hparams.learning_rate,
            weight_decay=hparams.weight_decay,
            jit_compile=False,
        )
    return keras.optimizers.SGD(learning_rate=hparams.learning_rate, momentum=0.9, nesterov=True)


def make_callbacks(hparams: HParams, log_dir: str | None = None) -> list[keras.callbacks.Callback]:
    """Returns the callbacks that decide the learning rate and the training length.

    Args:
      hparams: Patience, factor and floor of the schedule.
      log_dir: Where TensorBoard logs go; None for no TensorBoard logging.
    """
    callbacks = [
        training_callbacks.StepRecorder(),
        training_callbacks.EpochLogger(),
        keras.callbacks.ReduceLROnPlateau(
            monitor=MONITOR,
            factor=hparams.reduce_lr_factor,
            patience=hparams.reduce_lr_patience,
            min_lr=hparams.min_learning_rate,
        ),
        keras.callbacks.EarlyStopping(
            monitor=MONITOR,
            patience=hparams.early_stopping_patience,
            restore_best_weights=True,
        ),
    ]
    if log_dir:
        callbacks.append(keras.callbacks.TensorBoard(log_dir=log_dir, update_freq="epoch"))
    return callbacks
