"""The model builder: shapes, and the deep-network defaults it picks."""

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from components.dataset import TransformedFeature
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


def _layer_kinds(model):
    return [type(layer).__name__ for layer in model.layers]


@pytest.mark.parametrize(
    "position, order, dense_bias",
    [
        ("before", ["Dense", "BatchNormalization", "Activation"], False),
        ("after", ["Dense", "Activation", "BatchNormalization"], True),
    ],
    ids=["bn-before-activation", "bn-after-activation"],
)
def test_batch_norm_position(position, order, dense_bias):
    hparams = HParams(
        hidden_units=(8,),
        batch_norm=True,
        batch_norm_position=position,
        batch_norm_momentum=0.9,
        dropout=0.0,
    )
    model = model_lib.build_model(FEATURES, CARDINALITIES, hparams)
    kinds = _layer_kinds(model)
    start = kinds.index("Dense")
    assert kinds[start : start + 3] == order
    # With BN right before the activation, BN's shift makes the dense bias redundant.
    assert model.get_layer("hidden_0").use_bias is dense_bias
    assert model.get_layer("hidden_0_bn").momentum == 0.9


@pytest.mark.parametrize(
    "activation, initializer_class",
    [
        ("selu", keras.initializers.LecunNormal),
        ("prelu", keras.initializers.HeNormal),
        ("gelu", keras.initializers.HeNormal),
    ],
    ids=str,
)
def test_initializer_follows_the_activation(activation, initializer_class):
    model = model_lib.build_model(
        FEATURES, CARDINALITIES, HParams(hidden_units=(8,), activation=activation)
    )
    assert isinstance(model.get_layer("hidden_0").kernel_initializer, initializer_class)


def test_regularization_options_reach_every_hidden_layer():
    hparams = HParams(hidden_units=(8, 4), l1=0.01, l2=0.02, max_norm=2.0)
    model = model_lib.build_model(FEATURES, CARDINALITIES, hparams)
    for name in ("hidden_0", "hidden_1"):
        layer = model.get_layer(name)
        assert layer.kernel_regularizer.get_config() == pytest.approx({"l1": 0.01, "l2": 0.02})
        assert layer.kernel_constraint.max_value == 2.0
    assert len(model.losses) == 2  # one penalty per hidden kernel


def test_residual_blocks_add_a_shortcut_over_equal_width_pairs():
    hparams = HParams(hidden_units=(16, 8, 8, 8, 8), residual=True, dropout=0.0)
    model = model_lib.build_model(FEATURES, CARDINALITIES, hparams)
    names = {layer.name for layer in model.layers}
    assert {"hidden_1_2_residual", "hidden_3_4_residual"} <= names
    # hidden_0 is 16 wide, the first block 8: its shortcut is projected; the second's is not.
    assert model.get_layer("hidden_1_projection").get_weights()[0].shape == (16, 8)
    assert "hidden_3_projection" not in names
    # The second block's output is its input plus f(input).
    inputs = model_lib.as_model_inputs(_batch(3))
    probe = keras.Model(
        model.inputs,
        [
            model.get_layer("hidden_1_2_residual").output,
            model.get_layer("hidden_3_4_residual").output,
        ],
    )
    block_in, block_out = probe(inputs, training=False)
    f = keras.Model(model.inputs, model.get_layer("hidden_4_swish").output)(inputs, training=False)
    np.testing.assert_allclose(block_out, block_in + f, rtol=1e-5, atol=1e-6)


def test_self_normalizing_stack_keeps_activations_standardized_at_initialization():
    # 20 SELU layers of 256 units over standardized inputs (LeCun normal init,
    # no batch norm, no dropout): each layer's outputs stay near mean 0 / std 1.
    hparams = HParams(preset="self_normalizing", hidden_units=(256,) * 20, dropout=0.0)
    features = tuple(TransformedFeature(f"x{i}_xf", is_categorical=False) for i in range(64))
    model = model_lib.build_model(features, {}, hparams)
    rng = np.random.default_rng(0)
    batch = {f"x{i}_xf": rng.normal(size=(2000, 1)).astype("float32") for i in range(64)}
    dataset = tf.data.Dataset.from_tensors((batch, np.zeros((2000, 1), "float32")))
    model_lib.adapt_input_standardization(model, dataset, batches=1)
    outputs = [model.get_layer(f"hidden_{i}_selu").output for i in (0, 9, 19)]
    values = keras.Model(model.inputs, outputs)(batch, training=False)
    for value in values:
        value = value.numpy()
        assert abs(value.mean()) < 0.15
        assert 0.8 < value.std() < 1.2


def test_a_relu_stack_without_normalization_does_not_stay_standardized():
    # The contrast that makes the test above meaningful: ReLU + LeCun init shrinks.
    hparams = HParams(
        hidden_units=(256,) * 20, activation="relu", initializer="lecun_normal", dropout=0.0
    )
    features = tuple(TransformedFeature(f"x{i}_xf", is_categorical=False) for i in range(64))
    model = model_lib.build_model(features, {}, hparams)
    rng = np.random.default_rng(0)
    batch = {f"x{i}_xf": rng.normal(size=(500, 1)).astype("float32") for i in range(64)}
    last = keras.Model(model.inputs, model.get_layer("hidden_19_relu").output)(batch)
    assert last.numpy().std() < 0.01


def test_self_normalizing_standardizes_its_inputs():
    hparams = HParams(preset="self_normalizing", hidden_units=(8,), dropout=0.0)
    model = model_lib.build_model(FEATURES, CARDINALITIES, hparams)
    batch = model_lib.as_model_inputs(_batch(64))
    dataset = tf.data.Dataset.from_tensors((batch, tf.zeros([64, 1])))
    model_lib.adapt_input_standardization(model, dataset, batches=1)
    features = keras.Model(model.inputs, model.get_layer("standardize_inputs").output)
    standardized = features(batch).numpy()
    np.testing.assert_allclose(standardized.mean(axis=0), 0.0, atol=1e-4)
    # Columns that vary come out with unit variance.
    varying = standardized.std(axis=0) > 1e-3
    np.testing.assert_allclose(standardized.std(axis=0)[varying], 1.0, rtol=1e-2)


@pytest.mark.parametrize("kind, layer_class", [("alpha_dropout", "AlphaDropout")], ids=str)
def test_dropout_kind(kind, layer_class):
    hparams = HParams(hidden_units=(8,), dropout=0.2, dropout_kind=kind)
    model = model_lib.build_model(FEATURES, CARDINALITIES, hparams)
    assert type(model.get_layer("hidden_0_dropout")).__name__ == layer_class


def test_a_column_constant_in_the_sample_keeps_its_scale():
    hparams = HParams(preset="self_normalizing", hidden_units=(8,), dropout=0.0)
    model = model_lib.build_model(FEATURES, CARDINALITIES, hparams)
    batch = model_lib.as_model_inputs(_batch(64))
    batch["a_xf"] = tf.zeros([64, 1])  # constant in the sample
    dataset = tf.data.Dataset.from_tensors((batch, tf.zeros([64, 1])))
    model_lib.adapt_input_standardization(model, dataset, batches=1)
    features = keras.Model(model.inputs, model.get_layer("standardize_inputs").output)
    batch["a_xf"] = tf.ones([64, 1])  # ... and then it varies
    standardized = features(batch).numpy()
    assert np.abs(standardized).max() < 100
    np.testing.assert_allclose(standardized[:, 0], 1.0, rtol=1e-5)  # (1 - 0) / 1


def test_text_token_ids_are_an_embedding_bag_and_tfidf_a_dense_vector():
    tokens = TransformedFeature(
        "review_xf", is_categorical=True, vocabulary_name="review", width=4, embedding_size=3
    )
    tfidf = TransformedFeature("title_xf", is_categorical=False, width=5)
    dnn = model_lib.build_model((tokens, tfidf), {"review_xf": 10}, HParams(hidden_units=(4,)))
    assert dnn.get_layer("review_xf_embedding").output_shape == (None, 4, 3)
    assert dnn.get_layer("features").output_shape == (None, 3 + 5)
    # Padding (id 0) is left out of the mean: [7, 0, 0, 0] embeds as token 7 alone.
    embedding = dnn.get_layer("review_xf_embedding").get_weights()[0]
    bag = keras.Model(dnn.inputs, dnn.get_layer("review_xf_bag").output)
    out = bag(
        {"review_xf": tf.constant([[7, 0, 0, 0], [7, 2, 0, 0]]), "title_xf": tf.zeros([2, 5])}
    )
    np.testing.assert_allclose(out[0], embedding[7], rtol=1e-6)
    np.testing.assert_allclose(out[1], (embedding[7] + embedding[2]) / 2, rtol=1e-6)


def test_large_images_get_a_conv_stem_and_small_ones_stay_pixels():
    big = TransformedFeature("photo_xf", False, width=16 * 16 * 3, image_shape=(16, 16, 3))
    small = TransformedFeature("digit_xf", False, width=8 * 8, image_shape=(8, 8, 1))
    dnn = model_lib.build_model((big, small), {}, HParams(hidden_units=(4,)))
    assert dnn.get_layer("photo_xf_conv_0").output_shape == (None, 16, 16, 32)
    assert dnn.get_layer("photo_xf_features").output_shape == (None, 64)
    # 64 conv features of the photo, and the 64 pixels of the digit as they are.
    assert dnn.get_layer("features").output_shape == (None, 64 + 64)


def test_one_hot_ids_and_an_explicit_embedding_size():
    hot = TransformedFeature("c_xf", True, cardinality=4, one_hot=True)
    sized = TransformedFeature("d_xf", True, cardinality=50, embedding_size=3)
    dnn = model_lib.build_model((hot, sized), {"c_xf": 4, "d_xf": 50}, HParams(hidden_units=(4,)))
    one_hot = keras.Model(dnn.inputs, dnn.get_layer("c_xf_one_hot").output)
    out = one_hot({"c_xf": tf.constant([[2], [0]]), "d_xf": tf.constant([[1], [1]])})
    np.testing.assert_array_equal(np.reshape(out, (2, 4)), [[0, 0, 1, 0], [1, 0, 0, 0]])
    assert not dnn.get_layer("c_xf_one_hot").trainable_weights  # a fixed encoding
    assert dnn.get_layer("d_xf_embedding").output_shape == (None, 1, 3)
    assert dnn.get_layer("features").output_shape == (None, 4 + 3)
