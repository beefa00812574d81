"""Input pipeline: Transform's GZIP TFRecord shards to batched (features, label) datasets.

Records are read in parallel from all shards, cached serialized after the
first epoch (the transformed data of one span fits in memory; see
`cache_in_memory`), shuffled per epoch, batched, and parsed a batch at a time
(vectorized parsing is several times faster than one record at a time).
"""

from __future__ import annotations

import tensorflow as tf

from components.trainer.model import as_model_inputs

AUTOTUNE = tf.data.AUTOTUNE


def make_dataset(
    file_pattern: str | list[str],
    feature_spec: dict,
    label_key: str,
    batch_size: int,
    shuffle: bool,
    seed: int,
    shuffle_buffer: int = 10_000,
    cache_in_memory: bool = True,
) -> tf.data.Dataset:
    """Returns one epoch of batches of (feature dict, label).

    Args:
      file_pattern: Glob(s) of GZIP-compressed TFRecord files of transformed
        `tf.train.Example`s.
      feature_spec: Transformed feature spec (from `TFTransformOutput`).
      label_key: Name of the label in `feature_spec`; it is split off the features.
      batch_size: Examples per batch.
      shuffle: Reshuffle every epoch (training); False keeps file order (eval).
      seed: Seed of the file order and the shuffle.
      shuffle_buffer: Examples in the shuffle buffer. Defaults to 10_000.
      cache_in_memory: Keep serialized records in memory after the first epoch.
        Defaults to True.

    Raises:
      FileNotFoundError: no file matches `file_pattern`.
    """
    patterns = [file_pattern] if isinstance(file_pattern, str) else list(file_pattern)
    files = sorted(f for p in patterns for f in tf.io.gfile.glob(p))
    if not files:
        raise FileNotFoundError(f"No transformed example files match {patterns}.")
    records = tf.data.Dataset.from_tensor_slices(files).interleave(
        lambda f: tf.data.TFRecordDataset(f, compression_type="GZIP"),
        cycle_length=min(len(files), 8),
        num_parallel_calls=AUTOTUNE,
        deterministic=True,
    )
    if cache_in_memory:
        records = records.cache()
    if shuffle:
        records = records.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    batches = records.batch(batch_size).map(
        lambda serialized: _split_label(tf.io.parse_example(serialized, feature_spec), label_key),
        num_parallel_calls=AUTOTUNE,
    )
    return batches.prefetch(AUTOTUNE)


def _split_label(parsed: dict, label_key: str):
    parsed = dict(parsed)
    label = tf.cast(tf.reshape(parsed.pop(label_key), [-1, 1]), tf.float32)
    return as_model_inputs(parsed), label
