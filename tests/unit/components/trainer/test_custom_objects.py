"""Custom loss, metric, layer and model: formulas at chosen points, configs, SavedModel reloads."""

import numpy as np
import pytest
import tf_keras as keras

from components.trainer import custom_objects as co
from components.trainer.model import skip_autograph

# Residuals y_true - y_pred on both sides of thresholds 1 and 2.
RESIDUALS = np.array([0.5, -1.0, 3.0, -2.5], "float32")


@pytest.fixture(autouse=True)
def _seeded():
    keras.utils.set_random_seed(0)


def _relu(x):
    return np.maximum(x, 0.0)


@pytest.mark.parametrize(
    "threshold, expected",
    [
        # |e| <= t: e**2 / 2;  else: t * (|e| - t / 2).
        (1.0, [0.125, 0.5, 2.5, 2.0]),
        (2.0, [0.125, 0.5, 4.0, 3.0]),
    ],
    ids=["threshold-1", "threshold-2"],
)
def test_huber_loss_at_chosen_residuals(threshold, expected):
    y_pred = np.zeros((4, 1), "float32")
    y_true = RESIDUALS[:, None]
    per_example = co.HuberLoss(threshold, reduction=keras.losses.Reduction.NONE)(y_true, y_pred)
    np.testing.assert_allclose(per_example, expected)
    assert float(co.HuberLoss(threshold)(y_true, y_pred)) == pytest.approx(np.mean(expected))
    # Keras' own Huber agrees (its `delta` is our threshold).
    assert float(keras.losses.Huber(threshold)(y_true, y_pred)) == pytest.approx(np.mean(expected))


@pytest.mark.parametrize("cls", [co.HuberLoss, co.HuberMetric], ids=["loss", "metric"])
def test_huber_threshold_must_be_positive(cls):
    with pytest.raises(ValueError, match="positive"):
        cls(threshold=0.0)


def test_huber_loss_config_round_trip():
    loss = co.HuberLoss(2.0, name="robust")
    restored = keras.losses.deserialize(keras.losses.serialize(loss))
    assert type(restored) is co.HuberLoss
    assert restored.get_config() == loss.get_config()
    assert restored.threshold == 2.0


# Batch 1: one example, residual 3 (loss 2.5); batch 2: three exact predictions (loss 0).
BATCH_1 = (np.array([[3.0]], "float32"), np.array([[0.0]], "float32"))
BATCH_2 = (np.zeros((3, 1), "float32"), np.zeros((3, 1), "float32"))


def test_huber_metric_is_the_mean_over_all_examples_not_of_batch_means():
    metric = co.HuberMetric(threshold=1.0)
    metric.update_state(*BATCH_1)
    metric.update_state(*BATCH_2)
    # 2.5 / 4 examples; the mean of batch means would be (2.5 + 0) / 2 = 1.25.
    assert float(metric.result()) == pytest.approx(0.625)
    metric.reset_state()
    assert float(metric.result()) == 0.0
    metric.update_state(*BATCH_2)
    assert float(metric.result()) == 0.0


@pytest.mark.parametrize(
    "sample_weight",
    [np.array([2.0, 1.0, 1.0, 0.0], "float32"), np.array([[2.0], [1.0], [1.0], [0.0]], "float32")],
    ids=["weights-(batch,)", "weights-(batch,1)"],
)
def test_huber_metric_weights_examples(sample_weight):
    metric = co.HuberMetric(threshold=1.0)
    metric.update_state(RESIDUALS[:, None], np.zeros((4, 1), "float32"), sample_weight)
    # (2 * 0.125 + 0.5 + 2.5 + 0 * 2.0) / (2 + 1 + 1 + 0)
    assert float(metric.result()) == pytest.approx(3.25 / 4)


def test_huber_metric_in_evaluate_spans_uneven_batches():
    # y_pred = x exactly; batch_size 3 splits the 4 examples into 3 + 1.
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.layers[0].set_weights([np.ones((1, 1), "float32"), np.zeros(1, "float32")])
    skip_autograph(model).compile(loss="mse", metrics=[co.HuberMetric(1.0)])
    x = np.zeros((4, 1), "float32")
    y = np.array([[0.0], [0.0], [0.0], [3.0]], "float32")
    result = model.evaluate(x, y, batch_size=3, verbose=0, return_dict=True)
    assert result["huber"] == pytest.approx(0.625)


def test_huber_metric_config_round_trip():
    metric = co.HuberMetric(threshold=0.5, name="h")
    restored = keras.metrics.deserialize(keras.metrics.serialize(metric))
    assert type(restored) is co.HuberMetric
    assert restored.get_config() == metric.get_config()


@pytest.mark.parametrize(
    "width, n_layers, projected",
    [(4, 2, False), (3, 2, True), (4, 1, False)],
    ids=["identity-shortcut", "projected-shortcut", "one-layer"],
)
def test_residual_block_is_shortcut_plus_dense_stack(width, n_layers, projected):
    block = co.ResidualDenseBlock(4, n_layers=n_layers)
    x = np.random.default_rng(1).normal(size=(5, width)).astype("float32")
    out = block(x).numpy()
    z = x
    for dense in block.hidden:
        kernel, bias = dense.get_weights()
        z = _relu(z @ kernel + bias)
    assert (block.projection is not None) == projected
    shortcut = x @ block.projection.get_weights()[0] if projected else x
    np.testing.assert_allclose(out, shortcut + z, rtol=1e-5, atol=1e-5)
    assert out.shape == (5, 4) == tuple(block.compute_output_shape((5, width)))


def test_residual_block_layers_start_from_different_weights():
    # A shared unseeded initializer would give every layer the same kernel.
    block = co.ResidualDenseBlock(4, n_layers=2)
    block.build((None, 4))
    assert not np.allclose(block.hidden[0].kernel, block.hidden[1].kernel)
    seeded = co.ResidualDenseBlock(4, kernel_initializer=keras.initializers.HeNormal(seed=3))
    seeded.build((None, 4))
    assert not np.allclose(seeded.hidden[0].kernel, seeded.hidden[1].kernel)


def test_residual_block_config_round_trip():
    block = co.ResidualDenseBlock(
        6, n_layers=3, activation="swish", kernel_initializer=keras.initializers.HeNormal(seed=3)
    )
    config = block.get_config()
    restored = co.ResidualDenseBlock.from_config(config)
    assert restored.get_config() == config
    assert (restored.units, restored.n_layers) == (6, 3)
    assert restored.activation is keras.activations.swish


@pytest.mark.parametrize(
    "kwargs, message",
    [({"units": 0}, "positive"), ({"units": 4, "n_layers": 0}, "positive")],
    ids=["no-units", "no-layers"],
)
def test_residual_block_rejects(kwargs, message):
    with pytest.raises(ValueError, match=message):
        co.ResidualDenseBlock(**kwargs)


def _reconstructing_model(weight=0.5):
    return co.ReconstructingModel(
        hidden_units=(4,), output_activation=None, reconstruction_weight=weight
    )


def test_reconstruction_loss_is_weighted_mse_of_inputs():
    model = _reconstructing_model(weight=0.5)
    x = np.random.default_rng(2).normal(size=(6, 3)).astype("float32")
    prediction = model(x).numpy()
    w_h, b_h = model.hidden[0].get_weights()
    w_r, b_r = model.reconstruction.get_weights()
    w_p, b_p = model.prediction.get_weights()
    hidden = _relu(x @ w_h + b_h)
    mse = np.mean((x - (hidden @ w_r + b_r)) ** 2)
    np.testing.assert_allclose(prediction, hidden @ w_p + b_p, rtol=1e-5, atol=1e-6)
    assert len(model.losses) == 1
    assert float(model.losses[0]) == pytest.approx(0.5 * mse, rel=1e-5)

    # The training objective: the compiled loss plus that term, and the metric is the raw MSE.
    y = np.ones((6, 1), "float32")
    skip_autograph(model).compile(loss="mse")
    result = model.evaluate(x, y, batch_size=6, verbose=0, return_dict=True)
    main = np.mean((y - prediction) ** 2)
    assert result["loss"] == pytest.approx(main + 0.5 * mse, rel=1e-5)
    assert result["reconstruction_error"] == pytest.approx(mse, rel=1e-5)


def test_reconstruction_head_has_one_unit_per_input_feature():
    model = co.ReconstructingModel(hidden_units=(8, 4))
    model(np.zeros((2, 5), "float32"))
    assert model.reconstruction.units == 5
    assert model.reconstruction.get_weights()[0].shape == (4, 5)


def test_reconstructing_model_config_round_trip():
    model = co.ReconstructingModel(
        hidden_units=(8, 4), output_units=2, reconstruction_weight=0.1, name="rec"
    )
    config = model.get_config()
    restored = co.ReconstructingModel.from_config(config)
    assert restored.get_config() == config
    assert restored.hidden_units == (8, 4) and restored.name == "rec"


@pytest.mark.parametrize(
    "kwargs, message",
    [({"hidden_units": ()}, "hidden layer"), ({"reconstruction_weight": -1.0}, ">= 0")],
    ids=["no-hidden-layer", "negative-weight"],
)
def test_reconstructing_model_rejects(kwargs, message):
    with pytest.raises(ValueError, match=message):
        co.ReconstructingModel(**kwargs)


def test_custom_objects_are_keyed_by_registered_name():
    assert set(co.CUSTOM_OBJECTS) == {
        "deepline>HuberLoss",
        "deepline>HuberMetric",
        "deepline>ResidualDenseBlock",
        "deepline>ReconstructingModel",
        "deepline>MCDropout",
        "deepline>MCAlphaDropout",
    }
    for name, cls in co.CUSTOM_OBJECTS.items():
        assert keras.saving.get_registered_object(name) is cls


def _dense_net(block=None):
    layers = [keras.Input((3,))]
    if block is not None:
        layers.append(block)
    layers.append(keras.layers.Dense(1))
    return keras.Sequential(layers)


def _huber_loss_model():
    model = _dense_net()
    model.compile(optimizer="sgd", loss=co.HuberLoss(0.5))
    return model


def _huber_metric_model():
    model = _dense_net()
    model.compile(optimizer="sgd", loss="mse", metrics=[co.HuberMetric(0.5)])
    return model


def _residual_block_model():
    model = _dense_net(co.ResidualDenseBlock(4, n_layers=2))
    model.compile(optimizer="sgd", loss="mse")
    return model


def _full_reconstructing_model():
    model = co.ReconstructingModel(hidden_units=(4,), reconstruction_weight=0.2)
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    return model


@pytest.mark.parametrize(
    "make_model",
    [_huber_loss_model, _huber_metric_model, _residual_block_model, _full_reconstructing_model],
    ids=["huber-loss", "huber-metric", "residual-block", "reconstructing-model"],
)
def test_savedmodel_round_trip_gives_identical_results(make_model, tmp_path):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(8, 3)).astype("float32")
    y = rng.uniform(size=(8, 1)).astype("float32")
    model = skip_autograph(make_model())
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    model.save(tmp_path / "model", save_format="tf")
    restored = keras.models.load_model(tmp_path / "model", custom_objects=co.CUSTOM_OBJECTS)
    assert type(restored) is type(model)
    np.testing.assert_array_equal(restored(x, training=False), model(x, training=False))
    # The compiled loss and metrics come back too, with their configs.
    if isinstance(model.loss, co.HuberLoss):
        assert type(restored.loss) is co.HuberLoss
        assert restored.loss.get_config() == model.loss.get_config()
    result = restored.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    assert result == pytest.approx(model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True))
    assert restored.metrics_names == model.metrics_names
