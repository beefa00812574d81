"""Learning-rate and momentum schedules evaluated per optimizer step (Hands-On ML, ch. 11).

Each schedule is a serializable `keras.optimizers.schedules.LearningRateSchedule`
registered under the "deepline" package, so a model compiled with one saves
and reloads with its schedule. The optimizer evaluates the schedule at
`optimizer.iterations`, a variable saved with the optimizer, so training
resumed from a saved model or checkpoint continues at the saved step's rate.

* `PowerSchedule`: lr0 / (1 + step / s) ** c.
* `ExponentialSchedule`: lr0 * 0.1 ** (step / s).
* `PiecewiseConstantSchedule`: a constant rate between given steps.
* `OneCycle` and `OneCycleMomentum`: the 1cycle policy's rate and its inverse
  momentum cycle; `momentum.MomentumScheduler` applies a momentum schedule in training.
* `FlatCosine`: flat, then down a half cosine (the tabm family's recipe).

`optimization.make_schedule` builds one by name.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import pairwise

import tensorflow as tf
import tf_keras as keras

_ONE_CYCLE_ANNIHILATION_FRACTION = 0.1


def _as_step(step) -> tf.Tensor:
    return tf.cast(step, tf.float32)


def _piecewise_linear(step: tf.Tensor, points: Sequence[tuple[float, float]]) -> tf.Tensor:
    """The polyline through `points` (by increasing x) at `step`, flat beyond its ends."""
    value = tf.constant(points[-1][1], tf.float32)
    for (x0, y0), (x1, y1) in reversed(list(pairwise(points))):
        # A zero-length phase (e.g. no annihilation) has no slope to follow.
        if x1 <= x0:
            continue
        fraction = tf.clip_by_value((step - x0) / (x1 - x0), 0.0, 1.0)
        value = tf.where(step < x1, y0 + (y1 - y0) * fraction, value)
    return value


def _check_positive(**values: float) -> None:
    for name, value in values.items():
        if not value > 0:
            raise ValueError(f"`{name}` must be positive, got {value}.")


def _check_annihilation_fraction(fraction: float) -> None:
    if not 0 <= fraction < 1:
        raise ValueError(f"`annihilation_fraction` must be in [0, 1), got {fraction}.")


@keras.saving.register_keras_serializable(package="deepline")
class PowerSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """Power scheduling: `initial_rate / (1 + step / decay_steps) ** power`.

    The rate halves after `decay_steps` steps (for power 1), then falls ever
    more slowly: a third after 2 * s, a quarter after 3 * s.

    Args:
      initial_rate: The rate at step 0.
      decay_steps: s, the steps until the rate has dropped by 2 ** power.
      power: c. Defaults to 1.0.

    Raises:
      ValueError: A rate, `decay_steps` or `power` is not positive.
    """

    def __init__(self, initial_rate: float, decay_steps: float, power: float = 1.0):
        super().__init__()
        _check_positive(initial_rate=initial_rate, decay_steps=decay_steps, power=power)
        self.initial_rate = float(initial_rate)
        self.decay_steps = float(decay_steps)
        self.power = float(power)

    def __call__(self, step):
        step = _as_step(step)
        return self.initial_rate / (1.0 + step / self.decay_steps) ** self.power

    def get_config(self) -> dict:
        return {
            "initial_rate": self.initial_rate,
            "decay_steps": self.decay_steps,
            "power": self.power,
        }


@keras.saving.register_keras_serializable(package="deepline")
class ExponentialSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """Exponential scheduling: `initial_rate * 0.1 ** (step / decay_steps)`.

    The rate drops tenfold every `decay_steps` steps, smoothly.

    Args:
      initial_rate: The rate at step 0.
      decay_steps: s, the steps per tenfold drop.

    Raises:
      ValueError: `initial_rate` or `decay_steps` is not positive.
    """

    def __init__(self, initial_rate: float, decay_steps: float):
        super().__init__()
        _check_positive(initial_rate=initial_rate, decay_steps=decay_steps)
        self.initial_rate = float(initial_rate)
        self.decay_steps = float(decay_steps)

    def __call__(self, step):
        step = _as_step(step)
        return self.initial_rate * 0.1 ** (step / self.decay_steps)

    def get_config(self) -> dict:
        return {"initial_rate": self.initial_rate, "decay_steps": self.decay_steps}


@keras.saving.register_keras_serializable(package="deepline")
class PiecewiseConstantSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """A constant rate per phase: `values[i]` from step `boundaries[i - 1]` on.

    A boundary is the first step of the next phase: boundaries (100,) and
    values (0.1, 0.01) train steps 0-99 at 0.1 and step 100 onwards at 0.01.
    (Keras' `PiecewiseConstantDecay` switches one step later.)

    Args:
      boundaries: Steps where the rate changes, strictly increasing.
      values: Rates, one more than `boundaries`.

    Raises:
      ValueError: The lengths do not match, a boundary is negative or out of
        order, or a rate is not positive.
    """

    def __init__(self, boundaries: Sequence[float], values: Sequence[float]):
        super().__init__()
        if len(values) != len(boundaries) + 1:
            raise ValueError(
                f"A piecewise schedule needs one rate more than boundaries, got "
                f"{len(boundaries)} boundaries {list(boundaries)} and {len(values)} rates "
                f"{list(values)}."
            )
        if any(b < 0 for b in boundaries) or any(a >= b for a, b in pairwise(boundaries)):
            raise ValueError(
                f"Piecewise boundaries must be non-negative steps in increasing order, "
                f"got {list(boundaries)}."
            )
        _check_positive(**{f"values[{i}]": v for i, v in enumerate(values)})
        self.boundaries = [float(b) for b in boundaries]
        self.values = [float(v) for v in values]

    def __call__(self, step):
        step = _as_step(step)
        # The phase index is the number of boundaries already reached.
        phase = tf.reduce_sum(tf.cast(step >= tf.constant(self.boundaries, tf.float32), tf.int32))
        return tf.gather(tf.constant(self.values, tf.float32), phase)

    def get_config(self) -> dict:
        return {"boundaries": list(self.boundaries), "values": list(self.values)}


def _one_cycle_phases(total_steps: float, annihilation_fraction: float) -> tuple[float, float]:
    """(peak step, end of the cycle): the cycle spans the non-annihilation steps."""
    cycle_end = total_steps * (1.0 - annihilation_fraction)
    return cycle_end / 2.0, cycle_end


@keras.saving.register_keras_serializable(package="deepline")
class OneCycle(keras.optimizers.schedules.LearningRateSchedule):
    """The 1cycle learning rate (Smith, 2018): up, down, then annihilation.

    Over the first `1 - annihilation_fraction` of the steps, the rate rises
    linearly from `start_rate` to `max_rate` (first half) and falls back to
    `start_rate` (second half); over the last `annihilation_fraction` it falls
    linearly to `final_rate`, and stays there after `total_steps`.

    Args:
      max_rate: The peak rate, reached mid-cycle; e.g. the learning-rate
        finder's proposal.
      total_steps: Optimizer steps of the whole run.
      start_rate: The rate at step 0 and at the end of the cycle. Defaults to
        `max_rate / 10`.
      final_rate: The rate at `total_steps`. Defaults to `start_rate / 1000`.
      annihilation_fraction: Fraction of the steps spent annihilating.
        Defaults to 0.1.

    Raises:
      ValueError: A rate or `total_steps` is not positive, `start_rate`
        exceeds `max_rate`, or `annihilation_fraction` is not in [0, 1).
    """

    def __init__(
        self,
        max_rate: float,
        total_steps: float,
        start_rate: float | None = None,
        final_rate: float | None = None,
        annihilation_fraction: float = _ONE_CYCLE_ANNIHILATION_FRACTION,
    ):
        super().__init__()
        start_rate = max_rate / 10.0 if start_rate is None else start_rate
        final_rate = start_rate / 1000.0 if final_rate is None else final_rate
        _check_positive(
            max_rate=max_rate, total_steps=total_steps, start_rate=start_rate, final_rate=final_rate
        )
        if start_rate > max_rate:
            raise ValueError(
                f"1cycle's `start_rate` ({start_rate}) must not exceed `max_rate` ({max_rate})."
            )
        _check_annihilation_fraction(annihilation_fraction)
        self.max_rate = float(max_rate)
        self.total_steps = float(total_steps)
        self.start_rate = float(start_rate)
        self.final_rate = float(final_rate)
        self.annihilation_fraction = float(annihilation_fraction)

    def __call__(self, step):
        peak, cycle_end = _one_cycle_phases(self.total_steps, self.annihilation_fraction)
        points = [
            (0.0, self.start_rate),
            (peak, self.max_rate),
            (cycle_end, self.start_rate),
            (self.total_steps, self.final_rate),
        ]
        return _piecewise_linear(_as_step(step), points)

    def get_config(self) -> dict:
        return {
            "max_rate": self.max_rate,
            "total_steps": self.total_steps,
            "start_rate": self.start_rate,
            "final_rate": self.final_rate,
            "annihilation_fraction": self.annihilation_fraction,
        }


# Keras' schedule base class is only a "value per step, with a config"
# contract; reusing it gives the momentum cycle the same serialization.
@keras.saving.register_keras_serializable(package="deepline")
class OneCycleMomentum(keras.optimizers.schedules.LearningRateSchedule):
    """1cycle's momentum: the mirror image of its rate, high when the rate is low.

    From `max_momentum` down to `min_momentum` while `OneCycle` warms up, back
    up to `max_momentum` while it cools down, and `max_momentum` during the
    annihilation and after. Use it with `momentum.MomentumScheduler`.

    Args:
      total_steps: Optimizer steps of the whole run, as for `OneCycle`.
      max_momentum: Defaults to 0.95.
      min_momentum: Defaults to 0.85.
      annihilation_fraction: As for `OneCycle`. Defaults to 0.1.

    Raises:
      ValueError: `total_steps` is not positive, the momenta are not
        0 <= min_momentum <= max_momentum <= 1, or `annihilation_fraction` is
        not in [0, 1).
    """

    def __init__(
        self,
        total_steps: float,
        max_momentum: float = 0.95,
        min_momentum: float = 0.85,
        annihilation_fraction: float = _ONE_CYCLE_ANNIHILATION_FRACTION,
    ):
        super().__init__()
        _check_positive(total_steps=total_steps)
        if not 0 <= min_momentum <= max_momentum <= 1:
            raise ValueError(
                f"1cycle momentum needs 0 <= min_momentum <= max_momentum <= 1, got "
                f"min_momentum {min_momentum} and max_momentum {max_momentum}."
            )
        _check_annihilation_fraction(annihilation_fraction)
        self.total_steps = float(total_steps)
        self.max_momentum = float(max_momentum)
        self.min_momentum = float(min_momentum)
        self.annihilation_fraction = float(annihilation_fraction)

    def __call__(self, step):
        peak, cycle_end = _one_cycle_phases(self.total_steps, self.annihilation_fraction)
        points = [
            (0.0, self.max_momentum),
            (peak, self.min_momentum),
            (cycle_end, self.max_momentum),
        ]
        return _piecewise_linear(_as_step(step), points)

    def get_config(self) -> dict:
        return {
            "total_steps": self.total_steps,
            "max_momentum": self.max_momentum,
            "min_momentum": self.min_momentum,
            "annihilation_fraction": self.annihilation_fraction,
        }


@keras.saving.register_keras_serializable(package="deepline")
class FlatCosine(keras.optimizers.schedules.LearningRateSchedule):
    """`rate` for the first `flat_fraction` of the steps, then down a half cosine to 0.

    At step t past the flat part f (of T steps): rate * (1 + cos(pi * (t - f) / (T - f))) / 2;
    0 from step T on.

    Args:
      rate: The flat rate.
      total_steps: T, optimizer steps of the whole run.
      flat_fraction: Share of the steps at the flat rate, in [0, 1].

    Raises:
      ValueError: `rate` or `total_steps` is not positive, or `flat_fraction` not in [0, 1].
    """

    def __init__(self, rate: float, total_steps: float, flat_fraction: float):
        super().__init__()
        _check_positive(rate=rate, total_steps=total_steps)
        if not 0 <= flat_fraction <= 1:
            raise ValueError(f"`flat_fraction` must be in [0, 1], got {flat_fraction}.")
        self.rate = float(rate)
        self.total_steps = float(total_steps)
        self.flat_fraction = float(flat_fraction)

    def __call__(self, step):
        step = _as_step(step)
        flat = self.total_steps * self.flat_fraction
        progress = tf.clip_by_value((step - flat) / max(self.total_steps - flat, 1e-9), 0.0, 1.0)
        return self.rate * 0.5 * (1.0 + tf.cos(math.pi * progress))

    def get_config(self) -> dict:
        return {
            "rate": self.rate,
            "total_steps": self.total_steps,
            "flat_fraction": self.flat_fraction,
        }
