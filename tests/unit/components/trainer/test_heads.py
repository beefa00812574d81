"""The model's head by label kind: output, loss, metrics, objective, fitting it to the labels
(regression rescaling, classification base rates)."""

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from components.dataset import Task, TransformedFeature
from components.trainer import model as model_lib
from components.trainer.heads import Head, adapt_prior_bias, adapt_target_scale
from components.trainer.hparams import HParams

FEATURES = (TransformedFeature("x_xf", is_categorical=False),)


def _model(head: Head) -> keras.Model:
    return model_lib.build_model(FEATURES, {}, HParams(hidden_units=(4,), seed=1), head)


@pytest.mark.parametrize(
    "head, shape, key, metrics",
    [
        (Head(), (3, 1), "probability", ["accuracy", "auc"]),
        (Head(Task.MULTICLASS, 4), (3, 4), "probabilities", ["accuracy"]),
        (Head(Task.REGRESSION), (3, 1), "prediction", ["rmse", "mae"]),
    ],
    ids=["binary", "multiclass", "regression"],
)
def test_each_head_outputs_its_shape_under_its_name(head, shape, key, metrics):
    dnn = _model(head)
    out = dnn({"x_xf": tf.constant([[0.0], [1.0], [-1.0]])}).numpy()
    assert out.shape == shape
    assert dnn.output_names == [key] and head.prediction_key == key
    assert [m.name for m in head.metrics()] == metrics
    if head.task is Task.MULTICLASS:
        np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-6)
    if head.task is Task.BINARY:
        assert ((out > 0) & (out < 1)).all()


def test_losses_match_their_formulas():
    # Binary: -log(0.8) for a positive at 0.8; multiclass: -log(p of the true class).
    binary = Head().loss()(tf.constant([[1.0]]), tf.constant([[0.8]])).numpy()
    assert binary == pytest.approx(-np.log(0.8), rel=1e-5)
    multi = Head(Task.MULTICLASS, 3).loss()(tf.constant([[2.0]]), tf.constant([[0.2, 0.3, 0.5]]))
    assert multi.numpy() == pytest.approx(-np.log(0.5), rel=1e-5)
    regression = Head(Task.REGRESSION).loss()(tf.constant([[3.0]]), tf.constant([[1.0]]))
    assert regression.numpy() == pytest.approx(4.0)


def test_the_quality_metric_and_its_direction_follow_the_label():
    assert (Head().quality_metric, Head().higher_is_better) == ("auc", True)
    multiclass = Head(Task.MULTICLASS, 3)
    assert (multiclass.quality_metric, multiclass.higher_is_better) == ("accuracy", True)
    regression = Head(Task.REGRESSION)
    assert (regression.quality_metric, regression.higher_is_better) == ("rmse", False)


def test_a_multiclass_head_needs_two_classes():
    with pytest.raises(ValueError, match="2 or more classes"):
        Head(Task.MULTICLASS, 1)


def test_the_regression_output_is_rescaled_to_the_labels_mean_and_spread():
    dnn = _model(Head(Task.REGRESSION))
    labels = np.array([100.0, 110.0, 120.0, 130.0], np.float32)
    dataset = tf.data.Dataset.from_tensor_slices(
        ({"x_xf": np.zeros((4, 1), np.float32)}, labels.reshape(-1, 1))
    ).batch(2)
    adapt_target_scale(dnn, dataset, batches=2)
    rescale = dnn.get_layer("prediction")
    assert rescale.offset == pytest.approx(115.0)
    assert rescale.scale == pytest.approx(float(np.std(labels)))  # 11.18
    # The output is offset + scale * (the linear unit's output), end to end.
    standardized = keras.Model(dnn.inputs, dnn.get_layer("standardized_prediction").output)
    x = {"x_xf": tf.constant([[0.5]])}
    expected = 115.0 + np.std(labels) * standardized(x).numpy()
    np.testing.assert_allclose(dnn(x).numpy(), expected, rtol=1e-5)
    # And it survives a save and reload.
    config = dnn.get_layer("prediction").get_config()
    assert (config["scale"], config["offset"]) == (pytest.approx(11.18, abs=0.01), 115.0)


def test_the_rescaling_leaves_classification_heads_alone():
    dnn = _model(Head())
    before = [w.copy() for w in dnn.get_weights()]
    dataset = tf.data.Dataset.from_tensor_slices(
        ({"x_xf": np.zeros((2, 1), np.float32)}, np.ones((2, 1), np.float32))
    ).batch(2)
    adapt_target_scale(dnn, dataset, batches=1)
    for a, b in zip(before, dnn.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def _labelled(labels: list[float], batch_size: int = 4) -> tf.data.Dataset:
    y = np.array(labels, np.float32).reshape(-1, 1)
    return tf.data.Dataset.from_tensor_slices(
        ({"x_xf": np.zeros((len(y), 1), np.float32)}, y)
    ).batch(batch_size)


@pytest.mark.parametrize(
    "head, labels, batches, rates",
    [
        # 2 positives, 6 negatives: the log odds log(2 / 6).
        (Head(), [1, 0, 0, 0, 0, 0, 0, 1], 2, [0.25]),
        # Only the first batch counts: 1 positive in 4.
        (Head(), [1, 0, 0, 0, 1, 1, 1, 1], 1, [0.25]),
        # Classes 0, 1, 2 seen 6, 2 and 0 times; the absent one counts once: 6:2:1.
        (Head(Task.MULTICLASS, 3), [0, 0, 0, 0, 1, 1, 0, 0], 2, [6 / 9, 2 / 9, 1 / 9]),
    ],
    ids=["binary", "binary-first-batch", "multiclass-absent-class"],
)
def test_a_classification_head_starts_at_the_labels_base_rates(head, labels, batches, rates):
    dnn = _model(head)
    adapt_prior_bias(dnn, _labelled(labels), batches=batches)
    output = dnn.get_layer(head.prediction_key)
    if head.task is Task.BINARY:
        np.testing.assert_allclose(output.bias.numpy(), np.log([rates[0] / (1 - rates[0])]))
    else:
        np.testing.assert_allclose(output.bias.numpy().sum(), 0.0, atol=1e-6)
    # Whatever the hidden layers say, zero weights into the output predict the base rates.
    output.kernel.assign(np.zeros(output.kernel.shape, np.float32))
    predicted = dnn({"x_xf": tf.constant([[0.3], [-2.0]])}).numpy()
    np.testing.assert_allclose(predicted, [rates, rates], rtol=1e-5)


def test_the_base_rates_leave_a_regression_head_alone():
    dnn = _model(Head(Task.REGRESSION))
    before = [w.copy() for w in dnn.get_weights()]
    adapt_prior_bias(dnn, _labelled([1.0, 2.0, 3.0, 4.0]), batches=1)
    for a, b in zip(before, dnn.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("adapt", [adapt_prior_bias, adapt_target_scale])
def test_an_empty_training_split_is_a_clear_error(adapt):
    head = Head(Task.REGRESSION) if adapt is adapt_target_scale else Head()
    empty = _labelled([1.0]).take(0)
    with pytest.raises(ValueError, match="training split holds no example"):
        adapt(_model(head), empty, batches=2)
