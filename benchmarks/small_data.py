"""Small data, as a new user meets it: a 5,000-row, 20-column CSV through `init-spec` and `run`.

Generates a seeded CSV (12 numeric columns, two of them skewed and one with missing
cells; 8 categorical columns of 3 to 40 values; a binary label that depends on both
kinds, with an interaction and noise), then runs what the README tells a user to:

    deepline init-spec data.csv --label label --output spec.yaml
    deepline run --spec spec.yaml --data data.csv --output DIR

each in a child process from a fresh folder, and prints the seconds of each command
(process start and imports included), the run's seconds per component (its own progress
events), its peak memory, and the served model's test metrics. The goal of #17 is the
two commands together in at most 40 s.

    TF_USE_LEGACY_KERAS=1 .venv/bin/python benchmarks/small_data.py [--rows 5000]
        [--keep DIR] [--json FILE] [-- EXTRA deepline run ARGS]

Nothing here is a test.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
from measure import measure
from scale import run_pipeline

NUMERIC = 12
CATEGORICAL = 8
SEED = 7


def write_csv(path: Path, rows: int, seed: int = SEED) -> None:
    """The benchmark's CSV: `rows` rows of NUMERIC + CATEGORICAL columns and a 0/1 label."""
    rng = np.random.default_rng(seed)
    numeric = rng.normal(size=(rows, NUMERIC))
    numeric[:, 0] = rng.lognormal(mean=3.0, sigma=1.0, size=rows)  # a skewed amount
    numeric[:, 1] = rng.poisson(lam=4.0, size=rows)  # a small count
    cardinalities = [3, 5, 7, 10, 12, 20, 30, 40]
    codes = np.stack([rng.integers(0, k, size=rows) for k in cardinalities], axis=1)
    effects = [rng.normal(scale=1.0, size=k) for k in cardinalities]
    logit = (
        0.8 * numeric[:, 2]
        - 0.6 * numeric[:, 3]
        + 0.5 * np.log1p(numeric[:, 0]) / 2
        + 0.7 * numeric[:, 4] * (codes[:, 0] == 1)
        + 0.4 * np.sin(2 * numeric[:, 5])
        + sum(effects[j][codes[:, j]] * 0.5 for j in range(3))
        - 1.0
    )
    label = (logit + rng.logistic(size=rows) > 0).astype(int)
    missing = rng.random(rows) < 0.05  # numeric column 6 has empty cells
    header = [f"num_{i}" for i in range(NUMERIC)] + [f"cat_{j}" for j in range(CATEGORICAL)]
    with open(path, "w") as out:
        out.write(",".join([*header, "label"]) + "\n")
        for r in range(rows):
            cells = [
                "" if (i == 6 and missing[r]) else f"{numeric[r, i]:.4g}" for i in range(NUMERIC)
            ]
            cells += [f"{'abcdefghij'[j % 10]}{codes[r, j]}" for j in range(CATEGORICAL)]
            out.write(",".join([*cells, str(label[r])]) + "\n")


def main() -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000, help="Rows to generate.")
    parser.add_argument("--keep", type=Path, help="Keep the CSV, spec and run folder here.")
    parser.add_argument("--json", type=Path, help="Also write the numbers to this JSON file.")
    parser.add_argument("extra", nargs="*", help="Extra `deepline run` arguments, after --.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="deepline-small-bench-") as scratch:
        work = args.keep or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        csv, spec, output = work / "data.csv", work / "spec.yaml", work / "run"
        if output.exists():
            raise SystemExit(f"{output} exists: the run must start from a fresh folder")
        write_csv(csv, args.rows)
        cli = [sys.executable, "-m", "pipeline.cli"]
        drafted = measure([*cli, "init-spec", str(csv), "--label", "label", "--output", str(spec)])
        if drafted["returncode"] != 0:
            raise SystemExit(f"init-spec failed:\n{drafted['stderr'][-3000:]}")
        run = run_pipeline(csv, output, args.extra, spec=spec)
    total = drafted["seconds"] + run["seconds"]
    print(f"\n{args.rows:,}-row, {NUMERIC + CATEGORICAL}-column CSV, {os.cpu_count()} cores")
    print("| step | seconds |")
    print("|---|---:|")
    print(f"| `deepline init-spec` | {drafted['seconds']:.1f} |")
    for name, numbers in run["components"].items():
        if numbers.get("seconds", 0) >= 0.5:
            print(f"| {name} | {numbers['seconds']:.1f} |")
    print(f"| `deepline run` (CPU {run['cpu_seconds']:.0f} s) | {run['seconds']:.1f} |")
    print(f"| both commands (goal: <= 40 s) | {total:.1f} |")
    print(f"peak memory {run['peak_bytes'] / 1e6:,.0f} MB; test: {run['test']}")
    if args.json:
        args.json.write_text(
            json.dumps({"init_spec": drafted["seconds"], "run": run, "total": total}, indent=2)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
