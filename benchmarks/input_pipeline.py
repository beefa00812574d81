"""Input pipeline vs model: examples/s the Trainer's input function delivers and the model eats.

The question (goal: input >= 3x consumption on this CPU) is whether
`components.trainer.data.make_dataset` keeps the default model busy.

Data: N transformed taxi examples made without TFX (`transformed_examples.py`).

Input: `make_dataset(..., shuffle=True, seed=0)` at the resolved default batch
size, iterated for two epochs, doing nothing with a batch but counting it:
epoch 1 includes creating the dataset, which reads and parses the files into
memory (also reported alone, as the loading rate); epoch 2 is served from
memory. One more epoch with `cache_in_memory=False` (streamed from the files)
for comparison.

Consumption: the default model (`build_model` over the same features and
cardinalities, default `HParams` resolved), compiled as the Trainer compiles it,
AutoGraph skipped, trained with `fit` for a fixed number of steps on batches
already parsed and cached in memory (after a warm-up pass that traces the
step), so the input is not the bottleneck there. No validation or callbacks:
this is an upper bound of the model's training speed, so the ratio is a
conservative one.

Training on the Trainer's input: the same model trained for two epochs by
`fit` straight from `make_dataset`, input and training sharing the CPU as in
the Trainer; the first epoch reads the files, the second the cache. The
closer these come to the consumption rate, the less the input holds
training back.

Ceiling: the same files read and parsed by one single-threaded process per
usable core, a share of the files each, timed from when every process has
started TensorFlow: what the cores deliver without many `tf.data` threads
contending in one process. Not something the Trainer could use as is: each
process pays TensorFlow's start-up and would have to send its columns back.

    TF_USE_LEGACY_KERAS=1 .venv/bin/python benchmarks/input_pipeline.py [--examples 1000000]
        [--shards 8] [--batches 100] [--steps 400] [--json FILE] [--keep DIR]

Prints a Markdown table; nothing here is a test. The data lives in a scratch
folder deleted at the end, unless `--keep DIR` names where to write it.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline import runtime  # noqa: E402

runtime.configure_environment()

import tensorflow as tf  # noqa: E402
import tf_keras as keras  # noqa: E402
from transformed_examples import (  # noqa: E402
    cardinalities,
    feature_spec,
    taxi_spec,
    write_shards,
)

from components.trainer import data, model, prepare  # noqa: E402
from components.trainer.heads import Head  # noqa: E402
from components.trainer.hparams import HParams  # noqa: E402

GOAL_RATIO = 3.0


def _epoch_rate(dataset: tf.data.Dataset) -> tuple[int, float]:
    """Iterates one epoch, only counting; returns (examples, examples/s)."""
    count = 0
    started = time.perf_counter()
    for _, label in dataset:
        count += int(label.shape[0])
    return count, count / (time.perf_counter() - started)


def input_rates(files, spec, label_key: str, batch_size: int) -> dict[str, float]:
    started = time.perf_counter()
    cached = data.make_dataset(files, spec, label_key, batch_size, shuffle=True, seed=0)
    loading = time.perf_counter() - started  # the data is read into memory here
    seen, epoch1 = _epoch_rate(cached)
    load = seen / loading
    epoch1 = seen / (loading + seen / epoch1)
    seen2, epoch2 = _epoch_rate(cached)
    uncached = data.make_dataset(
        files, spec, label_key, batch_size, shuffle=True, seed=0, cache_in_memory=False
    )
    seen3, no_cache = _epoch_rate(uncached)
    if not seen == seen2 == seen3:
        raise RuntimeError(f"Epochs saw different example counts: {seen}, {seen2}, {seen3}.")
    return {
        "load_files": load,
        "epoch1_files": epoch1,
        "epoch2_cache": epoch2,
        "no_cache": no_cache,
    }


def read_costs(files, spec, block_size: int) -> dict[str, float]:
    """CPU microseconds (this process, all threads) per example of one pass over the files."""

    def per_example(dataset, size) -> float:
        started, count = time.process_time(), 0
        for element in dataset:
            count += size(element)
        return (time.process_time() - started) / count * 1e6

    one_by_one = tf.data.Dataset.from_tensor_slices(files).interleave(
        lambda f: tf.data.TFRecordDataset(f, compression_type="GZIP"),
        cycle_length=min(len(files), 8),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    blocks = data.record_blocks(files, block_size)

    def parsed(dataset):
        return dataset.map(
            lambda s: tf.io.parse_example(s, spec), num_parallel_calls=tf.data.AUTOTUNE
        )

    def records(batch) -> int:
        return int(batch.shape[0])

    def examples(batch) -> int:
        return int(next(iter(batch.values())).shape[0])

    return {
        "records_one_by_one": per_example(one_by_one.batch(block_size), records),
        "records_one_by_one_parsed": per_example(parsed(one_by_one.batch(block_size)), examples),
        "record_blocks": per_example(blocks, records),
        "record_blocks_parsed": per_example(parsed(blocks), examples),
    }


def _read_share(files, spec, block_size, ready, results) -> None:
    """One process: reads and parses `files` on one thread, timed from when all are ready."""
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    options = tf.data.Options()
    options.threading.private_threadpool_size = 1
    options.autotune.enabled = False
    dataset = (
        tf.data.Dataset.from_tensor_slices(files)
        .flat_map(lambda f: tf.data.TFRecordDataset(f, compression_type="GZIP").batch(block_size))
        .map(lambda s: tf.io.parse_example(s, spec))
        .with_options(options)
    )
    ready.wait()
    started, count = time.monotonic(), 0
    for block in dataset:
        count += int(next(iter(block.values())).shape[0])
    results.put((started, time.monotonic(), count))


def process_ceiling(files, spec, block_size: int, processes: int) -> float:
    """Examples/s read and parsed by `processes` single-threaded processes, a share of the
    files each, TensorFlow's start-up in each process excluded: what this machine's cores do
    without the contention of many threads in one process."""
    context = multiprocessing.get_context("spawn")
    ready, results = context.Barrier(processes + 1), context.Queue()
    workers = [
        context.Process(
            target=_read_share, args=(files[i::processes], spec, block_size, ready, results)
        )
        for i in range(processes)
    ]
    for worker in workers:
        worker.start()
    ready.wait()
    timings = [results.get() for _ in workers]
    for worker in workers:
        worker.join()
    seconds = max(end for _, end, _ in timings) - min(start for start, _, _ in timings)
    return sum(count for _, _, count in timings) / seconds


def _default_model(dataset_spec):
    """(resolved default HParams, the default model compiled as the Trainer compiles it)."""
    hparams = HParams().resolve()
    keras.utils.set_random_seed(hparams.seed)
    head = Head.for_spec(dataset_spec)
    strategy = tf.distribute.get_strategy()
    with strategy.scope():
        dnn = model.build_model(
            dataset_spec.transformed_features(), cardinalities(dataset_spec), hparams, head
        )
    prepare.compile_model(dnn, hparams, hparams.learning_rate, strategy, head)
    model.skip_autograph(dnn)
    return hparams, dnn


class _EpochTimer(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.started)

    def on_train_begin(self, logs=None):
        self.seconds = []


def consumption_rate(dataset_spec, files, spec, batches: int, steps: int) -> tuple[str, float]:
    """(resolved preset, training examples/s of the default model on in-memory batches)."""
    hparams, dnn = _default_model(dataset_spec)
    in_memory = (
        data.make_dataset(
            files, spec, dataset_spec.label_key, hparams.batch_size, shuffle=True, seed=hparams.seed
        )
        .take(batches)
        .cache()
        .repeat()
    )
    # Warm-up: traces the train step and fills the cache with parsed batches.
    dnn.fit(in_memory, steps_per_epoch=batches, epochs=1, verbose=0)
    started = time.perf_counter()
    dnn.fit(in_memory, steps_per_epoch=steps, epochs=1, verbose=0)
    seconds = time.perf_counter() - started
    return hparams.preset, steps * hparams.batch_size / seconds


def training_rates(dataset_spec, files, spec, examples: int) -> dict[str, float]:
    """Examples/s of the default model trained for two epochs on the Trainer's own input.

    Input and training share the CPU here, as they do in the Trainer: where
    these rates fall short of the consumption rate, the input is what slows
    training down.
    """
    hparams, dnn = _default_model(dataset_spec)
    started = time.perf_counter()
    dataset = data.make_dataset(
        files, spec, dataset_spec.label_key, hparams.batch_size, shuffle=True, seed=hparams.seed
    )
    loading = time.perf_counter() - started  # counted in epoch 1
    timer = _EpochTimer()
    dnn.fit(dataset, epochs=2, verbose=0, callbacks=[timer])
    seconds = [timer.seconds[0] + loading, *timer.seconds[1:]]
    return {f"fit_epoch{i + 1}": examples / s for i, s in enumerate(seconds)}


def report(results: dict) -> None:
    rates, consumed = results["input_examples_per_s"], results["consumption_examples_per_s"]
    labels = {
        "load_files": "loading: reading and parsing the files into memory",
        "epoch1_files": "input, epoch 1 (loads the files into memory)",
        "epoch2_cache": "input, epoch 2 (from memory)",
        "no_cache": "input, cache_in_memory=False",
    }
    print(
        f"\n{results['examples']:,} examples in {results['shards']} shards, batch "
        f"{results['batch_size']}, default preset {results['preset']!r}, "
        f"{results['cpu_count']} CPUs ({results['usable_cpus']} usable)\n"
    )
    print("| measurement | examples/s | input / consumption | goal >= 3x |")
    print("|---|---:|---:|---|")
    for key, label in labels.items():
        ratio = results["ratios"][key]
        verdict = "met" if ratio >= GOAL_RATIO else "NOT met"
        print(f"| {label} | {rates[key]:,.0f} | {ratio:.2f}x | {verdict} |")
    print(f"| model consumption (fit, in-memory batches) | {consumed:,.0f} | 1.00x | |")
    for key, rate in results["training_examples_per_s"].items():
        epoch = key.removeprefix("fit_epoch")
        print(
            f"| training on the Trainer's input, epoch {epoch} | {rate:,.0f} "
            f"| {rate / consumed:.2f}x | |"
        )
    ceiling = results["process_ceiling_examples_per_s"]
    print(
        f"| ceiling: reading and parsing in {results['usable_cpus']} single-threaded processes, "
        f"TensorFlow's start-up excluded | {ceiling:,.0f} | {ceiling / consumed:.2f}x | |"
    )
    costs = results["read_cpu_us_per_example"]
    print(
        "\nCPU µs per example of one pass over the files (process time, all threads), read / "
        f"read and parsed: records handed on one by one {costs['records_one_by_one']:.2f} / "
        f"{costs['records_one_by_one_parsed']:.2f}; in blocks per file "
        f"{costs['record_blocks']:.2f} / {costs['record_blocks_parsed']:.2f}"
    )
    verdict = "MET" if results["goal_met"] else "NOT MET"
    print(f"\nGoal (Trainer's pipeline, both epochs >= {GOAL_RATIO:g}x consumption): {verdict}")


def usable_cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=1_000_000, help="Examples to generate.")
    parser.add_argument("--shards", type=int, default=8, help="TFRecord files to write.")
    parser.add_argument("--batches", type=int, default=100, help="In-memory batches for fit.")
    parser.add_argument("--steps", type=int, default=400, help="Timed training steps.")
    parser.add_argument("--json", type=Path, help="Also write the numbers to this JSON file.")
    parser.add_argument("--keep", type=Path, help="Write the data here and keep it.")
    args = parser.parse_args()

    dataset_spec = taxi_spec()
    spec = feature_spec(dataset_spec)
    batch_size = HParams().resolve().batch_size
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    folder = args.keep or Path(tempfile.mkdtemp(prefix="deepline-input-bench-"))
    try:
        started = time.perf_counter()
        files = write_shards(dataset_spec, args.examples, args.shards, folder, seed=0)
        seconds = time.perf_counter() - started
        print(f"wrote {args.examples:,} examples in {seconds:.1f} s: {folder}")
        costs = read_costs(files, spec, data.LOAD_BATCH)
        ceiling = process_ceiling(files, spec, data.LOAD_BATCH, usable_cpus())
        rates = input_rates(files, spec, dataset_spec.label_key, batch_size)
        preset, consumed = consumption_rate(dataset_spec, files, spec, args.batches, args.steps)
        trained = training_rates(dataset_spec, files, spec, args.examples)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)

    ratios = {key: rate / consumed for key, rate in rates.items()}
    results = {
        "examples": args.examples,
        "shards": args.shards,
        "batch_size": batch_size,
        "preset": preset,
        "cpu_count": os.cpu_count(),
        "usable_cpus": usable_cpus(),
        "process_ceiling_examples_per_s": ceiling,
        "read_cpu_us_per_example": costs,
        "input_examples_per_s": rates,
        "consumption_examples_per_s": consumed,
        "consumption_steps": args.steps,
        "training_examples_per_s": trained,
        "ratios": ratios,
        "goal_ratio": GOAL_RATIO,
        "goal_met": min(ratios["epoch1_files"], ratios["epoch2_cache"]) >= GOAL_RATIO,
    }
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
