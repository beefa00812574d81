"""The spec's `evaluation:` section: parse, dump, parse again, its errors, and that it stays
out of the components' custom_config."""

import pytest
import yaml

from components import dataset as S

BINARY = {"column": "y", "kind": "binary"}


def test_bars_round_trip_and_only_set_ones_are_written(minimal_spec):
    data = minimal_spec(label=BINARY, evaluation={"min_auc": 0.8, "min_error_reduction": 0.1})
    spec = S.parse_spec(data)
    assert spec.evaluation == S.EvaluationSpec(min_auc=0.8, min_error_reduction=0.1)
    dumped = S.dump_spec(spec)
    assert yaml.safe_load(dumped)["evaluation"] == {"min_auc": 0.8, "min_error_reduction": 0.1}
    assert S.parse_spec(yaml.safe_load(dumped)) == spec
    # No bars: no section.
    assert "evaluation" not in S.dump_spec(S.parse_spec(minimal_spec()))


def test_bars_stay_out_of_the_components_custom_config(minimal_spec):
    spec = S.parse_spec(minimal_spec(evaluation={"max_rmse": 2.5}))
    carried = S.spec_from_custom_config(S.to_custom_config(spec))
    assert carried.evaluation == S.EvaluationSpec()
    assert carried.features == spec.features


@pytest.mark.parametrize(
    "label, evaluation, message",
    [
        (
            None,
            {"min_auc": 0.9},
            "d.yaml: evaluation.min_auc: does not apply to a regression label; its bars: max_rmse",
        ),
        (
            {"column": "y", "kind": "multiclass", "classes": ["a", "b", "c"]},
            {"min_auc": 0.9},
            "d.yaml: evaluation.min_auc: does not apply to a multiclass label; its bars: "
            "min_accuracy",
        ),
        (
            BINARY,
            {"max_rmse": 3},
            "d.yaml: evaluation.max_rmse: does not apply to a binary label; its bars: min_auc, "
            "min_accuracy",
        ),
        (BINARY, {"min_auc": 90}, "d.yaml: evaluation.min_auc: must be between 0 and 1, got 90"),
        (None, {"max_rmse": 0}, "d.yaml: evaluation.max_rmse: must be a positive number, got 0"),
        (
            BINARY,
            {"min_error_reduction": 1},
            "d.yaml: evaluation.min_error_reduction: must be at least 0 and below 1",
        ),
        (BINARY, {"min_accuracy": "high"}, "d.yaml: evaluation.min_accuracy: must be a number"),
        (
            BINARY,
            {"min_auc_gain": 0.1},
            "d.yaml: evaluation.min_auc_gain: unknown key; allowed: min_auc, min_accuracy, "
            "max_rmse, min_error_reduction",
        ),
    ],
    ids=[
        "auc-on-regression",
        "auc-on-multiclass",
        "rmse-on-binary",
        "auc-not-a-fraction",
        "rmse-not-positive",
        "margin-1",
        "not-a-number",
        "unknown-bar",
    ],
)
def test_errors_name_the_bar_and_what_applies(minimal_spec, label, evaluation, message):
    data = minimal_spec(evaluation=evaluation, **({"label": label} if label else {}))
    with pytest.raises(S.SpecError) as caught:
        S.parse_spec(data, "d.yaml")
    assert str(caught.value).startswith(message)
