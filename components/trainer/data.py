"""Input pipeline: Transform's GZIP TFRecord shards to batched (features, label) datasets.

Shards are read in parallel, each by its own reader that hands on blocks of
records rather than one record at a time: that costs about a third less CPU
per example (measured by `benchmarks/input_pipeline.py`). Records are parsed
a batch (or a block) at a time.

When the data fits in memory (`fits_in_memory`), it is read and parsed once
into one tensor per feature; every epoch then draws a fresh permutation of all
examples and gathers each batch from those tensors: a full shuffle, with no
per-example work left. Otherwise records stream from the files every epoch,
and windows of `shuffle_buffer` records are shuffled whole.
"""

from __future__ import annotations

import math
import os

import tensorflow as tf

from components.trainer.model import as_model_inputs

AUTOTUNE = tf.data.AUTOTUNE

# Records parsed per call while loading the data into memory.
LOAD_BATCH = 8192

# Caching keeps every record in memory. It is used only when the records, at
# COMPRESSION_RATIO times their compressed size (an upper estimate: GZIP shrinks
# tf.Examples 3-5x), take at most CACHE_MEMORY_SHARE of the memory available.
COMPRESSION_RATIO = 10
CACHE_MEMORY_SHARE = 0.25


def make_dataset(
    file_pattern: str | list[str],
    feature_spec: dict,
    label_key: str,
    batch_size: int,
    shuffle: bool,
    seed: int,
    shuffle_buffer: int = 10_000,
    cache_in_memory: bool | None = None,
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
      shuffle_buffer: Examples in a shuffled window when the data streams
        from the files. Defaults to 10_000.
      cache_in_memory: Load the parsed data into memory now and serve every
        epoch from there (needs fixed-length features; others stream); None
        decides by `fits_in_memory`. Defaults to None.

    Raises:
      FileNotFoundError: no file matches `file_pattern`.
    """
    patterns = [file_pattern] if isinstance(file_pattern, str) else list(file_pattern)
    files = sorted(f for p in patterns for f in tf.io.gfile.glob(p))
    if not files:
        raise FileNotFoundError(f"No transformed example files match {patterns}.")
    if cache_in_memory is None:
        cache_in_memory = fits_in_memory(files)
    fixed_length = all(isinstance(f, tf.io.FixedLenFeature) for f in feature_spec.values())
    if cache_in_memory and fixed_length:
        columns = load_columns(files, feature_spec)
        return _from_columns(columns, label_key, batch_size, shuffle, seed)
    if shuffle:
        records = _shuffled_records(files, batch_size, shuffle_buffer, seed)
    else:
        records = record_blocks(files, batch_size)
    batches = records.rebatch(batch_size).map(
        lambda serialized: _split_label(tf.io.parse_example(serialized, feature_spec), label_key),
        num_parallel_calls=AUTOTUNE,
    )
    return batches.prefetch(AUTOTUNE)


def count_records(file_pattern: str | list[str], at_most: int) -> int:
    """The number of records in the GZIP TFRecord files matching `file_pattern`, counted up
    to `at_most` (reading stops there, so a large split costs no more than a small one)."""
    patterns = [file_pattern] if isinstance(file_pattern, str) else list(file_pattern)
    files = sorted(f for p in patterns for f in tf.io.gfile.glob(p))
    if not files:
        return 0
    records = tf.data.TFRecordDataset(files, compression_type="GZIP").take(at_most)
    return int(records.reduce(tf.constant(0, tf.int64), lambda count, _: count + 1))


def load_columns(
    files: list[str], feature_spec: dict, block_size: int = LOAD_BATCH
) -> dict[str, tf.Tensor]:
    """Reads and parses every record of `files`: feature name -> its values.

    The values come in blocks of `block_size` records of each file in turn
    (see `record_blocks`).
    """
    blocks = list(
        record_blocks(files, block_size)
        .map(
            lambda serialized: tf.io.parse_example(serialized, feature_spec),
            num_parallel_calls=AUTOTUNE,
        )
        .prefetch(AUTOTUNE)
    )
    if not blocks:
        return {name: tf.zeros([0, *f.shape], f.dtype) for name, f in feature_spec.items()}
    return {name: tf.concat([block[name] for block in blocks], axis=0) for name in feature_spec}


def record_blocks(files: list[str], block_size: int) -> tf.data.Dataset:
    """Blocks of `block_size` consecutive serialized records of one file (a file's last
    block may be shorter); files are read in parallel and taken in turn."""
    return tf.data.Dataset.from_tensor_slices(files).interleave(
        lambda file: tf.data.TFRecordDataset(file, compression_type="GZIP").batch(block_size),
        cycle_length=_cycle_length(files),
        num_parallel_calls=AUTOTUNE,
        deterministic=True,
    )


def _shuffled_records(
    files: list[str], batch_size: int, shuffle_buffer: int, seed: int
) -> tf.data.Dataset:
    """Serialized records in windows of `shuffle_buffer`, each in a new random order.

    A window joins consecutive blocks of the files read at the same time, so
    it mixes records of all of them, as a shuffle buffer of that size does;
    but it is shuffled whole, by one gather, instead of record by record.
    """
    block_size = max(1, min(batch_size, shuffle_buffer // _cycle_length(files)))
    windows = record_blocks(files, block_size).rebatch(shuffle_buffer)
    draws = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)

    def permuted(window: tf.Tensor, draw: tf.Tensor) -> tf.Tensor:
        order = tf.random.experimental.stateless_shuffle(
            tf.range(tf.size(window, out_type=tf.int64)), seed=tf.stack([draw, seed])
        )
        return tf.gather(window, order)

    return tf.data.Dataset.zip(windows, draws).map(permuted, num_parallel_calls=AUTOTUNE)


def _cycle_length(files: list[str]) -> int:
    """Files read at the same time."""
    return min(len(files), 8)


def _from_columns(
    columns: dict[str, tf.Tensor], label_key: str, batch_size: int, shuffle: bool, seed: int
) -> tf.data.Dataset:
    """Batches gathered from in-memory columns; with `shuffle`, a new permutation each epoch."""
    count = int(columns[label_key].shape[0])
    steps = math.ceil(count / batch_size)
    if shuffle:
        # One random draw per iteration (epoch), reproducible from `seed`.
        order = (
            tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
            .take(1)
            .map(
                lambda draw: tf.random.experimental.stateless_shuffle(
                    tf.range(count, dtype=tf.int64), seed=tf.stack([draw, seed])
                )
            )
        )
    else:
        order = tf.data.Dataset.from_tensors(tf.range(count, dtype=tf.int64))
    indices = order.flat_map(
        lambda permutation: tf.data.Dataset.range(steps).map(
            lambda step: permutation[step * batch_size : (step + 1) * batch_size]
        )
    )
    batches = indices.map(
        lambda index: _split_label(
            {name: tf.gather(values, index) for name, values in columns.items()}, label_key
        ),
        num_parallel_calls=AUTOTUNE,
    )
    return batches.prefetch(AUTOTUNE)


def fits_in_memory(files: list[str], available: int | None = None) -> bool:
    """Whether caching the records of `files` is safe (see CACHE_MEMORY_SHARE).

    Args:
      files: The compressed TFRecord files.
      available: Bytes of memory available; None reads it from the system.
    """
    if available is None:
        available = available_memory()
    compressed = sum(tf.io.gfile.stat(f).length for f in files)
    return compressed * COMPRESSION_RATIO <= available * CACHE_MEMORY_SHARE


def available_memory() -> int:
    """Bytes of memory available to new allocations (MemAvailable on Linux)."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def _split_label(parsed: dict, label_key: str):
    parsed = dict(parsed)
    label = tf.cast(tf.reshape(parsed.pop(label_key), [-1, 1]), tf.float32)
    return as_model_inputs(parsed), label
