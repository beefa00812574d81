"""`families.plan` with the tree challenger in the table: what auto, ensemble and gbdt
train, and which DNN-only options refuse the trees by name (no TensorFlow needed)."""

import dataclasses

import pytest

from components.trainer import families
from components.trainer.hparams import HParams

PLAIN = HParams().resolve()


def test_the_tree_challenger_is_the_gbdt_family():
    assert families.TREE_CHALLENGER == "gbdt" and "gbdt" in families.MODEL_CHOICES
    assert families.FAMILIES["gbdt"].supports == frozenset()


@pytest.mark.parametrize(
    "choice, trained, ensemble, select",
    [
        pytest.param("auto", ("dnn", "gbdt"), True, True, id="auto-trains-both-and-chooses"),
        pytest.param("ensemble", ("dnn", "gbdt"), True, False, id="ensemble-serves-the-mean"),
        pytest.param("gbdt", ("gbdt",), False, False, id="gbdt-alone"),
        pytest.param("dnn", ("dnn",), False, False, id="dnn-alone"),
    ],
)
def test_what_each_choice_trains_without_dnn_only_options(choice, trained, ensemble, select):
    plan = families.plan(choice, PLAIN)
    assert (plan.families, plan.ensemble, plan.select, plan.left_out) == (
        trained,
        ensemble,
        select,
        {},
    )


DNN_ONLY = [
    pytest.param({"fold_batch_norm": True}, False, "fold_batch_norm", id="folding"),
    pytest.param({"mc_dropout_samples": 10}, False, "mc_dropout_samples", id="mc-dropout"),
    pytest.param({"tflite_copies": True}, False, "tflite_copies", id="tflite"),
    pytest.param({"training_loop": "custom"}, False, "training_loop=custom", id="custom-loop"),
    pytest.param({}, True, "tuner_trials", id="tuning"),
]


@pytest.mark.parametrize("options, tuning, name", DNN_ONLY)
def test_gbdt_and_ensemble_are_refused_by_the_options_name(options, tuning, name):
    hparams = dataclasses.replace(PLAIN, **options)
    for choice in ("gbdt", "ensemble"):
        with pytest.raises(ValueError, match=rf"--model {choice}: gbdt cannot honour {name}"):
            families.plan(choice, hparams, tuning)


@pytest.mark.parametrize("options, tuning, name", DNN_ONLY)
def test_auto_leaves_the_trees_out_and_says_why(options, tuning, name):
    plan = families.plan("auto", dataclasses.replace(PLAIN, **options), tuning)
    assert plan.families == ("dnn",) and not plan.ensemble and not plan.select
    assert plan.left_out == {"gbdt": f"gbdt cannot honour {name}"}


def test_a_preset_with_mc_dropout_refuses_gbdt_by_name():
    # risk_sensitive asks for MC dropout samples (its uncertainty estimate).
    hparams = HParams(preset="risk_sensitive").resolve()
    assert hparams.mc_dropout_samples
    with pytest.raises(ValueError, match="gbdt cannot honour mc_dropout_samples"):
        families.plan("gbdt", hparams)
