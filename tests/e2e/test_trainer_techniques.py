"""The Trainer's techniques end to end: 1cycle from the learning-rate finder, the custom loop,
batch norm folded at export and the MC-dropout signature, on the taxi data."""

import glob
import json
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def techniques_run(first_run, cli):
    # On the first run's output: ingestion and Transform come from cache.
    output, _, _ = first_run
    proc = cli(
        "run",
        "--output",
        output,
        *("--hidden-units", "64,64,64,64", "--lr-schedule", "one_cycle"),
        *("--hparam", "training_loop=custom", "--hparam", "scheduled_epochs=4"),
        *("--hparam", "fold_batch_norm=true", "--hparam", "mc_dropout_samples=10"),
        # Judged on its own bars, not against the live model.
        *("--min-auc-gain", "-1"),
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    summary = json.loads((output / "summary.json").read_text())
    return output, summary


def test_one_cycle_peak_comes_from_the_learning_rate_finder(techniques_run):
    output, summary = techniques_run
    assert summary["components"]["Transform"]["cached"]
    assert not summary["components"]["Trainer"]["cached"]
    # This run's Trainer wrote the newest history (earlier runs share the output).
    history_file = max(
        glob.glob(str(output / "pipeline/Trainer/model_run/*/history.json")),
        key=lambda path: Path(path).stat().st_mtime,
    )
    history = json.loads(open(history_file).read())
    finder = history["lr_finder"]
    assert history["hparams"]["one_cycle_max_rate"] == finder["proposed_max_rate"]
    assert min(finder["rates"]) < finder["proposed_max_rate"] < max(finder["rates"])
    assert (Path(history_file).parent / "lr_finder.png").stat().st_size > 1000
    # The run's report draws the finder's curve.
    assert "Learning-rate finder" in (output / "report.html").read_text()
    # 1cycle runs its planned 4 epochs and ends far below its peak.
    assert history["epochs"] == 4
    assert history["history"]["lr"][-1] < finder["proposed_max_rate"] / 100
    # The custom loop records the rate of every step: up to the peak, then down.
    rates = history["steps"]["learning_rate"]
    assert len(rates) == 4 * history["steps_per_epoch"]
    peak = rates.index(max(rates))
    assert 0 < peak < len(rates) - 1
    assert max(rates) == pytest.approx(finder["proposed_max_rate"], rel=0.05)


def test_served_model_is_folded_and_has_an_mc_dropout_signature(techniques_run):
    _, summary = techniques_run
    assert summary["pushed"]
    assert summary["metrics"]["overall"]["binary_accuracy"] > 0.85
    served = keras.models.load_model(summary["model_dir"])
    assert not [x for x in served.layers if isinstance(x, keras.layers.BatchNormalization)]

    loaded = tf.saved_model.load(summary["model_dir"])
    example = tf.train.Example()
    example.features.feature["trip_miles"].float_list.value.append(3.0)
    example.features.feature["payment_type"].bytes_list.value.append(b"Cash")
    batch = tf.constant([example.SerializeToString()] * 4)
    sampled = loaded.signatures["mc_dropout"](examples=batch)
    assert sampled["mean"].shape == (4, 1) and sampled["stddev"].shape == (4, 1)
    assert np.all(sampled["stddev"].numpy() > 0)
    plain = loaded.signatures["serving_default"](examples=batch)["probability"].numpy()
    # The same four examples: the deterministic prediction is the same for each.
    np.testing.assert_allclose(plain, plain[:1].repeat(4, axis=0), rtol=1e-6)
