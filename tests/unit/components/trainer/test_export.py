"""`components.trainer.export`: the served model parses raw examples, runs the saved Transform
graph, and scores with the trained weights; numbers checked on a few rows by hand."""

import math

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from components import dataset as S
from components.trainer import export

SPEC = S.DatasetSpec(
    S.SourceSpec(S.SourceFormat.CSV, "rows.csv"),
    S.LabelSpec("y", S.Task.BINARY),
    (S.NumericFeature("x"),),
)
RAW_SPEC = {"x": tf.io.VarLenFeature(tf.float32), "y": tf.io.VarLenFeature(tf.int64)}
# x: 1, 2, 3: mean 2, standard deviation sqrt(2/3), so z = (x - 2) / sqrt(2/3).
ROWS = [{"x": [1.0], "y": [0]}, {"x": [2.0], "y": [1]}, {"x": [3.0], "y": [1]}]


@pytest.fixture(scope="module")
def transform_output(tmp_path_factory, analyze_transform):
    """The Transform graph of `SPEC` analyzed on `ROWS`."""
    return analyze_transform(str(tmp_path_factory.mktemp("transform")), SPEC, RAW_SPEC, ROWS)


def _model() -> keras.Model:
    """probability = sigmoid(2 * x_xf + 0.5): one input, weights set by hand."""
    x = keras.Input(shape=(1,), name="x_xf", dtype="float32")
    dense = keras.layers.Dense(1, activation="sigmoid", name="out")
    model = keras.Model(inputs={"x_xf": x}, outputs=dense(x))
    dense.set_weights([np.array([[2.0]], np.float32), np.array([0.5], np.float32)])
    return model


def _examples(rows: list[dict]) -> tf.Tensor:
    serialized = []
    for row in rows:
        feature = {"x": tf.train.Feature(float_list=tf.train.FloatList(value=row.get("x", [])))}
        if "y" in row:
            feature["y"] = tf.train.Feature(int64_list=tf.train.Int64List(value=row["y"]))
        example = tf.train.Example(features=tf.train.Features(feature=feature))
        serialized.append(example.SerializeToString())
    return tf.constant(serialized)


def _sigmoid(v: float) -> float:
    return 1 / (1 + math.exp(-v))


@pytest.fixture(scope="module")
def exported(transform_output, tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("serving") / "model")
    export.export_serving_model(_model(), transform_output, SPEC, folder)
    return tf.saved_model.load(folder)


def test_a_serving_request_carries_no_label_column(transform_output):
    assert set(export.serving_feature_spec(transform_output, SPEC)) == {"x"}


def test_the_export_has_the_serving_and_transform_signatures(exported):
    assert set(exported.signatures) == {"serving_default", export.TRANSFORM_SIGNATURE}
    serve = exported.signatures["serving_default"]
    assert list(serve.structured_input_signature[1]) == [export.SERVING_INPUT]


def test_served_probabilities_are_the_models_on_the_transformed_raw_values(exported):
    # z-scores of 1, 2, 3 and of a missing x (the mean: 0); then sigmoid(2 z + 0.5).
    z = [-1 / math.sqrt(2 / 3), 0.0, 1 / math.sqrt(2 / 3), 0.0]
    requests = _examples([{"x": [1.0]}, {"x": [2.0]}, {"x": [3.0]}, {}])
    out = exported.signatures["serving_default"](examples=requests)
    assert list(out) == ["probability"]  # a binary label's prediction key
    np.testing.assert_allclose(
        out["probability"].numpy(), [[_sigmoid(2 * v + 0.5)] for v in z], rtol=1e-5
    )


def test_the_transform_signature_gives_the_transformed_features_and_label(exported):
    out = exported.signatures[export.TRANSFORM_SIGNATURE](examples=_examples(ROWS))
    np.testing.assert_allclose(
        out["x_xf"].numpy(), [-1 / math.sqrt(2 / 3), 0.0, 1 / math.sqrt(2 / 3)], rtol=1e-5
    )
    np.testing.assert_array_equal(out["x_missing_xf"].numpy(), [0, 0, 0])
    label = [k for k in out if k.startswith("y")]
    assert label, sorted(out)
    np.testing.assert_array_equal(out[label[0]].numpy().reshape(-1), [0, 1, 1])
