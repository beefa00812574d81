"""Hidden-layer activations: formulas at chosen points, learning, serialization, initializers."""

import math

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from components.trainer import activations

POINTS = np.array([-3.0, -1.0, -0.75, 0.0, 0.5, 2.0], np.float32)

SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805
RRELU_MEAN_SLOPE = (1 / 8 + 1 / 3) / 2  # 11 / 48


def _sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


def _leaky(alpha):
    return lambda z: z if z >= 0 else alpha * z


# Each formula written out on Python floats, independently of TensorFlow.
FORMULAS = {
    "relu": lambda z: max(z, 0.0),
    "leaky_relu": _leaky(0.2),
    "prelu": _leaky(0.2),  # its slopes start at leaky_alpha
    "rrelu": _leaky(RRELU_MEAN_SLOPE),  # at inference
    "elu": lambda z: z if z > 0 else math.exp(z) - 1.0,
    "selu": lambda z: SELU_SCALE * (z if z > 0 else SELU_ALPHA * (math.exp(z) - 1.0)),
    "gelu": lambda z: z * 0.5 * (1.0 + math.erf(z / math.sqrt(2.0))),
    "gelu_approx": lambda z: z * _sigmoid(1.702 * z),
    "swish": lambda z: z * _sigmoid(z),
    "parametric_swish": lambda z: z * _sigmoid(z),  # beta starts at 1
    "mish": lambda z: z * math.tanh(math.log1p(math.exp(z))),
}


def _apply(name, z, training=False, **kwargs):
    layer = activations.make_activation(name, **kwargs)
    return layer(tf.constant(z), training=training).numpy()


def test_formula_table_covers_every_activation():
    assert set(FORMULAS) == set(activations.ACTIVATIONS)


@pytest.mark.parametrize("name", activations.ACTIVATIONS, ids=activations.ACTIVATIONS)
def test_activation_matches_its_formula(name):
    # A (1, 6) batch: six units of one example, as after a dense layer.
    got = _apply(name, POINTS[None, :])[0]
    expected = [FORMULAS[name](float(z)) for z in POINTS]

    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)


def test_spot_values():
    # A few worked by hand, as a check on the formula table itself.
    assert _apply("gelu", np.float32([1.0]))[0] == pytest.approx(0.841345, abs=1e-6)
    assert _apply("swish", np.float32([2.0]))[0] == pytest.approx(2 / (1 + math.exp(-2)))
    assert _apply("elu", np.float32([-1.0]))[0] == pytest.approx(-0.632121, abs=1e-6)
    assert _apply("leaky_relu", np.float32([-3.0]), leaky_alpha=0.1)[0] == pytest.approx(-0.3)


def test_exact_gelu_minimum_is_near_minus_0_75():
    grid = np.arange(-2.0, 0.0, 1e-4, dtype=np.float32)
    values = _apply("gelu", grid)

    z_min = grid[values.argmin()]
    assert -0.80 <= z_min <= -0.70
    assert z_min == pytest.approx(-0.7518, abs=2e-4)
    assert values.min() == pytest.approx(-0.16997, abs=1e-4)


def test_sigmoid_gelu_stays_within_0_021_of_exact_gelu():
    grid = np.linspace(-6.0, 6.0, 12_001, dtype=np.float32)

    gap = np.abs(_apply("gelu_approx", grid) - _apply("gelu", grid))
    # The largest gap is ~0.0203, at |z| ~ 2.27.
    assert gap.max() == pytest.approx(0.0203, abs=3e-4)
    assert abs(grid[gap.argmax()]) == pytest.approx(2.27, abs=0.01)


def test_mish_is_just_below_swish_for_negative_inputs():
    grid = np.linspace(-5.0, 0.0, 50_001, dtype=np.float32)
    mish = _apply("mish", grid)
    swish = _apply("swish", grid)

    # In closed form: swish - mish >= 0 on z <= 0, largest ~0.0359 at z ~ -0.79.
    gap = swish - mish
    assert gap.min() > -1e-6
    assert gap.max() == pytest.approx(0.03595, abs=1e-4)
    assert grid[gap.argmax()] == pytest.approx(-0.79, abs=0.01)


def test_rrelu_at_inference_is_leaky_relu_with_the_mean_slope_exactly():
    z = np.random.default_rng(0).normal(size=(64, 8)).astype(np.float32)

    got = _apply("rrelu", z, training=False, seed=1)
    leaky = keras.layers.LeakyReLU(alpha=RRELU_MEAN_SLOPE)(tf.constant(z)).numpy()

    np.testing.assert_array_equal(got, leaky)
    assert activations.RReLU().mean_slope == RRELU_MEAN_SLOPE


def test_rrelu_in_training_draws_slopes_in_its_range():
    layer = activations.make_activation("rrelu", seed=5)
    minus_one = -np.ones((100, 100), np.float32)

    slopes = -layer(tf.constant(minus_one), training=True).numpy()

    lower, upper = 1 / 8, 1 / 3
    assert slopes.min() >= lower - 1e-7 and slopes.max() <= upper + 1e-7
    # 10**4 uniform draws: extremes within 0.005 of the ends, mean within
    # 5 standard errors (width / sqrt(12 * 10**4) = 0.0006) of the middle.
    assert slopes.min() < lower + 0.005 and slopes.max() > upper - 0.005
    assert slopes.mean() == pytest.approx(RRELU_MEAN_SLOPE, abs=0.003)
    assert len(np.unique(slopes)) > 9_000
    # The positive side stays the identity while training.
    np.testing.assert_array_equal(layer(tf.constant(-minus_one), training=True).numpy(), 1.0)


def test_rrelu_draws_new_slopes_each_call():
    layer = activations.RReLU(seed=5)
    minus_one = tf.constant(-np.ones((10, 10), np.float32))

    assert not np.array_equal(
        layer(minus_one, training=True).numpy(), layer(minus_one, training=True).numpy()
    )


def test_rrelu_rejects_lower_above_upper():
    with pytest.raises(ValueError, match="lower=0.5, upper=0.1"):
        activations.RReLU(lower=0.5, upper=0.1)


def _mse(model, x, y):
    return tf.reduce_mean(tf.square(model(x, training=True) - y))


@pytest.mark.parametrize(
    "name, weight", [("prelu", "alpha"), ("parametric_swish", "beta")], ids=["prelu", "pswish"]
)
def test_learned_parameters_move_under_sgd(name, weight):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype(np.float32)
    # The target depends on the negative side, so the slopes/sharpness matter.
    y = (np.abs(x).sum(axis=1, keepdims=True) - 1.0).astype(np.float32)
    keras.utils.set_random_seed(0)
    activation = activations.make_activation(name)
    model = keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(4, kernel_initializer=keras.initializers.HeNormal(seed=0)),
            activation,
            keras.layers.Dense(1, kernel_initializer=keras.initializers.GlorotUniform(seed=1)),
        ]
    )
    optimizer = keras.optimizers.SGD(learning_rate=0.05)
    before = getattr(activation, weight).numpy().copy()
    loss_before = _mse(model, x, y)

    # A plain eager loop: model.fit would spend ~30 s converting its step with AutoGraph.
    for _ in range(5):
        with tf.GradientTape() as tape:
            loss = _mse(model, x, y)
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))

    after = getattr(activation, weight).numpy()
    assert before.shape == (4,)  # one per unit
    np.testing.assert_array_equal(before, 0.2 if name == "prelu" else 1.0)
    assert (np.abs(after - before) > 1e-4).all()
    assert _mse(model, x, y) < loss_before


CUSTOM_LAYERS = [
    activations.RReLU(lower=0.1, upper=0.3, seed=7),
    activations.ParametricSwish(),
    activations.make_activation("gelu_approx"),
]


@pytest.mark.parametrize("layer", CUSTOM_LAYERS, ids=["rrelu", "parametric_swish", "gelu_approx"])
def test_custom_layer_config_round_trip(layer):
    z = tf.constant(POINTS[None, :])
    expected = layer(z, training=False).numpy()

    clone = type(layer).from_config(layer.get_config())
    # Registered: deserializing needs no custom_objects.
    revived = keras.layers.deserialize(keras.layers.serialize(layer))

    for copy in (clone, revived):
        assert type(copy) is type(layer)
        assert copy.get_config() == layer.get_config()
        copy.build(z.shape)
        copy.set_weights(layer.get_weights())
        np.testing.assert_array_equal(copy(z, training=False).numpy(), expected)


def test_custom_objects_are_keyed_by_registered_name():
    assert activations.CUSTOM_OBJECTS == {
        "deepline>RReLU": activations.RReLU,
        "deepline>ParametricSwish": activations.ParametricSwish,
        "deepline>sigmoid_gelu": activations.sigmoid_gelu,
    }


def _model_with_every_activation():
    inputs = keras.Input((4,), name="x")
    branches = []
    for i, name in enumerate(activations.ACTIVATIONS):
        initializer = keras.initializers.get(
            {"class_name": activations.initializer_for(name), "config": {"seed": i}}
        )
        hidden = keras.layers.Dense(3, kernel_initializer=initializer)(inputs)
        branches.append(activations.make_activation(name, seed=i)(hidden))
    output = keras.layers.Dense(1, kernel_initializer=keras.initializers.GlorotUniform(seed=99))(
        keras.layers.Concatenate()(branches)
    )
    return keras.Model(inputs, output)


def test_saved_model_reloads_with_identical_predictions(tmp_path):
    model = _model_with_every_activation()
    x = np.random.default_rng(1).normal(size=(32, 4)).astype(np.float32)
    # Direct calls, not predict(): AutoGraph would take ~10 s converting its step.
    expected = model(x, training=False).numpy()

    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32)], autograph=False)
    def serve(features):
        return {"y": model(features, training=False)}

    # Graph and eager execution may round differently in the last bit, so each
    # path is compared with itself before saving.
    expected_served = serve(tf.constant(x))["y"].numpy()
    np.testing.assert_allclose(expected_served, expected, rtol=1e-5, atol=1e-6)

    # As the exporter saves: SavedModel format, no per-layer traces, so the
    # custom layers are rebuilt from their configs.
    model.save(
        tmp_path / "model",
        save_format="tf",
        save_traces=False,
        signatures={"serving_default": serve.get_concrete_function()},
    )
    reloaded = keras.models.load_model(
        tmp_path / "model", custom_objects=activations.CUSTOM_OBJECTS, compile=False
    )
    served = tf.saved_model.load(str(tmp_path / "model")).signatures["serving_default"]

    np.testing.assert_array_equal(reloaded(x, training=False).numpy(), expected)
    np.testing.assert_array_equal(served(tf.constant(x))["y"].numpy(), expected_served)
    assert {type(layer).__name__ for layer in reloaded.layers} >= {"RReLU", "ParametricSwish"}


def test_make_activation_returns_a_fresh_layer_each_call():
    first = activations.make_activation("prelu")
    second = activations.make_activation("prelu")

    assert first is not second
    first(tf.zeros((1, 2)))
    second(tf.zeros((1, 2)))
    assert first.alpha is not second.alpha


@pytest.mark.parametrize(
    "activation, initializer",
    [
        ("none", "glorot_uniform"),
        ("linear", "glorot_uniform"),
        ("tanh", "glorot_uniform"),
        ("sigmoid", "glorot_uniform"),
        ("softmax", "glorot_uniform"),
        ("relu", "he_normal"),
        ("leaky_relu", "he_normal"),
        ("prelu", "he_normal"),
        ("rrelu", "he_normal"),
        ("elu", "he_normal"),
        ("gelu", "he_normal"),
        ("gelu_approx", "he_normal"),
        ("swish", "he_normal"),
        ("parametric_swish", "he_normal"),
        ("mish", "he_normal"),
        ("selu", "lecun_normal"),
    ],
    ids=lambda value: value,
)
def test_initializer_for_follows_hands_on_ml(activation, initializer):
    assert activations.initializer_for(activation) == initializer


@pytest.mark.parametrize(
    "call",
    [
        lambda: activations.make_activation("relu6"),
        lambda: activations.initializer_for("relu6"),
    ],
    ids=["make_activation", "initializer_for"],
)
def test_unknown_activation_raises_value_error_listing_known_names(call):
    with pytest.raises(ValueError, match="relu6") as error:
        call()
    for name in activations.ACTIVATIONS:
        assert name in str(error.value)
