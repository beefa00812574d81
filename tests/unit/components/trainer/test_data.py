"""The Trainer's input pipeline: every example once per epoch, batches, order, caching."""

import numpy as np
import pytest
import tensorflow as tf

from components.trainer import data, prepare
from components.trainer.hparams import HParams

SPEC = {
    "x_xf": tf.io.FixedLenFeature([], tf.float32),
    "id_xf": tf.io.FixedLenFeature([], tf.int64),
    "label": tf.io.FixedLenFeature([], tf.int64),
}
SHARDS = 3
PER_SHARD = 300  # example i of shard s has x = s * PER_SHARD + i


def _example(x: int) -> bytes:
    feature = {
        "x_xf": tf.train.Feature(float_list=tf.train.FloatList(value=[float(x)])),
        "id_xf": tf.train.Feature(int64_list=tf.train.Int64List(value=[x % 7])),
        "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[x % 2])),
    }
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


@pytest.fixture
def shards(tmp_path) -> list[str]:
    options = tf.io.TFRecordOptions(compression_type="GZIP")
    files = []
    for shard in range(SHARDS):
        path = str(tmp_path / f"transformed-{shard:05d}-of-{SHARDS:05d}.gz")
        with tf.io.TFRecordWriter(path, options) as writer:
            for i in range(PER_SHARD):
                writer.write(_example(shard * PER_SHARD + i))
        files.append(path)
    return files


def _epoch(dataset) -> tuple[list[int], list[int]]:
    """(x of every example in order, size of every batch) of one pass."""
    xs, sizes = [], []
    for features, label in dataset:
        x = features["x_xf"].numpy()
        assert x.shape[1:] == (1,) and label.shape == (len(x), 1)
        assert label.dtype == tf.float32
        np.testing.assert_array_equal(label.numpy()[:, 0], x[:, 0] % 2)
        np.testing.assert_array_equal(features["id_xf"].numpy()[:, 0], x[:, 0] % 7)
        xs.extend(int(v) for v in x[:, 0])
        sizes.append(len(x))
    return xs, sizes


def _dataset(files, **overrides):
    args = {"batch_size": 64, "shuffle": True, "seed": 3, "shuffle_buffer": 1000}
    return data.make_dataset(files, SPEC, "label", **{**args, **overrides})


@pytest.mark.parametrize("cache", [True, False], ids=["cached", "streamed"])
def test_each_epoch_has_every_example_once_in_a_new_order(shards, cache):
    dataset = _dataset(shards, cache_in_memory=cache)
    first, sizes = _epoch(dataset)
    second, _ = _epoch(dataset)
    everything = list(range(SHARDS * PER_SHARD))
    assert sorted(first) == everything and sorted(second) == everything
    assert first != second
    assert sizes == [64] * 14 + [900 - 14 * 64]


def test_the_same_seed_gives_the_same_order_and_another_seed_another(shards):
    first, _ = _epoch(_dataset(shards, seed=3))
    again, _ = _epoch(_dataset(shards, seed=3))
    other, _ = _epoch(_dataset(shards, seed=4))
    assert first == again
    assert first != other


def _blocks_in_turn(block: int) -> list[int]:
    """x of every example, in blocks of `block` examples of each shard in turn."""
    return [
        shard * PER_SHARD + i
        for start in range(0, PER_SHARD, block)
        for shard in range(SHARDS)
        for i in range(start, min(start + block, PER_SHARD))
    ]


@pytest.mark.parametrize("cache", [True, False], ids=["cached", "streamed"])
def test_without_shuffle_shards_are_read_in_blocks_in_turn(shards, cache):
    xs, sizes = _epoch(_dataset(shards, shuffle=False, batch_size=128, cache_in_memory=cache))
    # Loading reads blocks of LOAD_BATCH, larger than a shard; streaming, blocks of a batch.
    assert xs == _blocks_in_turn(data.LOAD_BATCH if cache else 128)
    assert sizes == [128] * 7 + [900 - 7 * 128]


def test_a_streamed_epoch_shuffles_windows_of_blocks_of_every_shard(shards):
    xs, _ = _epoch(_dataset(shards, cache_in_memory=False, shuffle_buffer=300))
    # Blocks of min(batch size, 300 // 3 shards) = 64 records, in windows of 300.
    in_order = _blocks_in_turn(64)
    for start in range(0, len(xs), 300):
        window = xs[start : start + 300]
        assert sorted(window) == sorted(in_order[start : start + 300])
        assert window != in_order[start : start + 300]
    assert {x // PER_SHARD for x in xs[:300]} == set(range(SHARDS))


def test_loading_parses_blocks_of_each_shard_in_turn(shards):
    columns = data.load_columns(shards, SPEC, block_size=128)
    expected = np.array(_blocks_in_turn(128))
    np.testing.assert_array_equal(columns["x_xf"].numpy(), expected)
    np.testing.assert_array_equal(columns["id_xf"].numpy(), expected % 7)
    np.testing.assert_array_equal(columns["label"].numpy(), expected % 2)


def test_a_batch_larger_than_the_data_holds_all_of_it(shards):
    xs, sizes = _epoch(_dataset(shards, batch_size=5000))
    assert sorted(xs) == list(range(900)) and sizes == [900]


@pytest.mark.parametrize("cache, readable", [(True, True), (False, False)])
def test_a_cached_dataset_no_longer_reads_its_files(shards, cache, readable):
    dataset = _dataset(shards, cache_in_memory=cache)
    first, _ = _epoch(dataset)
    for path in shards:
        tf.io.gfile.remove(path)
    if readable:
        assert sorted(_epoch(dataset)[0]) == sorted(first)
    else:
        with pytest.raises(tf.errors.NotFoundError):
            _epoch(dataset)


def test_caching_is_decided_by_the_memory_available(shards, monkeypatch):
    compressed = sum(tf.io.gfile.stat(f).length for f in shards)
    enough = compressed * data.COMPRESSION_RATIO / data.CACHE_MEMORY_SHARE
    assert data.fits_in_memory(shards, available=int(enough) + 1)
    assert not data.fits_in_memory(shards, available=int(enough) - 1)

    monkeypatch.setattr(data, "available_memory", lambda: int(enough) - 1)
    dataset = _dataset(shards)  # cache_in_memory=None: too little memory, so streamed
    _epoch(dataset)
    for path in shards:
        tf.io.gfile.remove(path)
    with pytest.raises(tf.errors.NotFoundError):
        _epoch(dataset)


def test_available_memory_is_positive_and_below_the_total():
    import os

    total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    assert 0 < data.available_memory() <= total


def test_no_matching_file_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="No transformed example files"):
        _dataset([str(tmp_path / "*.gz")])


def test_both_paths_train_under_mirrored_strategy_on_two_devices(shards, on_two_devices):
    words = on_two_devices(
        """
        from components.trainer import data
        spec = {"x_xf": tf.io.FixedLenFeature([], tf.float32),
                "label": tf.io.FixedLenFeature([], tf.int64)}
        for cache in (True, False):
            dataset = data.make_dataset(sys.argv[1:], spec, "label", 64, shuffle=True, seed=1,
                                        cache_in_memory=cache)
            with strategy.scope():
                inputs = keras.Input((1,), name="x_xf")
                net = keras.Model({"x_xf": inputs}, keras.layers.Dense(1)(inputs / 900.0))
                net.compile(optimizer="sgd", loss="mse")
            history = net.fit(dataset, epochs=2, verbose=0)
            print(strategy.num_replicas_in_sync, np.isfinite(history.history["loss"]).all())
        """,
        *shards,
    )
    assert words[-4:] == ["2", "True", "2", "True"]


@pytest.mark.parametrize("at_most, expected", [(10_000, SHARDS * PER_SHARD), (500, 500)])
def test_records_are_counted_up_to_a_bound(shards, at_most, expected):
    assert data.count_records(shards, at_most=at_most) == expected
    assert data.count_records([], at_most=at_most) == 0


@pytest.mark.parametrize(
    "hparams, replicas, batch_size",
    [
        (HParams(), 1, 64),  # 900 rows: 1024 halved to 64, 14 steps per epoch
        (HParams(), 2, 32),  # 450 rows per replica
        (HParams(batch_size=512), 1, 512),
    ],
)
def test_the_batch_is_fitted_to_the_training_split(shards, hparams, replicas, batch_size):
    assert prepare.fit_batch_to_data(hparams, shards, replicas).resolve().batch_size == batch_size
