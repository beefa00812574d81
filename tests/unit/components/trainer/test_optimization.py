"""Optimizer choice and the per-step learning-rate record."""

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from components.trainer import callbacks, momentum, optimization, schedules
from components.trainer.hparams import HParams

W0 = np.array([1.0, -2.0], "float32")
LR = 0.1
SIGN = np.sign(W0)
# Nadam's first step is lr * sign(g) * (1 + u2 (1 - b1) / (1 - u1 u2)), with Keras'
# momentum schedule u_t = b1 (1 - 0.5 * 0.96 ** t) (Dozat, 2016), b1 = 0.9.
_U1, _U2 = 0.9 * (1 - 0.5 * 0.96), 0.9 * (1 - 0.5 * 0.96**2)
NADAM_FIRST_STEP = 1 + _U2 * 0.1 / (1 - _U1 * _U2)


def _steps(optimizer, n):
    """`n` steps on the quadratic 0.5 * |w|^2 (gradient = w) from W0."""
    w = tf.Variable(W0)
    for _ in range(n):
        optimizer.apply_gradients([(tf.identity(w), w)])
    return w.numpy()


@pytest.mark.parametrize(
    "name, steps, expected",
    [
        ("sgd", 1, W0 - LR * W0),
        ("sgd", 2, W0 * 0.9**2),
        # Two steps, so the velocity counts: w2 = w1 + (0.9 * -lr g0 - lr g1).
        ("momentum", 2, [0.72, -1.44]),
        # Nesterov looks ahead: its first step is lr * (1 + momentum) * g.
        ("nesterov", 1, W0 - LR * 1.9 * W0),
        # Accumulator starts at 0.1: w - lr g / sqrt(0.1 + g^2).
        ("adagrad", 1, W0 - LR * W0 / np.sqrt(0.1 + W0**2)),
        # v = (1 - rho) g^2 = 0.1 g^2: the step is lr * sign(g) / sqrt(0.1).
        ("rmsprop", 1, W0 - LR * SIGN / np.sqrt(0.1)),
        # Bias-corrected first moments make Adam's and AdaMax's first step lr * sign(g).
        ("adam", 1, W0 - LR * SIGN),
        ("adamax", 1, W0 - LR * SIGN),
        ("nadam", 1, W0 - LR * NADAM_FIRST_STEP * SIGN),
        # Decoupled decay first (w * (1 - lr * wd), wd = 0.5), then Adam's step.
        ("adamw", 1, W0 * (1 - LR * 0.5) - LR * SIGN),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_each_optimizer_matches_the_hand_computed_update(name, steps, expected):
    optimizer = optimization.make_optimizer(
        HParams(optimizer=name, learning_rate=LR, weight_decay=0.5).resolve()
    )
    np.testing.assert_allclose(_steps(optimizer, steps), expected, rtol=1e-4)


@pytest.mark.parametrize(
    "clipping, expected_step",
    [
        # By value: each component alone; the direction changes (0.9 vs 1.0, not 0.009 vs 1).
        ({"clip_value": 1.0}, [0.9, 1.0]),
        # By norm: the vector is scaled to norm 1; the direction is kept.
        ({"clip_norm": 1.0}, np.array([0.9, 100.0]) / np.hypot(0.9, 100.0)),
    ],
    ids=["by-value", "by-norm"],
)
def test_gradient_clipping(clipping, expected_step):
    optimizer = optimization.make_optimizer(
        HParams(optimizer="sgd", learning_rate=1.0, **clipping).resolve()
    )
    w = tf.Variable([0.0, 0.0])
    optimizer.apply_gradients([(tf.constant([0.9, 100.0]), w)])
    np.testing.assert_allclose(-w.numpy(), expected_step, rtol=1e-5)


@pytest.mark.parametrize(
    "schedule, kind",
    [
        ("plateau", float),
        ("constant", float),
        ("one_cycle", schedules.OneCycle),
        ("power", schedules.PowerSchedule),
        ("exponential", schedules.ExponentialSchedule),
        ("piecewise", schedules.PiecewiseConstantSchedule),
    ],
    ids=str,
)
def test_the_learning_rate_follows_the_schedule(schedule, kind):
    hparams = HParams(lr_schedule=schedule, scheduled_epochs=4, one_cycle_max_rate=0.05).resolve()
    rate = optimization.make_learning_rate(hparams, steps_per_epoch=25)
    assert isinstance(rate, kind)
    if schedule == "one_cycle":
        # Peak at the middle of the non-annihilation part of 4 x 25 steps.
        assert float(rate(45)) == pytest.approx(0.05)


@pytest.mark.parametrize(
    "schedule, has_plateau, has_early_stop, has_momentum_cycle",
    [
        ("plateau", True, True, False),
        ("exponential", False, True, False),
        ("one_cycle", False, False, True),
    ],
    ids=str,
)
def test_callbacks_follow_the_schedule(schedule, has_plateau, has_early_stop, has_momentum_cycle):
    callbacks = optimization.make_callbacks(
        HParams(lr_schedule=schedule).resolve(), steps_per_epoch=10
    )
    kinds = {type(c) for c in callbacks}
    assert (keras.callbacks.ReduceLROnPlateau in kinds) is has_plateau
    assert any(isinstance(c, keras.callbacks.EarlyStopping) for c in callbacks) is has_early_stop
    assert (momentum.MomentumScheduler in kinds) is has_momentum_cycle
    epochs = optimization.training_epochs(HParams(lr_schedule=schedule).resolve())
    assert epochs == (200 if schedule == "plateau" else 12)


def test_one_cycle_changes_rate_and_momentum_every_step():
    hparams = HParams(
        lr_schedule="one_cycle", scheduled_epochs=2, one_cycle_max_rate=0.1, optimizer="nesterov"
    ).resolve()
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(
        optimizer=optimization.make_optimizer(
            hparams, optimization.make_learning_rate(hparams, steps_per_epoch=5)
        ),
        loss="mse",
    )
    cbs = optimization.make_callbacks(hparams, steps_per_epoch=5)
    recorder = next(c for c in cbs if isinstance(c, callbacks.StepRecorder))
    x, y = np.ones((20, 2), "float32"), np.zeros((20, 1), "float32")
    model.fit(x, y, batch_size=4, epochs=2, verbose=0, callbacks=cbs)
    assert len(recorder.learning_rate) == 10
    assert max(recorder.learning_rate) > 5 * recorder.learning_rate[0]
    # Momentum moves opposite to the rate: lowest where the rate peaks.
    peak = int(np.argmax(recorder.learning_rate))
    assert recorder.momentum[peak] == pytest.approx(min(recorder.momentum), abs=1e-6)
    assert recorder.momentum[0] == pytest.approx(0.95)


def test_step_recorder_sees_every_step_and_each_rate_change():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9), loss="mse")
    recorder = callbacks.StepRecorder()
    halve_after_first_epoch = keras.callbacks.LearningRateScheduler(
        lambda epoch, lr: 0.1 if epoch == 0 else 0.05
    )
    x, y = np.ones((12, 2), "float32"), np.zeros((12, 1), "float32")
    model.fit(
        x, y, batch_size=4, epochs=2, verbose=0, callbacks=[halve_after_first_epoch, recorder]
    )
    assert recorder.learning_rate == pytest.approx([0.1] * 3 + [0.05] * 3)
    assert recorder.momentum == pytest.approx([0.9] * 6)


def test_callbacks_stop_early_and_restore_the_best_weights():
    callbacks = optimization.make_callbacks(HParams(early_stopping_patience=4))
    stopping = next(c for c in callbacks if isinstance(c, keras.callbacks.EarlyStopping))
    assert stopping.patience == 4 and stopping.restore_best_weights
    assert stopping.monitor == "val_loss"


def test_epoch_logger_reports_each_epoch_through_logging(caplog):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((4, 2), "float32"), np.zeros((4, 1), "float32")
    with caplog.at_level("INFO", logger="components.trainer.callbacks"):
        model.fit(x, y, epochs=2, verbose=0, callbacks=[callbacks.EpochLogger()])
    lines = [r.getMessage() for r in caplog.records if r.name == "components.trainer.callbacks"]
    assert [line.split(":")[0] for line in lines] == ["epoch 1", "epoch 2"]
    assert "loss " in lines[0]


def test_step_recorder_records_the_rate_each_step_uses_under_a_schedule():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    schedule = schedules.PiecewiseConstantSchedule([2], [0.1, 0.01])
    model.compile(optimizer=keras.optimizers.SGD(schedule), loss="mse")
    recorder = callbacks.StepRecorder()
    x, y = np.ones((16, 2), "float32"), np.zeros((16, 1), "float32")
    model.fit(x, y, batch_size=4, epochs=1, verbose=0, callbacks=[recorder])
    assert recorder.learning_rate == pytest.approx([0.1, 0.1, 0.01, 0.01])


def test_norm_logger_writes_each_layers_weight_and_gradient_norm(tmp_path):
    model = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(4, name="a"), keras.layers.Dense(1, name="b")]
    )
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse")
    x = np.arange(24, dtype="float32").reshape(8, 3) / 10
    y = np.ones((8, 1), "float32")
    logger = callbacks.NormLogger(str(tmp_path), (x, y))
    model.fit(x, y, epochs=2, verbose=0, callbacks=[logger])

    # Gradient norms against a hand-rolled tape on the same batch.
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(model(x) - y))
    expected = tape.gradient(loss, model.trainable_variables)
    norms = logger.norms()
    for variable, gradient in zip(model.trainable_variables, expected, strict=True):
        weight_norm, gradient_norm = norms[variable.name]
        assert weight_norm == pytest.approx(float(tf.norm(variable)), rel=1e-6)
        assert gradient_norm == pytest.approx(float(tf.norm(gradient)), rel=1e-5)

    tags = set()
    for path in (tmp_path / "train").iterdir():
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            tags |= {value.tag for value in event.summary.value}
    assert {"weight_norm/a/kernel_0", "gradient_norm/b/bias_0"} <= tags


def test_early_stopping_has_a_relative_margin_by_default():
    made = optimization.make_callbacks(HParams().resolve())
    stopping = next(c for c in made if isinstance(c, keras.callbacks.EarlyStopping))
    assert isinstance(stopping, callbacks.MarginEarlyStopping)
    assert stopping.relative_min_delta == HParams().early_stopping_min_delta == 0.01


@pytest.mark.parametrize(
    "min_delta, losses, epochs_run, restored_epoch",
    [
        # 0.98 is 2% under 1.0: counted; the slide after it (under 1% of 0.98 within
        # two epochs) is not, so patience 2 runs out two epochs after epoch 1; the
        # weights restored are the lowest loss's all the same (epoch 3).
        (0.01, [1.0, 0.98, 0.975, 0.971, 0.968], 4, 3),
        # Without a margin every drop counts and training runs on.
        (0.0, [1.0, 0.98, 0.975, 0.971, 0.968], 5, 4),
        # A rise is never an improvement, whatever the margin.
        (0.01, [1.0, 1.2, 1.1, 0.5], 3, 0),
    ],
    ids=["margin-stops-the-slide", "no-margin-runs-on", "rise"],
)
def test_margin_early_stopping_counts_only_drops_beyond_the_margin(
    min_delta, losses, epochs_run, restored_epoch
):
    model = keras.Sequential([keras.layers.Dense(1, input_shape=(1,))])
    stopping = callbacks.MarginEarlyStopping(
        min_delta, monitor="val_loss", patience=2, restore_best_weights=True
    )
    stopping.set_model(model)
    stopping.on_train_begin()
    for epoch, loss in enumerate(losses):
        model.set_weights([np.full((1, 1), float(epoch)), np.zeros(1)])
        stopping.on_epoch_end(epoch, {"val_loss": loss})
        if model.stop_training:
            break
    stopping.on_train_end()
    assert epoch + 1 == epochs_run
    assert model.get_weights()[0][0, 0] == restored_epoch
    assert stopping.best_epoch == restored_epoch


@pytest.mark.parametrize("bad", [-0.1, 1.0])
def test_margin_outside_zero_to_one_is_refused(bad):
    with pytest.raises(ValueError, match="early_stopping_min_delta"):
        HParams(early_stopping_min_delta=bad)
    with pytest.raises(ValueError, match="relative_min_delta"):
        callbacks.MarginEarlyStopping(bad)
