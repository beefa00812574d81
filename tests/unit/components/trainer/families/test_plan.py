"""`components.trainer.families`: what each `--model` choice trains, and which options a
family refuses by name before anything trains."""

import pytest

from components.trainer import families
from components.trainer.families import FamilyEntry, FamilyOption
from components.trainer.hparams import HParams

TREE = FamilyEntry("tree", "a test tree family", frozenset())
DEEP = FamilyEntry("deep", "a test deep family", frozenset(FamilyOption))


@pytest.fixture
def table(monkeypatch):
    """A table of a deep family that honours everything and a tree that honours nothing."""
    monkeypatch.setattr(families, "FAMILIES", {"deep": DEEP, "tree": TREE})
    monkeypatch.setattr(families, "DEEP_DEFAULT", "deep")
    monkeypatch.setattr(families, "TREE_CHALLENGER", "tree")
    monkeypatch.setattr(families, "MODEL_CHOICES", ("auto", "deep", "tree", "ensemble"))


def test_the_table_names_every_family_by_its_module():
    for name, entry in families.FAMILIES.items():
        assert entry.name == name
        assert entry.load() is not None
    assert families.DEEP_DEFAULT in families.FAMILIES
    assert families.MODEL_CHOICES[0] == families.AUTO
    assert families.MODEL_CHOICES[-1] == families.ENSEMBLE


def test_requested_options_are_what_the_hyperparameters_turn_on():
    assert families.requested_options(HParams().resolve()) == frozenset()
    asked = families.requested_options(
        HParams(preset="low_latency", training_loop="custom").resolve(), tuning=True
    )
    assert asked == {
        FamilyOption.FOLD_BATCH_NORM,
        FamilyOption.TFLITE,
        FamilyOption.TUNING,
        FamilyOption.CUSTOM_LOOP,
    }
    assert families.requested_options(HParams(preset="risk_sensitive").resolve()) == {
        FamilyOption.MC_DROPOUT
    }


def test_auto_trains_both_averages_them_and_chooses(table):
    plan = families.plan("auto", HParams().resolve())
    assert plan == families.Plan("auto", ("deep", "tree"), ensemble=True, select=True)


def test_auto_leaves_out_a_family_that_cannot_honour_an_asked_option(table):
    plan = families.plan("auto", HParams(preset="risk_sensitive").resolve())
    assert plan.families == ("deep",)
    assert not plan.ensemble and not plan.select
    assert plan.left_out == {"tree": "tree cannot honour mc_dropout_samples"}


def test_an_explicit_family_is_refused_by_name(table):
    with pytest.raises(ValueError) as error:
        families.plan("tree", HParams(preset="low_latency").resolve())
    assert str(error.value) == (
        "--model tree: tree cannot honour fold_batch_norm, tflite_copies. Drop those "
        "options, or pick a model that honours them (deep)."
    )


def test_ensemble_needs_every_member_to_honour_the_options(table):
    assert families.plan("ensemble", HParams().resolve()) == families.Plan(
        "ensemble", ("deep", "tree"), ensemble=True, select=False
    )
    with pytest.raises(ValueError, match="--model ensemble: tree cannot honour tuner_trials"):
        families.plan("ensemble", HParams().resolve(), tuning=True)


def test_a_single_family_is_served_as_it_is(table):
    assert families.plan("deep", HParams().resolve(), tuning=True) == families.Plan(
        "deep", ("deep",), ensemble=False, select=False
    )


def test_an_unknown_choice_lists_the_choices(table):
    with pytest.raises(ValueError, match="--model must be one of auto, deep, tree, ensemble"):
        families.plan("forest", HParams().resolve())


def test_without_a_tree_family_auto_is_the_deep_default(monkeypatch):
    monkeypatch.setattr(families, "TREE_CHALLENGER", None)
    plan = families.plan("auto", HParams().resolve())
    assert plan == families.Plan("auto", (families.DEEP_DEFAULT,), ensemble=False, select=False)


def _spec_with(*features):
    from components import dataset as S

    return S.DatasetSpec(
        S.SourceSpec(S.SourceFormat.CSV, "rows.csv"), S.LabelSpec("y", S.Task.BINARY), features
    )


def test_text_or_images_are_asked_of_a_family_by_the_data():
    from components import dataset as S

    tabular = _spec_with(S.NumericFeature("x"))
    text = _spec_with(S.NumericFeature("x"), S.TextFeature("review"))
    hparams = HParams().resolve()
    assert families.requested_options(hparams, spec=tabular) == frozenset()
    assert families.requested_options(hparams, spec=text) == {FamilyOption.TEXT_OR_IMAGES}


def test_auto_leaves_the_trees_out_of_a_text_data_set_and_gbdt_is_refused():
    from components import dataset as S

    text = _spec_with(S.TextFeature("review"))
    plan = families.plan("auto", HParams().resolve(), spec=text)
    assert plan.families == ("dnn",)
    assert plan.left_out == {"gbdt": "gbdt cannot honour text or image features"}
    with pytest.raises(ValueError, match="--model gbdt: gbdt cannot honour text or image"):
        families.plan("gbdt", HParams().resolve(), spec=text)
    assert families.plan("tabm", HParams().resolve(), spec=text).families == ("tabm",)
