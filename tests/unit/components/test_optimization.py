"""Optimizer choice and the per-step learning-rate record."""

import numpy as np
import pytest
import tf_keras as keras

from components.trainer import callbacks, optimization
from components.trainer.hparams import HParams


@pytest.mark.parametrize(
    "name, kind, nesterov",
    [("adamw", keras.optimizers.AdamW, None), ("nesterov", keras.optimizers.SGD, True)],
)
def test_optimizer_by_name(name, kind, nesterov):
    optimizer = optimization.make_optimizer(HParams(optimizer=name, learning_rate=0.01))
    assert isinstance(optimizer, kind)
    assert float(optimizer.learning_rate) == pytest.approx(0.01)
    if nesterov is not None:
        assert optimizer.nesterov is nesterov and optimizer.momentum == 0.9


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
