"""The tabm family through a SavedModel: the serving contract on raw rows with missing values
(a periodic numeric feature and identity ids), the served prediction the members' mean, and
warm start from an exported tabm."""

import numpy as np
import pytest
import tensorflow as tf

from components import dataset as S
from components.trainer import export
from components.trainer.families import tabm
from components.trainer.heads import Head
from components.trainer.hparams import HParams
from components.trainer.model import as_model_inputs

SPEC = S.DatasetSpec(
    S.SourceSpec(S.SourceFormat.CSV, "rows.csv"),
    S.LabelSpec("y", S.Task.MULTICLASS, classes=("a", "b", "c")),
    (
        S.NumericFeature("x", embedding=S.NumericEmbedding.PERIODIC),
        S.CategoricalFeature("c", S.CategoricalTransform.IDENTITY, num_values=3),
    ),
)
RAW_SPEC = {
    "x": tf.io.VarLenFeature(tf.float32),
    "c": tf.io.VarLenFeature(tf.int64),
    "y": tf.io.VarLenFeature(tf.string),
}
ROWS = [
    {"x": [1.0], "c": [0], "y": [b"a"]},
    {"x": [2.0], "c": [1], "y": [b"b"]},
    {"x": [4.0], "c": [2], "y": [b"c"]},
]
HEAD = Head(S.Task.MULTICLASS, 3)


def _hparams(**changes) -> HParams:
    values = {"tabm_members": 4, "tabm_hidden_units": (8,), "periodic_frequencies": 3}
    return HParams(**{**values, **changes}).resolve()


@pytest.fixture(scope="module")
def transform_output(tmp_path_factory, analyze_transform):
    """The Transform graph of `SPEC` analyzed on `ROWS`."""
    return analyze_transform(str(tmp_path_factory.mktemp("transform")), SPEC, RAW_SPEC, ROWS)


def _build(hparams: HParams, seed: int = 0):
    served, members = tabm.build_tabm(SPEC.transformed_features(), {"c_xf": 4}, hparams, HEAD)
    rng = np.random.default_rng(seed)
    for layer in served.layers:
        layer.set_weights([rng.normal(size=w.shape).astype(w.dtype) for w in layer.get_weights()])
    return served, members


@pytest.fixture(scope="module")
def exported(transform_output, tmp_path_factory):
    served, members = _build(_hparams())
    folder = str(tmp_path_factory.mktemp("serving") / "model")
    export.export_serving_model(served, transform_output, SPEC, folder)
    return folder, served, members


def _examples(rows: list[dict]) -> tf.Tensor:
    serialized = []
    for row in rows:
        feature = {}
        if "x" in row:
            feature["x"] = tf.train.Feature(float_list=tf.train.FloatList(value=row["x"]))
        if "c" in row:
            feature["c"] = tf.train.Feature(int64_list=tf.train.Int64List(value=row["c"]))
        example = tf.train.Example(features=tf.train.Features(feature=feature))
        serialized.append(example.SerializeToString())
    return tf.constant(serialized)


def test_raw_rows_with_missing_values_are_served_the_mean_of_the_members(exported):
    folder, _, members = exported
    loaded = tf.saved_model.load(folder)
    requests = _examples([{"x": [1.0], "c": [0]}, {"x": [3.0]}, {"c": [2]}, {}])
    out = loaded.signatures["serving_default"](examples=requests)
    assert list(out) == ["probabilities"]
    # The members on the same rows through the exported Transform graph.
    transformed = loaded.signatures[export.TRANSFORM_SIGNATURE](examples=requests)
    inputs = as_model_inputs({k: transformed[k] for k in ("x_xf", "x_missing_xf", "c_xf")})
    # Missing x: 0 as a z-score, flagged; missing c: the missing id 3.
    np.testing.assert_allclose(inputs["x_xf"].numpy()[2:], 0.0)
    np.testing.assert_array_equal(inputs["x_missing_xf"].numpy().ravel(), [0, 0, 1, 1])
    np.testing.assert_array_equal(inputs["c_xf"].numpy().ravel(), [0, 3, 2, 3])
    each = members(inputs).numpy()
    assert np.ptp(each, axis=1).min() > 1e-4  # members disagree on every row
    np.testing.assert_allclose(out["probabilities"].numpy(), each.mean(axis=1), rtol=1e-5)
    np.testing.assert_allclose(out["probabilities"].numpy().sum(axis=1), 1.0, rtol=1e-5)


def test_warm_start_copies_every_layer_of_a_tabm_of_the_same_shapes(exported):
    folder, base, _ = exported
    target, _ = _build(_hparams(), seed=1)
    record = tabm._warm_start(target, folder)
    assert "why_not" not in record
    assert "tabm_block_0" in record["reused_layers"]
    assert "x_xf_periodic" in record["reused_layers"]
    for name in ("tabm_block_0", tabm.MEMBER_HEADS, "x_xf_periodic"):
        for got, want in zip(
            target.get_layer(name).get_weights(), base.get_layer(name).get_weights(), strict=True
        ):
            np.testing.assert_array_equal(got, want)


def test_warm_start_from_a_tabm_of_other_shapes_trains_from_scratch_and_says_why(exported):
    folder, _, _ = exported
    target, _ = _build(_hparams(tabm_members=6), seed=1)
    before = [w.copy() for w in target.get_weights()]
    record = tabm._warm_start(target, folder)
    assert record["reused_layers"] == []
    assert "tabm_block_0" in record["why_not"] and "trained from scratch" in record["why_not"]
    for got, want in zip(target.get_weights(), before, strict=True):
        np.testing.assert_array_equal(got, want)
