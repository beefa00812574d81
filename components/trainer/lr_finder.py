"""The learning-rate finder: a short run with an exponentially growing rate (Hands-On ML, ch. 11).

`find_learning_rate` trains a compiled model for a few hundred steps while
the rate grows from `min_rate` to `max_rate`, records the smoothed loss at
each rate, then puts the model's weights and the optimizer's state back as
they were. Its proposal is the 1cycle peak rate (`schedules.OneCycle`);
`plot_lr_finder` draws the loss against the rate so a person can check it.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import math
import os

import tensorflow as tf
import tf_keras as keras
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

logger = logging.getLogger(__name__)

# The run stops once the smoothed loss is this many times its minimum: the
# rate is far past useful, and more steps only push the weights to overflow.
DIVERGENCE_FACTOR = 4.0
# The proposed peak rate is the rate at the lowest smoothed loss divided by
# this. Hands-On ML (ch. 11) puts a good rate about ten times below the point
# where the loss stops falling and starts to climb; the minimum of the
# smoothed loss is that turning point, and unlike "steepest descent" it is
# well defined on a noisy curve.
PROPOSAL_DIVISOR = 10.0
_PNG_DPI = 100


@dataclasses.dataclass(frozen=True)
class LrFinderResult:
    """The learning-rate range test's record.

    Attributes:
      rates: The rate of each step taken, increasing.
      losses: The smoothed training loss after each step.
      proposed_max_rate: The rate at the lowest smoothed loss, divided by
        `PROPOSAL_DIVISOR`: a peak rate for `schedules.OneCycle`.
    """

    rates: tuple[float, ...]
    losses: tuple[float, ...]
    proposed_max_rate: float

    @property
    def best_rate(self) -> float:
        """The rate at the lowest smoothed loss."""
        return self.rates[self.losses.index(min(self.losses))]


class _RateRangeTest(keras.callbacks.Callback):
    """Sets the rate of each step and records the smoothed loss it gives."""

    def __init__(self, min_rate: float, growth: float, smoothing: float):
        super().__init__()
        self.min_rate = min_rate
        self.growth = growth
        self.smoothing = smoothing
        self.rates: list[float] = []
        self.losses: list[float] = []
        self._average = 0.0
        self._best = math.inf

    def on_train_batch_begin(self, batch, logs=None):
        self.model.optimizer.learning_rate = self.min_rate * self.growth**batch
        # Keras reports the loss averaged since the epoch began; reset, it is this step's.
        self.model.reset_metrics()

    def on_train_batch_end(self, batch, logs=None):
        loss = float(logs["loss"])
        if not math.isfinite(loss):
            self.model.stop_training = True
            return
        self._average = self.smoothing * self._average + (1.0 - self.smoothing) * loss
        # Bias correction: the average starts at 0, which would fake a low early loss.
        smoothed = self._average / (1.0 - self.smoothing ** (len(self.losses) + 1))
        self.rates.append(self.min_rate * self.growth**batch)
        self.losses.append(smoothed)
        self._best = min(self._best, smoothed)
        if smoothed > DIVERGENCE_FACTOR * self._best:
            self.model.stop_training = True


def _check_arguments(
    model: keras.Model, min_rate: float, max_rate: float, steps: int, smoothing: float
) -> None:
    if not 0 < min_rate < max_rate:
        raise ValueError(
            f"The learning-rate finder needs 0 < min_rate < max_rate, got min_rate {min_rate} "
            f"and max_rate {max_rate}."
        )
    if steps < 2:
        raise ValueError(f"The learning-rate finder needs at least 2 steps, got {steps}.")
    if not 0 <= smoothing < 1:
        raise ValueError(f"The loss smoothing must be in [0, 1), got {smoothing}.")
    optimizer = getattr(model, "optimizer", None)
    if not isinstance(optimizer, keras.optimizers.Optimizer):
        raise ValueError(
            f"Model {model.name!r} must be compiled with a tf_keras optimizer (not a legacy "
            f"one) before the learning-rate finder runs, got {type(optimizer).__name__}."
        )
    # A scheduled optimizer keeps its schedule in `_learning_rate`; its public
    # rate is then a read-only record of the last step's rate.
    if isinstance(
        getattr(optimizer, "_learning_rate", None), keras.optimizers.schedules.LearningRateSchedule
    ):
        raise ValueError(
            f"Model {model.name!r} is compiled with a learning-rate schedule; the finder sets "
            f"the rate of every step itself, so compile it with a float learning rate."
        )
    if not model.built:
        raise ValueError(
            f"Model {model.name!r} has no weights yet; give it an input shape (keras.Input) "
            f"or call it once before the learning-rate finder runs."
        )


def find_learning_rate(
    model: keras.Model,
    dataset: tf.data.Dataset,
    min_rate: float = 1e-6,
    max_rate: float = 1.0,
    steps: int = 300,
    smoothing: float = 0.9,
) -> LrFinderResult:
    """Runs a learning-rate range test and proposes a 1cycle peak rate.

    Trains `model` on `dataset` (repeated as needed) for up to `steps`
    steps, the rate growing by a constant factor each step from `min_rate` to
    `max_rate`, and stops early when the smoothed loss exceeds
    `DIVERGENCE_FACTOR` times its minimum or is not finite. Afterwards the
    model's weights (trainable or not) and the optimizer's variables
    (iterations, slots) and learning rate are what they were before.

    Args:
      model: A built model compiled with a tf_keras optimizer and a float
        learning rate, and `steps_per_execution` 1.
      dataset: Batches of (features, labels), as `model.fit` takes them.
      min_rate: The first step's rate. Defaults to 1e-6.
      max_rate: The last step's rate. Defaults to 1.0.
      steps: Steps from `min_rate` to `max_rate`. Defaults to 300.
      smoothing: Weight of the past in the exponential moving average of the
        loss. Defaults to 0.9: it averages over about 10 steps, a fifth of a
        decade of rates at the defaults, smooth enough to find the minimum
        without shifting it far to the right.

    Returns:
      The rates, smoothed losses and proposed peak rate.

    Raises:
      ValueError: The model is not built or not compiled with a float rate,
        the range, `steps` or `smoothing` is invalid, or the first step's loss was not
        finite.
    """
    _check_arguments(model, min_rate, max_rate, steps, smoothing)
    optimizer = model.optimizer
    # Built now, the optimizer's slots exist to be saved and put back; fit
    # would otherwise create them during the test.
    with model.distribute_strategy.scope(), tf.name_scope(optimizer.name):
        optimizer.build(model.trainable_variables)
    initial_weights = model.get_weights()
    initial_optimizer_state = [variable.numpy() for variable in optimizer.variables]
    initial_rate = float(keras.backend.get_value(optimizer.learning_rate))

    test = _RateRangeTest(min_rate, (max_rate / min_rate) ** (1.0 / (steps - 1)), smoothing)
    try:
        model.fit(dataset.repeat(), epochs=1, steps_per_epoch=steps, callbacks=[test], verbose=0)
    finally:
        model.set_weights(initial_weights)
        for variable, value in zip(optimizer.variables, initial_optimizer_state, strict=True):
            variable.assign(value)
        optimizer.learning_rate = initial_rate
        model.reset_metrics()

    if not test.losses:
        raise ValueError(
            f"The learning-rate finder's first step on model {model.name!r} gave a loss that is "
            f"not finite at rate {min_rate}; lower `min_rate` or check the data for NaNs."
        )
    best_rate = test.rates[test.losses.index(min(test.losses))]
    result = LrFinderResult(
        rates=tuple(test.rates),
        losses=tuple(test.losses),
        proposed_max_rate=best_rate / PROPOSAL_DIVISOR,
    )
    if result.best_rate == result.rates[0]:
        logger.warning(
            "The loss was lowest at the first rate tried (%g): the range starts too high, "
            "so the proposed rate %g may be too high as well; lower `min_rate`.",
            result.rates[0],
            result.proposed_max_rate,
        )
    logger.info(
        "Learning-rate finder: %d steps, lowest loss %.4g at rate %g, proposed peak rate %g.",
        len(result.rates),
        min(result.losses),
        result.best_rate,
        result.proposed_max_rate,
    )
    return result


def plot_lr_finder(result: LrFinderResult) -> Figure:
    """Draws the smoothed loss against the learning rate, log x axis, proposal marked.

    Args:
      result: A learning-rate finder run.

    Returns:
      The figure, on an Agg canvas (no pyplot, no display needed).
    """
    fig = Figure(figsize=(6.0, 3.6), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    ax.plot(result.rates, result.losses, color="C0", label="smoothed loss")
    ax.plot(
        [result.best_rate],
        [min(result.losses)],
        marker="o",
        color="C1",
        linestyle="none",
        label=f"lowest loss (rate {result.best_rate:.3g})",
    )
    ax.axvline(
        result.proposed_max_rate,
        color="C2",
        linestyle="--",
        label=f"proposed max rate {result.proposed_max_rate:.3g}",
    )
    ax.set_xscale("log")
    ax.set(title="Learning-rate finder", xlabel="learning rate (log scale)", ylabel="loss")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize="small")
    return fig


def save_lr_finder_plot(result: LrFinderResult, path: str) -> None:
    """Writes `plot_lr_finder(result)` as a PNG to `path`, local or remote (gs://...).

    Args:
      result: A learning-rate finder run.
      path: The PNG file to write; missing parent directories are created.
    """
    buffer = io.BytesIO()
    # No "Software" entry: the PNG then carries no matplotlib URL (as the report's figures).
    plot_lr_finder(result).savefig(buffer, format="png", dpi=_PNG_DPI, metadata={"Software": None})
    parent = os.path.dirname(path)
    if parent:
        tf.io.gfile.makedirs(parent)
    with tf.io.gfile.GFile(path, "wb") as f:
        f.write(buffer.getvalue())
