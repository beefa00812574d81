"""The spec's `drift:` section: parse, dump, parse again, its errors, and that it stays out of
the components' custom_config."""

import pytest
import yaml

from components import dataset as S


def test_thresholds_and_action_round_trip_and_only_set_ones_are_written(minimal_spec):
    data = minimal_spec(drift={"numeric_threshold": 0.25, "on_drift": "warn"})
    spec = S.parse_spec(data)
    assert spec.drift == S.DriftSpec(numeric_threshold=0.25, on_drift=S.DriftAction.WARN)
    dumped = S.dump_spec(spec)
    assert yaml.safe_load(dumped)["drift"] == {"numeric_threshold": 0.25, "on_drift": "warn"}
    assert S.parse_spec(yaml.safe_load(dumped)) == spec
    # Nothing set: no section, and the defaults (None: the default threshold; stop).
    plain = S.parse_spec(minimal_spec())
    assert plain.drift == S.DriftSpec(None, None, S.DriftAction.STOP)
    assert "drift" not in S.dump_spec(plain)


def test_drift_stays_out_of_the_components_custom_config(minimal_spec):
    spec = S.parse_spec(minimal_spec(drift={"categorical_threshold": 0.3}))
    carried = S.spec_from_custom_config(S.to_custom_config(spec))
    assert carried.drift == S.DriftSpec()
    assert carried.features == spec.features


@pytest.mark.parametrize(
    "drift, message",
    [
        (
            {"numeric_threshold": 0},
            "d.yaml: drift.numeric_threshold: must be above 0 and at most 1 (a distance between "
            "two distributions), got 0.0",
        ),
        (
            {"categorical_threshold": 1.5},
            "d.yaml: drift.categorical_threshold: must be above 0 and at most 1",
        ),
        ({"numeric_threshold": "low"}, "d.yaml: drift.numeric_threshold: must be a number"),
        (
            {"on_drift": "ignore"},
            "d.yaml: drift.on_drift: 'ignore' is not an action on drift; allowed: stop, warn",
        ),
        (
            {"threshold": 0.1},
            "d.yaml: drift.threshold: unknown key; allowed: numeric_threshold, "
            "categorical_threshold, on_drift",
        ),
    ],
    ids=["zero", "above-one", "not-a-number", "unknown-action", "unknown-key"],
)
def test_errors_name_the_key_and_what_is_allowed(minimal_spec, drift, message):
    with pytest.raises(S.SpecError) as caught:
        S.parse_spec(minimal_spec(drift=drift), "d.yaml")
    assert str(caught.value).startswith(message)
