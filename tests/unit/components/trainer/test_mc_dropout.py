"""MC dropout: dropout on, batch norm in inference mode, one vectorized call, a signature."""

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from components.trainer import mc_dropout, regularization

STORES = 20


def _dnn(dropout: float, blocks: int = 3, output_activation: str | None = "sigmoid"):
    """A model shaped like `build_model`'s: Dense -> BN -> swish -> Dropout blocks."""
    amount = keras.Input(shape=(1,), name="amount_xf", dtype="float32")
    store = keras.Input(shape=(1,), name="store_xf", dtype="int64")
    embedded = keras.layers.Flatten()(keras.layers.Embedding(STORES, 4)(store))
    x = keras.layers.Concatenate()([amount, embedded])
    for i in range(blocks):
        x = keras.layers.Dense(8, use_bias=False, name=f"hidden_{i}")(x)
        x = keras.layers.BatchNormalization(name=f"hidden_{i}_bn")(x)
        x = keras.layers.Activation("swish")(x)
        if dropout:
            x = keras.layers.Dropout(dropout, seed=i)(x)
    output = keras.layers.Dense(1, activation=output_activation, name="probability")(x)
    model = keras.Model({"amount_xf": amount, "store_xf": store}, output)
    # Statistics far from a fresh BN's identity, so batch-vs-moving statistics shows.
    rng = np.random.default_rng(0)
    for i in range(blocks):
        bn = model.get_layer(f"hidden_{i}_bn")
        bn.set_weights(
            [rng.uniform(0.5, 2, 8), rng.normal(size=8), rng.normal(size=8), rng.uniform(0.2, 3, 8)]
        )
    return model


def _inputs(n: int = 16, seed: int = 1) -> dict[str, tf.Tensor]:
    rng = np.random.default_rng(seed)
    return {
        "amount_xf": tf.constant(rng.normal(0.0, 2.0, (n, 1)), tf.float32),
        "store_xf": tf.constant(rng.integers(0, STORES, (n, 1)), tf.int64),
    }


@pytest.mark.parametrize("rate", [0.1, 0.5], ids=["rate-0.1", "rate-0.5"])
def test_samples_vary_and_outputs_are_batch_by_one(rate):
    model = _dnn(rate)

    out = mc_dropout.make_mc_dropout_fn(model, samples=50, seed=7)(_inputs(16))

    assert out["mean"].shape == (16, 1)
    assert out["stddev"].shape == (16, 1)
    assert (out["stddev"].numpy() > 0).all()
    assert ((out["mean"].numpy() > 0) & (out["mean"].numpy() < 1)).all()


def test_mean_estimates_the_deterministic_prediction():
    # Inverted dropout keeps every unit's expectation, and with dropout only
    # before a linear output the expectation passes through unchanged, so the
    # MC mean estimates model(x) with standard error stddev / sqrt(samples).
    # Five standard errors fail by chance with probability < 1e-6 per example.
    model = _dnn(0.3, blocks=1, output_activation=None)
    x, samples = _inputs(8), 4000

    out = mc_dropout.make_mc_dropout_fn(model, samples=samples, seed=3)(x)

    error = np.abs(out["mean"].numpy() - model(x, training=False).numpy())
    assert (error <= 5 * out["stddev"].numpy() / np.sqrt(samples) + 1e-6).all()


@pytest.mark.parametrize(
    "build",
    [lambda: _dnn(0.0), lambda: _dnn(0.0, blocks=0)],
    ids=["bn-without-dropout", "no-bn-no-dropout"],
)
def test_without_dropout_every_sample_is_the_deterministic_prediction(build):
    model = build()
    x = _inputs(16)

    out = mc_dropout.make_mc_dropout_fn(model, samples=10)(x)

    np.testing.assert_allclose(out["stddev"].numpy(), 0.0, atol=1e-7)
    np.testing.assert_allclose(out["mean"].numpy(), model(x, training=False).numpy(), atol=1e-6)


def test_batch_norm_stays_in_inference_mode():
    model = _dnn(0.3)
    x = _inputs(16)
    statistics = [w.copy() for w in model.get_layer("hidden_0_bn").get_weights()]
    bn_only = _dnn(0.0)
    with_batch_statistics = bn_only(x, training=True).numpy()
    deterministic = bn_only(x, training=False).numpy()
    # Batch statistics move this model's output by more than 1e-2, so the
    # exact agreement below shows the MC call uses the moving statistics.
    assert np.abs(with_batch_statistics - deterministic).max() > 1e-2

    mc_dropout.make_mc_dropout_fn(model, samples=20)(x)
    bn_only_out = mc_dropout.make_mc_dropout_fn(bn_only, samples=20)(x)

    for after, before in zip(model.get_layer("hidden_0_bn").get_weights(), statistics, strict=True):
        np.testing.assert_array_equal(after, before)
    np.testing.assert_allclose(bn_only_out["mean"].numpy(), deterministic, atol=1e-6)


def test_mc_dropout_is_a_savedmodel_signature(tmp_path):
    # The linear-head model of the mean test, so the reloaded signature's mean
    # can be held to the same five-standard-error bound around model(x).
    model = _dnn(0.3, blocks=1, output_activation=None)
    samples = 2000
    mc = mc_dropout.make_mc_dropout_fn(model, samples=samples, seed=5)

    @tf.function(
        input_signature=[
            tf.TensorSpec([None, 1], tf.float32, name="amount_xf"),
            tf.TensorSpec([None, 1], tf.int64, name="store_xf"),
        ]
    )
    def serve_mc(amount_xf, store_xf):
        return mc({"amount_xf": amount_xf, "store_xf": store_xf})

    model.save(
        str(tmp_path / "model"),
        save_format="tf",
        save_traces=False,
        signatures={"mc_dropout": serve_mc.get_concrete_function()},
    )
    x = _inputs(5)

    out = tf.saved_model.load(str(tmp_path / "model")).signatures["mc_dropout"](**x)

    assert out["mean"].shape == (5, 1)
    assert out["stddev"].shape == (5, 1)
    assert (out["stddev"].numpy() > 0).all()
    error = np.abs(out["mean"].numpy() - model(x, training=False).numpy())
    assert (error <= 5 * out["stddev"].numpy() / np.sqrt(samples) + 1e-6).all()


def test_nested_model_dropout_is_turned_on_too():
    inner = _dnn(0.3)
    inputs = {
        "amount_xf": keras.Input(shape=(1,), name="amount_xf", dtype="float32"),
        "store_xf": keras.Input(shape=(1,), name="store_xf", dtype="int64"),
    }
    outer = keras.Model(inputs, inner(inputs))

    out = mc_dropout.make_mc_dropout_fn(outer, samples=20)(_inputs(8))

    assert (out["stddev"].numpy() > 0).all()


def test_the_clone_swaps_each_dropout_for_its_always_on_kind_and_shares_the_rest():
    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(4, name="dense")(inputs)
    hidden = keras.layers.Dropout(0.5, name="drop")(hidden)
    hidden = keras.layers.AlphaDropout(0.5, name="alpha")(hidden)
    model = keras.Model(inputs, keras.layers.Dense(1, name="out")(hidden))

    clone = mc_dropout.with_dropout_always_on(model, seed=3)

    assert type(clone.get_layer("drop")) is regularization.MCDropout
    assert type(clone.get_layer("alpha")) is regularization.MCAlphaDropout
    assert clone.get_layer("drop").seed == 3 and clone.get_layer("alpha").seed == 4
    assert clone.get_layer("dense") is model.get_layer("dense")
    x = tf.ones([64, 4])
    assert not np.allclose(clone(x, training=False), clone(x, training=False))


@pytest.mark.parametrize(
    "build, samples, match",
    [
        (lambda: _dnn(0.1), 1, "at least 2 samples"),
        (
            lambda: keras.Sequential([keras.Input((4, 2)), keras.layers.SpatialDropout1D(0.1)]),
            10,
            "SpatialDropout1D",
        ),
    ],
    ids=["one-sample", "dropout-subclass"],
)
def test_unsupported_requests_are_refused(build, samples, match):
    with pytest.raises(ValueError, match=match):
        mc_dropout.make_mc_dropout_fn(build(), samples=samples)
