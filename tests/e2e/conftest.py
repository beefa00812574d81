"""End-to-end fixtures: real pipeline runs through the `deepline` CLI, shared by the e2e tests.

Runs happen once per session, in order, on one output folder:
  first_run   the taxi pipeline from scratch (blessed, pushed);
  second_run  the same again with JSON logs: cached up to the Trainer;
  strict_run  again with an unreachable AUC bar and -q: not blessed, exit 4;
  worse_run   a candidate left untrained on purpose (one epoch at a learning rate of
              1e-7) against value bars it clears: worse than the live model, not pushed.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_COMPONENTS = (
    "CsvExampleGen",
    "ImportSchemaGen",
    "StatisticsGen",
    "live_model_training_data_resolver",
    "DistributionValidator",
    "ExampleValidator",
    "DataValidationGate",
    "Transform",
    "Trainer",
    "latest_blessed_model_resolver",
    "Evaluator",
    "Pusher",
)


@pytest.fixture(scope="session", autouse=True)
def serving_ops():
    """Served models may hold TF-DF trees (`--model auto`, the default): the tests that load
    them need TF-DF's ops registered in this process, as every Deepline loader does."""
    from components import serving_ops

    serving_ops.register()


@pytest.fixture(scope="session")
def pipeline_components() -> tuple[str, ...]:
    """Every component id of the taxi pipeline."""
    return _COMPONENTS


@pytest.fixture(scope="session")
def cli():
    """Runs `deepline` in a fresh process: cli(*args) -> CompletedProcess."""
    return run_cli


def run_cli(*args, env=None):
    """Runs `deepline` as a user would, in a fresh process."""
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=1800,
    )


@pytest.fixture(scope="session")
def first_run(tmp_path_factory):
    output = tmp_path_factory.mktemp("taxi")
    proc = run_cli("run", "--output", output)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return output, proc, json.loads((output / "summary.json").read_text())


@pytest.fixture(scope="session")
def second_run(first_run):
    output, _, _ = first_run
    proc = run_cli("run", "--output", output, "--log-format", "json")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return proc, json.loads((output / "summary.json").read_text())


@pytest.fixture(scope="session")
def strict_run(first_run, second_run):
    output, _, _ = first_run
    versions = sorted(p.name for p in (output / "serving_model" / "deepline-taxi").iterdir())
    proc = run_cli("run", "--output", output, "--min-auc", "0.999", "-q")
    after = sorted(p.name for p in (output / "serving_model" / "deepline-taxi").iterdir())
    return proc, json.loads((output / "summary.json").read_text()), versions, after


@pytest.fixture(scope="session")
def worse_run(first_run, strict_run):
    output, _, _ = first_run
    serving = output / "serving_model" / "deepline-taxi"
    versions = sorted(p.name for p in serving.iterdir())
    proc = run_cli(
        "run",
        "--output",
        output,
        # The deep network alone: under `--model auto` the tree would still train well.
        *("--model", "dnn", "--max-epochs", 1, "--learning-rate", 1e-7),
        *("--min-auc", 0, "--min-accuracy", 0),
    )
    after = sorted(p.name for p in serving.iterdir())
    return proc, json.loads((output / "summary.json").read_text()), versions, after
