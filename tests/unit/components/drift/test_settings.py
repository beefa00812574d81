"""The drift check's settings: each threshold from the command line, else the spec, else the
default, with where it came from; each column's measure from the type its values have."""

import pytest

from components import dataset as S
from components.drift.settings import DriftCheck, Measure, Threshold, resolve_drift_check

FEATURES = {
    "fare": {"kind": "numeric"},
    "company": {"kind": "categorical", "transform": "vocabulary"},
    "hour": {"kind": "categorical", "transform": "identity", "num_values": 24},
    "area": {"kind": "categorical", "transform": "hash", "bins": 8},
    "review": {"kind": "text"},
    "note": "ignore",
}


@pytest.fixture
def spec(minimal_spec):
    def build(drift=None):
        return S.parse_spec(minimal_spec(features=FEATURES, drift=drift))

    return build


def test_defaults_name_the_spec_key_that_would_set_them(spec):
    check = resolve_drift_check(spec(), {})
    assert check.numeric == Threshold(0.3, "default; spec: drift.numeric_threshold")
    assert check.categorical == Threshold(0.1, "default; spec: drift.categorical_threshold")
    assert check.action is S.DriftAction.STOP


def test_the_command_line_wins_over_the_spec_which_wins_over_the_default(spec):
    drift = {"numeric_threshold": 0.3, "categorical_threshold": 0.2}
    from_spec = resolve_drift_check(spec(drift), {})
    assert from_spec.numeric == Threshold(0.3, "spec: drift.numeric_threshold")
    assert from_spec.categorical == Threshold(0.2, "spec: drift.categorical_threshold")
    from_cli = resolve_drift_check(spec(drift), {}, numeric_threshold=0.5)
    assert from_cli.numeric == Threshold(0.5, "--numeric-drift-threshold")
    assert from_cli.categorical == Threshold(0.2, "spec: drift.categorical_threshold")


@pytest.mark.parametrize(
    "drift, warn_only, action, source",
    [
        (None, False, S.DriftAction.STOP, "default; spec: drift.on_drift"),
        ({"on_drift": "warn"}, False, S.DriftAction.WARN, "spec: drift.on_drift"),
        (None, True, S.DriftAction.WARN, "--drift-warn-only"),
        ({"on_drift": "stop"}, True, S.DriftAction.WARN, "--drift-warn-only"),
    ],
    ids=["default", "spec", "flag", "flag-over-spec"],
)
def test_drift_is_downgraded_to_a_warning_by_the_spec_or_the_flag(
    spec, drift, warn_only, action, source
):
    check = resolve_drift_check(spec(drift), {}, warn_only=warn_only)
    assert (check.action, check.action_source) == (action, source)


def test_text_values_get_l_infinity_numbers_jensen_shannon_and_text_images_nothing(spec):
    # Without a schema: the spec's types (a hashed column is text, an identity id an int).
    assert resolve_drift_check(spec(), {}).columns == (
        ("fare", Measure.JENSEN_SHANNON),
        ("company", Measure.L_INFINITY),
        ("hour", Measure.JENSEN_SHANNON),
        ("area", Measure.L_INFINITY),
    )
    # A curated schema that writes the hashed column as INT: its values are numbers.
    columns = dict(resolve_drift_check(spec(), {"area": "int", "company": "string"}).columns)
    assert columns["area"] is Measure.JENSEN_SHANNON
    assert columns["company"] is Measure.L_INFINITY


@pytest.mark.parametrize("value", [0, -0.1, 1.01])
def test_a_command_line_threshold_outside_0_1_is_refused_naming_the_option(spec, value):
    with pytest.raises(ValueError, match=f"--categorical-drift-threshold {value}: a drift"):
        resolve_drift_check(spec(), {}, categorical_threshold=value)


def test_the_check_survives_its_json_form(spec):
    check = resolve_drift_check(spec({"on_drift": "warn"}), {}, numeric_threshold=0.2)
    assert DriftCheck.from_json(check.to_json()) == check
