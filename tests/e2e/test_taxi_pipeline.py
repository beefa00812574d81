"""The whole pipeline on the bundled taxi data, through the `deepline` CLI, in tmp_path."""

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from pipeline.run_artifacts import RunArtifacts

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
TAXI_CSV = ROOT / "data" / "taxi" / "data.csv"


def test_user_sees_each_component_and_a_summary(first_run, pipeline_components):
    _, proc, _ = first_run
    for component in pipeline_components:
        assert f"▶ {component} running…" in proc.stdout
        assert f"✔ {component} finished in" in proc.stdout
    assert "Run summary" in proc.stdout
    assert "Blessed and pushed to" in proc.stdout


def test_model_is_blessed_and_pushed_to_the_serving_folder(first_run, pipeline_components):
    output, _, summary = first_run
    assert summary["blessed"] and summary["pushed"]
    model_dir = Path(summary["model_dir"])
    assert model_dir.parent == output / "serving_model" / "deepline-taxi"
    assert (model_dir / "saved_model.pb").exists()
    assert set(summary["components"]) == set(pipeline_components)
    blessings = list((output / "pipeline" / "Evaluator" / "blessing").glob("*/BLESSED"))
    assert len(blessings) == 1


def test_test_split_metrics_clear_the_blessing_thresholds(first_run):
    _, _, summary = first_run
    overall = summary["metrics"]["overall"]
    # The 70/15/15 split leaves ~2,270 test trips; majority class alone scores 0.775.
    assert overall["example_count"] > 2000
    assert overall["binary_accuracy"] >= 0.88
    assert overall["auc"] >= 0.94
    assert "payment_type=Credit Card" in summary["metrics"]
    assert any(key.startswith("company=") for key in summary["metrics"])
    # Early stopping ended training, not the epoch cap; the best epoch's weights were kept.
    assert summary["training"]["best_epoch"] <= summary["training"]["epochs"] < 200


def _raw_example(row: dict[str, str], numeric_types: dict[str, str]) -> bytes:
    """A serialized tf.train.Example with raw CSV names; empty cells are left out."""
    feature = {}
    for name, text in row.items():
        if text == "" or name == "tips":
            continue
        kind = numeric_types.get(name)
        if kind == "float":
            feature[name] = tf.train.Feature(float_list=tf.train.FloatList(value=[float(text)]))
        elif kind == "int":
            feature[name] = tf.train.Feature(int64_list=tf.train.Int64List(value=[int(text)]))
        else:
            feature[name] = tf.train.Feature(bytes_list=tf.train.BytesList(value=[text.encode()]))
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def test_served_model_scores_raw_examples_including_missing_values(first_run):
    import csv

    from tensorflow_metadata.proto.v0 import schema_pb2
    from tfx.utils import io_utils

    _, _, summary = first_run
    schema = io_utils.parse_pbtxt_file(
        str(ROOT / "data" / "taxi" / "schema.pbtxt"), schema_pb2.Schema()
    )
    kinds = {schema_pb2.FLOAT: "float", schema_pb2.INT: "int"}
    types = {f.name: kinds.get(f.type) for f in schema.feature}
    with open(TAXI_CSV) as f:
        rows = list(itertools.islice(csv.DictReader(f), 20))
    rows[0] = {k: v for k, v in rows[0].items() if k in ("payment_type", "fare")}  # almost empty
    rows[1] = dict(rows[1], company="", dropoff_latitude="", trip_seconds="")
    rows[2] = dict(rows[2], payment_type="Bitcoin")  # unseen category: an OOV bucket
    model = tf.saved_model.load(summary["model_dir"])
    serve = model.signatures["serving_default"]
    assert list(serve.structured_input_signature[1]) == ["examples"]
    batch = tf.constant([_raw_example(r, types) for r in rows])
    probabilities = serve(examples=batch)["probability"].numpy()
    assert probabilities.shape == (20, 1)
    assert np.isfinite(probabilities).all()
    assert ((probabilities >= 0) & (probabilities <= 1)).all()
    # Not a constant: the model uses its inputs.
    assert probabilities.std() > 0.05


def test_second_run_reuses_cached_components(first_run, second_run):
    output, _, first = first_run
    _, second = second_run
    cached = {name for name, c in second["components"].items() if c["cached"]}
    assert {"CsvExampleGen", "StatisticsGen", "Transform", "Trainer"} <= cached
    # What ML Metadata recorded: the second run's executions reused the first run's
    # artifacts (the same artifact ids), so nothing was ingested, transformed or trained again.
    metadata = str(output / "metadata.sqlite")
    assert first["pipeline_run_id"] != second["pipeline_run_id"]
    runs = [RunArtifacts(metadata, s["pipeline_run_id"]) for s in (first, second)]
    for component, artifact_type in (
        ("CsvExampleGen", "Examples"),
        ("StatisticsGen", "ExampleStatistics"),
        ("Transform", "TransformGraph"),
        ("Trainer", "Model"),
    ):
        reused = [run.output(component, artifact_type) for run in runs]
        assert None not in reused, component
        assert reused[0].id == reused[1].id, component
    assert second["blessed"] and second["pushed"]


def test_examples_are_gzip_tfrecord_shards_and_every_row_lands_in_one_split(first_run):
    output, _, _ = first_run
    counts = {}
    for split in ("train", "eval", "test"):
        shards = sorted(
            (output / "pipeline" / "CsvExampleGen" / "examples").glob(f"*/Split-{split}/*.gz")
        )
        assert shards, split
        records = tf.data.TFRecordDataset([str(s) for s in shards], compression_type="GZIP")
        counts[split] = sum(1 for _ in records)
    assert sum(counts.values()) == 15002
    # Hash buckets 14/3/3 of 20: about 70/15/15.
    assert 0.67 < counts["train"] / 15002 < 0.73
    assert 0.13 < counts["test"] / 15002 < 0.17


def test_json_logs_are_one_json_object_per_line(second_run):
    proc, _ = second_run
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    kinds = {e["event"] for e in events}
    assert {"component_started", "component_finished", "summary"} <= kinds
    assert events[-1]["event"] == "summary" and events[-1]["pushed"] is True


def test_a_model_below_the_bar_is_not_pushed_and_exits_4(strict_run):
    proc, summary, versions_before, versions_after = strict_run
    assert proc.returncode == 4, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert not summary["blessed"] and not summary["pushed"]
    assert any(
        reason.startswith("auc ") and reason.endswith("< 0.999 (command line: --min-auc)")
        for reason in summary["not_blessed_reasons"]
    ), summary["not_blessed_reasons"]
    assert versions_after == versions_before  # the live model is untouched
    # -q: the verdict only, no progress lines.
    assert proc.stdout.strip().splitlines() == [
        "deepline: not blessed: " + "; ".join(summary["not_blessed_reasons"])
    ]
    assert "INFO:" not in proc.stderr, proc.stderr[:2000]  # nor TFX's, Beam's or TFMA's log lines


def test_a_candidate_worse_than_the_live_model_is_not_pushed(worse_run):
    proc, summary, versions_before, versions_after = worse_run
    assert proc.returncode == 4, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert not summary["blessed"] and not summary["pushed"]
    assert not summary["components"]["Trainer"]["cached"]
    overall = summary["metrics"]["overall"]
    assert overall["auc_diff"] < 0  # measured against the live model
    # The only bar it misses is the comparison with the live model, and the summary says so.
    assert summary["not_blessed_reasons"]
    assert all(
        reason.startswith("auc ") and reason.endswith("(live model: its auc)")
        for reason in summary["not_blessed_reasons"]
    ), summary["not_blessed_reasons"]
    assert "(live model: its auc)" in proc.stdout
    assert versions_after == versions_before  # the live model stays
