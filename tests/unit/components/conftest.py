"""Fixtures shared by the components' test modules: the trips CSV the CSV ingestion tests write
and read back (`trips`), the smallest valid data set spec (`minimal_spec`), and a fresh process
with two logical CPU devices (`on_two_devices`)."""

import copy
import json

import pytest

from components.ingestion import IngestionConfig, LabelRule, RawColumn, ingest, non_negative


class TripsCsv:
    """The trips CSV of the CSV ingestion tests, and how to ingest it and read back the result.

    Its columns: id (int, required), fare (float, required), tips (float, the label, >= 0) and
    company (string).
    """

    header = "id,fare,tips,company"
    good = ("1,10.5,2,Acme", "2,7.25,0,Bolt")
    columns = (
        RawColumn("id", "int", required=True),
        RawColumn("fare", "float", required=True),
        RawColumn("tips", "float"),
        RawColumn("company", "string"),
    )

    def config(self, **overrides) -> IngestionConfig:
        """The ingestion config of the trips columns (no quarantine limit), with `overrides`."""
        settings = {
            "columns": self.columns,
            "label": LabelRule("tips", check=non_negative, description="tips must be >= 0"),
            "max_quarantined_fraction": 1.0,
        }
        return IngestionConfig(**{**settings, **overrides})

    @staticmethod
    def write(tmp_path, content, name="trips.csv"):
        """Writes `content` (text as UTF-8, or bytes) to `tmp_path/name`; returns the path."""
        tmp_path.mkdir(parents=True, exist_ok=True)
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        return path

    def run(self, tmp_path, content, settings=None, **kwargs):
        """Ingests `content` into `tmp_path/out`; returns the result and the quarantine records."""
        path = self.write(tmp_path, content)
        result = ingest(
            str(path), str(tmp_path / "out"), settings or self.config(), workers=1, **kwargs
        )
        with open(result.quarantine_file) as f:
            return result, [json.loads(line) for line in f]

    @staticmethod
    def examples(output_dir, split=None) -> list[dict]:
        """Reads every written Example back as {feature: (kind, values)}, shard by shard."""
        import tensorflow as tf

        pattern = f"{output_dir}/Split-{split or '*'}/data_tfrecord-*.gz"
        rows = []
        paths = sorted(tf.io.gfile.glob(pattern))
        dataset = tf.data.TFRecordDataset(paths, compression_type="GZIP").batch(4096)
        for record in (r for batch in dataset.as_numpy_iterator() for r in batch):
            example = tf.train.Example.FromString(record)
            row = {}
            for key, feature in example.features.feature.items():
                kind = feature.WhichOneof("kind")
                row[key] = (kind, list(getattr(feature, kind).value))
            rows.append(row)
        return rows

    @staticmethod
    def lines(*rows) -> str:
        """The rows as the lines of a file, each ended by a newline."""
        return "".join(row + "\n" for row in rows)

    def many_rows(self, count: int, bad_every: int = 0) -> str:
        """The header and `count` rows; with `bad_every`, every such row has the fare 'oops'."""
        rows = [self.header]
        for i in range(count):
            bad = bad_every and i % bad_every == 0
            rows.append(f"{i},{'oops' if bad else i % 97 + 0.25},{i % 5},company {i % 13}")
        return self.lines(*rows)


@pytest.fixture
def trips() -> TripsCsv:
    """The trips CSV of the CSV ingestion tests (`TripsCsv`)."""
    return TripsCsv()


MINIMAL_SPEC = {
    "source": {"format": "csv", "path": "data.csv"},
    "label": {"column": "y", "kind": "regression"},
    "features": {"x": "numeric"},
}


@pytest.fixture
def minimal_spec():
    """The smallest valid data set spec as data, changed at the top level.

    minimal_spec(**changes) -> {source: a CSV file, label: regression on `y`, features: `x`
    numeric}, with each key of `changes` set (replaced or added) and each given as None left
    out; e.g. minimal_spec(features={"x": "text"}) declares its one feature as text.
    """

    def build(**changes) -> dict:
        data = {**copy.deepcopy(MINIMAL_SPEC), **changes}
        return {key: value for key, value in data.items() if value is not None}

    return build


# Splits the CPU into two logical devices and picks the strategy for them; the body then has
# `np`, `tf`, `keras`, `sys` and `strategy` (MirroredStrategy over the two devices).
_TWO_DEVICES = """
import sys
from pipeline import runtime
runtime.configure_environment()
import numpy as np, tensorflow as tf, tf_keras as keras
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from components.trainer import distribution
strategy = distribution.choose_strategy([d.name for d in tf.config.list_logical_devices("CPU")])
"""


@pytest.fixture
def on_two_devices():
    """Runs Python code in a fresh process whose CPU is split into two logical devices.

    on_two_devices(body, *args) -> the process's standard output, split into words. `body` runs
    after the set-up, with `np`, `tf`, `keras`, `sys` (argv: `args`) and `strategy` defined;
    the test fails with the process's error output if it exits non-zero. (Devices are fixed
    once TensorFlow initializes, hence the fresh process.)
    """
    import subprocess
    import sys
    import textwrap

    def run(body: str, *args) -> list[str]:
        script = _TWO_DEVICES + textwrap.dedent(body)
        proc = subprocess.run(
            [sys.executable, "-c", script, *map(str, args)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        return proc.stdout.split()

    return run
