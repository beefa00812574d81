"""TFLite copies of the trained network, for users who need low-latency inference.

A copy holds the Keras network over *transformed* features only, not the
Transform graph: Transform's ops (vocabulary lookups, hashing, parsing
`tf.train.Example`s) are not TFLite builtins, and pulling them in as Select TF
ops would defeat the point of a small, fast interpreter. A TFLite copy
therefore expects the inputs the Keras model takes: a dict of (batch, 1)
tensors by transformed name (`<name>_xf`), float32 for real-valued features
and int64 ids for categorical ones. Callers get those from the exported
SavedModel's `transform_features` signature (`export.TRANSFORM_SIGNATURE`),
e.g. on a server next to the TFLite copy, or by reproducing the transforms.

Quantizations:
  float32: plain conversion, the baseline the others are measured against.
  float16: weights stored as float16 and widened to float32 when the model
           loads; all arithmetic stays float32, so only weight rounding
           (relative 2**-11) separates it from the Keras model. Weights take
           half the bytes.
  int8:    int8 weights, two ways. Inputs and outputs stay float32 (and
           int64 for ids) in both: callers pass the features they would pass
           to the Keras model. (Int8 inputs would make every caller quantize
           the numeric features by hand; int64 ids index the embedding table
           and are not values to quantize.) The int64 ids and the Embedding
           layers convert either way: the lookup gathers rows of an int8 table.
           - Without representative data (the default): dynamic-range
             quantization. Weights are stored int8; activations stay float32,
             and the fully connected kernels quantize their input per batch
             on the fly. Predictions move by weight rounding only (0.003 at
             most on the unit test's model).
           - With representative data: full-integer quantization. Activations
             are int8 too, in ranges calibrated on the data; for int8-only
             accelerators. It costs accuracy in a way specific to this
             network: the concatenation of numeric features and embeddings
             shares one int8 scale, set by the widest of them (standardized
             numerics: ~+-3.3, a step of 0.026), so embeddings of small
             magnitude are rounded to a few levels and numeric features to
             that step; values outside the calibrated range are clipped. A
             steep logit near the decision boundary amplifies it (~0.06 here on
             a separable toy problem), and the self-normalizing preset, whose
             input standardization then magnifies the rounded embeddings, lost
             up to 0.34 in probability in a trial. Check `tflite_eval.json`.
           Dynamic range leaves tensors under 1024 elements (biases, small
           kernels) in float32, so its size gain comes from the embeddings and
           wide kernels; full integer quantizes every kernel. Ops without an
           int8 kernel would stay float (the default op set, not
           TFLITE_BUILTINS_INT8), so conversion does not fail on an
           activation; every one of `activations.ACTIVATIONS` converted when
           tried.
Sizes, for a sense of scale: the unit test's model (3,649 weights, 3,200 of
them a 200 x 16 embedding) is 17.8 KB in float32, 11.3 KB in float16, 8.5 KB
in dynamic-range int8 and 7.9 KB in full int8; ~3 KB of each is the graph.

`write_copies` writes the copies next to an export with `tflite_eval.json`:
accuracy and AUC of each copy and of the Keras model on the same data, so a
user can judge what the smaller copy costs.
"""

from __future__ import annotations

import itertools
import json
import os
import re
from collections.abc import Iterable, Mapping

import numpy as np
import tensorflow as tf
import tf_keras as keras

QUANTIZATIONS = ("float32", "float16", "int8")
DEFAULT_QUANTIZATIONS = ("float16", "int8")
PREDICTION_KEY = "probability"
EVAL_FILE = "tflite_eval.json"
THRESHOLD = 0.5


def copy_filename(quantization: str) -> str:
    """File name of the copy with `quantization`: `model_<quantization>.tflite`."""
    return f"model_{quantization}.tflite"


def convert(model: keras.Model, quantization: str, representative_data=None) -> bytes:
    """Converts `model` (over transformed features) to a TFLite flatbuffer.

    The network is traced as a concrete function with `training=False`
    (dropout off, batch norm on its moving statistics) and converted with
    `from_concrete_functions` rather than `from_keras_model`: that does not
    depend on which Keras `tf.keras` resolves to (Keras 3 or tf_keras), and
    fixes the signature: inputs named as the model's, batch dimension free,
    one output named `probability`.

    Args:
      model: The trained model, e.g. from `model.build_model`.
      quantization: One of `QUANTIZATIONS`; see the module docstring.
      representative_data: int8 only: an iterable of model-input dicts (or of
        (features, label) pairs, the label ignored) to calibrate activation
        ranges on, for full-integer quantization; a few hundred to a few
        thousand training examples is plenty. Defaults to None: dynamic-range
        quantization.

    Returns:
      The TFLite model.

    Raises:
      ValueError: unknown `quantization`; representative data for another
        quantization than int8, empty, or lacking a model input.
    """
    if quantization not in QUANTIZATIONS:
        raise ValueError(
            f"Unknown TFLite quantization {quantization!r}; choose one of {QUANTIZATIONS}."
        )
    if representative_data is not None and quantization != "int8":
        raise ValueError(
            f"Representative data only calibrates int8 quantization, not {quantization!r}."
        )
    specs = {
        name: tf.TensorSpec(tensor.shape, tensor.dtype, name=name)
        for name, tensor in zip(model.input_names, model.inputs, strict=True)
    }

    @tf.function
    def serve(inputs):
        return {PREDICTION_KEY: model(inputs, training=False)}

    # The model is passed along so its variables stay alive while converting.
    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [serve.get_concrete_function(specs)], model
    )
    if quantization == "float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif quantization == "int8":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if representative_data is not None:
            # Materialized: the converter calls the generator function, and a
            # one-shot iterator (a generator, a dataset iterator) must survive that.
            batches = [_model_inputs(model, element) for element in representative_data]
            if not batches:
                raise ValueError("Representative data for int8 quantization is empty.")
            converter.representative_dataset = lambda: iter(batches)
    return converter.convert()


def predict(tflite_bytes: bytes, inputs: Mapping[str, np.ndarray]) -> np.ndarray:
    """Runs a TFLite copy on one batch.

    Args:
      tflite_bytes: A model from `convert`.
      inputs: Transformed features by name, (batch, 1) each; keys may also be
        the interpreter's tensor names (`serving_default_<name>:0`). Extra
        keys are ignored; values are cast to the dtype the model expects.

    Returns:
      The predicted probabilities, float32 of shape (batch, 1).

    Raises:
      ValueError: an input the model needs is missing from `inputs`.
    """
    return _Runner(tflite_bytes)(inputs)


def auc(labels: np.ndarray, scores: np.ndarray) -> float | None:
    """Exact ROC AUC by the rank-sum (Mann-Whitney) formula, tied scores counting half.

    AUC = (sum of the positives' ranks - P (P + 1) / 2) / (P N), ranks from 1,
    tied scores sharing their average rank. Keras' `AUC` metric approximates
    the same number over a fixed grid of thresholds.

    Args:
      labels: 0/1 labels.
      scores: Predicted scores, same length.

    Returns:
      The AUC, or None when the labels are all of one class (it is undefined).
    """
    labels = np.asarray(labels).ravel() > THRESHOLD
    scores = np.asarray(scores, dtype=np.float64).ravel()
    positives = int(labels.sum())
    negatives = labels.size - positives
    if positives == 0 or negatives == 0:
        return None
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = scores[order]
    ranks = np.empty(scores.size)
    # Each run of equal scores gets the mean of the ranks it spans.
    starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    ends = np.r_[starts[1:], scores.size]
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)
    rank_sum = ranks[labels].sum()
    return float((rank_sum - positives * (positives + 1) / 2.0) / (positives * negatives))


def accuracy(labels: np.ndarray, scores: np.ndarray) -> float:
    """Share of examples whose score is on the label's side of 0.5 (Keras' rule: score > 0.5)."""
    labels = np.asarray(labels).ravel() > THRESHOLD
    return float(np.mean((np.asarray(scores).ravel() > THRESHOLD) == labels))


def evaluate_copies(
    model: keras.Model,
    dataset: Iterable,
    quantizations: Iterable[str] = DEFAULT_QUANTIZATIONS,
    max_batches: int | None = None,
    representative_data=None,
) -> dict:
    """Converts `model` and compares each copy's predictions with the model's.

    Args:
      model: The trained model over transformed features.
      dataset: (features, label) batches, as the Trainer's datasets yield.
      quantizations: Which copies to make, from `QUANTIZATIONS`. Defaults to
        `DEFAULT_QUANTIZATIONS`.
      max_batches: Evaluate on at most this many batches. Defaults to None: all.
      representative_data: int8 only: calibration data for full-integer
        quantization (see `convert`), best a few training batches. Defaults to
        None: dynamic-range quantization.

    Returns:
      JSON-ready: {"keras": {"accuracy", "auc", "examples"}, and per
      quantization {"accuracy", "auc", "accuracy_diff" (copy minus Keras),
      "max_abs_diff" (largest |copy - Keras| probability), "bytes"}}.
    """
    copies = _convert_all(model, quantizations, representative_data)
    return _evaluate(model, dataset, copies, max_batches)


def write_copies(
    model: keras.Model,
    export_dir: str,
    dataset: Iterable,
    quantizations: Iterable[str] = DEFAULT_QUANTIZATIONS,
    max_batches: int | None = None,
    representative_data=None,
) -> dict:
    """Writes `model_<quantization>.tflite` copies and `tflite_eval.json` under `export_dir`.

    Args:
      model: The trained model over transformed features.
      export_dir: Directory (local or any `tf.io.gfile` file system); created if missing.
      dataset: (features, label) batches to evaluate the copies on.
      quantizations: Which copies to write, from `QUANTIZATIONS`. Defaults to
        `DEFAULT_QUANTIZATIONS`.
      max_batches: Evaluate on at most this many batches. Defaults to None: all.
      representative_data: int8 only: calibration data for full-integer
        quantization (see `convert`). Defaults to None: dynamic-range quantization.

    Returns:
      The evaluation written to `tflite_eval.json` (see `evaluate_copies`).
    """
    copies = _convert_all(model, quantizations, representative_data)
    result = _evaluate(model, dataset, copies, max_batches)
    tf.io.gfile.makedirs(export_dir)
    for quantization, content in copies.items():
        with tf.io.gfile.GFile(os.path.join(export_dir, copy_filename(quantization)), "wb") as f:
            f.write(content)
    with tf.io.gfile.GFile(os.path.join(export_dir, EVAL_FILE), "w") as f:
        f.write(json.dumps(result, indent=2, sort_keys=True))
    return result


class _Runner:
    """One interpreter for many batches; inputs matched to the model's by name."""

    def __init__(self, tflite_bytes: bytes):
        self._interpreter = tf.lite.Interpreter(model_content=tflite_bytes)
        signatures = self._interpreter.get_signature_list()
        # Models from `convert` have one signature; its input names are the
        # Keras input names. Without one, fall back to the raw tensor names.
        if signatures:
            self._runner = self._interpreter.get_signature_runner(next(iter(signatures)))
            details = self._runner.get_input_details()
        else:
            self._runner = None
            details = {d["name"]: d for d in self._interpreter.get_input_details()}
        self._inputs = {name: (_canonical(name), d["dtype"]) for name, d in details.items()}

    def __call__(self, inputs: Mapping[str, np.ndarray]) -> np.ndarray:
        given = {_canonical(key): value for key, value in inputs.items()}
        missing = sorted(c for c, _ in self._inputs.values() if c not in given)
        if missing:
            raise ValueError(
                f"TFLite model input(s) {missing} missing; got {sorted(inputs)}. A TFLite "
                "copy takes transformed features (the `transform_features` signature's output)."
            )
        feed = {
            name: np.asarray(given[canonical]).astype(dtype, copy=False)
            for name, (canonical, dtype) in self._inputs.items()
        }
        if self._runner is not None:
            outputs = self._runner(**feed)
            output = outputs[PREDICTION_KEY] if PREDICTION_KEY in outputs else None
            if output is None and len(outputs) == 1:
                output = next(iter(outputs.values()))
            if output is None:
                raise ValueError(
                    f"TFLite model has outputs {sorted(outputs)}; expected {PREDICTION_KEY!r}."
                )
            return output
        return self._invoke(feed)

    def _invoke(self, feed: dict[str, np.ndarray]) -> np.ndarray:
        interpreter = self._interpreter
        details = interpreter.get_input_details()
        for d in details:
            interpreter.resize_tensor_input(d["index"], feed[d["name"]].shape)
        interpreter.allocate_tensors()
        for d in details:
            interpreter.set_tensor(d["index"], feed[d["name"]])
        interpreter.invoke()
        return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])


def _canonical(name: str) -> str:
    """'serving_default_a_xf:0' -> 'a_xf': the converter prefixes signature and suffixes index."""
    return re.sub(r":\d+$", "", name).removeprefix("serving_default_")


def _model_inputs(model: keras.Model, element) -> dict[str, np.ndarray]:
    """The model's inputs from a feature dict or a (features, label) pair, as numpy."""
    features = element[0] if isinstance(element, tuple | list) else element
    missing = sorted(set(model.input_names) - set(features))
    if missing:
        raise ValueError(
            f"Batch lacks model input(s) {missing}; it has {sorted(features)}. Pass "
            "transformed features (or (features, label) pairs) as the Trainer's datasets yield."
        )
    return {
        name: np.asarray(features[name]).astype(tensor.dtype.as_numpy_dtype, copy=False)
        for name, tensor in zip(model.input_names, model.inputs, strict=True)
    }


def _convert_all(model, quantizations, representative_data) -> dict[str, bytes]:
    quantizations = tuple(quantizations)
    unknown = sorted(set(quantizations) - set(QUANTIZATIONS))
    if unknown:
        raise ValueError(f"Unknown TFLite quantization(s) {unknown}; choose from {QUANTIZATIONS}.")
    return {
        quantization: convert(
            model, quantization, representative_data if quantization == "int8" else None
        )
        for quantization in quantizations
    }


def _take(dataset: Iterable, batches: int | None) -> Iterable:
    if batches is None:
        return dataset
    if isinstance(dataset, tf.data.Dataset):
        return dataset.take(batches)
    return itertools.islice(dataset, batches)


def _evaluate(model, dataset, copies: dict[str, bytes], max_batches) -> dict:
    """Accuracy and AUC of the model and of each copy over the same batches."""
    runners = {quantization: _Runner(content) for quantization, content in copies.items()}
    labels, keras_scores = [], []
    copy_scores = {quantization: [] for quantization in copies}
    for features, label in _take(dataset, max_batches):
        inputs = _model_inputs(model, features)
        labels.append(np.asarray(label).ravel())
        keras_scores.append(model(inputs, training=False).numpy().ravel())
        for quantization, runner in runners.items():
            copy_scores[quantization].append(runner(inputs).ravel())
    if not labels:
        raise ValueError("No batches to evaluate the TFLite copies on: the dataset is empty.")
    labels = np.concatenate(labels)
    reference = np.concatenate(keras_scores)
    keras_accuracy = accuracy(labels, reference)
    result = {
        "keras": {
            "accuracy": keras_accuracy,
            "auc": auc(labels, reference),
            "examples": int(labels.size),
        }
    }
    for quantization, parts in copy_scores.items():
        scores = np.concatenate(parts)
        copy_accuracy = accuracy(labels, scores)
        result[quantization] = {
            "accuracy": copy_accuracy,
            "auc": auc(labels, scores),
            "accuracy_diff": copy_accuracy - keras_accuracy,
            "max_abs_diff": float(np.max(np.abs(scores - reference))),
            "bytes": len(copies[quantization]),
        }
    return result
