"""Two scheduled-style runs over span folders: new data only, a rolling window, the live model."""

import json
from pathlib import Path

import numpy as np
import pytest
import tf_keras as keras

from components.trainer import warm_start
from pipeline.run_artifacts import RunArtifacts

pytestmark = pytest.mark.e2e

# Small training budget: this test is about spans, not accuracy.
# `--model ensemble`: run 1's served model always holds the deep network whose layers run 2
# starts from (under `auto`, whichever candidate won on eval would be served: the trees
# alone leave nothing to warm-start, and the check below would depend on that choice).
FAST = (
    "--span-window", "2", "--max-epochs", "4", "--min-auc", "0.5", "--min-accuracy", "0.5",
    "--model", "ensemble",
)  # fmt: skip


def _span(artifact):
    return artifact.custom_properties["span"].int_value


def test_second_run_ingests_the_new_span_and_trains_on_both(tmp_path, cli):
    taxi_csv = Path(__file__).resolve().parents[2] / "data" / "taxi" / "data.csv"
    data, output = tmp_path / "landing", tmp_path / "out"
    data.mkdir()
    (data / "span-1").mkdir()
    with open(taxi_csv) as f:
        lines = f.readlines()
    header, rows = lines[0], lines[1:]
    (data / "span-1" / "trips.csv").write_text(header + "".join(rows[:7500]))

    first = cli("run", "--data", data, "--output", output, *FAST)
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-3000:]

    (data / "span-2").mkdir()  # new data lands
    (data / "span-2" / "trips.csv").write_text(header + "".join(rows[7500:]))
    second = cli("run", "--data", data, "--output", output, *FAST)
    assert second.returncode == 0, second.stdout[-2000:] + second.stderr[-3000:]

    run = RunArtifacts(str(output / "metadata.sqlite"))
    assert [_span(a) for a in run.outputs("CsvExampleGen", "Examples")] == [2]
    assert sorted(_span(a) for a in run.inputs("Transform", "Examples")) == [1, 2]
    assert run.inputs("Transform", "TransformCache"), "Transform got run 1's analyzer cache"
    summary = json.loads((output / "summary.json").read_text())
    assert "auc_diff" in summary["metrics"]["overall"], "compared with run 1's blessed model"
    assert "Ingesting span 2; training on the latest 2 span(s)." in second.stdout

    # Warm start: run 2's Trainer started from run 1's blessed model.
    (base,) = run.inputs("Trainer", "Model")
    model_run = run.output("Trainer", "ModelRun")
    warm = json.loads((Path(model_run.uri) / "history.json").read_text())["warm_start"]
    assert warm["base_model"] == str(Path(base.uri) / "Format-Serving")
    assert "hidden_0" in warm["reused_layers"]
    run_1_model = keras.models.load_model(warm["base_model"], compile=False)
    network = warm_start.deep_network_in(run_1_model)  # the ensemble's deep member
    assert network is not None and network is not run_1_model
    run_1_kernel = network.get_layer("hidden_0").get_weights()[0]
    assert warm["first_layer_kernel_sum_at_start"] == pytest.approx(
        float(np.sum(run_1_kernel)), rel=1e-6
    )


def test_a_missing_span_is_named(tmp_path, cli):
    (tmp_path / "span-1").mkdir()
    proc = cli("run", "--data", tmp_path, "--span", "7", "--output", tmp_path / "out")
    assert proc.returncode == 2
    assert "span 7 not found (no folder span-7); the spans there are 1" in proc.stderr
