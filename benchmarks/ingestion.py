"""CSV ingestion side by side: Deepline's ingestion vs TFX's CsvExampleGen, same file.

Generates taxi-like rows with `data.synth` (or reuses `--csv`), then ingests
the file with each contender in its own child process, measuring wall time
(process start to exit, imports included) and peak memory: the largest sum
of the resident set sizes of the child and all its descendants (Beam
workers included), polled with psutil every 50 ms. Contenders:

- deepline local: the `deepline ingest --runner local` command as a user types it
  (`python -m pipeline.cli`, its start-up and argument checks included; one process
  per core);
- deepline beam: `deepline ingest --runner beam`, the same ingestion as a Beam pipeline
  on the DirectRunner, `multi_processing` on every core;
- tfx CsvExampleGen: TFX 1.16's executor with the Beam options the pipeline
  uses (DirectRunner, `multi_processing`, every core).

Every contender writes GZIP TFRecord splits 14/3/3; the rows each wrote are
counted after it exits, outside the timing.

    .venv/bin/python benchmarks/ingestion.py [--rows 1000000] [--csv FILE]
        [--skip-tfx] [--skip-beam] [--workers 0]

Prints one table; nothing here is a test. `--rows 10000000` is the 10M case
(about 1.3 GB of CSV; CsvExampleGen then takes most of an hour).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys
import tempfile
from pathlib import Path

from measure import measure, taxi_csv

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "data" / "taxi" / "spec.yaml"

# CsvExampleGen's executor on one CSV file, with the pipeline's Beam options
# (imported here: pipeline.config imports TensorFlow, seconds the parent need not spend).
_TFX_CSV_EXAMPLE_GEN = """
import sys
from pipeline.config import DEFAULT_BEAM_ARGS
from tfx.components.example_gen.csv_example_gen import executor
from tfx.dsl.components.base import base_beam_executor
from tfx.proto import example_gen_pb2
from tfx.types import standard_artifacts, standard_component_specs as keys
from tfx.utils import proto_utils
input_dir, output_dir = sys.argv[1], sys.argv[2]
examples = standard_artifacts.Examples()
examples.uri = output_dir
split = example_gen_pb2.SplitConfig.Split
context = base_beam_executor.BaseBeamExecutor.Context(beam_pipeline_args=list(DEFAULT_BEAM_ARGS))
executor.Executor(context).Do({}, {keys.EXAMPLES_KEY: [examples]}, {
    keys.INPUT_BASE_KEY: input_dir,
    keys.INPUT_CONFIG_KEY: proto_utils.proto_to_json(example_gen_pb2.Input(
        splits=[example_gen_pb2.Input.Split(name="single_split", pattern="*.csv")])),
    keys.OUTPUT_CONFIG_KEY: proto_utils.proto_to_json(example_gen_pb2.Output(
        split_config=example_gen_pb2.SplitConfig(splits=[
            split(name="train", hash_buckets=14),
            split(name="eval", hash_buckets=3),
            split(name="test", hash_buckets=3)]))),
})
"""


def count_examples(output_dir: Path) -> dict[str, int]:
    """Counts the records of each split (outside any timing)."""
    import tensorflow as tf

    counts = {}
    for split in ("train", "eval", "test"):
        files = sorted(glob.glob(str(output_dir / f"Split-{split}" / "*.gz")))
        dataset = tf.data.TFRecordDataset(files, compression_type="GZIP").batch(10_000)
        counts[split] = int(sum(len(batch) for batch in dataset.as_numpy_iterator()))
    return counts


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def deepline_ingest(csv: Path, output: Path, runner: str, workers: int) -> list[str]:
    """`deepline ingest` with the taxi spec, its summary printed as one JSON line."""
    command = [sys.executable, "-m", "pipeline.cli", "ingest", str(csv), "--spec", str(SPEC)]
    options = ["--output", str(output), "--runner", runner, "--workers", str(workers)]
    return [*command, *options, "--log-format", "json"]


def run_ours(csv: Path, output: Path, runner: str, workers: int) -> dict:
    result = measure(deepline_ingest(csv, output, runner, workers))
    if result["returncode"] != 0:
        raise RuntimeError(f"deepline ingest ({runner}) failed:\n{result['stderr'][-3000:]}")
    lines = [json.loads(line) for line in result["stdout"].splitlines() if line.startswith("{")]
    summary = next(line for line in lines if line.get("event") == "ingestion_summary")
    result["rows"] = summary["rows_written"]
    result["note"] = f"{summary['rows_quarantined']} quarantined, {summary['shards']} shards/split"
    return result


def run_tfx(csv: Path, work: Path) -> dict:
    input_dir = work / "input"
    input_dir.mkdir(parents=True)
    os.symlink(csv, input_dir / "data.csv")
    output = work / "output"
    command = [sys.executable, "-c", _TFX_CSV_EXAMPLE_GEN, str(input_dir), str(output)]
    result = measure(command)
    if result["returncode"] != 0:
        raise RuntimeError(f"CsvExampleGen failed:\n{result['stderr'][-3000:]}")
    result["rows"] = sum(count_examples(output).values())
    result["note"] = "executor; DirectRunner multi_processing"
    result["output"] = output
    return result


def print_table(rows: int, csv: Path, results: list[tuple[str, dict]]) -> None:
    size_mb = csv.stat().st_size / 1e6
    print(f"\n{rows:,} rows, {size_mb:.0f} MB CSV, {os.cpu_count()} cores")
    print(f"{'contender':<24}{'rows out':>11}{'seconds':>9}{'rows/s':>10}{'peak MB':>9}  output MB")
    for name, r in results:
        print(
            f"{name:<24}{r['rows']:>11,}{r['seconds']:>9.1f}{r['rows'] / r['seconds']:>10,.0f}"
            f"{r['peak_bytes'] / 1e6:>9,.0f}  {r['output_mb']:>9.0f}  ({r['note']})"
        )


def main() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # the row count below imports TensorFlow
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="Rows to generate.")
    parser.add_argument("--csv", type=Path, help="Reuse this CSV instead of generating one.")
    parser.add_argument("--skip-tfx", action="store_true", help="Skip CsvExampleGen.")
    parser.add_argument("--skip-beam", action="store_true", help="Skip our Beam runner.")
    parser.add_argument("--workers", type=int, default=0, help="Our local processes; 0: per core.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="deepline-ingest-bench-") as scratch:
        work = Path(scratch)
        csv = taxi_csv(args.csv, work, args.rows)
        rows = sum(1 for _ in open(csv, "rb")) - 1
        results = []
        ours = run_ours(csv, work / "local", "local", args.workers)
        ours["output_mb"] = _folder_bytes(work / "local") / 1e6
        results.append(("deepline local", ours))
        if not args.skip_beam:
            beam = run_ours(csv, work / "beam", "beam", args.workers)
            beam["output_mb"] = _folder_bytes(work / "beam") / 1e6
            results.append(("deepline beam", beam))
        if not args.skip_tfx:
            tfx = run_tfx(csv, work / "tfx")
            tfx["output_mb"] = _folder_bytes(tfx["output"]) / 1e6
            results.append(("tfx CsvExampleGen", tfx))
        print_table(rows, csv, results)


if __name__ == "__main__":
    main()
