"""The learning-rate finder on a linear regression with a known stable range, and its plot."""

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from components.trainer import lr_finder, schedules

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _regression_dataset(rows: int = 256, labels_nan: bool = False) -> tf.data.Dataset:
    """y = 3x + 2 + noise with x ~ N(0, 1), in batches of 32.

    The MSE's curvature is 2 E[x^2] = 2 for the weight and 2 for the bias, so
    plain gradient descent converges in one step at rate 0.5 and diverges above 1.
    """
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, 1)).astype("float32")
    y = (3.0 * x + 2.0 + 0.1 * rng.normal(size=(rows, 1))).astype("float32")
    if labels_nan:
        y[:] = np.nan
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(32)


def _compiled_linear_model(learning_rate=0.01) -> keras.Model:
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, kernel_initializer="zeros")])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate), loss="mse")
    return model


def test_finder_proposes_a_stable_rate_and_stops_when_the_loss_explodes():
    model = _compiled_linear_model()
    result = lr_finder.find_learning_rate(
        model, _regression_dataset(), min_rate=1e-4, max_rate=10.0, steps=100
    )
    # Rates above 1 diverge, so the loss passes 4x its minimum before rate 10.
    assert 10 < len(result.rates) < 100
    assert len(result.losses) == len(result.rates)
    # 1e-4 growing by 10 ** (5 / 99) per step.
    assert result.rates[0] == pytest.approx(1e-4)
    np.testing.assert_allclose(np.diff(np.log10(result.rates)), 5 / 99, rtol=1e-9)
    # The loss bottoms out near the divergence edge (1 to 2 with the smoothing's lag);
    # a tenth of that is a stable rate, below the one-step rate 0.5.
    assert 0.5 <= result.best_rate <= 3.0
    assert result.proposed_max_rate == pytest.approx(result.best_rate / 10)
    assert 0.05 <= result.proposed_max_rate <= 0.3
    assert max(result.losses) > lr_finder.DIVERGENCE_FACTOR * min(result.losses)


def _model_with_state(pretrained: bool) -> keras.Model:
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((1,)),
            keras.layers.Dense(4, activation="relu"),
            # Moving statistics: non-trainable weights the finder also changes.
            keras.layers.BatchNormalization(),
            keras.layers.Dense(1),
        ]
    )
    model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9), loss="mse")
    if pretrained:
        model.fit(_regression_dataset(64), verbose=0)
    return model


@pytest.mark.parametrize("pretrained", [False, True], ids=["fresh-optimizer", "trained-optimizer"])
def test_finder_restores_weights_and_optimizer_state_exactly(pretrained):
    model = _model_with_state(pretrained)
    optimizer = model.optimizer
    weights = model.get_weights()
    # A fresh optimizer holds only `iterations`; a trained one also its momentum slots.
    optimizer_state = [v.numpy() for v in optimizer.variables]
    assert len(optimizer_state) == (1 + len(model.trainable_variables) if pretrained else 1)

    lr_finder.find_learning_rate(
        model, _regression_dataset(), min_rate=1e-3, max_rate=1.0, steps=20
    )

    for restored, initial in zip(model.get_weights(), weights, strict=True):
        np.testing.assert_array_equal(restored, initial)
    assert int(optimizer.iterations) == (2 if pretrained else 0)
    assert float(optimizer.learning_rate) == pytest.approx(0.01)
    slots = [v.numpy() for v in optimizer.variables[1:]]
    assert len(slots) == len(model.trainable_variables)
    if pretrained:
        for restored, initial in zip(slots, optimizer_state[1:], strict=True):
            np.testing.assert_array_equal(restored, initial)
        assert all(np.any(slot != 0) for slot in slots)
    else:
        assert all(np.all(slot == 0) for slot in slots)


def test_finder_warns_when_the_loss_only_rises(caplog):
    model = _compiled_linear_model()
    with caplog.at_level("WARNING", logger="components.trainer.lr_finder"):
        result = lr_finder.find_learning_rate(
            model, _regression_dataset(), min_rate=5.0, max_rate=50.0, steps=30
        )
    # Every rate diverges: the first loss (before any step) is the lowest.
    assert result.best_rate == pytest.approx(5.0)
    assert result.proposed_max_rate == pytest.approx(0.5)
    assert len(result.rates) < 30
    assert any("lower `min_rate`" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    "make_model, kwargs, message",
    [
        (_compiled_linear_model, {"min_rate": 1.0, "max_rate": 0.1}, "min_rate < max_rate"),
        (_compiled_linear_model, {"steps": 1}, "at least 2 steps"),
        (_compiled_linear_model, {"smoothing": 1.0}, "smoothing"),
        (
            lambda: keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)]),
            {},
            "must be compiled",
        ),
        (
            lambda: _compiled_linear_model(schedules.OneCycle(0.1, total_steps=100)),
            {},
            "learning-rate schedule",
        ),
    ],
    ids=["reversed-range", "one-step", "no-averaging-window", "not-compiled", "scheduled-rate"],
)
def test_finder_rejects_what_it_cannot_run(make_model, kwargs, message):
    with pytest.raises(ValueError, match=message):
        lr_finder.find_learning_rate(make_model(), _regression_dataset(), **kwargs)


def test_finder_reports_a_loss_that_is_not_finite_from_the_start():
    model = _compiled_linear_model()
    weights = model.get_weights()
    with pytest.raises(ValueError, match="not finite at rate 1e-06"):
        lr_finder.find_learning_rate(model, _regression_dataset(labels_nan=True), steps=10)
    for restored, initial in zip(model.get_weights(), weights, strict=True):
        np.testing.assert_array_equal(restored, initial)


RESULT = lr_finder.LrFinderResult(
    rates=(1e-3, 1e-2, 1e-1, 1.0),
    losses=(5.0, 3.0, 1.0, 4.5),
    proposed_max_rate=1e-2,
)


def test_best_rate_is_the_rate_at_the_lowest_loss():
    assert RESULT.best_rate == 0.1


def test_plot_has_a_log_rate_axis_and_marks_the_proposed_rate():
    fig = lr_finder.plot_lr_finder(RESULT)
    (ax,) = fig.axes
    assert ax.get_xscale() == "log"
    curve = ax.get_lines()[0]
    assert list(curve.get_xdata()) == list(RESULT.rates)
    assert list(curve.get_ydata()) == list(RESULT.losses)
    vertical = [line for line in ax.get_lines() if list(line.get_xdata()) == [1e-2, 1e-2]]
    assert len(vertical) == 1
    assert "proposed max rate 0.01" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_saved_plot_is_a_png_in_a_new_directory(tmp_path):
    path = tmp_path / "report" / "lr_finder.png"
    lr_finder.save_lr_finder_plot(RESULT, str(path))
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert len(data) > 5_000
