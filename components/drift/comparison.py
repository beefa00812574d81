"""The drift check's result: TFX's DistributionValidator output read back, and said in words.

DistributionValidator writes, per compared split pair, TFDV's `Anomalies`: one
`drift_skew_info` per compared column with its measured distance and threshold, and an
anomaly for a column that drifted or could not be compared. This module turns that into one
`ColumnDrift` per column a line per drifted column, e.g.
`fare: Jensen–Shannon divergence 0.93 > 0.30 (default; spec: drift.numeric_threshold)`, and
a line per column that could not be compared (a note: it is not drift).
"""

from __future__ import annotations

import dataclasses
import os

from components.drift.settings import DriftCheck, Measure

# DistributionValidator's output: one folder per split pair, "SplitPair-<current>_<baseline>".
SPLIT_PAIR_FOLDER = "SplitPair-{}"
ANOMALIES_FILE = "SchemaDiff.pb"
# The split the drift check compares: the data the next model trains on.
COMPARED_SPLIT = "train"
# TFDV's names of the measures (DriftSkewInfo.Measurement.Type).
_MEASURES = {"JENSEN_SHANNON_DIVERGENCE": Measure.JENSEN_SHANNON, "L_INFTY": Measure.L_INFINITY}
# Anomaly types of a distance above its threshold; any other anomaly of a compared column
# means it could not be compared (e.g. it has no values in one of the two data sets).
_DRIFT_ANOMALIES = ("COMPARATOR_L_INFTY_HIGH", "COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH")


@dataclasses.dataclass(frozen=True)
class ColumnDrift:
    """One column compared with the live model's training data.

    Attributes:
      column: The column.
      measure: How it was compared.
      distance: The measured distance.
      threshold: The largest distance that is not drift.
    """

    column: str
    measure: Measure
    distance: float
    threshold: float

    @property
    def drifted(self) -> bool:
        return self.distance > self.threshold


def split_pair(split: str = COMPARED_SPLIT) -> str:
    """DistributionValidator's name of the pair (this run's `split`, the baseline's `split`)."""
    return f"{split}_{split}"


def load_comparison(uri: str, split: str = COMPARED_SPLIT):
    """DistributionValidator's `Anomalies` for `split` in its output folder `uri`, or None.

    None when the validator compared nothing (no such split pair was written).
    """
    import tensorflow as tf
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    path = os.path.join(uri, SPLIT_PAIR_FOLDER.format(split_pair(split)), ANOMALIES_FILE)
    if not tf.io.gfile.exists(path):
        return None
    anomalies = anomalies_pb2.Anomalies()
    with tf.io.gfile.GFile(path, "rb") as f:  # local or gs://
        anomalies.ParseFromString(f.read())
    return anomalies


def column_drifts(anomalies) -> tuple[ColumnDrift, ...]:
    """Every compared column of TFDV `Anomalies`, sorted by name."""
    drifts = []
    for info in anomalies.drift_skew_info:
        column = ".".join(info.path.step)
        for measurement in info.drift_measurements:
            type_name = type(measurement).Type.Name(measurement.type)
            if type_name in _MEASURES:
                drifts.append(
                    ColumnDrift(
                        column, _MEASURES[type_name], measurement.value, measurement.threshold
                    )
                )
    return tuple(sorted(drifts, key=lambda d: d.column))


def not_compared(anomalies) -> tuple[str, ...]:
    """Lines for the columns that could not be compared, in words."""
    lines = []
    for column, info in sorted(anomalies.anomaly_info.items()):
        for reason in info.reason:
            if type(info).Type.Name(reason.type) not in _DRIFT_ANOMALIES:
                lines.append(
                    f"{column}: not compared with the live model's training data: "
                    f"{reason.description or reason.short_description}"
                )
    return tuple(lines)


def _number(value: float, other: float) -> str:
    """`value` with two decimals, or as many as it takes to differ from `other`."""
    for digits in (2, 4, 6):
        if f"{value:.{digits}f}" != f"{other:.{digits}f}":
            return f"{value:.{digits}f}"
    return repr(value)


def describe(drift: ColumnDrift, check: DriftCheck) -> str:
    """One compared column in words: measure, distance, threshold and where it was set."""
    relation = ">" if drift.drifted else "<="
    source = check.threshold(drift.measure).source
    return (
        f"{drift.column}: {drift.measure.words} {_number(drift.distance, drift.threshold)} "
        f"{relation} {_number(drift.threshold, drift.distance)} ({source})"
    )


def drift_lines(anomalies, check: DriftCheck) -> tuple[str, ...]:
    """One line per drifted column, in words.

    A column that could not be compared (`not_compared`) is not drift: a column with no
    values at all has no histogram, and ExampleValidator judges missing values.
    """
    return tuple(describe(d, check) for d in column_drifts(anomalies) if d.drifted)


def what_to_do() -> str:
    """What a user whose data drifted may do, naming the options that exist."""
    return (
        "If the change is expected, raise the threshold (spec: drift.numeric_threshold / "
        "drift.categorical_threshold, or --numeric-drift-threshold / "
        "--categorical-drift-threshold), or let drift only warn (spec: `drift: {on_drift: "
        "warn}`, or --drift-warn-only); otherwise fix the data."
    )
