"""Learning-rate and momentum schedules: formulas at chosen steps, per-step use in fit, resuming."""

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from components.trainer import callbacks, optimization, schedules
from components.trainer import momentum as momentum_lib

ONE_CYCLE = schedules.OneCycle(max_rate=1.0, total_steps=100)
ONE_CYCLE_MOMENTUM = schedules.OneCycleMomentum(total_steps=100)
POWER = schedules.PowerSchedule(initial_rate=1.0, decay_steps=10, power=2.0)
EXPONENTIAL = schedules.ExponentialSchedule(initial_rate=1.0, decay_steps=10)
PIECEWISE = schedules.PiecewiseConstantSchedule(boundaries=[10, 20], values=[1.0, 0.1, 0.01])

# OneCycle(max_rate=1, total_steps=100): start 0.1, final 1e-4; the cycle spans
# steps 0-90 (peak at 45), annihilation 90-100. Momentum mirrors it, 0.95 -> 0.85 -> 0.95.
SCHEDULE_VALUES = [
    (ONE_CYCLE, 0, 0.1),
    (ONE_CYCLE, 22.5, 0.55),
    (ONE_CYCLE, 45, 1.0),
    (ONE_CYCLE, 67.5, 0.55),
    (ONE_CYCLE, 90, 0.1),
    (ONE_CYCLE, 95, 0.05005),
    (ONE_CYCLE, 100, 0.0001),
    (ONE_CYCLE, 150, 0.0001),
    (ONE_CYCLE_MOMENTUM, 0, 0.95),
    (ONE_CYCLE_MOMENTUM, 22.5, 0.90),
    (ONE_CYCLE_MOMENTUM, 45, 0.85),
    (ONE_CYCLE_MOMENTUM, 67.5, 0.90),
    (ONE_CYCLE_MOMENTUM, 90, 0.95),
    (ONE_CYCLE_MOMENTUM, 95, 0.95),
    (ONE_CYCLE_MOMENTUM, 150, 0.95),
    # 1 / (1 + step / 10) ** 2
    (POWER, 0, 1.0),
    (POWER, 10, 0.25),
    (POWER, 30, 0.0625),
    # 0.1 ** (step / 10)
    (EXPONENTIAL, 0, 1.0),
    (EXPONENTIAL, 5, 0.31622777),
    (EXPONENTIAL, 10, 0.1),
    (EXPONENTIAL, 20, 0.01),
    # A boundary is the first step of the next rate.
    (PIECEWISE, 0, 1.0),
    (PIECEWISE, 9, 1.0),
    (PIECEWISE, 10, 0.1),
    (PIECEWISE, 19, 0.1),
    (PIECEWISE, 20, 0.01),
    (PIECEWISE, 1000, 0.01),
]


@pytest.mark.parametrize(
    "schedule, step, expected",
    SCHEDULE_VALUES,
    ids=[f"{type(s).__name__}-step{step}" for s, step, _ in SCHEDULE_VALUES],
)
def test_schedule_value_at_step(schedule, step, expected):
    assert float(schedule(step)) == pytest.approx(expected, rel=1e-5)


def test_one_cycle_without_annihilation_is_a_triangle_then_the_final_rate():
    schedule = schedules.OneCycle(
        max_rate=0.5, total_steps=10, start_rate=0.1, annihilation_fraction=0.0
    )
    rates = [float(schedule(step)) for step in range(12)]
    # Up 0.08 per step to 0.5 at step 5, down to 0.1 at step 10 = total_steps, where
    # the final rate 0.1 / 1000 takes over.
    expected = [0.1, 0.18, 0.26, 0.34, 0.42, 0.5, 0.42, 0.34, 0.26, 0.18, 1e-4, 1e-4]
    assert rates == pytest.approx(expected, rel=1e-5)


def test_schedule_takes_the_optimizer_step_variable():
    step = tf.Variable(45, dtype=tf.int64)
    assert float(ONE_CYCLE(step)) == pytest.approx(1.0)


ALL_SCHEDULES = [ONE_CYCLE, ONE_CYCLE_MOMENTUM, POWER, EXPONENTIAL, PIECEWISE]


@pytest.mark.parametrize("schedule", ALL_SCHEDULES, ids=lambda s: type(s).__name__)
def test_config_round_trip(schedule):
    config = schedule.get_config()
    serialized = keras.optimizers.schedules.serialize(schedule)
    assert serialized["registered_name"] == f"deepline>{type(schedule).__name__}"
    restored = keras.optimizers.schedules.deserialize(serialized)
    assert type(restored) is type(schedule)
    assert restored.get_config() == config
    assert [float(restored(s)) for s in (0, 7, 33, 95)] == [
        float(schedule(s)) for s in (0, 7, 33, 95)
    ]


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: schedules.OneCycle(max_rate=0.0, total_steps=10), "max_rate"),
        (lambda: schedules.OneCycle(max_rate=0.1, total_steps=10, start_rate=1.0), "exceed"),
        (lambda: schedules.OneCycle(1.0, 10, annihilation_fraction=1.0), "annihilation"),
        (lambda: schedules.OneCycleMomentum(10, max_momentum=0.8, min_momentum=0.9), "min_mom"),
        (lambda: schedules.PowerSchedule(1.0, decay_steps=0), "decay_steps"),
        (lambda: schedules.PiecewiseConstantSchedule([10], [1.0]), "one rate more"),
        (lambda: schedules.PiecewiseConstantSchedule([20, 10], [1, 2, 3]), "increasing"),
    ],
    ids=[
        "zero-max-rate",
        "start-above-max",
        "all-annihilation",
        "momenta-swapped",
        "zero-decay-steps",
        "piecewise-lengths",
        "piecewise-order",
    ],
)
def test_invalid_schedule_arguments_are_rejected(build, message):
    with pytest.raises(ValueError, match=message):
        build()


@pytest.mark.parametrize(
    "name, kwargs, points",
    [
        ("constant", {}, None),
        ("plateau", {}, None),
        # decay_steps 90 / 9 = 10: 0.1 / (1 + 90 / 10) = 0.01 at the end.
        ("power", {}, [(0, 0.1), (10, 0.05), (90, 0.01)]),
        ("exponential", {}, [(0, 0.1), (45, 0.031622777), (90, 0.01)]),
        ("exponential", {"decay_steps": 45}, [(45, 0.01)]),
        # Tenfold drops at 50% and 75% of 90 steps: steps 45 and 68 (67.5 rounded).
        ("piecewise", {}, [(44, 0.1), (45, 0.01), (67, 0.01), (68, 0.001)]),
        ("piecewise", {"boundaries": [30], "factor": 0.5}, [(29, 0.1), (30, 0.05)]),
        # Peak at 0.1 at step (90 - 9) / 2 = 40.5, start 0.01, final 1e-5.
        ("one_cycle", {}, [(0, 0.01), (40.5, 0.1), (81, 0.01), (90, 1e-5)]),
    ],
    ids=[
        "constant",
        "plateau",
        "power",
        "exponential",
        "exponential-decay-steps",
        "piecewise",
        "piecewise-options",
        "one-cycle",
    ],
)
def test_make_schedule(name, kwargs, points):
    schedule = optimization.make_schedule(name, learning_rate=0.1, total_steps=90, **kwargs)
    if points is None:
        assert isinstance(schedule, float) and schedule == 0.1
        return
    assert isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule)
    for step, expected in points:
        assert float(schedule(step)) == pytest.approx(expected, rel=1e-5), step


@pytest.mark.parametrize(
    "name, kwargs, error",
    [
        ("cosine", {}, ValueError),
        ("constant", {"decay_steps": 10}, TypeError),
        ("piecewise", {"values": [1, 2]}, TypeError),
        ("power", {"gamma": 2}, TypeError),
    ],
    ids=["unknown-name", "constant-with-option", "piecewise-values", "power-unknown-option"],
)
def test_make_schedule_rejects_unknown_names_and_options(name, kwargs, error):
    with pytest.raises(error):
        optimization.make_schedule(name, learning_rate=0.1, total_steps=90, **kwargs)


class RateOfEachStep(keras.callbacks.Callback):
    """The rate each step used: a scheduled optimizer's `learning_rate` after the step."""

    def __init__(self):
        super().__init__()
        self.steps: list[int] = []
        self.rates: list[float] = []

    def on_train_batch_end(self, batch, logs=None):
        optimizer = self.model.optimizer
        self.steps.append(int(optimizer.iterations) - 1)
        self.rates.append(float(keras.backend.get_value(optimizer.learning_rate)))


def _regression_data(rows: int = 40):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, 2)).astype("float32")
    return x, (x @ np.array([[1.0], [-2.0]], "float32") + 0.5).astype("float32")


def _linear_model() -> keras.Model:
    return keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, kernel_initializer="zeros")])


@pytest.mark.parametrize(
    "schedule",
    [
        schedules.OneCycle(max_rate=0.1, total_steps=10),
        schedules.PiecewiseConstantSchedule([3, 7], [0.1, 0.05, 0.01]),
        schedules.ExponentialSchedule(0.1, decay_steps=5),
    ],
    ids=["one-cycle", "piecewise", "exponential"],
)
def test_fit_steps_with_the_schedule_rate_of_each_step(schedule):
    model = _linear_model()
    model.compile(optimizer=keras.optimizers.SGD(schedule), loss="mse")
    recorder = RateOfEachStep()
    x, y = _regression_data(40)
    # 40 rows in batches of 8: 5 steps per epoch, 10 in all.
    model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0, callbacks=[recorder])
    assert recorder.steps == list(range(10))
    assert recorder.rates == pytest.approx([float(schedule(step)) for step in range(10)])


def _reload_keras_file(model: keras.Model, directory) -> keras.Model:
    path = str(directory / "model.keras")
    model.save(path)
    return keras.models.load_model(path)


def _reload_checkpoint(model: keras.Model, directory) -> keras.Model:
    # A TF-format weights checkpoint holds the optimizer's variables too.
    path = str(directory / "ckpt")
    model.save_weights(path)
    fresh = _linear_model()
    fresh.compile(
        optimizer=keras.optimizers.SGD.from_config(model.optimizer.get_config()), loss="mse"
    )
    fresh.load_weights(path)
    return fresh


# Not a SavedModel: tf_keras' `load_model` of one compiles a fresh optimizer,
# with `iterations` back at 0, although the SavedModel holds the old state.
@pytest.mark.parametrize(
    "reload", [_reload_keras_file, _reload_checkpoint], ids=["keras-file", "tf-checkpoint"]
)
def test_reloaded_model_resumes_the_schedules_at_the_saved_step(tmp_path, reload):
    rate = schedules.OneCycle(max_rate=0.1, total_steps=20)
    momentum = schedules.OneCycleMomentum(total_steps=20)
    model = _linear_model()
    model.compile(optimizer=keras.optimizers.SGD(rate, momentum=0.95), loss="mse")
    x, y = _regression_data(48)
    # 48 rows in batches of 8: 6 steps before saving.
    model.fit(
        x,
        y,
        batch_size=8,
        shuffle=False,
        verbose=0,
        callbacks=[momentum_lib.MomentumScheduler(momentum)],
    )

    reloaded = reload(model, tmp_path)
    assert int(reloaded.optimizer.iterations) == 6
    rates, steps = RateOfEachStep(), callbacks.StepRecorder()
    reloaded.fit(
        x,
        y,
        batch_size=8,
        shuffle=False,
        verbose=0,
        callbacks=[momentum_lib.MomentumScheduler(momentum), steps, rates],
    )
    assert rates.steps == list(range(6, 12))
    assert rates.rates == pytest.approx([float(rate(step)) for step in range(6, 12)])
    # Steps 6-9 are the down half of the momentum cycle (peak rate at step 9).
    assert steps.momentum == pytest.approx([float(momentum(step)) for step in range(6, 12)])
    assert steps.momentum[:4] == pytest.approx([0.95 - 0.1 * s / 9 for s in range(6, 10)])


# FlatCosine(rate 2, 100 steps, flat half): 2 until step 50, then 1 + cos(pi (t - 50) / 50).
FLAT_COSINE = schedules.FlatCosine(rate=2.0, total_steps=100, flat_fraction=0.5)


@pytest.mark.parametrize(
    "step, expected",
    [
        (0, 2.0),
        (49, 2.0),
        (50, 2.0),
        (62.5, 1.0 + np.sqrt(0.5)),  # a quarter of the cosine: 1 + cos(pi / 4)
        (75, 1.0),  # half way down
        (87.5, 1.0 - np.sqrt(0.5)),
        (100, 0.0),
        (130, 0.0),
    ],
)
def test_flat_cosine_at_chosen_steps(step, expected):
    assert float(FLAT_COSINE(step)) == pytest.approx(expected, abs=1e-6)


def test_flat_cosine_without_a_flat_part_starts_decaying_at_once():
    schedule = schedules.FlatCosine(rate=1.0, total_steps=10, flat_fraction=0.0)
    assert float(schedule(5)) == pytest.approx(0.5, abs=1e-6)
    assert float(schedule(1)) < 1.0


def test_flat_cosine_config_round_trip():
    again = schedules.FlatCosine.from_config(FLAT_COSINE.get_config())
    assert [float(again(s)) for s in (0, 60, 90)] == [float(FLAT_COSINE(s)) for s in (0, 60, 90)]


def test_flat_cosine_refuses_a_fraction_outside_0_1():
    with pytest.raises(ValueError, match="flat_fraction"):
        schedules.FlatCosine(rate=1.0, total_steps=10, flat_fraction=1.5)
