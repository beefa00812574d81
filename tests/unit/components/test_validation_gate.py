"""The validation gate lists anomalies in words and fails only when there are some."""

import pytest
from tensorflow_metadata.proto.v0 import anomalies_pb2

from components import validation_gate


def _write(tmp_path, split, anomalies):
    folder = tmp_path / f"Split-{split}"
    folder.mkdir()
    (folder / validation_gate.ANOMALIES_FILE).write_bytes(anomalies.SerializeToString())


def _anomaly(feature, short, description):
    anomalies = anomalies_pb2.Anomalies()
    info = anomalies.anomaly_info[feature]
    info.short_description = short
    reason = info.reason.add()
    reason.short_description = short
    reason.description = description
    return anomalies


def test_clean_splits_pass(tmp_path):
    _write(tmp_path, "train", anomalies_pb2.Anomalies())
    _write(tmp_path, "eval", anomalies_pb2.Anomalies())
    validation_gate.check_anomalies(str(tmp_path), ["train", "eval"])


def test_each_anomaly_is_one_line_with_split_column_and_reason(tmp_path):
    _write(
        tmp_path,
        "train",
        _anomaly(
            "payment_type",
            "Unexpected string values",
            "Examples contain values missing from the schema: Bitcoin (~1%).",
        ),
    )
    _write(tmp_path, "eval", _anomaly("fare", "Unexpected data type", "Expected FLOAT, got BYTES."))
    with pytest.raises(validation_gate.DataValidationError) as error:
        validation_gate.check_anomalies(str(tmp_path), ["train", "eval"], "data/taxi/schema.pbtxt")
    message = str(error.value)
    assert "2 anomalies" in message
    assert (
        "[train] column 'payment_type': Unexpected string values. Examples contain values "
        "missing from the schema: Bitcoin (~1%)."
    ) in message
    assert "[eval] column 'fare': Unexpected data type. Expected FLOAT, got BYTES." in message
    assert "nothing was trained or pushed" in message
    assert "data/taxi/schema.pbtxt" in message


def test_a_single_anomaly_in_one_split_stops_the_run(tmp_path):
    _write(tmp_path, "train", anomalies_pb2.Anomalies())
    _write(
        tmp_path,
        "eval",
        _anomaly("trip_miles", "Out-of-range values", "Unexpectedly large value: 1e9."),
    )
    with pytest.raises(validation_gate.DataValidationError) as error:
        validation_gate.check_anomalies(str(tmp_path), ["train", "eval"])
    message = str(error.value)
    assert message.startswith("Data validation found 1 anomaly;")
    assert (
        "[eval] column 'trip_miles': Out-of-range values. Unexpectedly large value: 1e9."
    ) in message


def test_a_data_set_level_anomaly_alone_stops_the_run(tmp_path):
    anomalies = anomalies_pb2.Anomalies()
    info = anomalies.dataset_anomaly_info
    info.short_description = "Low num examples in dataset"
    reason = info.reason.add()
    reason.description = "The dataset has 3 examples, fewer than the minimum of 100."
    _write(tmp_path, "train", anomalies)
    _write(tmp_path, "eval", anomalies_pb2.Anomalies())
    with pytest.raises(validation_gate.DataValidationError) as error:
        validation_gate.check_anomalies(str(tmp_path), ["train", "eval"])
    message = str(error.value)
    assert message.startswith("Data validation found 1 anomaly;")
    assert (
        "[train] whole data set: Low num examples in dataset. The dataset has 3 examples, "
        "fewer than the minimum of 100."
    ) in message
