"""Two `deepline run`s on one output folder: the second refuses at once, naming the first, and
the first finishes with a summary that is its own."""

import csv
import itertools
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
TAXI_CSV = ROOT / "data" / "taxi" / "data.csv"
EXIT_BUSY = 5


def _small_taxi_csv(path: Path, rows: int = 3000) -> Path:
    with open(TAXI_CSV, newline="") as source, open(path, "w", newline="") as target:
        reader = csv.reader(source)
        csv.writer(target).writerows(itertools.islice(reader, rows + 1))  # the header too
    return path


def test_a_second_run_on_a_busy_output_refuses_and_the_first_finishes_right(tmp_path, cli):
    data = _small_taxi_csv(tmp_path / "trips.csv")
    output = tmp_path / "out"
    first_errors = open(tmp_path / "first.err", "w")  # a file: a full pipe would stall the run
    first = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "run", "--data", str(data)]
        + ["--output", str(output), "--log-format", "json"],
        stdout=subprocess.PIPE,
        stderr=first_errors,
        text=True,
        cwd=ROOT,
    )
    try:
        # The lock is taken before anything else: once a component starts, the first run has it.
        events = []
        for line in first.stdout:
            if line.startswith("{"):
                events.append(json.loads(line))
                if events[-1]["event"] == "component_started":
                    break
        assert events, "the first run printed no progress before it ended"
        pid, host, started = (output / ".deepline-run.lock").read_text().splitlines()
        assert pid == str(first.pid)

        second = cli("run", "--data", data, "--output", output, "-q")
        assert second.returncode == EXIT_BUSY, second.stderr[-3000:]
        assert second.stderr == (
            f"deepline: another run is writing to {output}: process {first.pid} on host "
            f"{host}, started {started} holds its run lock "
            f"{output / '.deepline-run.lock'}. Wait for it to finish, or pass another --output; "
            "if that process is stuck, stop it and run again.\n"
        )

        rest, _ = first.communicate(timeout=1800)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
        first_errors.close()
    assert first.returncode in (0, 4), (tmp_path / "first.err").read_text()[-5000:]
    # Library warnings (TFMA's "invalid value encountered in divide") stay out of the console.
    assert "RuntimeWarning" not in (tmp_path / "first.err").read_text()
    lines = [json.loads(x) for x in rest.splitlines() if x.startswith("{")]
    (result,) = [e for e in lines if e["event"] == "summary"]
    summary = json.loads((output / "summary.json").read_text())
    # The summary on disk is the first run's, and matches its exit code and the serving folder.
    assert summary["pipeline_run_id"] == result["pipeline_run_id"]
    assert summary["pushed"] is (first.returncode == 0)
    serving = output / "serving_model" / "deepline-taxi"
    pushed = sorted(str(p) for p in serving.iterdir()) if serving.exists() else []
    assert pushed == ([summary["model_dir"]] if summary["pushed"] else [])
    assert (output / ".deepline-run.lock").read_text() == ""  # released
