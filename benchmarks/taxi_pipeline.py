"""Deepline vs TFX 1.16's own taxi example: wall time and quality, side by side.

Both pipelines run from scratch (fresh output folders, so no cache) on the same
bundled 15,002-row taxi CSV, one after the other, on this machine, each in its
own process with the multi-processing Beam DirectRunner. The TFX example is
imported from the installed `tfx` package and run as it ships (its own module
file and its BeamDagRunner); only its paths are pointed at a scratch folder.

    .venv/bin/python benchmarks/taxi_pipeline.py [--skip-tfx] [--runs N]

Prints one line per run and a JSON summary; nothing here is a test.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pipeline.contracts import METADATA_FILE, SUMMARY_FILE

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "taxi" / "data.csv"

# Runs the TFX example's own pipeline factory with scratch paths.
_TFX_EXAMPLE = """
import os, sys
from tfx.examples.chicago_taxi_pipeline import taxi_pipeline_native_keras as example
from tfx.orchestration.beam.beam_dag_runner import BeamDagRunner
work, data_root = sys.argv[1], sys.argv[2]
module_file = os.path.join(os.path.dirname(example.__file__), "taxi_utils_native_keras.py")
BeamDagRunner().run(example._create_pipeline(
    pipeline_name="chicago_taxi_native_keras",
    pipeline_root=os.path.join(work, "pipeline"),
    data_root=data_root,
    module_file=module_file,
    serving_model_dir=os.path.join(work, "serving_model"),
    metadata_path=os.path.join(work, "metadata.db"),
    beam_pipeline_args=example._beam_pipeline_args,
))
"""


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env["TF_USE_LEGACY_KERAS"] = "1"  # the TFX example fails under Keras 3
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return env


def _overall_metrics(evaluation_uri: str) -> dict[str, float]:
    import tensorflow_model_analysis as tfma

    for record in tfma.load_metrics(evaluation_uri):
        if not record.slice_key.single_slice_keys:
            return {
                kv.key.name: kv.value.double_value.value
                for kv in record.metric_keys_and_values
                if kv.value.WhichOneof("type") == "double_value" and not kv.key.is_diff
            }
    return {}


def _component_seconds(metadata_path: Path) -> dict[str, float]:
    """Seconds per component, from ML Metadata execution timestamps (same for both pipelines)."""
    from ml_metadata.metadata_store import metadata_store
    from tfx.orchestration import metadata

    store = metadata_store.MetadataStore(
        metadata.sqlite_metadata_connection_config(str(metadata_path))
    )
    seconds = {}
    for execution in store.get_executions():
        nodes = [c.name for c in store.get_contexts_by_execution(execution.id) if c.type == "node"]
        if nodes:
            elapsed = execution.last_update_time_since_epoch - execution.create_time_since_epoch
            seconds[nodes[0].split(".", 1)[-1]] = round(elapsed / 1000, 1)
    return seconds


def run_tfx_example(work: Path) -> dict:
    data_root = work / "data"
    data_root.mkdir(parents=True)
    shutil.copy(DATA, data_root / "data.csv")
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", _TFX_EXAMPLE, str(work), str(data_root)],
        env=_environment(),
        capture_output=True,
        text=True,
    )
    seconds = time.monotonic() - start
    if proc.returncode != 0:
        raise RuntimeError(f"TFX example failed:\n{proc.stderr[-3000:]}")
    evaluations = sorted(glob.glob(str(work / "pipeline" / "Evaluator" / "evaluation" / "*")))
    metrics = _overall_metrics(evaluations[-1])
    return {
        "pipeline": "tfx-1.16-taxi-native-keras",
        "seconds": round(seconds, 1),
        "accuracy": metrics.get("binary_accuracy"),
        "auc": metrics.get("auc"),
        "eval_examples": metrics.get("example_count"),
        "components": _component_seconds(work / "metadata.db"),
    }


def run_deepline(work: Path) -> dict:
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "run", "--output", str(work), "--no-cache"],
        env=_environment(),
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    seconds = time.monotonic() - start
    if proc.returncode not in (0, 4):
        raise RuntimeError(f"Deepline failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    summary = json.loads((work / SUMMARY_FILE).read_text())
    overall = summary["metrics"].get("overall", {})
    return {
        "pipeline": "deepline",
        "seconds": round(seconds, 1),
        "accuracy": overall.get("binary_accuracy"),
        "auc": overall.get("auc"),
        "eval_examples": overall.get("example_count"),
        "components": _component_seconds(work / METADATA_FILE),
        "blessed": summary["blessed"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-tfx", action="store_true", help="measure Deepline only")
    parser.add_argument("--runs", type=int, default=1, help="runs of each pipeline")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="deepline-bench-") as scratch:
        for i in range(args.runs):
            if not args.skip_tfx:
                results.append(run_tfx_example(Path(scratch) / f"tfx-{i}"))
                print(json.dumps(results[-1]), flush=True)
            results.append(run_deepline(Path(scratch) / f"deepline-{i}"))
            print(json.dumps(results[-1]), flush=True)
    print(json.dumps({"cpus": os.cpu_count(), "results": results}, indent=2))


if __name__ == "__main__":
    main()
