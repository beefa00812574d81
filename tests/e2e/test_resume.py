"""Resume after failure: a run killed during the Trainer, then run again on the same output."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import tensorflow as tf

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e

KILL_TIMEOUT_SECONDS = 900


def _run_until_training(output):
    """Starts `deepline run` and SIGKILLs its whole process group once the Trainer is training.

    Returns the JSON events the run printed before it died.
    """
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "run", "--output", str(output)]
        + ["--log-format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
        # Its own process group, so Beam's worker processes die with it.
        start_new_session=True,
    )
    events, deadline = [], time.monotonic() + KILL_TIMEOUT_SECONDS
    try:
        for line in proc.stdout:
            if not line.startswith("{"):
                continue
            event = json.loads(line)
            events.append(event)
            # The first epoch line: the Trainer is in the middle of fitting.
            if event.get("message", "").startswith("epoch 1:"):
                break
            if time.monotonic() > deadline:
                pytest.fail(f"the Trainer did not start within {KILL_TIMEOUT_SECONDS} s")
        else:
            pytest.fail(f"the run ended before training: {events[-5:]}")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    return events


def test_a_run_killed_during_training_resumes_from_the_finished_components(tmp_path, cli):
    output = tmp_path / "run"
    events = _run_until_training(output)
    finished = {e["component"] for e in events if e["event"] == "component_finished"}
    assert {"CsvExampleGen", "StatisticsGen", "ImportSchemaGen", "Transform"} <= finished
    assert "Trainer" not in finished
    serving = output / "serving_model" / "deepline-taxi"
    assert not serving.exists() or not any(serving.iterdir())

    proc = cli("run", "--output", output)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    # The killed run never released its lock: taken over, and said so.
    assert f"taking over the run lock {output / '.deepline-run.lock'}" in proc.stderr
    summary = json.loads((output / "summary.json").read_text())
    components = summary["components"]
    for reused in ("CsvExampleGen", "StatisticsGen", "ImportSchemaGen", "Transform"):
        assert components[reused]["cached"], reused
    for redone in ("Trainer", "Evaluator", "Pusher"):
        assert not components[redone]["cached"], redone
    assert summary["pushed"]

    # One complete model in the serving folder, and it serves.
    (version,) = list(serving.iterdir())
    assert summary["model_dir"] == str(version)
    serve = tf.saved_model.load(str(version)).signatures["serving_default"]
    example = tf.train.Example()
    example.features.feature["trip_miles"].float_list.value.append(3.0)
    probability = serve(examples=tf.constant([example.SerializeToString()]))["probability"]
    assert 0.0 <= float(probability[0, 0]) <= 1.0
