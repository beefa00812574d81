"""Batch-norm folding: folded weights by hand, and folded models predict as the originals."""

import numpy as np
import pytest
import tf_keras as keras

from components.dataset import TransformedFeature
from components.trainer import folding
from components.trainer import model as model_lib
from components.trainer.hparams import HParams

STORES = 20
TOLERANCE = 1e-5


def _dnn(placement: str, dropout: float = 0.1, units=(16, 8, 4)) -> keras.Model:
    """A model shaped like `build_model`'s, with BN before or after the activation."""
    amount = keras.Input(shape=(1,), name="amount_xf", dtype="float32")
    store = keras.Input(shape=(1,), name="store_xf", dtype="int64")
    embedded = keras.layers.Flatten()(keras.layers.Embedding(STORES, 4, name="store_emb")(store))
    x = keras.layers.Concatenate(name="features")([amount, embedded])
    for i, width in enumerate(units):
        x = keras.layers.Dense(width, use_bias=placement != "before", name=f"hidden_{i}")(x)
        if placement == "before":
            x = keras.layers.BatchNormalization(name=f"hidden_{i}_bn")(x)
        x = keras.layers.Activation("swish", name=f"hidden_{i}_swish")(x)
        if placement == "after":
            x = keras.layers.BatchNormalization(name=f"hidden_{i}_bn")(x)
        if dropout:
            x = keras.layers.Dropout(dropout, seed=i)(x)
    output = keras.layers.Dense(1, activation="sigmoid", name="probability")(x)
    return keras.Model({"amount_xf": amount, "store_xf": store}, output)


def _real_model() -> keras.Model:
    features = (
        TransformedFeature("amount_xf", is_categorical=False),
        TransformedFeature("store_xf", is_categorical=True, cardinality=STORES),
    )
    hparams = HParams(hidden_units=(16, 8, 8, 4), batch_norm=True, dropout=0.2)
    return model_lib.build_model(features, {"store_xf": STORES}, hparams)


def _randomize_batch_norm(model: keras.Model, seed: int = 0) -> keras.Model:
    """Gives every BN layer statistics far from the identity a fresh layer starts as.

    A fresh BN is nearly the identity (mean 0, variance 1, gamma 1, beta 0), so
    a folding bug in scale or shift would hide behind it.
    """
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            n = layer.moving_mean.shape[0]
            layer.set_weights(
                [
                    rng.uniform(0.5, 2.0, n),  # gamma
                    rng.normal(0.0, 1.0, n),  # beta
                    rng.normal(0.0, 1.0, n),  # moving mean
                    rng.uniform(0.2, 3.0, n),  # moving variance
                ]
            )
    return model


def _inputs(n: int = 32, seed: int = 1) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "amount_xf": rng.normal(0.0, 2.0, (n, 1)).astype("float32"),
        "store_xf": rng.integers(0, STORES, (n, 1)),
    }


def _predict(model: keras.Model, x) -> np.ndarray:
    return model(x, training=False).numpy()


@pytest.mark.parametrize(
    "build, folded_count",
    [
        (lambda: _dnn("before"), 3),
        (lambda: _dnn("before", dropout=0.0), 3),
        # BN -> Dropout -> Dense: Dropout sits between, so nothing folds.
        (lambda: _dnn("after"), 0),
        # BN -> Dense: each BN folds forward into the next Dense.
        (lambda: _dnn("after", dropout=0.0), 3),
        (_real_model, 4),
    ],
    ids=[
        "bn-before-activation",
        "bn-before-activation-no-dropout",
        "bn-after-activation-then-dropout",
        "bn-after-activation-then-dense",
        "build_model-deep",
    ],
)
def test_folded_model_predicts_as_the_original(build, folded_count):
    model = _randomize_batch_norm(build())
    x = _inputs()
    expected = _predict(model, x)
    bn_before = folding.count_batch_norm(model)

    folded = folding.fold_batch_norm(model)

    np.testing.assert_allclose(_predict(folded, x), expected, atol=TOLERANCE)
    assert folding.count_batch_norm(folded) == bn_before - folded_count
    assert len(folded.layers) == len(model.layers) - folded_count
    assert sorted(folded.input) == ["amount_xf", "store_xf"]
    # The original is untouched: still all its BN layers, same predictions.
    assert folding.count_batch_norm(model) == bn_before
    np.testing.assert_array_equal(_predict(model, x), expected)


def _set_bn(bn: keras.layers.BatchNormalization) -> None:
    # var + epsilon = [4, 0.25]: scale = gamma / sqrt(var + eps) = [4/2, 0.5/0.5] = [2, 1];
    # shift = beta - mean * scale = [1 - 1*2, -1 - 2*1] = [-1, -3].
    bn.set_weights(
        [
            np.array([4.0, 0.5]),
            np.array([1.0, -1.0]),
            np.array([1.0, 2.0]),
            np.array([3.999, 0.249]),
        ]
    )


def test_dense_then_bn_folds_into_the_dense_columns():
    inputs = keras.Input(shape=(2,), name="x")
    dense = keras.layers.Dense(2, use_bias=False, name="dense")
    bn = keras.layers.BatchNormalization(epsilon=1e-3, name="bn")
    model = keras.Model({"x": inputs}, bn(dense(inputs)))
    dense.set_weights([np.array([[1.0, 2.0], [3.0, 4.0]])])
    _set_bn(bn)

    folded = folding.fold_batch_norm(model)

    kernel, bias = folded.get_layer("dense").get_weights()
    # kernel * scale per output column; bias = 0 * scale + shift.
    np.testing.assert_allclose(kernel, [[2.0, 2.0], [6.0, 4.0]], atol=1e-6)
    np.testing.assert_allclose(bias, [-1.0, -3.0], atol=1e-6)
    assert [layer.name for layer in folded.layers] == ["x", "dense"]


def test_bn_then_dense_folds_into_the_dense_rows():
    inputs = keras.Input(shape=(2,), name="x")
    bn = keras.layers.BatchNormalization(epsilon=1e-3, name="bn")
    dense = keras.layers.Dense(2, name="dense")
    model = keras.Model({"x": inputs}, dense(bn(inputs)))
    dense.set_weights([np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([0.5, 0.0])])
    _set_bn(bn)

    folded = folding.fold_batch_norm(model)

    kernel, bias = folded.get_layer("dense").get_weights()
    # scale[:, None] * kernel; bias + shift @ kernel = [0.5, 0] + [-1 - 9, -2 - 12].
    np.testing.assert_allclose(kernel, [[2.0, 4.0], [3.0, 4.0]], atol=1e-6)
    np.testing.assert_allclose(bias, [-9.5, -14.0], atol=1e-6)


def _dense_with_activation():
    inputs = keras.Input(shape=(3,), name="x")
    x = keras.layers.BatchNormalization()(keras.layers.Dense(4, activation="relu")(inputs))
    return keras.Model({"x": inputs}, x)


def _dense_output_used_twice():
    inputs = keras.Input(shape=(3,), name="x")
    hidden = keras.layers.Dense(4)(inputs)
    x = keras.layers.Concatenate()([hidden, keras.layers.BatchNormalization()(hidden)])
    return keras.Model({"x": inputs}, x)


def _bn_on_a_middle_axis():
    inputs = keras.Input(shape=(3, 2), name="x")
    x = keras.layers.BatchNormalization(axis=1)(keras.layers.Dense(2)(inputs))
    return keras.Model({"x": inputs}, keras.layers.Dense(1)(x))


@pytest.mark.parametrize(
    "build, shape",
    [
        (_dense_with_activation, (3,)),
        (_dense_output_used_twice, (3,)),
        (_bn_on_a_middle_axis, (3, 2)),
    ],
    ids=["dense-has-relu", "pre-bn-output-also-used", "bn-not-on-last-axis"],
)
def test_bn_that_cannot_fold_stays_and_predictions_agree(build, shape):
    model = _randomize_batch_norm(build())
    x = {"x": np.random.default_rng(2).normal(size=(16, *shape)).astype("float32")}

    folded = folding.fold_batch_norm(model)

    assert folding.count_batch_norm(folded) == 1
    np.testing.assert_allclose(_predict(folded, x), _predict(model, x), atol=TOLERANCE)


def test_sequential_model_folds():
    model = keras.Sequential(
        [
            keras.Input(shape=(3,)),
            keras.layers.Dense(4, use_bias=False),
            keras.layers.BatchNormalization(),
            keras.layers.Dense(1),
        ]
    )
    _randomize_batch_norm(model)
    x = np.random.default_rng(3).normal(size=(8, 3)).astype("float32")

    folded = folding.fold_batch_norm(model)

    assert folding.count_batch_norm(folded) == 0
    np.testing.assert_allclose(_predict(folded, x), _predict(model, x), atol=TOLERANCE)


def test_folded_saved_model_reloads_and_agrees(tmp_path):
    model = _randomize_batch_norm(_dnn("before"))
    x = _inputs()
    folded = folding.fold_batch_norm(model)
    folded.save(str(tmp_path / "folded"), save_format="tf", save_traces=False)

    reloaded = keras.models.load_model(str(tmp_path / "folded"), compile=False)

    assert folding.count_batch_norm(reloaded) == 0
    np.testing.assert_allclose(_predict(reloaded, x), _predict(model, x), atol=TOLERANCE)


def test_subclassed_model_is_refused():
    class Net(keras.Model):
        def __init__(self):
            super().__init__(name="net")
            self.dense = keras.layers.Dense(1)

        def call(self, inputs):
            return self.dense(inputs)

    with pytest.raises(ValueError, match="'net'.*functional API"):
        folding.fold_batch_norm(Net())
