"""The data validation gate: stops the run when ExampleValidator found anomalies.

ExampleValidator only records anomalies; this component reads them and fails,
with every anomaly in words, so that Transform, Trainer and Pusher never run
on data that does not match the schema.
"""

# No `from __future__ import annotations`: @component reads the annotations as types.

import os

import tensorflow as tf
from tensorflow_metadata.proto.v0 import anomalies_pb2
from tfx import v1 as tfx
from tfx.types import artifact_utils

ANOMALIES_FILE = "SchemaDiff.pb"


class DataValidationError(RuntimeError):
    """The data does not match the schema; the message lists every anomaly."""


def load_anomalies(uri: str, split_names: list) -> dict:
    """Reads ExampleValidator's per-split anomalies from an artifact folder."""
    result = {}
    for split in split_names:
        path = os.path.join(uri, f"Split-{split}", ANOMALIES_FILE)
        anomalies = anomalies_pb2.Anomalies()
        with tf.io.gfile.GFile(path, "rb") as f:  # local or gs:// (Vertex)
            anomalies.ParseFromString(f.read())
        result[split] = anomalies
    return result


def describe_anomalies(anomalies_by_split: dict) -> list:
    """One line per anomaly: split, feature, and what is wrong, in words."""
    lines = []
    for split, anomalies in sorted(anomalies_by_split.items()):
        for feature, info in sorted(anomalies.anomaly_info.items()):
            reasons = "; ".join(r.description for r in info.reason) or info.description
            lines.append(f"[{split}] column '{feature}': {info.short_description}. {reasons}")
        if anomalies.HasField("dataset_anomaly_info"):
            info = anomalies.dataset_anomaly_info
            reasons = "; ".join(r.description for r in info.reason) or info.description
            lines.append(f"[{split}] whole data set: {info.short_description}. {reasons}")
    return lines


def check_anomalies(uri: str, split_names: list, schema_hint: str = "") -> None:
    """Raises DataValidationError listing every anomaly found in any split."""
    lines = describe_anomalies(load_anomalies(uri, split_names))
    if lines:
        raise DataValidationError(
            f"Data validation found {len(lines)} anomal{'y' if len(lines) == 1 else 'ies'}; "
            "the run stopped before Transform and nothing was trained or pushed.\n  "
            + "\n  ".join(lines)
            + "\nFix the data, or, if the change is expected, update the schema"
            + (f" ({schema_hint})" if schema_hint else "")
            + "."
        )


@tfx.dsl.components.component
def DataValidationGate(
    anomalies: tfx.dsl.components.InputArtifact[tfx.types.standard_artifacts.ExampleAnomalies],
    schema_path: tfx.dsl.components.Parameter[str] = "",
) -> None:
    """Fails the pipeline run when `anomalies` holds any anomaly."""
    check_anomalies(
        anomalies.uri, artifact_utils.decode_split_names(anomalies.split_names), schema_path
    )
