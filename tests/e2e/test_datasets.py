"""Data sets other than taxi, end to end: the bundled penguins (multiclass), imdb-small
(text through TF-IDF) and digits (images in TFRecords), and CSVs the code has never seen,
through `deepline init-spec` then `deepline run --spec`, for each label kind.

Small data: the CLI runs Beam in-process for it (no `--beam-arg` here).
"""

import csv
import json
import math
import random

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras
import yaml

from components import serving_ops
from components.trainer import export

pytestmark = pytest.mark.e2e

TRAINING = ("--batch-size", 32, "--max-epochs", 30)
COLORS = {"red": 1.0, "green": -1.0, "blue": 0.0}  # the color's effect on every label


def _run(cli, *args):
    proc = cli("run", *args, *TRAINING)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return proc


def _serve(model_dir, rows: list[dict]) -> dict:
    """Predictions of the pushed model for raw rows, through its serving signature."""
    examples = []
    for row in rows:
        feature = {}
        for name, value in row.items():
            if isinstance(value, bytes):
                feature[name] = tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))
            elif isinstance(value, str):
                feature[name] = tf.train.Feature(
                    bytes_list=tf.train.BytesList(value=[value.encode()])
                )
            else:
                feature[name] = tf.train.Feature(float_list=tf.train.FloatList(value=[value]))
        examples.append(
            tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()
        )
    serve = tf.saved_model.load(str(model_dir)).signatures["serving_default"]
    return {k: v.numpy() for k, v in serve(examples=tf.constant(examples)).items()}


def _pushed(output, name) -> str:
    versions = sorted((output / "serving_model" / name).iterdir())
    assert len(versions) == 1
    return versions[0]


def test_penguins_multiclass_runs_end_to_end(cli, tmp_path):
    _run(cli, "--dataset", "penguins", "--output", tmp_path)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["pushed"]
    assert summary["ingestion"]["rows_in"] == summary["ingestion"]["rows_written"] == 344
    overall = summary["metrics"]["overall"]
    # Always answering Adelie (152 of 344) would score 0.44; blessing needs 0.85.
    assert overall["sparse_categorical_accuracy"] >= 0.85
    # The served model gives a probability per class, from raw measurements; a missing `sex`
    # (as in 11 rows of the data) and an island never seen in training are served too.
    gentoo = {
        "bill_length_mm": 47.5,
        "bill_depth_mm": 15.0,
        "flipper_length_mm": 217.0,
        "body_mass_g": 5200.0,
        "island": "Biscoe",
        "sex": "male",
    }
    unseen = dict(gentoo, island="Atlantis")
    del unseen["sex"]
    probabilities = _serve(_pushed(tmp_path, "deepline-penguins"), [gentoo, unseen])[
        "probabilities"
    ]
    assert probabilities.shape == (2, 3)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    assert probabilities[0].argmax() == 2  # Gentoo: the classes are [Adelie, Chinstrap, Gentoo]

    # --model auto (the default): the deep network, the trees and their average, each scored
    # on the eval split; the Trainer's history says which is served and why.
    (history_file,) = (tmp_path / "pipeline" / "Trainer" / "model_run").glob("*/history.json")
    chosen = json.loads(history_file.read_text())["model"]
    assert chosen["choice"] == "auto" and chosen["left_out"] == {}
    assert set(chosen["candidates"]) == {"dnn", "gbdt", "ensemble"}
    for name, candidate in chosen["candidates"].items():
        assert candidate["eval"]["accuracy"] > 0.44, (name, candidate)  # above always-Adelie
        assert candidate["trainer_seconds"] > 0
    assert chosen["chosen"] in chosen["candidates"]
    assert chosen["reason"].startswith(f"{chosen['chosen']}: highest eval accuracy")
    trees = chosen["records"]["gbdt"]
    assert trees["num_trees"] >= 1
    # 344 rows, so a small training split: the served trees are refitted on train + eval.
    assert trees["refit"]["num_trees"] == trees["num_trees"]
    assert 250 < trees["refit"]["rows"] < 344
    # The candidates not served are exported beside, with the same contract.
    for name, candidate in chosen["candidates"].items():
        if name != chosen["chosen"]:
            others = _serve(candidate["export"], [gentoo, unseen])["probabilities"]
            assert others.shape == (2, 3) and others[0].argmax() == 2, name
    # The report's layer table, recorded by the Trainer from the model it served: the same
    # rows as the exported model's own, read back (where Keras revives TF Transform's layer
    # under its registered name, "TensorFlowTransform>TransformFeaturesLayer").
    (served,) = (tmp_path / "pipeline" / "Trainer" / "model").glob("*/Format-Serving")
    serving_ops.register()
    layers = export.layer_table(keras.models.load_model(str(served), compile=False))
    for row in layers:
        row["kind"] = row["kind"].rpartition(">")[2]
    assert json.loads(history_file.read_text())["layers"] == layers


def test_imdb_small_text_runs_end_to_end_and_serves_raw_reviews(cli, tmp_path):
    # 100 reviews exercise the text path; 15 test reviews cannot bless a model, so no bars.
    _run(cli, "--dataset", "imdb-small", "--output", tmp_path, "--min-auc", 0, "--min-accuracy", 0)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["pushed"]
    assert summary["ingestion"]["rows_written"] == 100
    model = _pushed(tmp_path, "deepline-imdb-small")
    reviews = [
        {"review": "A wonderful, moving film. The best acting I have seen in years!"},
        {"review": "zxqv blorft"},  # no word in the vocabulary: the OOV column only
        {"review": ""},  # no tokens at all
    ]
    probability = _serve(model, reviews)["probability"]
    assert probability.shape == (3, 1)
    assert ((probability > 0) & (probability < 1)).all()
    # The vocabulary and its document frequencies are assets of the served model.
    assets = {p.name for p in (model / "assets").iterdir()}
    assert {"review", "review_df"} <= assets


def test_digits_images_from_tfrecords_run_end_to_end_and_serve_raw_images(cli, tmp_path):
    from sklearn.datasets import load_digits

    _run(cli, "--dataset", "digits", "--output", tmp_path)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["pushed"]
    assert summary["ingestion"]["rows_written"] == 1797
    # Ten classes of about 180 each: guessing scores 0.10; blessing needs 0.85.
    assert summary["metrics"]["overall"]["sparse_categorical_accuracy"] >= 0.85
    digits = load_digits()
    images = [
        {
            "image": tf.io.serialize_tensor(
                np.round(digits.images[i] * 255 / 16).astype(np.uint8).reshape(8, 8, 1)
            ).numpy()
        }
        for i in range(10)
    ]
    probabilities = _serve(_pushed(tmp_path, "deepline-digits"), images)["probabilities"]
    assert probabilities.shape == (10, 10)
    # The first ten images are the digits 0..9 in order; nearly all must be read right.
    assert (probabilities.argmax(axis=1) == digits.target[:10]).sum() >= 9


def _write_unseen_csv(path, label_kind: str, rows: int = 1500, seed: int = 7) -> list[float]:
    """A CSV with known structure; returns the score each row's label was made from.

    Columns: `age` (numbers), `income` (heavy-tailed numbers, some missing), `color`
    (3 strings), `user_id` (a unique id) and the label, a function of
    score = (age - 40) / 10 + log(income) - 10 + effect of the color, plus noise:
    binary `bought` (score > 0), multiclass `tier` (bronze/silver/gold by score),
    regression `spend` (3 * score + 20).
    """
    rng = random.Random(seed)
    label = {"binary": "bought", "multiclass": "tier", "regression": "spend"}[label_kind]
    scores = []
    with open(path, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["user_id", "age", "income", "color", label])
        for i in range(rows):
            age = rng.gauss(40, 10)
            income = math.exp(rng.gauss(10, 0.5))
            color = rng.choice(sorted(COLORS))
            score = (age - 40) / 10 + math.log(income) - 10 + COLORS[color] + rng.gauss(0, 0.2)
            scores.append(score)
            value = {
                "binary": int(score > 0),
                "multiclass": "bronze" if score < -0.6 else "silver" if score < 0.6 else "gold",
                "regression": round(3 * score + 20, 3),
            }[label_kind]
            missing_income = rng.random() < 0.05
            out.writerow(
                [
                    f"u{i:05d}",
                    round(age, 1),
                    "" if missing_income else round(income, 2),
                    color,
                    value,
                ]
            )
    return scores


@pytest.mark.parametrize(
    "label_kind, label, threshold_args",
    [
        ("binary", "bought", ("--min-auc", 0.5, "--min-accuracy", 0.5)),
        ("multiclass", "tier", ("--min-accuracy", 0.5)),
        ("regression", "spend", ()),
    ],
)
def test_init_spec_then_run_on_a_csv_never_seen(cli, tmp_path, label_kind, label, threshold_args):
    data = tmp_path / "data"
    data.mkdir()
    _write_unseen_csv(data / "customers.csv", label_kind)
    proc = cli(
        "init-spec", data / "customers.csv", "--label", label, "--output", data / "spec.yaml"
    )
    assert proc.returncode == 0, proc.stderr
    spec = yaml.safe_load((data / "spec.yaml").read_text())
    assert spec["label"]["kind"] == label_kind

    output = tmp_path / "run"
    _run(
        cli,
        *("--spec", data / "spec.yaml", "--output", output, *threshold_args),
        *("--hparam", "tflite_copies=true"),
    )
    summary = json.loads((output / "summary.json").read_text())
    assert summary["pushed"]
    assert summary["ingestion"]["rows_quarantined"] == 0
    overall = summary["metrics"]["overall"]
    labels = [row[label] for row in csv.DictReader(open(data / "customers.csv"))]
    if label_kind == "regression":
        # Better than predicting the mean, by far: the label's spread is ~3 * 1.2.
        spread = float(np.std([float(v) for v in labels]))
        assert overall["root_mean_squared_error"] < 0.5 * spread
    else:
        metric = "binary_accuracy" if label_kind == "binary" else "sparse_categorical_accuracy"
        majority = max(labels.count(v) for v in set(labels)) / len(labels)
        assert overall[metric] > majority + 0.1
    # TFLite copies are pushed with the model, for every kind of label, each compared with it.
    (evaluation,) = (output / "serving_model").glob("*/*/tflite/tflite_eval.json")
    copies = json.loads(evaluation.read_text())
    main = "rmse" if label_kind == "regression" else "accuracy"
    assert set(copies) == {"keras", "float16", "int8"}
    assert abs(copies["float16"][f"{main}_diff"]) < 0.02
    assert copies["int8"][main] == pytest.approx(copies["keras"][main], abs=0.1)
