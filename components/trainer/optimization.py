"""Optimizer, learning-rate policy and training length: what to step with and when to stop.

Every optimizer of Hands-On ML ch. 11 is available by name, with gradient
clipping by global norm (direction kept) or by value. The rate either drops
when the eval loss plateaus (a callback) or follows a per-step schedule
(power, exponential, piecewise constant, 1cycle with momentum cycled
inversely); training stops when the eval loss has not improved by a margin
that matters (`early_stopping_min_delta`) for a while, restoring the best
weights counted, except under 1cycle, which runs to its end.
"""

from __future__ import annotations

import tf_keras as keras

from components.trainer import callbacks as training_callbacks
from components.trainer import momentum, schedules
from components.trainer.hparams import HParams

MONITOR = "val_loss"
# 1cycle's momentum range (Smith, 2018): high while the rate is low, and back.
ONE_CYCLE_MAX_MOMENTUM = 0.95
ONE_CYCLE_MIN_MOMENTUM = 0.85

LearningRate = float | keras.optimizers.schedules.LearningRateSchedule

# Schedule names `make_schedule` accepts.
SCHEDULE_NAMES = ("constant", "plateau", "power", "exponential", "piecewise", "one_cycle")
# Names whose rate is a plain float, so a callback (or nothing) may change it.
FLOAT_RATE_NAMES = frozenset({"constant", "plateau"})
# Steps of the default piecewise schedule, as fractions of the run; the rate
# drops tenfold at each (the usual "divide by 10 at 50% and 75%").
_PIECEWISE_BOUNDARY_FRACTIONS = (0.5, 0.75)
_PIECEWISE_FACTOR = 0.1


def make_learning_rate(hparams: HParams, steps_per_epoch: int) -> LearningRate:
    """Returns the optimizer's `learning_rate`: a float, or a per-step schedule.

    Args:
      hparams: Resolved hyperparameters (`HParams.resolve()`).
      steps_per_epoch: Optimizer steps in one epoch; per-step schedules are
        planned over `hparams.scheduled_epochs` epochs of this many steps.
    """
    hparams = hparams.resolve()
    total_steps = max(1, hparams.scheduled_epochs * steps_per_epoch)
    if hparams.lr_schedule == "one_cycle":
        peak = hparams.one_cycle_max_rate or hparams.learning_rate
        return make_schedule("one_cycle", peak, total_steps)
    return make_schedule(hparams.lr_schedule, hparams.learning_rate, total_steps)


def make_schedule(
    name: str, learning_rate: float, total_steps: int, **kwargs
) -> float | keras.optimizers.schedules.LearningRateSchedule:
    """Returns the learning rate named `name`, to pass as an optimizer's `learning_rate`.

    Without keyword arguments, every decaying schedule ends the run about ten
    times below `learning_rate`.

    * "constant": `learning_rate`, a float.
    * "plateau": `learning_rate`, a float: `ReduceLROnPlateau` is a callback
      (see `optimization.make_callbacks`) that lowers the optimizer's rate
      variable, which an optimizer only has for a float rate.
    * "power": `schedules.PowerSchedule`; `decay_steps` defaults to `total_steps / 9`
      (lr0 / 10 at the end for `power` 1), `power` to 1.0.
    * "exponential": `schedules.ExponentialSchedule`; `decay_steps` defaults to
      `total_steps` (lr0 / 10 at the end).
    * "piecewise": `schedules.PiecewiseConstantSchedule` starting at `learning_rate` and
      multiplied by `factor` (defaults to 0.1) at each of `boundaries`
      (defaults to 50% and 75% of `total_steps`).
    * "one_cycle": `schedules.OneCycle` peaking at `learning_rate`; `start_rate`,
      `final_rate` and `annihilation_fraction` as there.

    Args:
      name: One of `SCHEDULE_NAMES`.
      learning_rate: The initial rate (the peak for "one_cycle").
      total_steps: Optimizer steps of the whole run (epochs x steps per epoch).
      **kwargs: Options of the named schedule, listed above.

    Returns:
      A float or a `LearningRateSchedule`.

    Raises:
      ValueError: Unknown `name`, `total_steps` not positive, or a schedule
        argument out of range.
      TypeError: An option the named schedule does not take.
    """
    if name not in SCHEDULE_NAMES:
        raise ValueError(
            f"Unknown learning-rate schedule {name!r}; choose one of {', '.join(SCHEDULE_NAMES)}."
        )
    if total_steps <= 0:
        raise ValueError(f"`total_steps` must be positive, got {total_steps}.")
    if name in FLOAT_RATE_NAMES:
        if kwargs:
            raise TypeError(f"Schedule {name!r} takes no options, got {sorted(kwargs)}.")
        return float(learning_rate)
    if name == "power":
        kwargs.setdefault("decay_steps", total_steps / 9)
        return schedules.PowerSchedule(learning_rate, **kwargs)
    if name == "exponential":
        kwargs.setdefault("decay_steps", total_steps)
        return schedules.ExponentialSchedule(learning_rate, **kwargs)
    if name == "piecewise":
        boundaries = kwargs.pop(
            "boundaries", [round(total_steps * f) for f in _PIECEWISE_BOUNDARY_FRACTIONS]
        )
        factor = kwargs.pop("factor", _PIECEWISE_FACTOR)
        if kwargs:
            raise TypeError(f"Schedule 'piecewise' got unknown options {sorted(kwargs)}.")
        values = [learning_rate * factor**i for i in range(len(boundaries) + 1)]
        return schedules.PiecewiseConstantSchedule(boundaries, values)
    return schedules.OneCycle(learning_rate, total_steps, **kwargs)


def make_optimizer(hparams: HParams, learning_rate: LearningRate | None = None):
    """Returns the optimizer named by `hparams.optimizer`, clipping as asked.

    Args:
      hparams: The hyperparameters (resolved here if they are not).
      learning_rate: A float or schedule; None for `hparams.learning_rate`.
    """
    hparams = hparams.resolve()
    rate = hparams.learning_rate if learning_rate is None else learning_rate
    clipping = {}
    if hparams.clip_norm is not None:
        # The global norm over all gradients: the step keeps its direction.
        clipping["global_clipnorm"] = hparams.clip_norm
    if hparams.clip_value is not None:
        clipping["clipvalue"] = hparams.clip_value
    # jit_compile=False: XLA-compiling the update takes longer than it saves
    # on the small dense models trained here, and does not work on CPU for all ops.
    common = {"learning_rate": rate, "jit_compile": False, **clipping}
    momentum = hparams.momentum
    factories = {
        "sgd": lambda: keras.optimizers.SGD(**common),
        "momentum": lambda: keras.optimizers.SGD(momentum=momentum, **common),
        "nesterov": lambda: keras.optimizers.SGD(momentum=momentum, nesterov=True, **common),
        "adagrad": lambda: keras.optimizers.Adagrad(**common),
        "rmsprop": lambda: keras.optimizers.RMSprop(rho=0.9, **common),
        "adam": lambda: keras.optimizers.Adam(beta_1=momentum, **common),
        "adamax": lambda: keras.optimizers.Adamax(beta_1=momentum, **common),
        "nadam": lambda: keras.optimizers.Nadam(beta_1=momentum, **common),
        "adamw": lambda: keras.optimizers.AdamW(
            weight_decay=hparams.weight_decay, beta_1=momentum, **common
        ),
    }
    return factories[hparams.optimizer]()


def training_epochs(hparams: HParams) -> int:
    """Epochs to train for at most: a per-step schedule plans its own length."""
    hparams = hparams.resolve()
    if hparams.lr_schedule == "plateau":
        return hparams.max_epochs
    return hparams.scheduled_epochs


def make_callbacks(
    hparams: HParams,
    steps_per_epoch: int = 1,
    log_dir: str | None = None,
    norm_batch=None,
) -> list[keras.callbacks.Callback]:
    """Returns the callbacks that decide the learning rate and the training length.

    Args:
      hparams: Resolved hyperparameters: schedule, patience, factor and floor.
      steps_per_epoch: Optimizer steps in one epoch (1cycle's momentum cycle
        spans `hparams.scheduled_epochs` of them).
      log_dir: Where TensorBoard logs go; None for no TensorBoard logging.
      norm_batch: A (features, labels) training batch on which per-layer
        gradient norms are logged each epoch; None for no norm logging.
    """
    hparams = hparams.resolve()
    callbacks: list[keras.callbacks.Callback] = []
    # Before the StepRecorder: a step's momentum is set before it is recorded.
    if hparams.lr_schedule == "one_cycle" and hparams.optimizer != "sgd":
        # (Plain SGD has no momentum to cycle.)
        callbacks.append(
            momentum.MomentumScheduler(
                schedules.OneCycleMomentum(
                    max(1, hparams.scheduled_epochs * steps_per_epoch),
                    max_momentum=ONE_CYCLE_MAX_MOMENTUM,
                    min_momentum=ONE_CYCLE_MIN_MOMENTUM,
                )
            )
        )
    callbacks += [training_callbacks.StepRecorder(), training_callbacks.EpochLogger()]
    if hparams.lr_schedule == "plateau":
        callbacks.append(
            keras.callbacks.ReduceLROnPlateau(
                monitor=MONITOR,
                factor=hparams.reduce_lr_factor,
                patience=hparams.reduce_lr_patience,
                min_lr=hparams.min_learning_rate,
            )
        )
    if hparams.lr_schedule != "one_cycle":
        callbacks.append(
            training_callbacks.MarginEarlyStopping(
                hparams.early_stopping_min_delta,
                monitor=MONITOR,
                patience=hparams.early_stopping_patience,
                restore_best_weights=True,
            )
        )
    if log_dir:
        # Epoch losses, metrics and the learning rate, plus weight histograms.
        callbacks.append(
            keras.callbacks.TensorBoard(log_dir=log_dir, update_freq="epoch", histogram_freq=1)
        )
        if norm_batch is not None:
            callbacks.append(training_callbacks.NormLogger(log_dir, norm_batch))
    return callbacks
