"""The model builder: shapes, and the deep-network defaults it picks."""

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from components.features import TransformedFeature
from components.trainer import model as model_lib
from components.trainer.hparams import HParams

FEATURES = (
    TransformedFeature("a_xf", is_categorical=False),
    TransformedFeature("b_xf", is_categorical=False),
    TransformedFeature("c_xf", is_categorical=True, cardinality=10),
    TransformedFeature("v_xf", is_categorical=True, vocabulary_name="v", extra_ids=2),
)
CARDINALITIES = {"c_xf": 10, "v_xf": 30}


def _batch(n=5):
    return {
        "a_xf": tf.random.normal([n]),
        "b_xf": tf.random.normal([n]),
        "c_xf": tf.constant(np.arange(n) % 10, tf.int64),
        "v_xf": tf.constant(np.arange(n) % 30, tf.int64),
    }


@pytest.mark.parametrize(
    "units", [(8,), (16, 8, 4), (8, 8, 8, 8, 8)], ids=["1-layer", "3-layers", "5-layers"]
)
def test_output_is_one_probability_per_example(units):
    model = model_lib.build_model(FEATURES, CARDINALITIES, HParams(hidden_units=units))
    out = model(model_lib.as_model_inputs(_batch(5)), training=False).numpy()
    assert out.shape == (5, 1)
    assert ((out > 0) & (out < 1)).all()


def test_embedding_widths_follow_the_rule():
    assert model_lib.embedding_width(10, 16) == 6  # ceil(1.6 * 10**0.56) = 6
    assert model_lib.embedding_width(30, 16) == 11
    assert model_lib.embedding_width(10_000, 16) == 16
    model = model_lib.build_model(FEATURES, CARDINALITIES, HParams(hidden_units=(8,)))
    assert model.get_layer("c_xf_embedding").get_weights()[0].shape == (10, 6)
    assert model.get_layer("v_xf_embedding").get_weights()[0].shape == (30, 11)


def test_shallow_net_is_relu_without_batch_norm():
    model = model_lib.build_model(FEATURES, CARDINALITIES, HParams(hidden_units=(16, 8)))
    kinds = [type(layer).__name__ for layer in model.layers]
    assert "BatchNormalization" not in kinds
    assert model.get_layer("hidden_0_relu").activation is keras.activations.relu
    assert model.get_layer("hidden_0").use_bias


def test_deep_net_is_swish_with_batch_norm_and_no_redundant_bias():
    model = model_lib.build_model(FEATURES, CARDINALITIES, HParams(hidden_units=(8,) * 4))
    assert len([x for x in model.layers if isinstance(x, keras.layers.BatchNormalization)]) == 4
    assert model.get_layer("hidden_0_swish").activation is keras.activations.swish
    assert not model.get_layer("hidden_0").use_bias


def test_hidden_layers_use_he_initialization():
    model = model_lib.build_model(FEATURES, CARDINALITIES, HParams(hidden_units=(64,), seed=1))
    init = model.get_layer("hidden_0").kernel_initializer
    assert isinstance(init, keras.initializers.HeNormal)
    # He normal: std = sqrt(2 / fan_in) (truncated normal, so the sample std is a bit lower).
    kernel = model.get_layer("hidden_0").get_weights()[0]
    fan_in = kernel.shape[0]
    assert 0.75 * np.sqrt(2 / fan_in) < kernel.std() < 1.1 * np.sqrt(2 / fan_in)


def test_missing_cardinality_is_an_error():
    with pytest.raises(ValueError, match="v_xf"):
        model_lib.build_model(FEATURES, {"c_xf": 10}, HParams())
