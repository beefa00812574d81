"""The ingestion ExampleGen's executor, through `Do()`: splits, counts, quarantine, errors."""

import json

import pytest
import tensorflow as tf
from tfx.types import artifact_utils

from components.dataset import load_spec
from components.ingestion import IngestionError
from pipeline.config import DEFAULT_SCHEMA, DEFAULT_SPEC


@pytest.fixture
def do(tmp_path, run_example_gen):
    """Ingests CSV text with the taxi spec through the executor; returns the Examples."""

    def run(csv_text, max_quarantined_fraction=0.0, schema=DEFAULT_SCHEMA):
        (tmp_path / "data").mkdir()
        (tmp_path / "data" / "trips.csv").write_text(csv_text)
        spec = load_spec(DEFAULT_SPEC)
        return run_example_gen(
            tmp_path / "data", "trips.csv", spec, max_quarantined_fraction, schema
        )

    return run


def test_rows_become_examples_in_the_configured_splits(tmp_path, taxi_rows, do):
    examples = do("\n".join(taxi_rows) + "\n")
    assert artifact_utils.decode_split_names(examples.split_names) == ["train", "eval"]
    assert examples.get_string_custom_property("payload_format") == "FORMAT_TF_EXAMPLE"
    counts = {}
    for split in ("train", "eval"):
        shards = tf.io.gfile.glob(f"{examples.uri}/Split-{split}/*.gz")
        counts[split] = sum(1 for _ in tf.data.TFRecordDataset(shards, compression_type="GZIP"))
    assert counts["train"] + counts["eval"] == 40
    assert counts["train"] > counts["eval"] > 0


def test_a_bad_row_within_the_allowed_fraction_is_quarantined_and_counted(tmp_path, taxi_rows, do):
    header = taxi_rows[0].split(",")
    bad = taxi_rows[4].split(",")
    bad[header.index("trip_seconds")] = "soon"
    rows = [*taxi_rows[:4], ",".join(bad), *taxi_rows[5:]]
    examples = do("\n".join(rows) + "\n", max_quarantined_fraction=0.05)
    summary = json.loads((tmp_path / "examples" / "ingestion_summary.json").read_text())
    assert (summary["rows_in"], summary["rows_written"], summary["rows_quarantined"]) == (40, 39, 1)
    (record,) = [json.loads(x) for x in open(f"{examples.uri}/quarantine/rows.jsonl")]
    assert record["line"] == 5 and "trip_seconds" in record["reason"]


def test_by_default_one_bad_row_fails_and_names_the_quarantine_file(tmp_path, taxi_rows, do):
    header = taxi_rows[0].split(",")
    bad = taxi_rows[4].split(",")
    bad[header.index("fare")] = "nan"
    with pytest.raises(IngestionError, match="rows.jsonl"):
        do("\n".join([*taxi_rows[:4], ",".join(bad), *taxi_rows[5:]]) + "\n")


def test_an_unreadable_schema_is_named(tmp_path, taxi_rows, do):
    schema = tmp_path / "schema.pbtxt"
    schema.write_text("feature { name: 'fare' type: NOT_A_TYPE }\n")
    with pytest.raises(IngestionError, match="cannot read the schema"):
        do("\n".join(taxi_rows) + "\n", schema=str(schema))


def test_a_negative_tip_is_quarantined_by_the_taxi_spec_bound(tmp_path, taxi_rows, do):
    # The bound travels with the spec in the executor's custom_config: tips {kind: ignore, min: 0}.
    header = taxi_rows[0].split(",")
    bad = taxi_rows[7].split(",")
    bad[header.index("tips")] = "-1.5"
    rows = [*taxi_rows[:7], ",".join(bad), *taxi_rows[8:]]
    examples = do("\n".join(rows) + "\n", max_quarantined_fraction=0.05)
    summary = json.loads((tmp_path / "examples" / "ingestion_summary.json").read_text())
    assert (summary["rows_in"], summary["rows_written"], summary["rows_quarantined"]) == (40, 39, 1)
    (record,) = [json.loads(x) for x in open(f"{examples.uri}/quarantine/rows.jsonl")]
    assert (record["line"], record["check"], record["reason"]) == (
        8,
        "out_of_bounds",
        "column 'tips': '-1.5' is below its minimum 0 (spec: features.tips.min)",
    )
