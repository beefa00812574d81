"""Our Transform executor (a larger batch) writes what TFX's writes, on the same input."""

import itertools
import json
import os
from pathlib import Path

import pytest
import tensorflow as tf
from tfx.components.transform import executor as tfx_transform_executor
from tfx.dsl.components.base import base_beam_executor
from tfx.proto import transform_pb2
from tfx.types import artifact_utils, standard_artifacts
from tfx.types import standard_component_specs as keys
from tfx.utils import proto_utils

from components.dataset import load_spec, to_custom_config
from components.ingestion import ingest, spec_config
from components.transform import executor
from pipeline.pipeline import PREPROCESSING_FN

TAXI = Path(__file__).resolve().parents[2] / "data" / "taxi"
ROWS = 3000  # more than one of TFX's batches (at most 1,000 rows), less than one of ours


def _artifact(kind, uri):
    made = kind()
    made.uri = str(uri)
    return made


def _run(executor_class, examples_dir, schema_dir, output):
    source = _artifact(standard_artifacts.Examples, examples_dir)
    source.split_names = artifact_utils.encode_split_names(["train", "eval", "test"])
    context = base_beam_executor.BaseBeamExecutor.Context(
        beam_pipeline_args=["--direct_running_mode=in_memory", "--direct_num_workers=1"],
        tmp_dir=str(output / "tmp"),
    )
    executor_class(context).Do(
        {
            keys.EXAMPLES_KEY: [source],
            keys.SCHEMA_KEY: [_artifact(standard_artifacts.Schema, schema_dir)],
        },
        {
            keys.TRANSFORM_GRAPH_KEY: [_artifact(standard_artifacts.TransformGraph, output / "g")],
            keys.TRANSFORMED_EXAMPLES_KEY: [_artifact(standard_artifacts.Examples, output / "x")],
        },
        {
            keys.PREPROCESSING_FN_KEY: PREPROCESSING_FN,
            keys.CUSTOM_CONFIG_KEY: json.dumps(to_custom_config(load_spec(TAXI / "spec.yaml"))),
            keys.SPLITS_CONFIG_KEY: proto_utils.proto_to_json(
                transform_pb2.SplitsConfig(analyze=["train"], transform=["train", "eval"])
            ),
            keys.DISABLE_STATISTICS_KEY: 1,
            keys.FORCE_TF_COMPAT_V1_KEY: 0,
        },
    )


def _records(folder: Path) -> list[str]:
    paths = sorted(tf.io.gfile.glob(str(folder / "x" / "Split-*" / "*.gz")))
    dataset = tf.data.TFRecordDataset(paths, compression_type="GZIP")
    rows = []
    for record in dataset.as_numpy_iterator():
        features = tf.train.Example.FromString(record).features.feature
        rows.append(
            json.dumps(
                {k: list(getattr(f, f.WhichOneof("kind")).value) for k, f in features.items()},
                sort_keys=True,
            )
        )
    return sorted(rows)


@pytest.mark.integration
def test_same_transform_graph_outputs_and_transformed_examples_as_tfx(tmp_path):
    csv = tmp_path / "data.csv"
    with open(TAXI / "data.csv") as source, open(csv, "w") as sample:
        sample.writelines(itertools.islice(source, ROWS + 1))  # the header and ROWS rows
    ingest(str(csv), str(tmp_path / "examples"), spec_config(load_spec(TAXI / "spec.yaml")))
    schema_dir = tmp_path / "schema"
    schema_dir.mkdir()
    (schema_dir / "schema.pbtxt").write_bytes((TAXI / "schema.pbtxt").read_bytes())
    _run(tfx_transform_executor.Executor, tmp_path / "examples", schema_dir, tmp_path / "tfx")
    _run(executor.Executor, tmp_path / "examples", schema_dir, tmp_path / "ours")

    ours, theirs = _records(tmp_path / "ours"), _records(tmp_path / "tfx")
    assert len(ours) > ROWS * 0.8  # train + eval
    assert ours == theirs
    assets = "transform_fn/assets"
    for name in sorted(os.listdir(tmp_path / "tfx" / "g" / assets)):  # the vocabularies
        mine = (tmp_path / "ours" / "g" / assets / name).read_bytes()
        assert mine == (tmp_path / "tfx" / "g" / assets / name).read_bytes(), name
