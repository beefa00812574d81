"""Shared test set-up. The Keras mode must be chosen before TensorFlow is imported."""

from pipeline import runtime

runtime.configure_environment()

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

TESTDATA = Path(__file__).parent / "testdata"
TAXI_CSV = Path(__file__).parent.parent / "data" / "taxi" / "data.csv"


@pytest.fixture
def taxi_rows() -> list[str]:
    """Header plus the first 40 data lines of the bundled taxi CSV."""
    with open(TAXI_CSV) as f:
        return [next(f).rstrip("\n") for _ in range(41)]


@pytest.fixture
def run_example_gen(tmp_path):
    """Runs the pipeline's ExampleGen executor through `Do()` on the files in a folder.

    run(input_dir, pattern, spec, max_quarantined_fraction=0.0, schema=None) -> the
    Examples artifact, with splits train 3 / eval 1.
    """
    from tfx.proto import example_gen_pb2
    from tfx.types import standard_artifacts
    from tfx.utils import proto_utils

    from components.ingestion import example_gen

    def run(input_dir, pattern, spec, max_quarantined_fraction=0.0, schema=None):
        examples = standard_artifacts.Examples()
        examples.uri = str(tmp_path / "examples")
        splits = [("train", 3), ("eval", 1)]
        output = example_gen_pb2.Output(
            split_config=example_gen_pb2.SplitConfig(
                splits=[
                    example_gen_pb2.SplitConfig.Split(name=n, hash_buckets=b) for n, b in splits
                ]
            )
        )
        inputs = example_gen_pb2.Input(
            splits=[example_gen_pb2.Input.Split(name="single_split", pattern=pattern)]
        )
        custom = example_gen.ingestion_custom_config(spec, schema, max_quarantined_fraction)
        example_gen.Executor().Do(
            {},
            {"examples": [examples]},
            {
                "input_base": str(input_dir),
                "input_config": proto_utils.proto_to_json(inputs),
                "output_config": proto_utils.proto_to_json(output),
                "custom_config": proto_utils.proto_to_json(custom),
            },
        )
        return examples

    return run


@pytest.fixture
def written_examples():
    """Reads back every Example ingestion wrote under a folder, as {feature: [values]}.

    written_examples(output_dir, key="id") -> the rows of all splits, sorted by `key`.
    """
    import tensorflow as tf

    def read(output_dir, key="id") -> list[dict]:
        rows = []
        for path in sorted(tf.io.gfile.glob(f"{output_dir}/Split-*/*.gz")):
            for record in tf.data.TFRecordDataset(path, compression_type="GZIP"):
                example = tf.train.Example.FromString(record.numpy())
                row = {}
                for name, feature in example.features.feature.items():
                    kind = feature.WhichOneof("kind")
                    row[name] = list(getattr(feature, kind).value) if kind else []
                rows.append(row)
        return sorted(rows, key=lambda r: r[key])

    return read
