"""Custom training loop: clipping, parity with `fit`, early stopping, constraints, logging.

Data: 2 real features, a label that is mostly their sign, batches of 32. The
multi-device case runs in a fresh process with the CPU split in two logical
devices (devices are fixed once TF initializes; see test_distribution.py).
"""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from components.trainer.custom_loop import clip_gradients, train_custom_loop
from components.trainer.model import skip_autograph

BATCH = 32
INPUT = "x"


def _arrays(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2)).astype("float32")
    noise = 0.3 * rng.normal(size=n)
    y = (x[:, 0] + 0.5 * x[:, 1] + noise > 0).astype("float32").reshape(n, 1)
    return x, y


def _dataset(x, y, batch: int = BATCH) -> tf.data.Dataset:
    return tf.data.Dataset.from_tensor_slices(({INPUT: x}, y)).batch(batch)


def _model(hidden: keras.layers.Layer | None = None, seed: int = 0) -> keras.Model:
    inputs = keras.Input(shape=(2,), name=INPUT)
    hidden = hidden or keras.layers.Dense(
        8, "relu", kernel_initializer=keras.initializers.GlorotUniform(seed), name="hidden"
    )
    output = keras.layers.Dense(
        1, "sigmoid", kernel_initializer=keras.initializers.GlorotUniform(seed + 1), name="out"
    )(hidden(inputs))
    return keras.Model({INPUT: inputs}, output)


def _metrics() -> list[keras.metrics.Metric]:
    return [keras.metrics.BinaryAccuracy(name="accuracy"), keras.metrics.AUC(name="auc")]


def _loss() -> keras.losses.Loss:
    return keras.losses.BinaryCrossentropy(reduction=keras.losses.Reduction.NONE)


def _train(model, optimizer, train_ds, eval_ds, **kwargs) -> dict[str, list[float]]:
    options = {"strategy": tf.distribute.get_strategy(), "epochs": 3, "early_stopping_patience": 5}
    options.update(kwargs)
    return train_custom_loop(model, optimizer, _loss(), _metrics, train_ds, eval_ds, **options)


@pytest.fixture
def data() -> tuple[tf.data.Dataset, tf.data.Dataset]:
    """256 training and 128 validation examples."""
    return _dataset(*_arrays(256, seed=0)), _dataset(*_arrays(128, seed=1))


@pytest.mark.parametrize(
    "grads, options, expected",
    [
        ([[0.9, 100.0]], {"clip_value": 1.0}, [[0.9, 1.0]]),
        # 100.004 is the global norm: both elements shrink by the same factor.
        ([[0.9, 100.0]], {"clip_norm": 1.0}, [[0.9 / 100.00405, 100.0 / 100.00405]]),
        ([[0.9], [100.0]], {"clip_norm": 1.0}, [[0.0089996], [0.9999595]]),
        ([[0.3, 0.4]], {"clip_norm": 1.0}, [[0.3, 0.4]]),
        ([[0.9, -100.0]], {}, [[0.9, -100.0]]),
    ],
    ids=["by-value", "by-norm", "by-norm-across-tensors", "norm-under-limit", "no-limit"],
)
def test_clip_gradients(grads, options, expected):
    clipped = clip_gradients([tf.constant(g) for g in grads], **options)
    for got, want in zip(clipped, expected, strict=True):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-5)


def test_clipping_by_norm_keeps_direction_and_by_value_turns_it():
    grad = tf.constant([0.9, 100.0])
    by_norm = clip_gradients([grad], clip_norm=1.0)[0].numpy()
    by_value = clip_gradients([grad], clip_value=1.0)[0].numpy()
    np.testing.assert_allclose(by_norm, [0.0090, 0.99996], atol=5e-5)
    assert by_norm[1] / by_norm[0] == pytest.approx(100.0 / 0.9, rel=1e-5)
    assert by_value[1] / by_value[0] == pytest.approx(1.0 / 0.9, rel=1e-5)  # was 111:1


def test_clip_gradients_passes_none_through():
    clipped = clip_gradients([None, tf.constant([3.0, 4.0])], clip_value=1.0)
    assert clipped[0] is None
    np.testing.assert_allclose(clipped[1].numpy(), [1.0, 1.0])


@pytest.mark.parametrize(
    "options",
    [{"clip_norm": 1.0, "clip_value": 1.0}, {"clip_norm": 0.0}, {"clip_value": -1.0}],
    ids=["both", "zero-norm", "negative-value"],
)
def test_clip_gradients_rejects_bad_limits(options):
    with pytest.raises(ValueError, match="clip_"):
        clip_gradients([tf.constant([1.0])], **options)


def test_custom_loop_matches_fit_on_the_same_data_and_start():
    x, y = _arrays(256, seed=0)
    train_ds, eval_ds = _dataset(x, y), _dataset(*_arrays(128, seed=1))
    custom, fitted = _model(), skip_autograph(_model())  # AutoGraph costs fit ~30 s
    fitted.set_weights(custom.get_weights())
    initial = float(np.mean(_loss()(y, custom({INPUT: x}))))

    history = _train(
        custom, keras.optimizers.Adam(0.05), train_ds, eval_ds, epochs=8, early_stopping_patience=8
    )
    fitted.compile(keras.optimizers.Adam(0.05), keras.losses.BinaryCrossentropy(), _metrics())
    reference = fitted.fit(train_ds, validation_data=eval_ds, epochs=8, verbose=0).history

    assert initial == pytest.approx(0.74, abs=0.1)  # about ln 2 at a random start
    assert history["loss"][-1] < 0.4 * initial
    assert reference["loss"][-1] < 0.4 * initial
    assert history["loss"][-1] == pytest.approx(reference["loss"][-1], rel=0.1)
    # Same batches in the same order and the same updates: the epochs agree closely.
    for key in ["loss", "accuracy", "auc", "val_loss", "val_accuracy", "val_auc"]:
        np.testing.assert_allclose(history[key], reference[key], rtol=1e-3, err_msg=key)
    assert list(history) == ["loss", "accuracy", "auc", "val_loss", "val_accuracy", "val_auc", "lr"]


@pytest.mark.parametrize(
    "epochs, patience, epochs_run",
    [(10, 2, 3), (10, 0, 2), (3, 5, 3)],
    ids=["stops-after-patience", "patience-zero", "runs-out-of-epochs"],
)
def test_early_stopping_restores_the_best_weights(epochs, patience, epochs_run):
    # Validation labels are the training labels flipped: the better the model
    # fits, the worse val_loss gets, so the first epoch is the best.
    x, y = _arrays(128, seed=0)
    train_ds, eval_ds = _dataset(x, y), _dataset(x, 1.0 - y)
    model = _model()
    snapshots = {}

    def remember(epoch, logs):
        snapshots[epoch] = (model.get_weights(), logs)

    history = _train(
        model,
        keras.optimizers.SGD(0.5),
        train_ds,
        eval_ds,
        epochs=epochs,
        early_stopping_patience=patience,
        on_epoch_end=remember,
    )

    assert len(history["val_loss"]) == epochs_run
    assert sorted(snapshots) == list(range(epochs_run))
    assert int(np.argmin(history["val_loss"])) == 0
    assert snapshots[epochs_run - 1][1]["val_loss"] > history["val_loss"][0]
    for restored, best in zip(model.get_weights(), snapshots[0][0], strict=True):
        np.testing.assert_array_equal(restored, best)
    val_loss = np.mean(_loss()(1.0 - y, model({INPUT: x})))
    assert val_loss == pytest.approx(history["val_loss"][0], rel=1e-5)


@pytest.mark.parametrize(
    "optimizer",
    [lambda: keras.optimizers.SGD(1.0), lambda: keras.optimizers.AdamW(0.5)],
    ids=["sgd", "adamw"],
)
def test_max_norm_constraint_holds_after_training(data, optimizer):
    r = 0.5
    hidden = keras.layers.Dense(
        4,
        "relu",
        kernel_initializer="ones",
        name="hidden",
        kernel_constraint=keras.constraints.MaxNorm(r, axis=0),
    )
    model = _model(hidden)
    assert np.linalg.norm(hidden.kernel.numpy(), axis=0) == pytest.approx([2**0.5] * 4)

    _train(model, optimizer(), *data, epochs=2)

    norms = np.linalg.norm(hidden.kernel.numpy(), axis=0)  # incoming weights of each unit
    assert np.all(norms <= r + 1e-6), norms


def test_constraints_run_once_per_step():
    # With a zero learning rate only the constraint moves the kernel; halving
    # it once per step (2 steps an epoch) leaves 1/4, then 1/16 (1/16, 1/256 if
    # run twice). Read in the hook, before early stopping restores a best epoch.
    hidden = keras.layers.Dense(
        2, kernel_initializer="ones", name="hidden", kernel_constraint=lambda w: 0.5 * w
    )
    x, y = _arrays(64, seed=0)
    kernels = []
    _train(
        _model(hidden),
        keras.optimizers.SGD(0.0),
        _dataset(x, y),
        _dataset(x, y),
        epochs=2,
        on_epoch_end=lambda epoch, logs: kernels.append(hidden.kernel.numpy()),
    )
    np.testing.assert_allclose(kernels, [np.full((2, 2), 1 / 4), np.full((2, 2), 1 / 16)])


@pytest.mark.parametrize(
    "options, measure, expected",
    [
        ({"clip_norm": 0.01}, np.linalg.norm, 0.01),
        ({"clip_value": 0.001}, lambda d: np.max(np.abs(d)), 0.001),
    ],
    ids=["by-norm", "by-value"],
)
def test_loop_clips_the_update(options, measure, expected):
    # One step of plain SGD with rate 1: the weight change is the clipped gradient.
    x, y = _arrays(64, seed=0)
    model = _model()
    before = np.concatenate([w.ravel() for w in model.get_weights()])
    _train(
        model,
        keras.optimizers.SGD(1.0),
        _dataset(x, y, 64),
        _dataset(x, y, 64),
        epochs=1,
        **options,
    )
    after = np.concatenate([w.ravel() for w in model.get_weights()])
    assert measure(after - before) == pytest.approx(expected, rel=1e-4)


@pytest.mark.parametrize(
    "learning_rate, expected",
    [
        (0.1, [0.1, 0.1, 0.1]),
        # 8 steps per epoch, halving every 8 steps: the rate after epochs 1, 2, 3.
        (keras.optimizers.schedules.ExponentialDecay(0.1, 8, 0.5), [0.05, 0.025, 0.0125]),
    ],
    ids=["constant", "schedule"],
)
def test_learning_rate_is_recorded_per_epoch(data, learning_rate, expected):
    history = _train(_model(), keras.optimizers.SGD(learning_rate), *data, epochs=3)
    np.testing.assert_allclose(history["lr"], expected, rtol=1e-6)


def _scalars(event_dir) -> dict[str, list[float]]:
    values: dict[str, list[float]] = {}
    for path in sorted(event_dir.glob("events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                values.setdefault(value.tag, []).append(float(tf.make_ndarray(value.tensor)))
    return values


def test_tensorboard_logs_epochs_norms_and_learning_rate(data, tmp_path):
    history = _train(_model(), keras.optimizers.SGD(0.1), *data, epochs=2, log_dir=str(tmp_path))

    train, validation = _scalars(tmp_path / "train"), _scalars(tmp_path / "validation")
    variables = ["hidden/kernel", "hidden/bias", "out/kernel", "out/bias"]
    assert set(train) == {
        "epoch_loss",
        "epoch_accuracy",
        "epoch_auc",
        "epoch_learning_rate",
        *(f"weight_norm/{v}" for v in variables),
        *(f"gradient_norm/{v}" for v in variables),
    }
    assert set(validation) == {"epoch_loss", "epoch_accuracy", "epoch_auc"}
    np.testing.assert_allclose(train["epoch_loss"], history["loss"], rtol=1e-6)
    np.testing.assert_allclose(validation["epoch_loss"], history["val_loss"], rtol=1e-6)
    np.testing.assert_allclose(train["epoch_learning_rate"], [0.1, 0.1], rtol=1e-6)
    assert all(n > 0 for v in variables for n in train[f"gradient_norm/{v}"])


@pytest.mark.parametrize(
    "change, error, match",
    [
        ({"optimizer": keras.optimizers.legacy.SGD(0.1)}, TypeError, "legacy"),
        ({"loss_fn": keras.losses.BinaryCrossentropy()}, ValueError, "Reduction.NONE"),
        ({"metrics_factory": lambda: [keras.metrics.AUC(name="loss")]}, ValueError, "unique"),
        ({"epochs": 0}, ValueError, "epochs"),
        ({"strategy": tf.distribute.OneDeviceStrategy("/cpu:0")}, ValueError, "scope"),
    ],
    ids=["legacy-optimizer", "reducing-loss", "metric-named-loss", "no-epochs", "outside-scope"],
)
def test_bad_arguments_are_rejected(data, change, error, match):
    arguments = {
        "model": _model(),
        "optimizer": keras.optimizers.SGD(0.1),
        "loss_fn": _loss(),
        "metrics_factory": _metrics,
        "train_ds": data[0],
        "eval_ds": data[1],
        "strategy": tf.distribute.get_strategy(),
        "epochs": 1,
        "early_stopping_patience": 1,
    }
    arguments.update(change)
    with pytest.raises(error, match=match):
        train_custom_loop(**arguments)


def test_two_replicas_train_like_one():
    # 35 examples in batches of 8: the last batch (3) splits 2/1 and each
    # step's loss is the global batch mean, so both runs take the same steps.
    # An embedding (sparse gradients), L2 (scaled per replica) and MaxNorm
    # are included on purpose.
    script = textwrap.dedent(
        """
        from pipeline import runtime
        runtime.configure_environment()
        import json, numpy as np, tensorflow as tf, tf_keras as keras
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        from components.trainer import custom_loop, distribution

        def build():
            ids = keras.Input(shape=(1,), name="c", dtype="int64")
            value = keras.Input(shape=(1,), name="a")
            embedded = keras.layers.Flatten()(keras.layers.Embedding(5, 3, name="emb")(ids))
            x = keras.layers.Concatenate()([embedded, value])
            x = keras.layers.Dense(
                4, "relu", name="hidden", kernel_regularizer=keras.regularizers.L2(0.01),
                kernel_constraint=keras.constraints.MaxNorm(1.0))(x)
            return keras.Model({"c": ids, "a": value}, keras.layers.Dense(1, "sigmoid")(x))

        rng = np.random.default_rng(0)
        a = rng.normal(size=(35, 1)).astype("float32")
        c = rng.integers(0, 5, size=(35, 1))
        y = ((a[:, 0] + (c[:, 0] % 2)) > 0.5).astype("float32").reshape(-1, 1)
        ds = tf.data.Dataset.from_tensor_slices(({"c": c, "a": a}, y)).batch(8)
        start = build().get_weights()
        results = {}
        devices = [d.name for d in tf.config.list_logical_devices("CPU")]
        for name, strategy in [("one", tf.distribute.get_strategy()),
                               ("two", distribution.choose_strategy(devices))]:
            with strategy.scope():
                model = build()
                model.set_weights(start)
                optimizer = keras.optimizers.SGD(0.2)
            history = custom_loop.train_custom_loop(
                model, optimizer,
                keras.losses.BinaryCrossentropy(reduction=keras.losses.Reduction.NONE),
                lambda: [keras.metrics.BinaryAccuracy(name="accuracy")], ds, ds,
                strategy=strategy, epochs=3, early_stopping_patience=3, clip_norm=1.0)
            results[name] = {
                "replicas": strategy.num_replicas_in_sync,
                "history": history,
                "finite": bool(all(np.isfinite(w).all() for w in model.get_weights())),
            }
        print(json.dumps(results))
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    one, two = results["one"], results["two"]
    assert (one["replicas"], two["replicas"]) == (1, 2)
    assert one["finite"] and two["finite"]
    assert {k: len(v) for k, v in two["history"].items()} == {
        "loss": 3,
        "accuracy": 3,
        "val_loss": 3,
        "val_accuracy": 3,
        "lr": 3,
    }
    assert two["history"]["loss"][-1] < two["history"]["loss"][0]
    for key in ["loss", "val_loss", "accuracy"]:
        np.testing.assert_allclose(two["history"][key], one["history"][key], rtol=1e-5)


def test_a_step_recorder_sees_the_rate_of_every_step(data):
    from components.trainer.callbacks import StepRecorder

    # 8 steps per epoch, halving every 8 steps.
    optimizer = keras.optimizers.SGD(keras.optimizers.schedules.ExponentialDecay(0.1, 8, 0.5))
    recorder = StepRecorder()
    _train(_model(), optimizer, *data, epochs=2, on_step_begin=lambda: recorder.record(optimizer))
    expected = [0.1 * 0.5 ** (step / 8) for step in range(16)]
    np.testing.assert_allclose(recorder.learning_rate, expected, rtol=1e-5)
