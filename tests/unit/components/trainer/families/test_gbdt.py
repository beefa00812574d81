"""`families.gbdt`: TF-DF's gradient-boosted trees on transformed features, for each task,
better than the trivial model, with the head's output shape; and through the serving
contract on raw rows with missing values."""

import math

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from components import dataset as S
from components import serving_ops
from components.trainer import export, prepare, warm_start
from components.trainer import model as model_lib
from components.trainer.families import gbdt, selection
from components.trainer.families.base import TrainingContext
from components.trainer.heads import Head
from components.trainer.hparams import HParams
from components.trainer.model import as_model_inputs

FEATURES = (S.TransformedFeature("x_xf", False), S.TransformedFeature("c_xf", True, cardinality=4))
# One effect per id, in no order a numeric split could follow: only a categorical split
# separates ids 0 and 2 from 1 and 3.
ID_EFFECT = np.array([2.0, -2.0, 2.0, -2.0])


def _data(task: S.Task, n: int, seed: int, columns=("x_xf", "c_xf")):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n).astype(np.float32)
    c = rng.integers(0, 4, size=n)
    signal = x + ID_EFFECT[c]
    if task is S.Task.BINARY:
        label = (signal + 0.3 * rng.normal(size=n) > 0).astype(np.int64)
    elif task is S.Task.MULTICLASS:
        label = np.digitize(signal, [-1.0, 1.0]).astype(np.int64)  # 3 classes
    else:
        label = (3.0 * signal + 0.1 * rng.normal(size=n)).astype(np.float32)
    features = {"x_xf": x[:, None], "c_xf": c[:, None].astype(np.int64)}
    features = {name: features[name] for name in columns}
    return tf.data.Dataset.from_tensor_slices((features, label)).batch(64)


def _context(task: S.Task, tmp_path, train_ds=None, eval_ds=None, features=FEATURES, **kw):
    spec = S.DatasetSpec(
        S.SourceSpec(S.SourceFormat.CSV, "rows.csv"),
        S.LabelSpec("y", task, classes=("a", "b", "c") if task is S.Task.MULTICLASS else ()),
        (S.NumericFeature("x"),),
    )
    return TrainingContext(
        spec=spec,
        head=Head.for_spec(spec),
        hparams=HParams().resolve(),
        features=features,
        cardinalities={"c_xf": 4},
        train_ds=train_ds if train_ds is not None else _data(task, 1500, seed=0),
        eval_ds=eval_ds if eval_ds is not None else _data(task, 400, seed=1),
        strategy=tf.distribute.get_strategy(),
        run_dir=str(tmp_path),
        tf_transform_output=None,
        **kw,
    )


# Trivial: majority-class accuracy / the mean's RMSE, on the eval data of `_data`.
QUALITY = [
    pytest.param(S.Task.BINARY, "auc", 0.9, id="binary-auc"),
    pytest.param(S.Task.MULTICLASS, "accuracy", 0.8, id="multiclass-accuracy"),
    pytest.param(S.Task.REGRESSION, "rmse", None, id="regression-rmse"),
]


@pytest.mark.parametrize("task, metric, bar", QUALITY)
def test_the_trees_beat_the_trivial_model_with_the_heads_output(task, metric, bar, tmp_path):
    context = _context(task, tmp_path)
    trained = gbdt.FAMILY.train(context)
    labels, predicted = selection.predictions(trained.model, context.eval_ds)
    assert predicted.shape == (len(labels), context.head.units)
    assert trained.model.output_names == [context.head.prediction_key]
    # Scored as the choice scores it: the early-stopped trees, which never saw eval's rows.
    scores = selection.score(trained.scored_model, context.eval_ds, context.head)
    if task is S.Task.REGRESSION:
        # The mean's RMSE is the label's spread (about 7.5 here); the trees are far below.
        assert scores["rmse"] < 0.3 * float(np.std(labels))
    else:
        assert scores[metric] > bar, scores
    if task is S.Task.MULTICLASS:
        np.testing.assert_allclose(predicted.sum(axis=1), 1.0, atol=1e-5)
    if task is not S.Task.REGRESSION:
        assert ((predicted >= 0) & (predicted <= 1)).all()
    assert trained.network is None
    record = trained.record
    assert 1 <= record["num_trees"] <= gbdt.MAX_TREES
    assert record["validation_loss"] is not None and record["training_seconds"] > 0
    assert record["categorical_features"] == ["c_xf"]


def _log_loss(model, dataset) -> float:
    labels, predicted = selection.predictions(model, dataset)
    p = np.clip(predicted[:, 0], 1e-7, 1 - 1e-7)
    return float(-np.mean(labels * np.log(p) + (1 - labels) * np.log(1 - p)))


def test_on_a_small_split_the_served_trees_are_refitted_on_train_and_eval(tmp_path):
    context = _context(S.Task.BINARY, tmp_path)  # 1,500 training rows, 400 eval rows
    trained = gbdt.FAMILY.train(context)
    refit = trained.record["refit"]
    assert refit["rows"] == 1900 and refit["num_trees"] == trained.record["num_trees"]
    assert trained.record["iterations"] == trained.record["num_trees"]  # a tree per iteration
    assert trained.eval_model is not None and trained.scored_model is trained.eval_model
    # The refit learned the eval rows: it fits them better than the trees that did not.
    # (A refit on train alone, same seed and trees, is the early-stopped model again.)
    served, early = (
        _log_loss(trained.model, context.eval_ds),
        _log_loss(trained.eval_model, context.eval_ds),
    )
    assert served < 0.95 * early, (served, early)
    assert trained.model.output_names == trained.eval_model.output_names


def test_a_multiclass_refit_runs_as_many_iterations_not_trees(tmp_path):
    # Three classes: each boosting iteration grows three trees, and TF-DF's `num_trees`
    # counts iterations, so the refit must ask for trees / 3 of them.
    trained = gbdt.FAMILY.train(_context(S.Task.MULTICLASS, tmp_path))
    record = trained.record
    assert record["num_trees"] == 3 * record["iterations"]
    assert record["refit"]["num_trees"] == record["num_trees"]


def test_on_a_larger_split_the_early_stopped_trees_are_served(tmp_path, monkeypatch):
    monkeypatch.setattr(gbdt, "REFIT_MAX_TRAIN_ROWS", 1500)  # the split has 1,500 rows
    trained = gbdt.FAMILY.train(_context(S.Task.BINARY, tmp_path))
    assert trained.record["refit"] is None
    assert trained.eval_model is None and trained.scored_model is trained.model


def test_binary_output_is_the_probability_of_the_positive_class(tmp_path):
    # Flipped labels must flip the probability: a model returning P(negative) fails this.
    context = _context(S.Task.BINARY, tmp_path)
    _, predicted = selection.predictions(gbdt.FAMILY.train(context).model, context.eval_ds)
    labels = np.concatenate([np.asarray(y) for _, y in context.eval_ds])
    assert predicted[labels == 1].mean() > 0.8 > 0.2 > predicted[labels == 0].mean()


def test_ids_are_split_as_categories_not_as_numbers(tmp_path, monkeypatch):
    # With one shallow tree, ids {0, 2} vs {1, 3} is one categorical split; as numbers it
    # takes three. A family that declared ids NUMERICAL scores far lower here.
    monkeypatch.setattr(gbdt, "MAX_DEPTH", 2)
    monkeypatch.setattr(gbdt, "MAX_TREES", 1)
    features = (S.TransformedFeature("c_xf", True, cardinality=4),)
    context = _context(
        S.Task.BINARY,
        tmp_path,
        train_ds=_data(S.Task.BINARY, 1500, seed=0, columns=["c_xf"]),
        eval_ds=_data(S.Task.BINARY, 400, seed=1, columns=["c_xf"]),
        features=features,
    )
    scores = selection.score(gbdt.FAMILY.train(context).model, context.eval_ds, context.head)
    assert scores["accuracy"] > 0.8, scores


def test_warm_start_is_recorded_as_not_applicable(tmp_path):
    context = _context(S.Task.BINARY, tmp_path, base_model="/models/live/1")
    warm = gbdt.FAMILY.train(context).record["warm_start"]
    assert warm["base_model"] == "/models/live/1" and warm["reused_layers"] == []
    assert "from scratch" in warm["note"]


# The serving contract: raw tf.Examples in, through the saved Transform graph.
SPEC = S.DatasetSpec(
    S.SourceSpec(S.SourceFormat.CSV, "rows.csv"),
    S.LabelSpec("y", S.Task.BINARY),
    (S.NumericFeature("x"), S.CategoricalFeature("c")),
)
RAW_SPEC = {
    "x": tf.io.VarLenFeature(tf.float32),
    "c": tf.io.VarLenFeature(tf.string),
    "y": tf.io.VarLenFeature(tf.int64),
}
COLOURS = ["red", "blue", "green", "grey"]


def _raw_rows(n: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        x, c = float(rng.normal()), int(rng.integers(0, 4))
        y = int(x + ID_EFFECT[c] > 0)
        # A tenth of the rows miss x, another tenth c (an empty list: no value).
        row = {
            "x": [x] if rng.random() > 0.1 else [],
            "c": [COLOURS[c].encode()] if rng.random() > 0.1 else [],
            "y": [y],
        }
        rows.append(row)
    return rows


def _examples(rows: list[dict]) -> tf.Tensor:
    serialized = []
    for row in rows:
        feature = {}
        if row.get("x"):
            feature["x"] = tf.train.Feature(float_list=tf.train.FloatList(value=row["x"]))
        if row.get("c"):
            feature["c"] = tf.train.Feature(bytes_list=tf.train.BytesList(value=row["c"]))
        if "y" in row:
            feature["y"] = tf.train.Feature(int64_list=tf.train.Int64List(value=row["y"]))
        serialized.append(tf.train.Example(features=tf.train.Features(feature=feature)))
    return tf.constant([e.SerializeToString() for e in serialized])


@pytest.fixture(scope="module")
def transform_output(tmp_path_factory, analyze_transform):
    """The Transform graph of `SPEC` analyzed on 300 generated rows."""
    return analyze_transform(
        str(tmp_path_factory.mktemp("transform")), SPEC, RAW_SPEC, _raw_rows(300, seed=0)
    )


def _transformed(tf_transform_output, rows):
    raw = tf.io.parse_example(_examples(rows), tf_transform_output.raw_feature_spec())
    out = tf_transform_output.transform_raw_features(raw)
    label = out.pop(SPEC.label_key)
    names = {f.name for f in SPEC.transformed_features()}
    return as_model_inputs({k: v for k, v in out.items() if k in names}), label


@pytest.fixture(scope="module")
def served(transform_output, tmp_path_factory):
    """(trained gbdt model, its reloaded SavedModel, the raw requests, the in-process answer)."""
    train, train_y = _transformed(transform_output, _raw_rows(1200, seed=1))
    evaluation, eval_y = _transformed(transform_output, _raw_rows(300, seed=2))
    context = TrainingContext(
        spec=SPEC,
        head=Head.for_spec(SPEC),
        hparams=HParams().resolve(),
        features=SPEC.transformed_features(),
        cardinalities={},
        train_ds=tf.data.Dataset.from_tensor_slices((train, train_y)).batch(100),
        eval_ds=tf.data.Dataset.from_tensor_slices((evaluation, eval_y)).batch(100),
        strategy=tf.distribute.get_strategy(),
        run_dir=str(tmp_path_factory.mktemp("run")),
        tf_transform_output=transform_output,
    )
    model = gbdt.FAMILY.train(context).model
    folder = str(tmp_path_factory.mktemp("serving") / "model")
    export.export_serving_model(model, transform_output, SPEC, folder)
    serving_ops.register()
    requests = _raw_rows(40, seed=3) + [{}, {"x": [0.5]}, {"c": [b"blue"]}, {"c": [b"violet"]}]
    expected = model(_transformed(transform_output, [dict(r, y=[0]) for r in requests])[0])
    return model, tf.saved_model.load(folder), requests, np.asarray(expected)


def test_the_served_trees_answer_raw_requests_with_missing_values_as_in_training(served):
    _, loaded, requests, expected = served
    answer = loaded.signatures["serving_default"](
        examples=_examples([{k: v for k, v in r.items() if k != "y"} for r in requests])
    )
    assert list(answer) == ["probability"]
    assert answer["probability"].shape == (len(requests), 1)
    np.testing.assert_allclose(answer["probability"].numpy(), expected, rtol=1e-5, atol=1e-6)
    assert not math.isnan(float(answer["probability"].numpy().sum()))


def test_the_served_trees_keep_the_transform_signature(served):
    _, loaded, _, _ = served
    assert set(loaded.signatures) == {"serving_default", export.TRANSFORM_SIGNATURE}


def test_the_ensemble_serves_the_mean_of_its_members(served, transform_output, tmp_path):
    trees, _, requests, _ = served
    # A second member by hand: sigmoid(2 x_xf), over the same inputs.
    x = keras.Input(shape=(1,), name="x_xf", dtype="float32")
    dense = keras.layers.Dense(1, activation="sigmoid", name="probability")
    other = keras.Model({"x_xf": x}, dense(x))
    dense.set_weights([np.array([[2.0]], np.float32), np.array([0.0], np.float32)])
    element_spec = {
        name: tf.TensorSpec([None, *t.shape[1:]], t.dtype)
        for name, t in _transformed(transform_output, _raw_rows(2, seed=4))[0].items()
    }
    ensemble = selection.average({"gbdt": trees, "dnn": other}, element_spec, Head.for_spec(SPEC))
    raw = _examples([{k: v for k, v in r.items() if k != "y"} for r in requests])
    answers = {}
    for name, model in {"ensemble": ensemble, "gbdt": trees, "dnn": other}.items():
        folder = str(tmp_path / name)
        export.export_serving_model(model, transform_output, SPEC, folder)
        serve = tf.saved_model.load(folder).signatures["serving_default"]
        answers[name] = serve(examples=raw)["probability"].numpy()
    assert not np.allclose(answers["gbdt"], answers["dnn"])  # the mean is not trivially either
    np.testing.assert_allclose(
        answers["ensemble"], (answers["gbdt"] + answers["dnn"]) / 2, rtol=1e-5, atol=1e-6
    )


def _dnn(seed: int, transform_output) -> keras.Model:
    features = SPEC.transformed_features()
    return model_lib.build_model(
        features,
        prepare.categorical_cardinalities(features, transform_output),
        HParams(hidden_units=(8, 4), seed=seed),
        Head.for_spec(SPEC),
    )


def test_warm_start_copies_the_deep_network_inside_an_ensemble(served, transform_output, tmp_path):
    trees = served[0]
    live = _dnn(1, transform_output)
    element_spec = {name: tf.TensorSpec(i.shape, i.dtype) for name, i in live.input.items()}
    ensemble = selection.average({"dnn": live, "gbdt": trees}, element_spec, Head.for_spec(SPEC))
    export.export_serving_model(ensemble, transform_output, SPEC, str(tmp_path / "live"))
    target = _dnn(2, transform_output)

    copied = warm_start.transfer_weights(target, str(tmp_path / "live"))

    assert "hidden_0" in copied and "hidden_1" in copied
    for name in copied:
        for new, old in zip(
            target.get_layer(name).get_weights(), live.get_layer(name).get_weights(), strict=True
        ):
            np.testing.assert_array_equal(new, old)


def test_warm_start_from_trees_alone_copies_nothing(served, transform_output, tmp_path):
    export.export_serving_model(served[0], transform_output, SPEC, str(tmp_path / "live"))
    target = _dnn(2, transform_output)
    before = target.get_layer("hidden_0").get_weights()[0].copy()
    assert warm_start.transfer_weights(target, str(tmp_path / "live")) == []
    np.testing.assert_array_equal(target.get_layer("hidden_0").get_weights()[0], before)


def test_training_and_loading_trees_print_nothing_of_tf_dfs_own(
    served, transform_output, tmp_path, capfd
):
    # TF-DF's C++ code writes its info lines (loading a model, building an engine) straight
    # to the process's stderr: `serving_ops.register()` silences both of its libraries.
    trees = served[0]
    export.export_serving_model(trees, transform_output, SPEC, str(tmp_path / "model"))
    capfd.readouterr()
    tf.saved_model.load(str(tmp_path / "model"))
    assert "kernel.cc" not in capfd.readouterr().err
