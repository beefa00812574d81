"""The whole pipeline at scale: seconds, peak memory and rows/s per component.

Writes N synthetic taxi-like rows (`data.synth`, or reuses `--csv`), then runs
`deepline run` on them with the taxi spec into a fresh output folder, in a
child process, and prints a table: per component, its seconds (from the run's
own progress events), the peak resident memory of the run's process tree
while that component ran (polled every 50 ms), and, for the Beam components,
the rows it read per second:

- CsvExampleGen: every input row; StatisticsGen: every ingested row (all
  splits); Transform: train + eval (it analyzes train and transforms both);
  Evaluator: the test split.

Also prints the whole run's wall and CPU seconds and peak memory, the epochs
trained (and the best), and the test accuracy and AUC from `summary.json`.

    TF_USE_LEGACY_KERAS=1 .venv/bin/python benchmarks/scale.py [--rows 1000000]
        [--csv FILE] [--keep DIR] [--json FILE] [-- EXTRA deepline run ARGS]

e.g. `-- --max-epochs 2` for a short training budget at 10,000,000 rows.
Nothing here is a test.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from measure import POLL_SECONDS, ROOT, children_cpu_seconds, environment, taxi_csv, tree_rss

SPEC = ROOT / "data" / "taxi" / "spec.yaml"


def rows_read(output: Path) -> dict[str, int]:
    """Rows each Beam component reads, from the ingestion summary of the run."""
    summaries = glob.glob(str(output / "pipeline" / "CsvExampleGen" / "examples" / "*" / "*.json"))
    summary = next((json.loads(Path(s).read_text()) for s in summaries if "summary" in s), {})
    splits = summary.get("rows_per_split", {})
    return {
        "CsvExampleGen": summary.get("rows_in", sum(splits.values())),
        "StatisticsGen": sum(splits.values()),
        "Transform": splits.get("train", 0) + splits.get("eval", 0),
        "Evaluator": splits.get("test", 0),
    }


def _training(output: Path) -> dict:
    histories = sorted(
        glob.glob(str(output / "pipeline" / "Trainer" / "model_run" / "*" / "history.json"))
    )
    if not histories:
        return {}
    history = json.loads(Path(histories[-1]).read_text())
    return {"epochs": history["epochs"], "best_epoch": history["best_epoch"]}


def _test_metrics(output: Path) -> dict:
    summary_file = output / "summary.json"
    if not summary_file.exists():
        return {}
    overall = json.loads(summary_file.read_text()).get("metrics", {}).get("overall", {})
    return {k: overall.get(k) for k in ("binary_accuracy", "auc", "example_count")}


def run_pipeline(csv: Path, output: Path, extra: list[str], spec: Path = SPEC) -> dict:
    """Runs `deepline run` on `csv` with `spec` (default: the taxi spec); returns
    per-component seconds and peak memory."""
    import psutil

    command = [sys.executable, "-m", "pipeline.cli", "run", "--spec", str(spec), "--data", str(csv)]
    command += ["--output", str(output), "--log-format", "json", *extra]
    components: dict[str, dict] = {}
    current: list[str | None] = [None]
    log_lines: list[str] = []

    def follow(stream) -> None:
        for line in stream:
            log_lines.append(line)
            if not line.startswith("{"):
                continue
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            name = event.get("component")
            if event.get("event") == "component_started":
                components[name] = {"peak_bytes": 0}
                current[0] = name
            elif event.get("event") == "component_finished" and name in components:
                components[name]["seconds"] = event.get("seconds")
                components[name]["cached"] = event.get("cached")
                current[0] = None

    cpu_before = children_cpu_seconds()
    started = time.monotonic()
    child = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=environment(),
        cwd=ROOT,
    )
    reader = threading.Thread(target=follow, args=(child.stdout,), daemon=True)
    reader.start()
    watched = psutil.Process(child.pid)
    peak = 0
    while child.poll() is None:
        rss = tree_rss(watched)
        peak = max(peak, rss)
        name = current[0]
        if name in components:
            components[name]["peak_bytes"] = max(components[name]["peak_bytes"], rss)
        time.sleep(POLL_SECONDS)
    reader.join(timeout=10)
    seconds = time.monotonic() - started
    if child.returncode not in (0, 4):  # 4: finished, model not blessed
        tail = "".join(log_lines[-60:])
        raise SystemExit(f"deepline run failed ({child.returncode}):\n{tail}")
    rows = rows_read(output)
    for name, numbers in components.items():
        if name in rows and numbers.get("seconds"):
            numbers["rows"] = rows[name]
            numbers["rows_per_s"] = rows[name] / numbers["seconds"]
    return {
        "seconds": seconds,
        "cpu_seconds": children_cpu_seconds() - cpu_before,
        "peak_bytes": peak,
        "components": components,
        "training": _training(output),
        "test": _test_metrics(output),
    }


def main() -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="Rows to generate.")
    parser.add_argument("--csv", type=Path, help="Reuse this CSV instead of generating one.")
    parser.add_argument("--keep", type=Path, help="Run into this (new) folder and keep it.")
    parser.add_argument("--json", type=Path, help="Also write the numbers to this JSON file.")
    parser.add_argument("extra", nargs="*", help="Extra `deepline run` arguments, after --.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="deepline-scale-bench-") as scratch:
        work = Path(scratch)
        csv = taxi_csv(args.csv, work, args.rows)
        output = args.keep.resolve() if args.keep else work / "run"
        if output.exists():
            raise SystemExit(f"{output} exists: the benchmark measures a fresh run.")
        result = run_pipeline(csv, output, args.extra)
    print(f"\nWhole pipeline on {csv.name}, {os.cpu_count()} cores, fresh output folder")
    print("| component | seconds | peak memory | rows | rows/s |")
    print("|---|---:|---:|---:|---:|")
    for name, c in result["components"].items():
        if not c.get("seconds") or c["seconds"] < 0.5:
            continue  # resolvers, the gate, the importer: no measurable work
        rows = f"{c['rows']:,}" if "rows" in c else ""
        rate = f"{c['rows_per_s']:,.0f}" if "rows_per_s" in c else ""
        print(
            f"| {name} | {c['seconds']:.1f} | {c['peak_bytes'] / 1e6:,.0f} MB | {rows} | {rate} |"
        )
    print(
        f"| whole run (wall; CPU {result['cpu_seconds']:.0f} s) | {result['seconds']:.1f} "
        f"| {result['peak_bytes'] / 1e6:,.0f} MB | | |"
    )
    print(f"training: {result['training']}; test: {result['test']}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
