"""Weight penalties, max-norm, and (Monte Carlo) dropout, checked against hand-computed numbers."""

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from components.trainer import regularization as reg
from components.trainer.model import skip_autograph

# sum(|w|) = 6, sum(w ** 2) = 14.
KERNEL = np.array([[1.0, -2.0], [3.0, 0.0]], "float32")


@pytest.fixture(autouse=True)
def _seeded():
    keras.utils.set_random_seed(0)


@pytest.mark.parametrize(
    "l1, l2, kind, penalty",
    [
        (0.01, 0.0, keras.regularizers.L1, 0.06),
        (0.0, 0.1, keras.regularizers.L2, 1.4),
        (0.01, 0.1, keras.regularizers.L1L2, 1.46),
    ],
    ids=["l1", "l2", "l1l2"],
)
def test_regularizer_penalty_is_the_hand_computed_value(l1, l2, kind, penalty):
    regularizer = reg.make_regularizer(l1, l2)
    assert type(regularizer) is kind
    assert float(regularizer(tf.constant(KERNEL))) == pytest.approx(penalty)


def test_no_regularizer_when_both_factors_are_zero():
    assert reg.make_regularizer(0.0, 0.0) is None


def test_negative_factor_is_an_error():
    with pytest.raises(ValueError, match="l1=-0.1"):
        reg.make_regularizer(-0.1, 0.0)


def test_penalty_is_added_to_the_training_loss():
    model = keras.Sequential(
        [
            keras.Input((2,)),
            keras.layers.Dense(2, kernel_regularizer=reg.make_regularizer(0.01, 0.1)),
        ]
    )
    model.layers[0].set_weights([KERNEL, np.zeros(2, "float32")])
    assert float(tf.add_n(model.losses)) == pytest.approx(1.46)
    # Zero inputs and targets: the data loss is 0, so the loss is the penalty alone.
    skip_autograph(model).compile(optimizer="sgd", loss="mse")
    zeros = np.zeros((4, 2), "float32")
    assert model.evaluate(zeros, zeros, verbose=0) == pytest.approx(1.46)


def _incoming_norms(layer):
    return np.linalg.norm(layer.get_weights()[0], axis=0)


def _regression(constraint, optimizer):
    """A 5->8 Dense layer trained for 4 steps at learning rate 1 towards large targets."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 5)).astype("float32")
    y = 20 * rng.normal(size=(32, 8)).astype("float32")
    small = keras.initializers.RandomUniform(-0.1, 0.1, seed=0)
    model = keras.Sequential(
        [
            keras.Input((5,)),
            keras.layers.Dense(8, kernel_initializer=small, kernel_constraint=constraint),
        ]
    )
    # Every column starts below norm 1, so only training can push it past.
    assert _incoming_norms(model.layers[0]).max() < 1.0
    skip_autograph(model).compile(optimizer=optimizer, loss="mse")
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    return _incoming_norms(model.layers[0])


@pytest.mark.parametrize(
    "make_optimizer",
    [lambda: keras.optimizers.SGD(1.0), lambda: keras.optimizers.AdamW(1.0, weight_decay=1e-4)],
    ids=["sgd", "adamw"],
)
def test_max_norm_caps_every_neurons_incoming_weights_in_fit(make_optimizer):
    free = _regression(None, make_optimizer())
    capped = _regression(reg.max_norm_constraint(1.0), make_optimizer())
    assert free.max() > 1.5  # without the constraint, training does exceed the cap
    assert capped.max() <= 1.0 + 1e-6
    # MaxNorm rescales the columns that went over to exactly the cap.
    assert capped.max() == pytest.approx(1.0, abs=1e-5)


def test_max_norm_radius_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        reg.max_norm_constraint(0.0)


def _constrained_model():
    model = keras.Sequential(
        [
            keras.Input((2,)),
            keras.layers.Dense(
                2,
                kernel_constraint=reg.max_norm_constraint(1.0),
                bias_constraint=keras.constraints.NonNeg(),
            ),
        ]
    )
    # Column norms 5 (over the cap) and 0.5 (under it); one negative bias.
    model.layers[0].set_weights(
        [np.array([[3.0, 0.3], [4.0, 0.4]], "float32"), np.array([-1.0, 2.0], "float32")]
    )
    return model


def test_apply_constraints_projects_kernel_columns_and_bias():
    model = _constrained_model()
    assert reg.apply_constraints(model) == 2
    kernel, bias = model.layers[0].get_weights()
    # Column 0 is scaled by 1/5; column 1 is within the cap and untouched.
    np.testing.assert_allclose(kernel, [[0.6, 0.3], [0.8, 0.4]], atol=1e-6)
    np.testing.assert_allclose(bias, [0.0, 2.0])


def test_apply_constraints_leaves_frozen_layers_alone():
    model = _constrained_model()
    model.layers[0].trainable = False
    assert reg.apply_constraints(model) == 0
    np.testing.assert_allclose(model.layers[0].get_weights()[0], [[3.0, 0.3], [4.0, 0.4]])


def _custom_loop(update, steps=4):
    """Trains `_regression`'s layer in a hand-written loop; returns its incoming-weight norms."""
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(size=(8, 5)), tf.float32)
    y = tf.constant(20 * rng.normal(size=(8, 8)), tf.float32)
    model = keras.Sequential(
        [keras.Input((5,)), keras.layers.Dense(8, kernel_constraint=reg.max_norm_constraint(1.0))]
    )
    optimizer = keras.optimizers.SGD(1.0)
    for _ in range(steps):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(x, training=True) - y))
        grads = tape.gradient(loss, model.trainable_variables)
        if update == "apply_gradients":
            optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        else:
            for grad, variable in zip(grads, model.trainable_variables, strict=True):
                variable.assign_sub(1.0 * grad)
    return model


def test_optimizer_apply_gradients_already_enforces_constraints():
    # tf_keras 2.16 applies `variable.constraint` at the end of `apply_gradients`,
    # so a custom loop that uses it needs no `apply_constraints`.
    model = _custom_loop("apply_gradients")
    assert _incoming_norms(model.layers[0]).max() <= 1.0 + 1e-6


def test_apply_constraints_after_a_hand_written_update():
    model = _custom_loop("assign_sub")
    assert _incoming_norms(model.layers[0]).max() > 1.5  # nothing enforced the cap
    reg.apply_constraints(model)
    assert _incoming_norms(model.layers[0]).max() <= 1.0 + 1e-6


@pytest.mark.parametrize(
    "kind, cls",
    [
        ("dropout", keras.layers.Dropout),
        ("alpha_dropout", keras.layers.AlphaDropout),
        ("mc_dropout", reg.MCDropout),
        ("mc_alpha_dropout", reg.MCAlphaDropout),
    ],
    ids=["dropout", "alpha_dropout", "mc_dropout", "mc_alpha_dropout"],
)
def test_make_dropout_by_kind(kind, cls):
    layer = reg.make_dropout(kind, 0.25, seed=7, name="drop")
    assert type(layer) is cls
    assert (layer.rate, layer.seed, layer.name) == (0.25, 7, "drop")


@pytest.mark.parametrize(
    "kind, rate, message",
    [("gaussian", 0.1, "mc_alpha_dropout"), ("dropout", 1.0, r"\[0, 1\)")],
    ids=["unknown-kind", "rate-1"],
)
def test_make_dropout_rejects(kind, rate, message):
    with pytest.raises(ValueError, match=message):
        reg.make_dropout(kind, rate, seed=0)


@pytest.mark.parametrize("kind", ["mc_dropout", "mc_alpha_dropout"], ids=["mc", "mc-alpha"])
def test_mc_layers_sample_at_inference_and_standard_ones_do_not(kind):
    x = tf.ones((4, 50))
    mc = reg.make_dropout(kind, 0.5, seed=1)
    standard = reg.make_dropout(kind.removeprefix("mc_"), 0.5, seed=1)
    first, second = mc(x, training=False).numpy(), mc(x, training=False).numpy()
    assert not np.allclose(first, x.numpy()) and not np.allclose(first, second)
    np.testing.assert_array_equal(standard(x, training=False).numpy(), x.numpy())


@pytest.mark.parametrize(
    "layer",
    [reg.MCDropout(0.3, seed=3, name="d"), reg.MCAlphaDropout(0.2, noise_shape=(None, 1), seed=4)],
    ids=["mc", "mc-alpha"],
)
def test_mc_layer_config_round_trip(layer):
    config = keras.layers.serialize(layer)
    assert config["registered_name"].startswith("deepline>")
    restored = keras.layers.deserialize(config)
    assert type(restored) is type(layer)
    assert restored.get_config() == layer.get_config()


def test_mc_alpha_dropout_mean_and_spread_follow_the_formula():
    rate, n = 0.2, 20_000
    alpha_p = -1.6732632423543772 * 1.0507009873554805
    a = ((1 - rate) * (1 + rate * alpha_p**2)) ** -0.5
    x = np.array([-1.0, 0.0, 2.0], "float32")
    out = reg.MCAlphaDropout(rate, seed=0)(tf.tile(x[None], [n, 1]), training=False).numpy()
    # Each output is a * x + b (kept) or a * alpha_p + b (dropped), b = -a * alpha_p * rate:
    # mean a * (1 - rate) * x, std a * sqrt(rate * (1 - rate)) * |x - alpha_p|.
    std = a * np.sqrt(rate * (1 - rate)) * np.abs(x - alpha_p)
    np.testing.assert_allclose(out.std(axis=0), std, rtol=0.03)
    # Five standard errors: a bound a correct layer fails about once in 3 million runs.
    assert np.all(np.abs(out.mean(axis=0) - a * (1 - rate) * x) < 5 * std / np.sqrt(n))


def _dropout_net(kind):
    return keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(16, activation="relu"),
            reg.make_dropout(kind, 0.3, seed=5),
            keras.layers.Dense(2),
        ]
    )


def test_mc_predict_mean_approaches_the_deterministic_prediction():
    mc, standard = _dropout_net("mc_dropout"), _dropout_net("dropout")
    standard.set_weights(mc.get_weights())
    x = np.random.default_rng(0).normal(size=(6, 4)).astype("float32")
    samples = 200
    mean, std = reg.mc_predict(mc, x, samples)
    assert mean.shape == std.shape == (6, 2)
    assert np.all(std > 0)  # predictions do vary across samples
    # Inverted dropout keeps each unit's expectation, and the head is linear, so the
    # MC mean estimates the deterministic prediction; 5 standard errors of tolerance.
    deterministic = standard(x, training=False).numpy()
    assert np.all(np.abs(mean - deterministic) < 5 * std / np.sqrt(samples))


def test_mc_predict_keeps_batch_normalization_in_inference_mode():
    model = keras.Sequential(
        [keras.Input((1,)), keras.layers.BatchNormalization(), reg.MCDropout(0.0)]
    )
    # gamma, beta, moving mean, moving variance.
    model.layers[0].set_weights([np.ones(1), np.zeros(1), np.full(1, 5.0), np.full(1, 4.0)])
    mean, std = reg.mc_predict(model, np.array([[1.0], [3.0]], "float32"), samples=3)
    # Moving statistics: (x - 5) / 2. The batch's own statistics would give [-1, 1].
    np.testing.assert_allclose(mean, [[-2.0], [-1.0]], atol=1e-3)
    np.testing.assert_array_equal(std, 0.0)


@pytest.mark.parametrize(
    "kind, samples, message",
    [("dropout", 10, "no MCDropout"), ("mc_dropout", 1, "at least 2")],
    ids=["no-mc-layer", "one-sample"],
)
def test_mc_predict_rejects(kind, samples, message):
    with pytest.raises(ValueError, match=message):
        reg.mc_predict(_dropout_net(kind), np.zeros((1, 4), "float32"), samples)


@pytest.mark.parametrize("kind", ["mc_dropout", "mc_alpha_dropout"], ids=["mc", "mc-alpha"])
def test_mc_layers_survive_a_savedmodel_round_trip(kind, tmp_path):
    model = _dropout_net(kind)
    model.save(tmp_path / "model", save_format="tf")
    restored = keras.models.load_model(tmp_path / "model")
    layer = restored.layers[1]
    assert type(layer) is type(model.layers[1])
    assert layer.get_config() == model.layers[1].get_config()
    for original, reloaded in zip(model.get_weights(), restored.get_weights(), strict=True):
        np.testing.assert_array_equal(original, reloaded)
    # Still sampling after the reload.
    x = np.ones((3, 4), "float32")
    assert not np.allclose(restored(x, training=False), restored(x, training=False))
