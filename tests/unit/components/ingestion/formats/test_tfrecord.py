"""TFRecord ingestion: files of tf.train.Example, one task per file, the same checks as CSV."""

import json
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from components.ingestion import IngestionConfig, IngestionError, LabelRule, RawColumn, ingest
from components.ingestion.formats.tfrecord import read_records

COLUMNS = (
    RawColumn("id", "int", required=True),
    RawColumn("fare", "float"),
    RawColumn("image", "string"),
    RawColumn("digit", "string", required=True),
)
CONFIG = IngestionConfig(
    columns=COLUMNS,
    label=LabelRule("digit", allowed=("0", "1", "2")),
    format="tfrecord",
    max_quarantined_fraction=1.0,
)
PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\xff binary"  # not UTF-8, kept as it is


def _feature(value):
    if isinstance(value, bytes):
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))
    if isinstance(value, int):
        return tf.train.Feature(int64_list=tf.train.Int64List(value=[value]))
    if isinstance(value, list):
        return tf.train.Feature(float_list=tf.train.FloatList(value=value))
    return tf.train.Feature(float_list=tf.train.FloatList(value=[value]))


def _write(path, rows: list, gzip=False) -> str:
    options = tf.io.TFRecordOptions(compression_type="GZIP" if gzip else None)
    with tf.io.TFRecordWriter(str(path), options) as writer:
        for row in rows:
            if isinstance(row, bytes):
                writer.write(row)  # a record that is not an Example
                continue
            features = {k: _feature(v) for k, v in row.items()}
            writer.write(
                tf.train.Example(features=tf.train.Features(feature=features)).SerializeToString()
            )
    return str(path)


@pytest.mark.parametrize("gzip", [False, True], ids=["plain", "gzip"])
def test_examples_are_read_with_their_values_binary_bytes_included(
    tmp_path, gzip, written_examples
):
    rows = [
        {"id": 1, "fare": 0.1, "image": PNG_BYTES, "digit": 2, "other": b"ignored"},
        {"id": 2, "digit": 0},  # absent features are missing values
    ]
    name = "d.tfrecord.gz" if gzip else "d.tfrecord"
    path = _write(tmp_path / name, rows, gzip=gzip)
    assert len(list(read_records(path))) == 2
    result = ingest(path, str(tmp_path / "out"), CONFIG, workers=1)
    assert (result.rows_in, result.rows_written, result.rows_quarantined) == (2, 2, 0)
    assert written_examples(tmp_path / "out") == [
        # 0.1 as float32 reads back as the same float32.
        {"id": [1], "fare": [np.float32(0.1)], "image": [PNG_BYTES], "digit": [b"2"]},
        {"id": [2], "fare": [], "image": [], "digit": [b"0"]},
    ]


def test_bad_records_are_quarantined_by_their_number(tmp_path):
    rows = [
        {"id": 1, "digit": 1},
        b"\x00\x01 not a proto",
        {"id": 3, "fare": [1.0, 2.0], "digit": 1},
        {"id": 4, "digit": 7},
        {"id": 5, "digit": 2},
    ]
    path = _write(tmp_path / "d.tfrecord", rows)
    result = ingest(path, str(tmp_path / "out"), CONFIG, workers=1)
    assert (result.rows_in, result.rows_written, result.rows_quarantined) == (5, 2, 3)
    records = [json.loads(x) for x in Path(result.quarantine_file).read_text().splitlines()]
    assert [(r["line"], r["check"]) for r in records] == [
        (2, "not_an_example"),
        (3, "not_one_value"),
        (4, "label"),
    ]
    assert "column 'fare': 2 values, not one" in records[1]["reason"]
    assert json.loads(records[2]["raw"])["digit"] == "7"


def test_a_truncated_file_is_an_error_naming_the_record(tmp_path):
    path = _write(tmp_path / "d.tfrecord", [{"id": 1, "digit": 1}, {"id": 2, "digit": 1}])
    data = Path(path).read_bytes()
    Path(path).write_bytes(data[:-10])
    with pytest.raises(IngestionError, match="record 2 claims"):
        ingest(path, str(tmp_path / "out"), CONFIG, workers=1)


def test_each_file_is_one_task_and_shard(tmp_path):
    (tmp_path / "in").mkdir()
    for k in range(3):
        _write(tmp_path / "in" / f"part-{k}.tfrecord", [{"id": k, "digit": 1}])
    result = ingest(str(tmp_path / "in" / "*.tfrecord"), str(tmp_path / "out"), CONFIG, workers=2)
    assert result.rows_written == 3
    assert len(list((tmp_path / "out" / "Split-train").iterdir())) == 3
