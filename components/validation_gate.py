"""The data validation gate: stops the run when ExampleValidator found anomalies, or when
the data drifted from the live model's training data.

ExampleValidator and DistributionValidator only record anomalies; this component reads them
and fails, with every anomaly and every drifted column in words, so that Transform, Trainer
and Pusher never run on data that does not match the schema or has moved too far from what
the live model was trained on. Drift a data set expects (`on_drift: warn`) is logged as a
warning instead, and the run goes on.
"""

# No `from __future__ import annotations`: @component reads the annotations as types.

import logging
import os

import tensorflow as tf
from tensorflow_metadata.proto.v0 import anomalies_pb2
from tfx import v1 as tfx
from tfx.types import artifact_utils

from components.dataset import DriftAction
from components.drift import comparison
from components.drift.settings import DriftCheck

ANOMALIES_FILE = "SchemaDiff.pb"

logger = logging.getLogger(__name__)


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


def _schema_paragraph(lines: list, schema_hint: str) -> str:
    return (
        f"Data validation found {len(lines)} anomal{'y' if len(lines) == 1 else 'ies'}; "
        "the run stopped before Transform and nothing was trained or pushed.\n  "
        + "\n  ".join(lines)
        + "\nFix the data, or, if the change is expected, update the schema"
        + (f" ({schema_hint})" if schema_hint else "")
        + "."
    )


def drift_paragraph(lines, stopped: bool) -> str:
    """Drifted columns in words, and what to do about them."""
    verdict = (
        "the run stopped before Transform and nothing was trained or pushed"
        if stopped
        else "the run goes on (drift only warns for this data set)"
    )
    return (
        f"The {comparison.COMPARED_SPLIT} split drifted from the data the live model was "
        f"trained on in {len(lines)} column{'' if len(lines) == 1 else 's'}; {verdict}.\n  "
        + "\n  ".join(lines)
        + ("\n" + comparison.what_to_do() if stopped else "")
    )


def check_anomalies(
    uri: str,
    split_names: list,
    schema_hint: str = "",
    drift_uri: str = "",
    drift_check: DriftCheck | None = None,
) -> list:
    """Raises DataValidationError listing every anomaly and every drifted column.

    Args:
      uri: ExampleValidator's output folder.
      split_names: Its splits.
      schema_hint: The schema file, for the message; "" for an inferred one. Defaults to "".
      drift_uri: DistributionValidator's output folder; "" when drift is not checked.
        Defaults to "".
      drift_check: The drift check's thresholds and action. Defaults to None: `DriftCheck()`.

    Returns:
      The warnings, in words: each drifted column when drift only warns, and each column
      that could not be compared with the live model's training data.

    Raises:
      DataValidationError: an anomaly, or drift that stops the run.
    """
    check = drift_check or DriftCheck()
    lines = describe_anomalies(load_anomalies(uri, split_names))
    drift = comparison.load_comparison(drift_uri) if drift_uri else None
    drifted = list(comparison.drift_lines(drift, check)) if drift is not None else []
    notes = list(comparison.not_compared(drift)) if drift is not None else []
    stops = bool(drifted) and check.action is DriftAction.STOP
    paragraphs = []
    if lines:
        paragraphs.append(_schema_paragraph(lines, schema_hint))
    if stops:
        paragraphs.append(drift_paragraph(drifted, stopped=True))
    if paragraphs:
        raise DataValidationError("\n".join(paragraphs))
    return drifted + notes


@tfx.dsl.components.component
def DataValidationGate(
    anomalies: tfx.dsl.components.InputArtifact[tfx.types.standard_artifacts.ExampleAnomalies],
    drift_anomalies: tfx.dsl.components.InputArtifact[
        tfx.types.standard_artifacts.ExampleAnomalies
    ] = None,
    schema_path: tfx.dsl.components.Parameter[str] = "",
    drift_check: tfx.dsl.components.Parameter[str] = "",
) -> None:
    """Fails the pipeline run when `anomalies` holds any anomaly, or the data drifted.

    `drift_anomalies` is DistributionValidator's comparison with the live model's training
    data, and `drift_check` its thresholds and action (`DriftCheck.to_json()`); both absent
    when the pipeline does not check drift.
    """
    warnings = check_anomalies(
        anomalies.uri,
        artifact_utils.decode_split_names(anomalies.split_names),
        schema_path,
        drift_anomalies.uri if drift_anomalies is not None else "",
        DriftCheck.from_json(drift_check) if drift_check else None,
    )
    if warnings:
        logger.warning("%s", "\n".join(warnings))
