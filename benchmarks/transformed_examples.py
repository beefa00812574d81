"""Transformed taxi examples for the input-pipeline benchmark, made without TFX.

GZIP TFRecord shards of `tf.train.Example`s with exactly the features the taxi
spec's `transformed_features()` lists plus its label (floats random normal,
ids uniform in [0, cardinality), vocabulary features sized by `max_ids`, label
0/1), and the feature spec Transform's `transformed_feature_spec()` would give.
TensorFlow must be set up first (`pipeline.runtime.configure_environment`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import tensorflow as tf
from tfx_bsl.coders import example_coder

from components.dataset import load_spec

ROOT = Path(__file__).resolve().parent.parent
ENCODE_CHUNK = 50_000  # examples serialized per Arrow record batch


def taxi_spec():
    return load_spec(ROOT / "data" / "taxi" / "spec.yaml")


def cardinalities(dataset_spec) -> dict[str, int]:
    """Ids of every categorical feature; a vocabulary counts at its largest (`max_ids`)."""
    return {
        f.name: f.cardinality if f.cardinality is not None else f.max_ids
        for f in dataset_spec.transformed_features()
        if f.is_categorical
    }


def feature_spec(dataset_spec) -> dict[str, tf.io.FixedLenFeature]:
    """What Transform's `transformed_feature_spec()` gives for these features and label."""
    spec = {
        f.name: tf.io.FixedLenFeature([], tf.int64 if f.is_categorical else tf.float32)
        for f in dataset_spec.transformed_features()
    }
    spec[dataset_spec.label_key] = tf.io.FixedLenFeature([], tf.int64)
    return spec


def _column(values: np.ndarray) -> pa.ListArray:
    """One value per example, as the list column an Example feature is encoded from."""
    offsets = pa.array(np.arange(len(values) + 1, dtype=np.int32))
    return pa.ListArray.from_arrays(offsets, pa.array(values))


def _serialized(dataset_spec, n: int, sizes: dict[str, int], rng) -> list[bytes]:
    names, columns = [], []
    for f in dataset_spec.transformed_features():
        if f.is_categorical:
            values = rng.integers(0, sizes[f.name], n, dtype=np.int64)
        else:
            values = rng.standard_normal(n, dtype=np.float32)
        names.append(f.name)
        columns.append(_column(values))
    names.append(dataset_spec.label_key)
    columns.append(_column(rng.integers(0, 2, n, dtype=np.int64)))
    return example_coder.RecordBatchToExamples(pa.RecordBatch.from_arrays(columns, names))


def write_shards(dataset_spec, examples: int, shards: int, folder: Path, seed: int) -> list[str]:
    """Writes `examples` random transformed examples to `shards` GZIP TFRecord files."""
    rng = np.random.default_rng(seed)
    sizes = cardinalities(dataset_spec)
    options = tf.io.TFRecordOptions(compression_type="GZIP")
    files = []
    for shard, count in enumerate(np.diff(np.linspace(0, examples, shards + 1).astype(int))):
        path = str(folder / f"transformed_examples-{shard:05d}-of-{shards:05d}.gz")
        with tf.io.TFRecordWriter(path, options) as writer:
            for start in range(0, count, ENCODE_CHUNK):
                for record in _serialized(
                    dataset_spec, min(ENCODE_CHUNK, count - start), sizes, rng
                ):
                    writer.write(record)
        files.append(path)
    return files
