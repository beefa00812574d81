"""Transform at scale: rows/s and peak memory of the pipeline's Transform on taxi-like rows.

Generates N taxi-like rows with `data.synth` (or reuses `--csv`), ingests them
with Deepline's ingestion (outside the timing), then runs TFX 1.16's Transform
executor in a child process exactly as the pipeline configures it: the
`preprocessing_fn` of `components/transform/`, the taxi spec in its
custom config, the curated taxi schema, analysis on the train split, train and
eval transformed, statistics off. Each Beam mode given is one timed run:

- `multi_processing`: the DirectRunner with a worker process per core, what
  `deepline run` uses for inputs over 64 MB;
- `in_memory`: the DirectRunner in one process, what it uses for smaller ones.

Rows/s counts the rows Transform reads (train + eval: it analyzes train, then
transforms both), over the child's wall time, process start and imports
included; CPU seconds are the child's and its workers' user + system time,
steadier than wall time when other work shares the cores. Peak memory is that
of the child and all its Beam workers.

    TF_USE_LEGACY_KERAS=1 .venv/bin/python benchmarks/transform.py [--rows 1000000]
        [--csv FILE] [--mode multi_processing] [--mode in_memory] [--json FILE]

Prints one table; nothing here is a test.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from measure import ROOT, environment, ingest_command, measure, taxi_csv

MODES = {
    "multi_processing": ["--direct_running_mode=multi_processing", "--direct_num_workers=0"],
    "in_memory": ["--direct_running_mode=in_memory", "--direct_num_workers=1"],
}
SPLITS = ("train", "eval")  # the pipeline's SplitsConfig: analyze train, transform both


def run_transform(examples: str, schema_dir: str, output: str, beam_args: list[str]) -> None:
    """In the child: TFX's Transform executor with the pipeline's properties."""
    from tfx.components.transform import executor
    from tfx.dsl.components.base import base_beam_executor
    from tfx.proto import transform_pb2
    from tfx.types import artifact_utils, standard_artifacts
    from tfx.types import standard_component_specs as keys
    from tfx.utils import proto_utils

    from components import dataset
    from pipeline.pipeline import PREPROCESSING_FN

    def artifact(kind, uri: str):
        made = kind()
        made.uri = uri
        return made

    source = artifact(standard_artifacts.Examples, examples)
    source.split_names = artifact_utils.encode_split_names(["train", "eval", "test"])
    transformed = artifact(standard_artifacts.Examples, os.path.join(output, "examples"))
    spec = dataset.load_spec(ROOT / "data" / "taxi" / "spec.yaml")
    context = base_beam_executor.BaseBeamExecutor.Context(
        beam_pipeline_args=beam_args, tmp_dir=os.path.join(output, "tmp")
    )
    executor.Executor(context).Do(
        {
            keys.EXAMPLES_KEY: [source],
            keys.SCHEMA_KEY: [artifact(standard_artifacts.Schema, schema_dir)],
        },
        {
            keys.TRANSFORM_GRAPH_KEY: [
                artifact(standard_artifacts.TransformGraph, os.path.join(output, "graph"))
            ],
            keys.TRANSFORMED_EXAMPLES_KEY: [transformed],
        },
        {
            keys.PREPROCESSING_FN_KEY: PREPROCESSING_FN,
            keys.CUSTOM_CONFIG_KEY: json.dumps(dataset.to_custom_config(spec)),
            keys.SPLITS_CONFIG_KEY: proto_utils.proto_to_json(
                transform_pb2.SplitsConfig(analyze=["train"], transform=list(SPLITS))
            ),
            keys.DISABLE_STATISTICS_KEY: 1,
            keys.FORCE_TF_COMPAT_V1_KEY: 0,
        },
    )


def count_transformed(output: Path) -> int:
    """Records Transform wrote over SPLITS (outside the timing)."""
    import tensorflow as tf

    files = [str(f) for split in SPLITS for f in (output / "examples" / f"Split-{split}").glob("*")]
    dataset = tf.data.TFRecordDataset(files, compression_type="GZIP").batch(10_000)
    return int(sum(len(batch) for batch in dataset.as_numpy_iterator()))


def ingest(csv: Path, output: Path) -> dict[str, int]:
    """Deepline's ingestion of `csv` into `output`; returns rows per split."""
    done = subprocess.run(
        ingest_command(csv, output),
        env=environment(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"ingestion failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout)["rows_per_split"]


def main() -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="Rows to generate.")
    parser.add_argument("--csv", type=Path, help="Reuse this CSV instead of generating one.")
    parser.add_argument(
        "--mode", action="append", choices=MODES, help="Beam mode(s); default: both."
    )
    parser.add_argument("--json", type=Path, help="Also write the numbers to this JSON file.")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        examples, schema_dir, output, mode = args.child
        run_transform(examples, schema_dir, output, MODES[mode])
        return 0

    modes = args.mode or list(MODES)
    results = []
    with tempfile.TemporaryDirectory(prefix="deepline-transform-bench-") as scratch:
        work = Path(scratch)
        csv = taxi_csv(args.csv, work, args.rows)
        started = time.monotonic()
        splits = ingest(csv, work / "examples")
        print(f"ingested {splits} in {time.monotonic() - started:.1f} s")
        rows = sum(splits[name] for name in SPLITS)
        schema_dir = work / "schema"
        schema_dir.mkdir()
        (schema_dir / "schema.pbtxt").write_bytes(
            (ROOT / "data" / "taxi" / "schema.pbtxt").read_bytes()
        )
        for mode in modes:
            output = work / f"transform-{mode}"
            child = [str(work / "examples"), str(schema_dir), str(output), mode]
            result = measure([sys.executable, __file__, "--child", *child])
            if result["returncode"] != 0:
                raise SystemExit(f"Transform ({mode}) failed:\n{result['stderr'][-4000:]}")
            written = count_transformed(output)
            if written != rows:
                raise SystemExit(f"Transform ({mode}) wrote {written:,} rows of {rows:,}.")
            results.append(
                {
                    "mode": mode,
                    "rows": rows,
                    "seconds": result["seconds"],
                    "cpu_seconds": result["cpu_seconds"],
                    "rows_per_s": rows / result["seconds"],
                    "peak_mb": result["peak_bytes"] / 1e6,
                }
            )
    print(f"\nTransform of {rows:,} rows ({' + '.join(SPLITS)}), {os.cpu_count()} cores")
    print("| Beam mode | rows | seconds | CPU seconds | rows/s | peak memory |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['mode']} | {r['rows']:,} | {r['seconds']:.1f} | {r['cpu_seconds']:.1f} "
            f"| {r['rows_per_s']:,.0f} | {r['peak_mb']:,.0f} MB |"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
