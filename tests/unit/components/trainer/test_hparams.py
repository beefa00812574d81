"""Trainer hyperparameters: presets that choose themselves, overrides, refusals, JSON round trip."""

import json

import pytest

from components.trainer.hparams import HParams


@pytest.mark.parametrize(
    "units, preset, activation, batch_norm",
    [
        ((256, 128, 64), "shallow", "relu", False),
        ((64,) * 4, "deep", "swish", True),
        ((32,), "shallow", "relu", False),
    ],
    ids=["3-layers-shallow", "4-layers-deep", "1-layer"],
)
def test_the_preset_follows_depth(units, preset, activation, batch_norm):
    resolved = HParams(hidden_units=units).resolve()
    assert (resolved.preset, resolved.activation, resolved.batch_norm) == (
        preset,
        activation,
        batch_norm,
    )
    assert resolved.initializer == "he_normal"


@pytest.mark.parametrize(
    "preset, expected",
    [
        (
            "shallow",
            dict(activation="relu", initializer="he_normal", batch_norm=False, optimizer="adamw"),
        ),
        (
            "deep",
            dict(activation="swish", initializer="he_normal", batch_norm=True, optimizer="adamw"),
        ),
        (
            "self_normalizing",
            dict(
                activation="selu",
                initializer="lecun_normal",
                batch_norm=False,
                dropout_kind="alpha_dropout",
                optimizer="nesterov",
            ),
        ),
        ("low_latency", dict(activation="leaky_relu", batch_norm=True, fold_batch_norm=True)),
        ("risk_sensitive", dict(activation="swish", mc_dropout_samples=30)),
    ],
    ids=str,
)
def test_each_preset_resolves_its_recipe(preset, expected):
    resolved = HParams(preset=preset).resolve()
    assert {k: getattr(resolved, k) for k in expected} == expected
    assert resolved.resolve() == resolved  # resolving twice changes nothing


def test_explicit_choices_override_the_preset():
    resolved = HParams(preset="deep", activation="elu", batch_norm=False).resolve()
    assert (resolved.activation, resolved.batch_norm) == ("elu", False)
    assert resolved.initializer == "he_normal"  # still matched to the activation


@pytest.mark.parametrize(
    "activation, initializer",
    [("selu", "lecun_normal"), ("gelu", "he_normal"), ("prelu", "he_normal")],
    ids=str,
)
def test_auto_initializer_matches_the_activation(activation, initializer):
    assert HParams(activation=activation).resolve().initializer == initializer


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"batch_norm": True}, "batch_norm"),
        ({"activation": "relu"}, "activation"),
        ({"initializer": "he_normal"}, "initializer"),
        ({"residual": True}, "residual"),
        ({"dropout_kind": "dropout"}, "dropout_kind"),
        ({"l2": 1e-4}, "l2"),
        ({"max_norm": 1.0}, "max_norm"),
    ],
    ids=lambda v: next(iter(v)) if isinstance(v, dict) else v,
)
def test_self_normalizing_refuses_what_breaks_self_normalization(overrides, field):
    with pytest.raises(ValueError, match=f"self_normalizing.*{field}"):
        HParams(preset="self_normalizing", **overrides).resolve()


def test_self_normalizing_without_dropout_accepts_any_dropout_kind():
    resolved = HParams(preset="self_normalizing", dropout=0.0, dropout_kind="dropout").resolve()
    assert resolved.activation == "selu"


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"fold_batch_norm": True, "batch_norm": True, "batch_norm_position": "after"}, "fold"),
        ({"mc_dropout_samples": 10, "dropout": 0.0}, "dropout > 0"),
    ],
    ids=["fold-after-activation", "mc-without-dropout"],
)
def test_contradictions_are_refused_on_resolve(overrides, message):
    with pytest.raises(ValueError, match=message):
        HParams(**overrides).resolve()


@pytest.mark.parametrize(
    "overrides, batch_size, learning_rate",
    [
        ({}, 1024, 8e-3),  # the default: shallow
        ({"preset": "deep"}, 256, 1e-3),
        ({"preset": "self_normalizing"}, 256, 1e-3),
        # A batch size alone scales the preset's rate by the square root of the ratio.
        ({"batch_size": 256}, 256, 4e-3),
        ({"batch_size": 4096}, 4096, 16e-3),
        ({"preset": "deep", "batch_size": 1024}, 1024, 2e-3),
        # A rate set is kept, whatever the batch size.
        ({"batch_size": 64, "learning_rate": 0.05}, 64, 0.05),
        ({"learning_rate": 0.05}, 1024, 0.05),
    ],
    ids=[
        "shallow",
        "deep",
        "self-normalizing",
        "shallow-quarter-batch",
        "shallow-4x-batch",
        "deep-4x-batch",
        "both-set",
        "rate-set",
    ],
)
def test_batch_size_and_learning_rate_come_from_the_preset(overrides, batch_size, learning_rate):
    resolved = HParams(**overrides).resolve()
    assert resolved.batch_size == batch_size
    assert resolved.learning_rate == pytest.approx(learning_rate, rel=1e-12)


@pytest.mark.parametrize(
    "overrides, rows, batch_size, learning_rate",
    [
        ({}, 8192, 1024, 8e-3),  # 8 steps of the preset's 1024: kept
        ({}, 8191, 512, 8e-3 * 0.5**0.5),  # one row fewer: halved
        ({}, 732, 64, 8e-3 * 0.25),  # 11 steps of 64 (concrete's train split)
        ({}, 100, 32, 8e-3 * (32 / 1024) ** 0.5),  # never below 32
        ({"preset": "deep"}, 1000, 64, 1e-3 * 0.5),
        ({"batch_size": 1024}, 100, 1024, 8e-3),  # set explicitly: kept
        ({"learning_rate": 0.05}, 732, 64, 0.05),  # a rate set is kept
    ],
)
def test_small_training_splits_get_a_smaller_batch(overrides, rows, batch_size, learning_rate):
    resolved = HParams(**overrides).for_training_rows(rows).resolve()
    assert resolved.batch_size == batch_size
    assert resolved.learning_rate == pytest.approx(learning_rate, rel=1e-12)


def test_json_round_trip():
    hparams = HParams(hidden_units=(3, 2), learning_rate=0.5, optimizer="nesterov", clip_norm=1.0)
    assert HParams.from_dict(json.loads(json.dumps(hparams.to_dict()))) == hparams


@pytest.mark.parametrize(
    "values, message",
    [
        ({"nope": 1}, "Unknown"),
        ({"optimizer": "adamm"}, "optimizer must be one of"),
        ({"activation": "sigmoidal"}, "activation must be one of"),
        ({"preset": "fast"}, "preset must be one of"),
        ({"lr_schedule": "cosine"}, "lr_schedule must be one of"),
        ({"hidden_units": []}, "hidden_units"),
        ({"dropout": 1.0}, "dropout"),
        ({"l2": -1.0}, "l2"),
        ({"clip_norm": 0.0}, "clip_norm"),
        ({"batch_size": 0}, "batch_size must be positive"),
        ({"learning_rate": 0.0}, "learning_rate must be positive"),
    ],
    ids=[
        "unknown-key",
        "bad-optimizer",
        "bad-activation",
        "bad-preset",
        "bad-schedule",
        "no-layers",
        "dropout-1",
        "negative-l2",
        "zero-clip",
        "zero-batch",
        "zero-rate",
    ],
)
def test_invalid_values_are_refused(values, message):
    with pytest.raises(ValueError, match=message):
        HParams.from_dict(values)


@pytest.mark.parametrize(
    "preset, tflite_copies, mc_dropout_samples",
    [
        ("shallow", False, 0),
        ("deep", False, 0),
        ("self_normalizing", False, 0),
        ("low_latency", True, 0),
        ("risk_sensitive", False, 30),
    ],
    ids=str,
)
def test_costly_exports_are_off_unless_a_preset_or_the_user_asks(
    preset, tflite_copies, mc_dropout_samples
):
    resolved = HParams(preset=preset).resolve()
    assert (resolved.tflite_copies, resolved.mc_dropout_samples) == (
        tflite_copies,
        mc_dropout_samples,
    )
    asked = HParams(preset=preset, tflite_copies=True, mc_dropout_samples=5).resolve()
    assert (asked.tflite_copies, asked.mc_dropout_samples) == (True, 5)
