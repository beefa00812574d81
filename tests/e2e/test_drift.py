"""Drift through the real CLI: a first run on a small CSV is pushed; a second run on the same
output folder, on the same rows with one numeric column ×100, stops at validation (exit 3),
names the drifted column with its distance and threshold, and pushes nothing.

Small data: the CLI runs Beam in-process for it.
"""

import csv
import json
import math
import random

import pytest

pytestmark = pytest.mark.e2e

ROWS = 600
SPEC = """\
name: shop
source: {format: csv, path: data.csv}
label: {column: bought, kind: binary}
features:
  age: {kind: numeric, transform: zscore}
  income: {kind: numeric, transform: zscore, log1p: true}
  color: {kind: categorical, transform: vocabulary}
"""
# Short training, no blessing bar beyond the live model: the first run must push.
RUN = ("--max-epochs", 3, "--batch-size", 32, "--min-auc", 0, "--min-accuracy", 0)


def _write_rows(path, income_scale: float = 1.0) -> None:
    """The same rows every time (one seed); `income` multiplied by `income_scale`."""
    rng = random.Random(3)
    with open(path, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["age", "income", "color", "bought"])
        for _ in range(ROWS):
            age = rng.gauss(40, 10)
            income = math.exp(rng.gauss(10, 0.5))
            color = rng.choice(["red", "green", "blue"])
            effect = {"red": 1, "green": -1, "blue": 0}[color]
            score = (age - 40) / 10 + math.log(income) - 10 + effect
            out.writerow([round(age, 1), round(income * income_scale, 2), color, int(score > 0)])


def test_a_column_times_100_stops_the_second_run_and_nothing_is_pushed(cli, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "spec.yaml").write_text(SPEC)
    _write_rows(data / "data.csv")
    output = tmp_path / "run"
    first = cli("run", "--spec", data / "spec.yaml", "--output", output, *RUN)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-5000:]
    summary = json.loads((output / "summary.json").read_text())
    assert summary["pushed"]
    assert summary["drift"]["compared"] is False  # no live model before the first push
    assert "Drift: nothing to compare with (no live model yet" in first.stdout
    serving = output / "serving_model" / "deepline-shop"
    pushed = sorted(p.name for p in serving.iterdir())
    assert len(pushed) == 1

    # New data lands: the same rows, income in cents instead of dollars.
    _write_rows(data / "data.csv", income_scale=100)
    second = cli("run", "--spec", data / "spec.yaml", "--output", output, *RUN)
    assert second.returncode == 3, second.stdout[-3000:] + second.stderr[-5000:]
    assert (
        "The train split drifted from the data the live model was trained on in 1 column; "
        "the run stopped before Transform and nothing was trained or pushed."
    ) in second.stderr
    # Only income moved: its histogram no longer overlaps the live model's training data's.
    [line] = [line.strip() for line in second.stderr.splitlines() if "divergence" in line]
    assert line.startswith("income: Jensen–Shannon divergence ")
    assert line.endswith(" > 0.30 (default; spec: drift.numeric_threshold)")
    assert float(line.split()[3]) > 0.5
    assert "--drift-warn-only" in second.stderr
    assert sorted(p.name for p in serving.iterdir()) == pushed
