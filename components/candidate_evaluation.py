"""Every Trainer candidate scored on the test split, for the summary and the report.

The Trainer chooses among its candidates on the eval split (`trainer.families.selection`);
the Evaluator (TFMA) judges the chosen one on the test split and blesses it or not. So a
reader can see what the choice cost or gained, every candidate — the chosen one too — is
also scored here on the same test rows with the same exact metrics the Trainer chose by
(`trainer.prediction_metrics`). These numbers inform; they never change the choice.

Each candidate is a SavedModel with the serving contract: its `transform_features`
signature derives the label from a raw test example, its `serving_default` predicts.
"""

from __future__ import annotations

import logging
import os

import numpy as np
import tensorflow as tf

from components.dataset import DatasetSpec
from components.trainer.export import SERVING_INPUT, TRANSFORM_SIGNATURE
from components.trainer.heads import Head
from components.trainer.prediction_metrics import candidate_metrics

logger = logging.getLogger(__name__)

# Serialized examples per call of the signatures.
BATCH = 4096


def _records(files: list[str]) -> tf.data.Dataset:
    return tf.data.TFRecordDataset(files, compression_type="GZIP").batch(BATCH)


def score_saved_model(model_dir: str, files: list[str], spec: DatasetSpec) -> dict:
    """The head's metrics of the SavedModel at `model_dir` on the raw examples in `files`.

    Raises:
      ValueError: `files` hold no example.
    """
    head = Head.for_spec(spec)
    loaded = tf.saved_model.load(model_dir)
    serve = loaded.signatures["serving_default"]
    transform = loaded.signatures[TRANSFORM_SIGNATURE]
    labels, predictions = [], []
    for batch in _records(files):
        labels.append(transform(**{SERVING_INPUT: batch})[spec.label_key].numpy())
        predictions.append(serve(**{SERVING_INPUT: batch})[head.prediction_key].numpy())
    if not labels:
        raise ValueError(f"No test example in {files}: the candidates cannot be scored.")
    return candidate_metrics(head.task, np.concatenate(labels), np.concatenate(predictions))


def add_test_metrics(model: dict, spec: DatasetSpec) -> None:
    """Adds each candidate's test metrics, as "test", to a run summary's "model" block.

    Only when the Trainer had more than one candidate. A candidate that cannot be scored
    gets None and a logged reason: these numbers inform, and the run's result stands.
    """
    if len(model["candidates"]) < 2 or not model["test_examples"]:
        return
    files = sorted(tf.io.gfile.glob(os.path.join(model["test_examples"], "*")))
    for name, candidate in model["candidates"].items():
        try:
            candidate["test"] = score_saved_model(candidate["model_dir"], files, spec)
        except Exception:  # noqa: BLE001 - informative numbers only; the run stands
            logger.exception("Could not score candidate %s on the test split", name)
            candidate["test"] = None
