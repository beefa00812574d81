"""TFLite copies: how far each quantization moves predictions, sizes, and the written evaluation.

Most tests use a binary model; multiclass and regression models get one
end-to-end conversion each (the metrics themselves: test_prediction_metrics.py).
"""

import json

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from components.dataset import Task, TransformedFeature
from components.trainer import model as model_lib
from components.trainer import prediction_metrics, tflite
from components.trainer.heads import Head, adapt_target_scale
from components.trainer.hparams import HParams

STORES = 200  # embedding 200 x 16: the bulk of the weights, as in real models
FEATURES = (
    TransformedFeature("a_xf", is_categorical=False),
    TransformedFeature("b_xf", is_categorical=False),
    TransformedFeature("store_xf", is_categorical=True, cardinality=STORES),
)
BATCH = 128


def _data(n: int, seed: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Label 1 when a > b (separable); the store id is noise the model must learn to ignore."""
    rng = np.random.default_rng(seed)
    features = {
        "a_xf": rng.normal(size=(n, 1)).astype(np.float32),
        "b_xf": rng.normal(size=(n, 1)).astype(np.float32),
        "store_xf": rng.integers(0, STORES, size=(n, 1)).astype(np.int64),
    }
    return features, (features["a_xf"] > features["b_xf"]).astype(np.float32)


def _dataset(features, labels) -> tf.data.Dataset:
    return tf.data.Dataset.from_tensor_slices((features, labels)).batch(BATCH)


@pytest.fixture(scope="module")
def trained() -> keras.Model:
    keras.utils.set_random_seed(0)
    model = model_lib.build_model(
        FEATURES, {"store_xf": STORES}, HParams(hidden_units=(16, 8), dropout=0.0)
    )
    model.compile(keras.optimizers.Adam(0.01), "binary_crossentropy")
    features, labels = _data(1024, seed=1)
    model_lib.skip_autograph(model).fit(
        features, labels, batch_size=64, epochs=3, shuffle=False, verbose=0
    )
    return model


@pytest.fixture(scope="module")
def eval_data():
    return _data(1000, seed=2)


@pytest.fixture(scope="module")
def written(trained, eval_data, tmp_path_factory):
    """write_copies over the eval data; int8 is full-integer, calibrated on other batches."""
    export_dir = tmp_path_factory.mktemp("tflite") / "export"
    calibration = _dataset(*_data(512, seed=3))
    result = tflite.write_copies(
        trained, str(export_dir), _dataset(*eval_data), representative_data=calibration
    )
    return export_dir, result


def _copy(written, quantization: str) -> bytes:
    export_dir, _ = written
    return (export_dir / tflite.copy_filename(quantization)).read_bytes()


def _keras(model, features) -> np.ndarray:
    return model(features, training=False).numpy()


def test_float16_copy_is_the_keras_model_with_float16_weights(trained, eval_data, written):
    features, _ = eval_data
    copy = tflite.predict(_copy(written, "float16"), features)
    assert copy.shape == (1000, 1) and copy.dtype == np.float32
    # Weights are rounded to float16 (relative error <= 2**-11 ~ 4.9e-4) and the
    # arithmetic stays float32. Four rounded weight tensors on the path move the
    # logit z by roughly 4 * 4.9e-4 * |z| (more where terms cancel), and the
    # probability by sigmoid'(z) * that, with sigmoid'(z) * |z| <= 0.224: ~5e-4.
    # 1e-2 leaves a factor of 20 for cancellation.
    assert np.abs(copy - _keras(trained, features)).max() < 1e-2
    # Sharper: the same network with its weights rounded to float16 in Keras
    # predicts what the copy does, up to float32 rounding.
    rounded = keras.models.clone_model(trained)
    rounded.set_weights([w.astype(np.float16).astype(np.float32) for w in trained.get_weights()])
    assert np.abs(copy - _keras(rounded, features)).max() < 1e-5


def test_int8_copy_error_is_the_input_step_times_the_logit_slope(trained, eval_data, written):
    features, _ = eval_data
    copy = tflite.predict(_copy(written, "int8"), features)
    errors = np.abs(copy - _keras(trained, features))
    # The concatenation shares one int8 scale between a, b and the embedding:
    # 0.026 here (range +-3.3), so a and b are each rounded by up to 0.013. On
    # this separable data the net learned a steep logit, ~15 (a - b), so near
    # the boundary the two roundings move the logit by up to 15 * 0.026 = 0.39
    # and the probability by up to 0.39 / 4 (sigmoid slope) ~ 0.1. The output
    # step, 1/256, and the hidden activations' rounding add less than that.
    assert errors.max() < 0.1
    # Away from the boundary the sigmoid is flat: typical errors are an output step.
    assert np.median(errors) < 1 / 256
    flipped = np.mean((copy > 0.5) != (_keras(trained, features) > 0.5))
    assert flipped <= 0.01


def test_int8_copy_quantizes_embedding_and_kernels_but_keeps_float_and_int64_inputs(written):
    interpreter = tf.lite.Interpreter(model_content=_copy(written, "int8"))
    inputs = interpreter.get_signature_runner().get_input_details()
    assert {name: d["dtype"] for name, d in inputs.items()} == {
        "a_xf": np.float32,
        "b_xf": np.float32,
        "store_xf": np.int64,
    }
    int8 = {d["name"] for d in interpreter.get_tensor_details() if d["dtype"] == np.int8}
    assert any("store_xf_embedding" in name for name in int8)
    assert any("hidden_1" in name for name in int8)


def test_sizes_shrink_with_the_weights(trained, written):
    float32 = len(tflite.convert(trained, "float32"))
    float16, int8 = len(_copy(written, "float16")), len(_copy(written, "int8"))
    # 3,649 weights (3,200 of them the embedding) are 14,596 bytes in float32;
    # the graph and metadata add ~3 KB. float16 saves 2 bytes a weight, int8
    # saves 1 more on the embedding and the kernels (biases become int32).
    assert float32 > 4 * 3_649
    assert float32 - float16 >= 2 * 3_200
    assert float16 - int8 >= 3_200
    assert int8 < float16 < float32


def test_int8_without_representative_data_is_dynamic_range(trained, eval_data, written):
    result = tflite.evaluate_copies(trained, _dataset(*eval_data), quantizations=("int8",))
    assert set(result) == {"keras", "int8"}
    full_int8 = written[1]["int8"]
    # Only the embedding (3,200 weights) is quantized: kernels under 1,024
    # weights stay float32, and so do activations. Each embedding entry moves by
    # at most half a step of max|w| / 127; no input is rounded to the
    # concatenation's shared step as in full int8, so the error is far smaller.
    assert result["int8"]["max_abs_diff"] < 0.01
    assert result["int8"]["max_abs_diff"] < full_int8["max_abs_diff"] / 4
    # The float32 kernels make it a bit bigger than full int8, still under float16.
    assert full_int8["bytes"] < result["int8"]["bytes"] < len(_copy(written, "float16"))


def test_written_evaluation_matches_an_independent_one(trained, eval_data, written):
    export_dir, result = written
    assert json.loads((export_dir / tflite.EVAL_FILE).read_text()) == result
    features, labels = eval_data
    keras_scores = _keras(trained, features).ravel()
    keras_accuracy = np.mean((keras_scores > 0.5) == (labels.ravel() == 1))
    assert result["keras"]["examples"] == 1000
    assert result["keras"]["accuracy"] == pytest.approx(keras_accuracy, abs=1e-12)
    assert result["keras"]["accuracy"] > 0.9  # a > b is learnable in 3 epochs
    for quantization in ("float16", "int8"):
        content = _copy(written, quantization)
        scores = tflite.predict(content, features).ravel()
        copy_accuracy = np.mean((scores > 0.5) == (labels.ravel() == 1))
        entry = result[quantization]
        assert entry["bytes"] == len(content)
        assert entry["accuracy"] == pytest.approx(copy_accuracy, abs=1e-12)
        assert entry["accuracy_diff"] == pytest.approx(copy_accuracy - keras_accuracy, abs=1e-12)
        assert entry["max_abs_diff"] == pytest.approx(np.abs(scores - keras_scores).max())


def test_auc_matches_sklearn_on_the_copies(written, eval_data):
    metrics = pytest.importorskip("sklearn.metrics")
    features, labels = eval_data
    _, result = written
    scores = tflite.predict(_copy(written, "int8"), features)
    # int8 scores come in steps of 1/256, so there are many ties to average.
    assert len(np.unique(scores)) < 257
    assert prediction_metrics.auc(labels, scores) == pytest.approx(
        metrics.roc_auc_score(labels, scores)
    )
    assert result["int8"]["auc"] == pytest.approx(metrics.roc_auc_score(labels, scores))


def test_predict_matches_inputs_by_name_and_ignores_extras(written, eval_data):
    content = _copy(written, "float16")
    features, labels = eval_data
    head = {name: value[:4] for name, value in features.items()}
    mangled = {f"serving_default_{name}:0": value for name, value in head.items()}
    # Float64 numerics and int32 ids are cast to what the model takes.
    loose = {
        "a_xf": head["a_xf"].astype(np.float64),
        "b_xf": head["b_xf"],
        "store_xf": head["store_xf"].astype(np.int32),
        "label_xf": labels[:4],
    }
    expected = tflite.predict(content, head)
    assert expected.shape == (4, 1)
    np.testing.assert_array_equal(tflite.predict(content, mangled), expected)
    np.testing.assert_array_equal(tflite.predict(content, loose), expected)


def test_missing_input_names_it(written, eval_data):
    features, _ = eval_data
    with pytest.raises(ValueError, match=r"\['store_xf'\] missing.*transform_features"):
        tflite.predict(
            _copy(written, "float16"),
            {"a_xf": features["a_xf"][:2], "b_xf": features["b_xf"][:2]},
        )


@pytest.mark.parametrize(
    "quantization, data, message",
    [
        ("int4", None, "Unknown TFLite quantization 'int4'"),
        ("float16", [{}], "only calibrates int8"),
    ],
    ids=["unknown", "calibrating-float16"],
)
def test_convert_rejects_bad_requests(trained, quantization, data, message):
    with pytest.raises(ValueError, match=message):
        tflite.convert(trained, quantization, data)


def test_predict_without_a_signature_matches_tensor_names(written, eval_data, monkeypatch):
    content = _copy(written, "float16")
    features, _ = eval_data
    expected = tflite.predict(content, features)
    # As for a model converted without signatures: inputs are then only known
    # by tensor names such as "serving_default_a_xf:0".
    monkeypatch.setattr(tf.lite.Interpreter, "get_signature_list", lambda self: {})
    for size in (4, 7):  # a second batch size: the inputs are resized
        head = {name: value[:size] for name, value in features.items()}
        np.testing.assert_array_equal(tflite.predict(content, head), expected[:size])


@pytest.mark.parametrize(
    "task, message",
    [
        (Task.MULTICLASS, r"outputs 1 value\(s\) per example, but a multiclass head"),
        ("ordinal", "Unknown task 'ordinal'"),
    ],
    ids=["multiclass-on-a-binary-model", "unknown"],
)
def test_evaluate_rejects_a_task_the_model_does_not_have(trained, eval_data, task, message):
    with pytest.raises(ValueError, match=message):
        tflite.evaluate_copies(trained, _dataset(*eval_data), task=task)


CLASSES = 3


def _task_data(n: int, seed: int, task: Task) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The binary data's features, labelled for `task` by a rule a small net learns in 3 epochs."""
    features, _ = _data(n, seed)
    a, b = features["a_xf"], features["b_xf"]
    if task is Task.MULTICLASS:
        # The class is whichever of a, b and 0 is largest: linear boundaries in (a, b).
        return features, np.argmax(np.hstack([a, b, np.zeros_like(a)]), axis=1)
    return features, (3 * a - 2 * b + 10).ravel()  # std sqrt(13) ~ 3.6 around 10


def _train_and_write(task: Task, export_dir):
    """A model with `task`'s head, trained as the Trainer does, and write_copies' defaults."""
    keras.utils.set_random_seed(0)
    head = Head(task, CLASSES)
    model = model_lib.build_model(
        FEATURES, {"store_xf": STORES}, HParams(hidden_units=(16, 8), dropout=0.0), head
    )
    features, labels = _task_data(512, seed=1, task=task)
    adapt_target_scale(model, _dataset(features, labels), batches=4)  # regression only
    model.compile(keras.optimizers.Adam(0.02), head.loss())
    model_lib.skip_autograph(model).fit(
        features, labels, batch_size=64, epochs=3, shuffle=False, verbose=0
    )
    eval_data = _task_data(300, seed=2, task=task)
    result = tflite.write_copies(model, str(export_dir), _dataset(*eval_data), task=task)
    return model, eval_data, result


@pytest.fixture(scope="module")
def multiclass_written(tmp_path_factory):
    export_dir = tmp_path_factory.mktemp("tflite_multiclass") / "export"
    return export_dir, *_train_and_write(Task.MULTICLASS, export_dir)


@pytest.fixture(scope="module")
def regression_written(tmp_path_factory):
    export_dir = tmp_path_factory.mktemp("tflite_regression") / "export"
    return export_dir, *_train_and_write(Task.REGRESSION, export_dir)


@pytest.mark.parametrize(
    "fixture, keras_keys, copy_keys",
    [
        (
            "written",
            {"accuracy", "auc", "examples"},
            {"accuracy", "auc", "accuracy_diff", "max_abs_diff", "bytes"},
        ),
        (
            "multiclass_written",
            {"accuracy", "examples"},
            {"accuracy", "accuracy_diff", "max_abs_diff", "bytes"},
        ),
        (
            "regression_written",
            {"mae", "rmse", "examples"},
            {"mae", "rmse", "mae_diff", "rmse_diff", "max_abs_diff", "bytes"},
        ),
    ],
    ids=["binary", "multiclass", "regression"],
)
def test_evaluation_keys_by_task(request, fixture, keras_keys, copy_keys):
    export_dir, *_, result = request.getfixturevalue(fixture)
    assert json.loads((export_dir / tflite.EVAL_FILE).read_text()) == result
    assert set(result) == {"keras", *tflite.DEFAULT_QUANTIZATIONS}
    assert set(result["keras"]) == keras_keys
    for quantization in tflite.DEFAULT_QUANTIZATIONS:
        assert set(result[quantization]) == copy_keys


def test_multiclass_float16_copy_keeps_the_probabilities(multiclass_written):
    export_dir, model, (features, labels), result = multiclass_written
    copy = tflite.predict((export_dir / tflite.copy_filename("float16")).read_bytes(), features)
    reference = _keras(model, features)
    assert copy.shape == (300, CLASSES)
    np.testing.assert_allclose(copy.sum(axis=1), 1.0, atol=1e-5)  # still a softmax
    # Float16 weights (relative 2**-11) move the logits by ~1e-3 at most; a
    # softmax probability moves by at most 1/2 of the largest logit change.
    assert np.abs(copy - reference).max() < 1e-2
    keras_accuracy = np.mean(np.argmax(reference, axis=1) == labels)
    copy_accuracy = np.mean(np.argmax(copy, axis=1) == labels)
    assert keras_accuracy > 0.8  # the rule is learnable: accuracy is a real signal
    assert result["keras"] == {"accuracy": pytest.approx(keras_accuracy), "examples": 300}
    entry = result["float16"]
    assert entry["accuracy"] == pytest.approx(copy_accuracy)
    assert entry["accuracy_diff"] == pytest.approx(copy_accuracy - keras_accuracy, abs=1e-12)
    assert entry["max_abs_diff"] == pytest.approx(np.abs(copy - reference).max())
    # An argmax can only change where the top two probabilities are within
    # 2 * max_abs_diff of each other.
    top_two = np.sort(reference, axis=1)[:, -2:]
    close = np.mean(top_two[:, 1] - top_two[:, 0] <= 2 * entry["max_abs_diff"])
    assert abs(entry["accuracy_diff"]) <= close


def test_regression_float16_copy_predicts_in_the_labels_units(regression_written):
    export_dir, model, (features, labels), result = regression_written
    content = (export_dir / tflite.copy_filename("float16")).read_bytes()
    outputs = tf.lite.Interpreter(model_content=content).get_signature_runner()
    assert list(outputs.get_output_details()) == ["prediction"]  # as the served model's
    copy = tflite.predict(content, features).ravel()
    reference = _keras(model, features).ravel()
    keras_errors, copy_errors = reference - labels, copy - labels
    # The label's std is 3.6: a model that learned nothing would have RMSE ~3.6.
    assert np.sqrt(np.mean(keras_errors**2)) < 1.5
    assert result["keras"] == {
        "mae": pytest.approx(np.mean(np.abs(keras_errors))),
        "rmse": pytest.approx(np.sqrt(np.mean(keras_errors**2))),
        "examples": 300,
    }
    entry = result["float16"]
    assert entry["mae"] == pytest.approx(np.mean(np.abs(copy_errors)))
    assert entry["rmse"] == pytest.approx(np.sqrt(np.mean(copy_errors**2)))
    # Copy minus Keras, not the other way round.
    assert entry["mae_diff"] == pytest.approx(entry["mae"] - result["keras"]["mae"], abs=1e-12)
    assert entry["rmse_diff"] == pytest.approx(entry["rmse"] - result["keras"]["rmse"], abs=1e-12)
    assert entry["max_abs_diff"] == pytest.approx(np.abs(copy - reference).max())
    # Float16 rounding (relative 2**-11) of the weights and of the output scale
    # (3.6) moves predictions of ~10 +- 10 by ~1e-2 at most; 0.05 is 1.4% of
    # the label's std.
    assert entry["max_abs_diff"] < 0.05
    # The triangle inequality bounds both metrics' change by the largest
    # prediction change: |MAE' - MAE| <= mean |copy - Keras| <= max.
    assert abs(entry["mae_diff"]) <= entry["max_abs_diff"]
    assert abs(entry["rmse_diff"]) <= entry["max_abs_diff"]


def test_a_one_hot_categorical_converts_and_predicts_as_the_keras_model():
    """One-hot ids (init-spec drafts them for few categories) use only ops TFLite has."""
    hot = TransformedFeature("c_xf", True, cardinality=3, one_hot=True)
    dnn = model_lib.build_model((hot,), {"c_xf": 3}, HParams(hidden_units=(4,)))
    copy = tflite.convert(dnn, "float16")
    ids = np.array([[0], [1], [2]], np.int64)
    np.testing.assert_allclose(
        tflite.predict(copy, {"c_xf": ids}), dnn({"c_xf": ids}).numpy(), rtol=1e-2, atol=1e-3
    )
