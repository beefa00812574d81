"""The Tuner's search space, its mapping onto HParams, and a 2-trial search on synthetic data."""

import json
import math
import os

import keras_tuner
import numpy as np
import pytest
import tensorflow as tf
import tf_keras
from tfx.components.trainer.fn_args_utils import FnArgs
from tfx.components.tuner import executor as tuner_executor
from tfx.types import standard_artifacts

from components.dataset import TransformedFeature
from components.trainer import keras_tuner_compat, optimization, schedules, tuning
from components.trainer import model as model_lib
from components.trainer.heads import Head
from components.trainer.hparams import HParams

FEATURES = (
    TransformedFeature("a_xf", is_categorical=False),
    TransformedFeature("b_xf", is_categorical=False),
    TransformedFeature("c_xf", is_categorical=True, cardinality=5),
)
CARDINALITIES = {"c_xf": 5}


def _space(hp: keras_tuner.HyperParameters) -> dict:
    """name -> (class, range or values, sampling, default) of every searched hyperparameter."""
    out = {}
    for p in hp.space:
        config = p.get_config()
        if isinstance(p, keras_tuner.engine.hyperparameters.Choice):
            bounds = tuple(config["values"])
        else:
            bounds = (config["min_value"], config["max_value"], config["step"])
        out[p.name] = (type(p).__name__, bounds, config.get("sampling"), config["default"])
    return out


def test_search_space_of_the_default_hparams():
    # HParams(): 3 layers of 256/128/64 (shallow: rate 8e-3), dropout 0.1, weight decay 1e-4, AdamW.
    assert _space(tuning.search_space(HParams())) == {
        "depth": ("Int", (2, 5, 1), "linear", 3),
        "width": ("Choice", (64, 128, 256), None, 256),
        "max_learning_rate": ("Float", (1e-4, 1e-2, None), "log", 8e-3),
        "dropout": ("Float", (0.0, 0.3, None), "linear", 0.1),
        "weight_decay": ("Float", (1e-6, 1e-3, None), "log", 1e-4),
    }


@pytest.mark.parametrize(
    "base, names, dropout_min, rate_default",
    [
        # Nesterov SGD has no weight decay to search.
        (HParams(preset="self_normalizing"), tuning.SEARCHED[:4], 0.0, 1e-3),
        # MC dropout needs dropout > 0.
        (HParams(preset="risk_sensitive"), tuning.SEARCHED, 0.05, 1e-3),
        # Under 1cycle the searched rate is the peak; out-of-range values are clipped.
        (
            HParams(lr_schedule="one_cycle", one_cycle_max_rate=0.05),
            tuning.SEARCHED,
            0.0,
            1e-2,
        ),
    ],
    ids=["self-normalizing", "risk-sensitive", "one-cycle"],
)
def test_search_space_follows_the_preset(base, names, dropout_min, rate_default):
    space = _space(tuning.search_space(base))
    assert tuple(space) == names
    assert space["dropout"][1][0] == dropout_min
    assert space["max_learning_rate"][3] == rate_default


def _trial(base: HParams, **values) -> keras_tuner.HyperParameters:
    hp = tuning.search_space(base)
    hp.values.update(values)
    return hp


VALUES = dict(depth=4, width=128, max_learning_rate=3e-3, dropout=0.2, weight_decay=1e-5)


@pytest.mark.parametrize(
    "base, expected",
    [
        # preset "auto": 4 layers make the net deep (swish, batch norm).
        (
            HParams(),
            HParams(
                hidden_units=(128, 128, 128, 128),
                learning_rate=3e-3,
                dropout=0.2,
                weight_decay=1e-5,
            ).resolve(),
        ),
        # An explicit preset stays; under 1cycle the rate is the peak, the start rate stays
        # (shallow's 8e-3 at batch 1024, scaled to batch 64: 8e-3 * sqrt(64 / 1024) = 2e-3).
        (
            HParams(preset="shallow", lr_schedule="one_cycle", batch_size=64),
            HParams(
                preset="shallow",
                lr_schedule="one_cycle",
                batch_size=64,
                hidden_units=(128, 128, 128, 128),
                learning_rate=2e-3,
                one_cycle_max_rate=3e-3,
                dropout=0.2,
                weight_decay=1e-5,
            ).resolve(),
        ),
    ],
    ids=["auto-becomes-deep", "shallow-one-cycle"],
)
def test_hparams_from_trial(base, expected):
    got = tuning.hparams_from_trial(base, _trial(base, **VALUES))
    assert got == expected


def test_hparams_from_trial_picks_the_deep_preset_by_depth():
    deep = tuning.hparams_from_trial(HParams(), _trial(HParams(), **VALUES))
    assert (deep.preset, deep.activation, deep.batch_norm) == ("deep", "swish", True)
    shallow = tuning.hparams_from_trial(HParams(), _trial(HParams(), **{**VALUES, "depth": 3}))
    assert (shallow.preset, shallow.hidden_units) == ("shallow", (128, 128, 128))


def test_best_hparams_round_trips_the_artifact():
    base = HParams(batch_size=64, seed=7)
    hp = _trial(base, **VALUES)
    artifact = json.loads(json.dumps(hp.get_config()))  # what the Trainer reads
    assert tuning.best_hparams(base, artifact) == tuning.hparams_from_trial(base, hp)
    assert tuning.best_hparams(base, artifact).hidden_units == (128,) * 4


def test_best_hparams_refuses_names_it_does_not_search():
    hp = _trial(HParams(), **VALUES)
    hp.Int("units_0", 8, 16)
    with pytest.raises(ValueError, match=r"\['units_0'\]"):
        tuning.best_hparams(HParams(), hp.get_config())


def test_best_epoch_metrics_takes_the_epoch_with_the_best_objective():
    history = {"val_auc": [0.6, 0.8, 0.7], "val_loss": [0.9, 0.5, 0.4]}
    assert keras_tuner_compat.best_epoch_metrics(history, tuning.objective(Head())) == {
        "val_auc": 0.8,
        "val_loss": 0.5,
    }


@pytest.mark.parametrize(
    "key, value", [("max_trials", 0), ("epochs_per_trial", 0)], ids=["trials", "epochs"]
)
def test_make_tuner_refuses_an_empty_budget(tmp_path, key, value):
    ds = _dataset(8, seed=0)
    with pytest.raises(ValueError, match=key):
        tuning.make_tuner(ds, ds, FEATURES, CARDINALITIES, HParams(), str(tmp_path), **{key: value})


def test_tuner_fn_needs_the_transform_graph():
    with pytest.raises(ValueError, match="transform_graph"):
        tuning.tuner_fn(FnArgs(working_dir="unused", custom_config={}))


def test_plain_keras_tuner_rejects_tf_keras_models(tmp_path):
    """Why `keras_tuner_compat` exists; if this starts passing, KerasTuner may handle tf_keras."""

    def build(hp):
        dnn = tf_keras.Sequential([tf_keras.Input((1,)), tf_keras.layers.Dense(1)])
        dnn.compile(loss="mse")
        return dnn

    tuner = keras_tuner.RandomSearch(build, objective="val_loss", max_trials=1, directory=tmp_path)
    x = np.zeros((4, 1), np.float32)
    with pytest.raises(keras_tuner.errors.FatalTypeError, match="valid Keras Model"):
        tuner.search(x, x, validation_data=(x, x), epochs=1, verbose=0)


def _dataset(n: int, seed: int, batch_size: int = 32) -> tf.data.Dataset:
    """n rows whose label is a noisy function of a, b and c (the model can learn it)."""
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=(2, n, 1)).astype(np.float32)
    c = rng.integers(0, 5, size=(n, 1))
    logit = 2 * a - b + (c == 2) + rng.normal(scale=0.5, size=(n, 1))
    label = (logit > 0).astype(np.float32)
    return tf.data.Dataset.from_tensor_slices(({"a_xf": a, "b_xf": b, "c_xf": c}, label)).batch(
        batch_size
    )


def _hypermodel(base: HParams, epochs: int) -> tuning.DeeplineHyperModel:
    # 256 rows in batches of 32: 8 steps per epoch.
    return tuning.DeeplineHyperModel(
        FEATURES, CARDINALITIES, base, 8, epochs, tf.distribute.get_strategy()
    )


def test_a_one_cycle_trial_runs_its_whole_cycle_within_the_trial():
    base = HParams(lr_schedule="one_cycle")
    hypermodel = _hypermodel(base, epochs=2)
    hp = _trial(base, **VALUES)
    trial = hypermodel.trial_hparams(hp)
    assert (trial.one_cycle_max_rate, trial.scheduled_epochs) == (3e-3, 2)
    schedule = optimization.make_learning_rate(trial, steps_per_epoch=8)
    assert isinstance(schedule, schedules.OneCycle)
    assert (schedule.max_rate, schedule.total_steps) == (3e-3, 16.0)  # 2 epochs x 8 steps
    dnn = hypermodel.build(hp)
    # Step 0 of the cycle: 1cycle starts at a tenth of its peak.
    assert math.isclose(float(dnn.optimizer.learning_rate), 3e-4, rel_tol=1e-6)
    history = hypermodel.fit(hp, dnn, _dataset(256, seed=1), epochs=1, verbose=0).history
    assert (len(history["loss"]), int(dnn.optimizer.iterations)) == (1, 8)


def test_a_self_normalizing_trial_standardizes_its_inputs_from_the_training_data():
    base = HParams(preset="self_normalizing")
    hypermodel = _hypermodel(base, epochs=1)
    hp = _trial(base, **{k: v for k, v in VALUES.items() if k != "weight_decay"})
    dnn = hypermodel.build(hp)
    hypermodel.fit(hp, dnn, _dataset(256, seed=1), epochs=1, verbose=0)
    standardize = dnn.get_layer(model_lib.STANDARDIZE_INPUTS)
    # Column 0 is a_xf, drawn from N(0, 1): 256 samples put its variance near 1.
    assert 0.7 < float(standardize.variance[0, 0]) < 1.3


def test_two_trials_on_synthetic_data(tmp_path):
    base = HParams(batch_size=32)
    result = tuning.make_tuner(
        _dataset(256, seed=1),
        _dataset(128, seed=2),
        FEATURES,
        CARDINALITIES,
        base,
        str(tmp_path / "tuner"),
        max_trials=2,
        epochs_per_trial=1,
    )
    tuner = result.tuner
    tuner.search(**result.fit_kwargs)  # what TFX's Tuner executor does

    trials = list(tuner.oracle.trials.values())
    assert len(trials) == 2
    assert [t.status for t in trials] == ["COMPLETED"] * 2, [t.message for t in trials]
    scores = [t.metrics.get_last_value("val_auc") for t in trials]
    assert all(0.5 < s <= 1.0 for s in scores), scores  # the label is learnable
    best = tuner.oracle.get_best_trials(1)[0]
    assert best.score == max(scores)

    # The artifact TFX writes, read back as the Trainer's fn_args.hyperparameters.
    outputs = {
        "best_hyperparameters": [standard_artifacts.HyperParameters()],
        "tuner_results": [standard_artifacts.TunerResults()],
    }
    for name, (artifact,) in outputs.items():
        artifact.uri = str(tmp_path / name)
        os.makedirs(artifact.uri)
    tuner_executor.write_best_hyperparameters(tuner, outputs)
    with open(tmp_path / "best_hyperparameters" / "best_hyperparameters.txt") as f:
        hparams = tuning.best_hparams(base, json.load(f))
    values = best.hyperparameters.values
    assert hparams.hidden_units == (values["width"],) * values["depth"]
    assert hparams.learning_rate == values["max_learning_rate"]

    # The best trial's checkpoint reloads into a tf_keras model with the same eval AUC.
    reloaded = tuner.get_best_models(1)[0]
    evaluated = reloaded.evaluate(result.fit_kwargs["validation_data"], verbose=0, return_dict=True)
    assert math.isclose(evaluated["auc"], best.score, rel_tol=1e-5)
