"""The tabm family (`components.trainer.families.tabm`): the served prediction is the mean of
the members', the members start different, the loss with label smoothing in numbers, training
on tiny tasks, and the table's refusals.

The round trip through a SavedModel on raw rows: test_tabm_export.py.
"""

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from components.dataset import Task, TransformedFeature
from components.trainer import families
from components.trainer.batch_ensemble import EnsembleDense
from components.trainer.families import tabm
from components.trainer.families.base import TrainingContext
from components.trainer.heads import Head
from components.trainer.hparams import HParams

FEATURES = (
    TransformedFeature("x_xf", False, periodic=True),
    TransformedFeature("z_xf", False),
    TransformedFeature("c_xf", True, cardinality=4),
)
CARDINALITIES = {"c_xf": 4}
ROWS = {
    "x_xf": np.array([[-1.5], [0.0], [0.7], [2.0]], np.float32),
    "z_xf": np.array([[0.3], [-0.2], [1.0], [0.0]], np.float32),
    "c_xf": np.array([[0], [3], [1], [2]], np.int64),
}
HEADS = {
    "binary": Head(Task.BINARY),
    "multiclass": Head(Task.MULTICLASS, 3),
    "regression": Head(Task.REGRESSION),
}


def _small(**changes) -> HParams:
    values = {
        "tabm_members": 4,
        "tabm_hidden_units": (8, 8),
        "periodic_frequencies": 3,
        "periodic_width": 4,
    }
    return HParams(**{**values, **changes}).resolve()


def _scramble(network: keras.Model, seed: int = 0) -> None:
    """Every weight random, so that the members differ everywhere (not only by r)."""
    rng = np.random.default_rng(seed)
    for layer in network.layers:
        layer.set_weights([rng.normal(size=w.shape).astype(w.dtype) for w in layer.get_weights()])


@pytest.mark.parametrize("task", list(HEADS))
def test_the_served_prediction_is_the_mean_of_the_members(task):
    served, members = tabm.build_tabm(FEATURES, CARDINALITIES, _small(), HEADS[task])
    _scramble(served)
    each = members(ROWS).numpy()  # (rows, members, units)
    assert each.shape == (4, 4, HEADS[task].units)
    # The members disagree, so the mean is not any one of them.
    assert np.ptp(each, axis=1).min() > 1e-3
    np.testing.assert_allclose(served(ROWS).numpy(), each.mean(axis=1), rtol=1e-6, atol=1e-7)
    if task == "multiclass":
        # Averaged probabilities are probabilities.
        np.testing.assert_allclose(served(ROWS).numpy().sum(axis=1), 1.0, rtol=1e-6)


def test_the_members_start_different_by_their_first_scaling_vectors_only():
    served, members = tabm.build_tabm(
        FEATURES, CARDINALITIES, _small(tabm_members=6), HEADS["binary"]
    )
    first, second = (layer for layer in served.layers if isinstance(layer, EnsembleDense))
    r = first.r.numpy()
    assert set(np.unique(r)) == {-1.0, 1.0}
    rows = {tuple(row) for row in r}
    assert len(rows) == 6, "every member's input signs differ"
    for vector in (first.s, second.r, second.s):
        np.testing.assert_array_equal(vector.numpy(), 1.0)
    # Biases are drawn once and repeated: the members are k views of one network.
    np.testing.assert_array_equal(first.bias.numpy(), np.tile(first.bias.numpy()[:1], (6, 1)))
    each = members(ROWS).numpy()
    assert np.ptp(each, axis=1).max() > 1e-4


def _bce(y, p):
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


def test_binary_loss_is_the_members_mean_with_labels_smoothed_towards_one_half():
    labels = np.array([1, 0], np.int64)
    predictions = np.array([[[0.8], [0.6]], [[0.3], [0.1]]], np.float32)
    loss = tabm.member_loss(labels, predictions, Task.BINARY, label_smoothing=0.1)
    # Labels 1 and 0 become 0.95 and 0.05.
    expected = np.mean([_bce(0.95, 0.8), _bce(0.95, 0.6), _bce(0.05, 0.3), _bce(0.05, 0.1)])
    assert float(loss) == pytest.approx(expected, rel=1e-5)
    unsmoothed = np.mean([_bce(1, 0.8), _bce(1, 0.6), _bce(0, 0.3), _bce(0, 0.1)])
    assert float(tabm.member_loss(labels, predictions, Task.BINARY)) == pytest.approx(
        unsmoothed, rel=1e-5
    )


def test_multiclass_loss_smooths_towards_the_uniform_distribution():
    labels = np.array([[2], [0]], np.int64)
    predictions = np.array(
        [[[0.1, 0.2, 0.7], [0.2, 0.2, 0.6]], [[0.5, 0.25, 0.25], [0.6, 0.3, 0.1]]], np.float32
    )
    loss = tabm.member_loss(labels, predictions, Task.MULTICLASS, label_smoothing=0.3)
    # One-hot * 0.7 + 0.3 / 3: the true class 0.8, the others 0.1.
    smoothed = {2: np.array([0.1, 0.1, 0.8]), 0: np.array([0.8, 0.1, 0.1])}
    expected = np.mean(
        [
            -np.sum(smoothed[label] * np.log(member))
            for label, example in zip((2, 0), predictions, strict=True)
            for member in example
        ]
    )
    assert float(loss) == pytest.approx(expected, rel=1e-5)


def test_regression_loss_is_in_units_of_the_labels_spread():
    labels = np.array([10.0, 20.0], np.float32)
    predictions = np.array([[[12.0], [10.0]], [[16.0], [26.0]]], np.float32)
    loss = tabm.member_loss(labels, predictions, Task.REGRESSION, target_scale=2.0)
    # Errors 2, 0, -4, 6 over a scale of 2: squares 1, 0, 4, 9.
    assert float(loss) == pytest.approx(3.5)


def _task_data(task: str, rows: int = 256):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(rows, 1)).astype(np.float32)
    z = rng.normal(size=(rows, 1)).astype(np.float32)
    c = rng.integers(0, 4, size=(rows, 1))
    signal = np.sin(2 * x[:, 0]) + z[:, 0] + (c[:, 0] == 2)
    if task == "binary":
        y = (signal > 0.5).astype(np.int64)
    elif task == "multiclass":
        y = np.digitize(signal, [-0.3, 0.9]).astype(np.int64)
    else:
        y = (50 + 10 * signal).astype(np.float32)
    return tf.data.Dataset.from_tensor_slices(({"x_xf": x, "z_xf": z, "c_xf": c}, y)).batch(64)


@pytest.mark.parametrize("task", list(HEADS))
def test_training_lowers_the_served_loss_on_a_tiny_task(task, tmp_path):
    data = _task_data(task)
    hparams = _small(tabm_epochs=8, tabm_min_steps=1, tabm_batch_size=64, tabm_learning_rate=1e-2)
    context = TrainingContext(
        spec=None,
        head=HEADS[task],
        hparams=hparams,
        features=FEATURES,
        cardinalities=CARDINALITIES,
        train_ds=data,
        eval_ds=data,
        strategy=tf.distribute.get_strategy(),
        run_dir=str(tmp_path),
        tf_transform_output=None,
    )
    trained = tabm.FAMILY.train(context)
    history = trained.record["history"]
    served_loss = history[tabm.MONITOR]
    assert min(served_loss) < 0.8 * served_loss[0], served_loss
    assert history["loss"][-1] < history["loss"][0]
    # The best epoch's weights are the ones returned.
    best = trained.record["best_epoch"] - 1
    assert best == int(np.argmin(served_loss))
    labels = np.concatenate([y for _, y in data])
    predicted = np.concatenate([trained.model(x).numpy() for x, _ in data])
    metric = tabm._served_loss(HEADS[task].task)
    metric.update_state(labels, predicted)
    assert float(metric.result()) == pytest.approx(served_loss[best], rel=1e-4)
    assert trained.network is None


def test_the_table_refuses_options_tabm_cannot_honour():
    assert families.plan("tabm", _small()).families == ("tabm",)
    asked = HParams(mc_dropout_samples=5, tflite_copies=True).resolve()
    with pytest.raises(ValueError, match=r"--model tabm: tabm cannot honour mc_dropout_samples, "):
        families.plan("tabm", asked)
    with pytest.raises(ValueError, match="tuner_trials"):
        families.plan("tabm", _small(), tuning=True)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"tabm_members": 0}, "tabm_members must be at least 1"),
        ({"tabm_label_smoothing": 1.0}, r"tabm_label_smoothing must be in \[0, 1\)"),
        ({"tabm_hidden_units": ()}, "tabm_hidden_units must be positive widths"),
        ({"tabm_flat_fraction": -0.1}, r"tabm_flat_fraction must be in \[0, 1\]"),
    ],
)
def test_bad_tabm_hyperparameters_are_refused_by_name(changes, message):
    with pytest.raises(ValueError, match=message):
        HParams(**changes)


def test_tabm_hyperparameters_round_trip_through_the_run_config():
    hparams = HParams(tabm_hidden_units=(64, 32), tabm_members=8)
    assert HParams.from_dict(hparams.to_dict()) == hparams


def test_the_best_eval_epoch_is_restored_not_the_last(tmp_path):
    """Eval labels flipped: the better tabm fits training, the worse it does on eval, so the
    best eval epoch comes early and its weights must be the ones returned."""
    data = _task_data("binary")
    flipped = data.map(lambda x, y: (x, 1 - y))
    hparams = _small(
        tabm_epochs=6,
        tabm_min_steps=1,
        tabm_batch_size=64,
        tabm_learning_rate=1e-2,
        early_stopping_patience=10,
    )
    context = TrainingContext(
        spec=None,
        head=HEADS["binary"],
        hparams=hparams,
        features=FEATURES,
        cardinalities=CARDINALITIES,
        train_ds=data,
        eval_ds=flipped,
        strategy=tf.distribute.get_strategy(),
        run_dir=str(tmp_path),
        tf_transform_output=None,
    )
    trained = tabm.FAMILY.train(context)
    served_loss = trained.record["history"][tabm.MONITOR]
    best = trained.record["best_epoch"] - 1
    assert best < len(served_loss) - 1 and served_loss[-1] > served_loss[best], served_loss
    labels = np.concatenate([y for _, y in flipped])
    predicted = np.concatenate([trained.model(x).numpy() for x, _ in flipped])
    metric = tabm._served_loss(Task.BINARY)
    metric.update_state(labels, predicted)
    assert float(metric.result()) == pytest.approx(served_loss[best], rel=1e-4)
