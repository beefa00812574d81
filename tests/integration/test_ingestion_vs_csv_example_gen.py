"""Our ingestion writes the same Examples as TFX's CsvExampleGen, in the layout TFX reads."""

import json
import shutil
from pathlib import Path

import pytest
import tensorflow as tf
from tfx.components.example_gen.csv_example_gen import executor
from tfx.proto import example_gen_pb2
from tfx.types import standard_artifacts, standard_component_specs
from tfx.utils import proto_utils

from components.dataset import load_spec
from components.ingestion import ingest, spec_config

TAXI_CSV = Path(__file__).resolve().parents[2] / "data" / "taxi" / "data.csv"
TAXI_SPEC = TAXI_CSV.parent / "spec.yaml"


def parsed_examples(folder) -> list[str]:
    """Every Example under `folder`, as sorted JSON of {feature: [kind, values]}."""
    paths = sorted(tf.io.gfile.glob(f"{folder}/Split-*/data_tfrecord-*.gz"))
    rows = []
    dataset = tf.data.TFRecordDataset(paths, compression_type="GZIP").batch(4096)
    for record in (r for batch in dataset.as_numpy_iterator() for r in batch):
        features = tf.train.Example.FromString(record).features.feature
        row = {}
        for key, feature in features.items():
            kind = feature.WhichOneof("kind")
            values = list(getattr(feature, kind).value) if kind else []
            row[key] = [kind, [v.decode() if isinstance(v, bytes) else v for v in values]]
        rows.append(json.dumps(row, sort_keys=True))
    return sorted(rows)


def run_csv_example_gen(input_dir, output_dir) -> None:
    splits = [("train", 14), ("eval", 3), ("test", 3)]
    examples = standard_artifacts.Examples()
    examples.uri = str(output_dir)
    keys = standard_component_specs
    executor.Executor().Do(
        {},
        {keys.EXAMPLES_KEY: [examples]},
        {
            keys.INPUT_BASE_KEY: str(input_dir),
            keys.INPUT_CONFIG_KEY: proto_utils.proto_to_json(
                example_gen_pb2.Input(
                    splits=[example_gen_pb2.Input.Split(name="single_split", pattern="*.csv")]
                )
            ),
            keys.OUTPUT_CONFIG_KEY: proto_utils.proto_to_json(
                example_gen_pb2.Output(
                    split_config=example_gen_pb2.SplitConfig(
                        splits=[
                            example_gen_pb2.SplitConfig.Split(name=n, hash_buckets=b)
                            for n, b in splits
                        ]
                    )
                )
            ),
        },
    )


@pytest.mark.integration
def test_same_examples_as_csv_example_gen(tmp_path):
    # The whole bundled file: CsvExampleGen infers each column's type from the data, and on a
    # small sample an all-empty column becomes untyped (Feature {} instead of int64_list {}).
    input_dir = tmp_path / "input"
    input_dir.mkdir()
    shutil.copy(TAXI_CSV, input_dir / "data.csv")
    run_csv_example_gen(input_dir, tmp_path / "tfx")
    result = ingest(str(input_dir), str(tmp_path / "ours"), spec_config(load_spec(TAXI_SPEC)))
    assert (result.rows_in, result.rows_written) == (15002, 15002)
    theirs, ours = parsed_examples(tmp_path / "tfx"), parsed_examples(tmp_path / "ours")
    assert len(ours) == 15002
    assert ours == theirs
    assert sorted(p.name for p in (tmp_path / "ours").iterdir()) == sorted(
        p.name for p in (tmp_path / "tfx").iterdir()
    ) + ["ingestion_summary.json", "quarantine"]
