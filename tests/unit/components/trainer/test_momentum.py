"""Momentum scheduling: the compiled step really uses the scheduled momentum, across fits."""

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from components.trainer import callbacks, schedules
from components.trainer import momentum as momentum_lib


def _regression_data(rows: int = 40):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, 2)).astype("float32")
    return x, (x @ np.array([[1.0], [-2.0]], "float32") + 0.5).astype("float32")


def _linear_model() -> keras.Model:
    return keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, kernel_initializer="zeros")])


def _one_weight_model() -> keras.Model:
    return keras.Sequential(
        [keras.Input((1,)), keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros")]
    )


def test_momentum_scheduler_changes_the_compiled_update():
    # Loss (w - 1)^2 on x = y = 1: gradient 2(w - 1); SGD: v = mu v - 0.1 g, w += v.
    # Momentum 0.9, 0.7, 0.5 at steps 0-2 (total 4 steps, no annihilation):
    #   step 0: g = -2,   v = 0.2,              w = 0.2
    #   step 1: g = -1.6, v = 0.7 * 0.2 + 0.16 = 0.30, w = 0.5
    #   step 2: g = -1.0, v = 0.5 * 0.3 + 0.10 = 0.25, w = 0.75
    # (A momentum frozen at trace time would give w = 0.54 after step 1.)
    momentum = schedules.OneCycleMomentum(
        total_steps=4, max_momentum=0.9, min_momentum=0.5, annihilation_fraction=0.0
    )
    model = _one_weight_model()
    model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9), loss="mse")
    assert not model.run_eagerly
    recorder = callbacks.StepRecorder()
    ones = np.ones((3, 1), "float32")
    model.fit(
        ones,
        ones,
        batch_size=1,
        shuffle=False,
        verbose=0,
        callbacks=[momentum_lib.MomentumScheduler(momentum), recorder],
    )
    assert recorder.momentum == pytest.approx([0.9, 0.7, 0.5])
    assert model.get_weights()[0].item() == pytest.approx(0.75)
    # After fit the hyperparameter is a float again, so the optimizer config serializes.
    assert model.optimizer.momentum == pytest.approx(0.5)
    assert isinstance(model.optimizer.momentum, float)


def test_a_float_momentum_set_during_fit_is_ignored_by_the_compiled_step():
    """Why MomentumScheduler swaps in a variable: tf_keras traces the float once."""

    class SetFloatMomentum(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            self.model.optimizer.momentum = [0.9, 0.7, 0.5][batch]

    model = _one_weight_model()
    model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9), loss="mse")
    ones = np.ones((3, 1), "float32")
    model.fit(ones, ones, batch_size=1, shuffle=False, verbose=0, callbacks=[SetFloatMomentum()])
    # Momentum 0.9 throughout: w = 0.2, then 0.2 + 0.34 = 0.54, then 0.54 + 0.398 = 0.938.
    assert model.get_weights()[0].item() == pytest.approx(0.938)


@pytest.mark.parametrize(
    "make_optimizer, attribute",
    [
        (lambda: keras.optimizers.SGD(0.05, momentum=0.9, nesterov=True), "momentum"),
        (lambda: keras.optimizers.AdamW(0.05, jit_compile=False), "beta_1"),
    ],
    ids=["sgd-nesterov", "adamw"],
)
def test_scheduled_momentum_compiled_matches_eager(make_optimizer, attribute):
    # Eager mode reads the Python attribute on every step, so it is the reference.
    momentum = schedules.OneCycleMomentum(total_steps=5, max_momentum=0.95, min_momentum=0.5)
    x, y = _regression_data(40)

    def train(run_eagerly: bool, scheduled: bool) -> np.ndarray:
        model = _linear_model()
        optimizer = make_optimizer()
        model.compile(optimizer=optimizer, loss="mse", run_eagerly=run_eagerly)
        assert momentum_lib.momentum_attribute(optimizer) == attribute
        extra = [momentum_lib.MomentumScheduler(momentum)] if scheduled else []
        model.fit(x, y, batch_size=8, shuffle=False, verbose=0, callbacks=extra)
        return model.get_weights()[0]

    compiled = train(run_eagerly=False, scheduled=True)
    np.testing.assert_allclose(compiled, train(run_eagerly=True, scheduled=True), rtol=1e-5)
    assert not np.allclose(compiled, train(run_eagerly=False, scheduled=False), rtol=1e-3)


def test_momentum_scheduler_follows_the_step_across_fits_and_stays_out_of_checkpoints(tmp_path):
    momentum = schedules.OneCycleMomentum(
        total_steps=8, max_momentum=0.9, min_momentum=0.5, annihilation_fraction=0.0
    )
    x, y = _regression_data(16)

    def train(run_eagerly: bool) -> tuple[keras.Model, list[float]]:
        model = _linear_model()
        model.compile(
            optimizer=keras.optimizers.SGD(0.05, momentum=0.9), loss="mse", run_eagerly=run_eagerly
        )
        # A first fit without the scheduler traces the train step with the float 0.9.
        model.fit(x, y, batch_size=8, shuffle=False, verbose=0)
        recorder = callbacks.StepRecorder()
        for _ in range(2):
            scheduler = momentum_lib.MomentumScheduler(momentum)
            model.fit(x, y, batch_size=8, shuffle=False, verbose=0, callbacks=[scheduler, recorder])
        return model, recorder.momentum

    model, recorded = train(run_eagerly=False)
    # Steps 2-5 of 0.9 -> 0.5 (step 4) -> 0.9 over 8 steps.
    assert recorded == pytest.approx([0.7, 0.6, 0.5, 0.6])
    eager, _ = train(run_eagerly=True)
    np.testing.assert_allclose(model.get_weights()[0], eager.get_weights()[0], rtol=1e-5)
    checkpoint = tf.train.Checkpoint(model=model, optimizer=model.optimizer)
    written = checkpoint.write(str(tmp_path / "ckpt"))
    assert not [name for name, _ in tf.train.list_variables(written) if "momentum" in name]


@pytest.mark.parametrize(
    "optimizer, expected",
    [
        (keras.optimizers.SGD(), "momentum"),
        (keras.optimizers.RMSprop(), "momentum"),
        (keras.optimizers.Adam(), "beta_1"),
        (keras.optimizers.Nadam(), "beta_1"),
        (keras.optimizers.Adagrad(), None),
    ],
    ids=["sgd", "rmsprop", "adam", "nadam", "adagrad"],
)
def test_momentum_attribute(optimizer, expected):
    if expected is None:
        with pytest.raises(ValueError, match="Adagrad has no momentum"):
            momentum_lib.momentum_attribute(optimizer)
    else:
        assert momentum_lib.momentum_attribute(optimizer) == expected
