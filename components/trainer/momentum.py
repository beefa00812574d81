"""Applies a momentum schedule during `fit`: SGD's `momentum` or the Adam family's `beta_1`.

tf_keras reads these hyperparameters as Python floats when it traces the
train step, so changing the float later does nothing; `MomentumScheduler`
swaps in a variable the step reads each time (see its docstring for the
consequences). The schedules themselves are in `schedules`, e.g.
`schedules.OneCycleMomentum`.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

import tensorflow as tf
import tf_keras as keras

# SGD and RMSprop call their momentum `momentum`; the Adam family's analogue is `beta_1`.
_MOMENTUM_ATTRIBUTES = ("momentum", "beta_1")
# One variable per optimizer and attribute, reused by every fit and every
# scheduler: a compiled update step keeps the variable it was traced with.
_momentum_variables: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@tf.__internal__.tracking.no_automatic_dependency_tracking
def _set_untracked(optimizer: keras.optimizers.Optimizer, name: str, value) -> None:
    # The momentum follows from `iterations`; left untracked, the variable
    # stays out of checkpoints, which then load into optimizers without it.
    setattr(optimizer, name, value)


class MomentumScheduler(keras.callbacks.Callback):
    """Sets the optimizer's momentum from a schedule before every training step.

    The momentum is SGD's (or RMSprop's) `momentum`, or the Adam family's
    `beta_1`, set to `schedule(optimizer.iterations)`; resumed training picks
    up the schedule at the saved step.

    In tf_keras these are plain Python floats, which the compiled train step
    reads once, when it is traced: assigning a new float later changes
    nothing. So during `fit` the attribute holds a scalar variable that the
    step reads on every call (and the train function is retraced once to see
    it). A variable there breaks the optimizer's `get_config`, and with it
    every model save, so at the end of `fit` the attribute becomes a float
    again (the last value). Hence no full-model saves during `fit` (e.g.
    `ModelCheckpoint` without `save_weights_only`); weight checkpoints and
    `BackupAndRestore` are fine. With `steps_per_execution` > 1 the momentum
    changes once per execution. On GPU, where the optimizer XLA-compiles its
    update, attach the scheduler from the optimizer's first step: an update
    compiled earlier keeps its float.

    Args:
      schedule: Maps the optimizer step to the momentum, e.g. `OneCycleMomentum`.
    """

    def __init__(self, schedule: Callable[[tf.Variable], float | tf.Tensor]):
        super().__init__()
        self.schedule = schedule
        self._attribute: str | None = None
        self._variable: tf.Variable | None = None

    def on_train_begin(self, logs=None):
        optimizer = self.model.optimizer
        self._attribute = momentum_attribute(optimizer)
        variables = _momentum_variables.setdefault(optimizer, {})
        variable = variables.get(self._attribute)
        if variable is None:
            initial = float(keras.backend.get_value(getattr(optimizer, self._attribute)))
            with self.model.distribute_strategy.scope():
                variable = tf.Variable(
                    initial, dtype=tf.float32, trainable=False, name=self._attribute
                )
            variables[self._attribute] = variable
        self._variable = variable
        _set_untracked(optimizer, self._attribute, variable)
        # A train function traced before (e.g. by an earlier fit) holds the old float.
        self.model.make_train_function(force=True)

    def on_train_batch_begin(self, batch, logs=None):
        self._variable.assign(self.schedule(self.model.optimizer.iterations))

    def on_train_end(self, logs=None):
        value = float(self._variable.numpy())
        _set_untracked(self.model.optimizer, self._attribute, value)


def momentum_attribute(optimizer: keras.optimizers.Optimizer) -> str:
    """Returns the name of the optimizer's momentum hyperparameter.

    Args:
      optimizer: A tf_keras optimizer.

    Returns:
      "momentum" (SGD, RMSprop) or "beta_1" (Adam, AdamW, Nadam, Adamax, Lion).

    Raises:
      ValueError: The optimizer has neither.
    """
    for name in _MOMENTUM_ATTRIBUTES:
        if hasattr(optimizer, name):
            return name
    raise ValueError(
        f"{type(optimizer).__name__} has no momentum to schedule (no `momentum` or "
        f"`beta_1`); use SGD, RMSprop or an Adam-family optimizer, or drop the "
        f"momentum schedule."
    )
