"""Trainer hyperparameters: defaults that choose themselves, and a JSON round trip."""

import json

import pytest

from components.trainer.hparams import HParams


@pytest.mark.parametrize(
    "units, activation, batch_norm",
    [((256, 128, 64), "relu", False), ((64,) * 4, "swish", True), ((32,), "relu", False)],
    ids=["3-layers-shallow", "4-layers-deep", "1-layer"],
)
def test_activation_and_batch_norm_follow_depth(units, activation, batch_norm):
    hparams = HParams(hidden_units=units)
    assert hparams.resolved_activation == activation
    assert hparams.resolved_batch_norm is batch_norm


def test_explicit_choices_override_the_automatic_ones():
    hparams = HParams(hidden_units=(8,) * 6, activation="elu", batch_norm=False)
    assert (hparams.resolved_activation, hparams.resolved_batch_norm) == ("elu", False)


def test_json_round_trip():
    hparams = HParams(hidden_units=(3, 2), learning_rate=0.5, optimizer="nesterov")
    assert HParams.from_dict(json.loads(json.dumps(hparams.to_dict()))) == hparams


@pytest.mark.parametrize(
    "values, message",
    [
        ({"nope": 1}, "Unknown"),
        ({"optimizer": "adam"}, "optimizer"),
        ({"hidden_units": []}, "hidden_units"),
        ({"dropout": 1.0}, "dropout"),
    ],
    ids=["unknown-key", "bad-optimizer", "no-layers", "dropout-1"],
)
def test_invalid_values_are_refused(values, message):
    with pytest.raises(ValueError, match=message):
        HParams.from_dict(values)
