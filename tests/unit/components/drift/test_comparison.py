"""Drift in words, from a small pair of statistics compared by TFX's DistributionValidator (its
executor over quantile histograms) with the pipeline's own config; and the gate that stops (or
warns) on it."""

import dataclasses

import pandas as pd
import pytest
import tensorflow_data_validation as tfdv
from tensorflow_metadata.proto.v0 import anomalies_pb2, statistics_pb2
from tfx.types import artifact_utils, standard_artifacts
from tfx.utils import json_utils

from components import dataset as S
from components import validation_gate
from components.drift import comparison
from components.drift import executor as distribution_validator
from components.drift.settings import DriftCheck, Measure, Threshold
from pipeline.pipeline import distribution_validator_config

# Baseline: colors half red, half green; fares in [0, 1). Ten rows each.
BASELINE = pd.DataFrame({"color": ["red"] * 5 + ["green"] * 5, "fare": [i / 10 for i in range(10)]})
DISJOINT_FARES = [100.0 + i * 10 for i in range(10)]
CHECK = DriftCheck(columns=(("color", Measure.L_INFINITY), ("fare", Measure.JENSEN_SHANNON)))


def _statistics(tmp_path, name, frame):
    artifact = standard_artifacts.ExampleStatistics()
    artifact.uri = str(tmp_path / name)
    artifact.split_names = artifact_utils.encode_split_names(["train"])
    folder = tmp_path / name / "Split-train"
    folder.mkdir(parents=True)
    stats = tfdv.generate_statistics_from_dataframe(frame)
    (folder / "FeatureStats.pb").write_bytes(stats.SerializeToString())
    return artifact


def _compare(tmp_path, current: pd.DataFrame, check: DriftCheck = CHECK, baseline=BASELINE):
    """Runs DistributionValidator's executor on (current, baseline); returns its output folder."""
    anomalies = standard_artifacts.ExampleAnomalies()
    anomalies.uri = str(tmp_path / "drift")
    distribution_validator.Executor().Do(
        {
            "statistics": [_statistics(tmp_path, "current", current)],
            "baseline_statistics": [_statistics(tmp_path, "baseline", baseline)],
        },
        {"anomalies": [anomalies]},
        {
            "distribution_validator_config": distribution_validator_config(check),
            "include_split_pairs": json_utils.dumps([("train", "train")]),
        },
    )
    return anomalies.uri


def _clean_schema_check(tmp_path):
    folder = tmp_path / "schema" / "Split-train"
    folder.mkdir(parents=True)
    (folder / validation_gate.ANOMALIES_FILE).write_bytes(b"")
    return str(tmp_path / "schema")


def test_quantile_histograms_replace_the_standard_ones_of_numeric_columns_only(tmp_path):
    statistics = tfdv.generate_statistics_from_dataframe(BASELINE)
    swapped = distribution_validator.with_quantile_histograms(statistics)
    by_name = {f.path.step[0]: f for f in swapped.datasets[0].features}
    original = {f.path.step[0]: f for f in statistics.datasets[0].features}
    standard, quantiles = by_name["fare"].num_stats.histograms
    assert standard.type == statistics_pb2.Histogram.STANDARD
    assert list(standard.buckets) == list(quantiles.buckets)
    assert list(quantiles.buckets) == list(original["fare"].num_stats.histograms[1].buckets)
    assert by_name["color"] == original["color"]


def test_one_outlier_is_not_drift_over_quantile_buckets(tmp_path):
    # The same 99 values, and one of them replaced by an outlier 100 times the largest. Over
    # TFDV's equal-width buckets the outlier puts 99% of the values in the first of ten buckets
    # of width 1,000, and spreading them evenly there makes the two look far apart.
    baseline = pd.DataFrame({"fare": [float(i) for i in range(1, 101)]})
    current = pd.DataFrame({"fare": [float(i) for i in range(1, 100)] + [10_000.0]})
    check = DriftCheck(columns=(("fare", Measure.JENSEN_SHANNON),))
    drifts = comparison.column_drifts(
        comparison.load_comparison(_compare(tmp_path, current, check, baseline))
    )
    quantile = drifts[0].distance
    standard_stats = [tfdv.generate_statistics_from_dataframe(f) for f in (current, baseline)]
    schema = tfdv.infer_schema(standard_stats[1])
    schema.feature[0].drift_comparator.jensen_shannon_divergence.threshold = 0.3
    standard = (
        tfdv.validate_statistics(standard_stats[0], schema, previous_statistics=standard_stats[1])
        .drift_skew_info[0]
        .drift_measurements[0]
        .value
    )
    assert standard > 0.5
    assert quantile < 0.1


def test_each_column_is_measured_against_its_threshold(tmp_path):
    # 8 red and 2 green: red's share moved from 0.5 to 0.8, so L-infinity is 0.3. Fares in
    # [100, 190] share no histogram bucket with the baseline's [0, 0.9]: Jensen–Shannon
    # divergence 1 (log base 2), its largest value.
    current = pd.DataFrame({"color": ["red"] * 8 + ["green"] * 2, "fare": DISJOINT_FARES})
    drifts = comparison.column_drifts(comparison.load_comparison(_compare(tmp_path, current)))
    assert [(d.column, d.measure, d.threshold, d.drifted) for d in drifts] == [
        ("color", Measure.L_INFINITY, 0.1, True),
        ("fare", Measure.JENSEN_SHANNON, 0.3, True),
    ]
    assert drifts[0].distance == pytest.approx(0.3)
    assert drifts[1].distance == pytest.approx(1.0)


def test_the_same_data_has_not_drifted(tmp_path):
    anomalies = comparison.load_comparison(_compare(tmp_path, BASELINE))
    assert [(d.column, d.distance, d.drifted) for d in comparison.column_drifts(anomalies)] == [
        ("color", 0.0, False),
        ("fare", 0.0, False),
    ]
    assert comparison.drift_lines(anomalies, CHECK) == ()


def test_a_drifted_column_stops_the_gate_with_its_distance_threshold_and_source(tmp_path):
    current = pd.DataFrame({"color": ["red"] * 8 + ["green"] * 2, "fare": BASELINE["fare"]})
    drift_uri = _compare(tmp_path, current)
    with pytest.raises(validation_gate.DataValidationError) as caught:
        validation_gate.check_anomalies(
            _clean_schema_check(tmp_path), ["train"], drift_uri=drift_uri, drift_check=CHECK
        )
    assert str(caught.value) == (
        "The train split drifted from the data the live model was trained on in 1 column; the "
        "run stopped before Transform and nothing was trained or pushed.\n"
        "  color: L-infinity distance 0.30 > 0.10 (default; spec: drift.categorical_threshold)\n"
        + comparison.what_to_do()
    )


def test_a_higher_threshold_lets_the_same_drift_through(tmp_path):
    current = pd.DataFrame({"color": ["red"] * 8 + ["green"] * 2, "fare": BASELINE["fare"]})
    check = dataclasses.replace(CHECK, categorical=Threshold(0.35, "--categorical-drift-threshold"))
    drift_uri = _compare(tmp_path, current, check)
    warnings = validation_gate.check_anomalies(
        _clean_schema_check(tmp_path), ["train"], drift_uri=drift_uri, drift_check=check
    )
    assert warnings == []


def test_drift_that_only_warns_lets_the_run_go_on_and_returns_the_lines(tmp_path):
    current = pd.DataFrame({"color": BASELINE["color"], "fare": DISJOINT_FARES})
    check = dataclasses.replace(
        CHECK,
        numeric=Threshold(0.2, "spec: drift.numeric_threshold"),
        action=S.DriftAction.WARN,
        action_source="--drift-warn-only",
    )
    warnings = validation_gate.check_anomalies(
        _clean_schema_check(tmp_path),
        ["train"],
        drift_uri=_compare(tmp_path, current, check),
        drift_check=check,
    )
    assert warnings == [
        "fare: Jensen–Shannon divergence 1.00 > 0.20 (spec: drift.numeric_threshold)"
    ]


def test_a_column_that_could_not_be_compared_is_a_note_not_drift():
    anomalies = anomalies_pb2.Anomalies()
    reason = anomalies.anomaly_info["fare"].reason.add()
    reason.type = anomalies_pb2.AnomalyInfo.STATS_NOT_AVAILABLE
    reason.description = "Validation could not be done."
    assert comparison.not_compared(anomalies) == (
        "fare: not compared with the live model's training data: Validation could not be done.",
    )
    assert comparison.drift_lines(anomalies, CHECK) == ()


def test_a_column_without_values_is_not_compared_and_does_not_stop_the_run(tmp_path):
    current = BASELINE.assign(fare=float("nan"))
    warnings = validation_gate.check_anomalies(
        _clean_schema_check(tmp_path),
        ["train"],
        drift_uri=_compare(tmp_path, current),
        drift_check=CHECK,
    )
    assert [line.split(":")[0] for line in warnings] == ["fare"]
    assert "not compared with the live model's training data" in warnings[0]


@pytest.mark.parametrize(
    "distance, threshold, line",
    [
        (0.41, 0.1, "x: Jensen–Shannon divergence 0.41 > 0.10 (src)"),
        (0.10004, 0.1, "x: Jensen–Shannon divergence 0.100040 > 0.100000 (src)"),
        (0.05, 0.1, "x: Jensen–Shannon divergence 0.05 <= 0.10 (src)"),
    ],
    ids=["two-decimals", "close-to-the-threshold", "below"],
)
def test_numbers_show_enough_decimals_to_differ(distance, threshold, line):
    check = DriftCheck(numeric=Threshold(threshold, "src"))
    drift = comparison.ColumnDrift("x", Measure.JENSEN_SHANNON, distance, threshold)
    assert comparison.describe(drift, check) == line
