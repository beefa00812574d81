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

Every head converts; the copy's one output is named as the served model's
(`Head.prediction_key`). In full int8 that output is quantized too, over its
calibrated range: a regression prediction gains up to half a step of
(range / 255) on top of the rounding above.

`write_copies` writes the copies next to an export with `tflite_eval.json`:
the task's metrics (`prediction_metrics`) for each copy and for the Keras
model on the same data, so a user can judge what the smaller copy costs. Each
copy adds the difference of each metric but AUC (`<metric>_diff`, copy
minus Keras), the largest |copy - Keras| prediction and its size in bytes.
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

from components.dataset import Task
from components.trainer import prediction_metrics
from components.trainer.heads import Head

QUANTIZATIONS = ("float32", "float16", "int8")
DEFAULT_QUANTIZATIONS = ("float16", "int8")
EVAL_FILE = "tflite_eval.json"
# The copies' output names, over all heads.
_PREDICTION_KEYS = tuple(Head(task).prediction_key for task in Task)


def copy_filename(quantization: str) -> str:
    """File name of the copy with `quantization`: `model_<quantization>.tflite`."""
    return f"model_{quantization}.tflite"


def convert(
    model: keras.Model,
    quantization: str,
    representative_data=None,
    task: Task | str = Task.BINARY,
) -> bytes:
    """Converts `model` (over transformed features) to a TFLite flatbuffer.

    The network is traced as a concrete function with `training=False`
    (dropout off, batch norm on its moving statistics) and converted with
    `from_concrete_functions` rather than `from_keras_model`: that does not
    depend on which Keras `tf.keras` resolves to (Keras 3 or tf_keras), and
    fixes the signature: inputs named as the model's, batch dimension free,
    one output named as the served model's (`Head.prediction_key`).

    Args:
      model: The trained model, e.g. from `model.build_model`.
      quantization: One of `QUANTIZATIONS`; see the module docstring.
      representative_data: int8 only: an iterable of model-input dicts (or of
        (features, label) pairs, the label ignored) to calibrate activation
        ranges on, for full-integer quantization; a few hundred to a few
        thousand training examples is plenty. Defaults to None: dynamic-range
        quantization.
      task: The model's head (`Task` or its value), which names the output.
        Defaults to binary.

    Returns:
      The TFLite model.

    Raises:
      ValueError: unknown `quantization` or `task`; a model whose output does
        not fit `task`; representative data for another quantization than
        int8, empty, or lacking a model input.
    """
    prediction_key = Head(_check_task(model, task)).prediction_key
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
        return {prediction_key: model(inputs, training=False)}

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
      The copy's prediction, float32: (batch, 1) probabilities (binary) or
      values (regression), or (batch, K) class probabilities (multiclass).

    Raises:
      ValueError: an input the model needs is missing from `inputs`.
    """
    return _Runner(tflite_bytes)(inputs)


def evaluate_copies(
    model: keras.Model,
    dataset: Iterable,
    quantizations: Iterable[str] = DEFAULT_QUANTIZATIONS,
    max_batches: int | None = None,
    representative_data=None,
    task: Task | str = Task.BINARY,
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
      task: The model's head (`Task` or its value): which output and labels
        to expect and which metrics to compute. Defaults to binary.

    Returns:
      JSON-ready: {"keras": {<metrics>, "examples"}, and per quantization
      {<metrics>, "<metric>_diff" (copy minus Keras), "max_abs_diff" (largest
      |copy - Keras| prediction, over every class for multiclass), "bytes"}},
      the metrics by task:
        binary:     "accuracy", "auc" (None when the labels are of one class);
                    diff of accuracy;
        multiclass: "accuracy"; its diff;
        regression: "mae", "rmse"; their diffs.

    Raises:
      ValueError: unknown `quantization` or `task`; a model whose output does
        not fit `task`; an empty `dataset`; see also `convert`.
    """
    task = _check_task(model, task)
    copies = _convert_all(model, quantizations, representative_data, task)
    return _evaluate(model, dataset, copies, max_batches, task)


def write_copies(
    model: keras.Model,
    export_dir: str,
    dataset: Iterable,
    quantizations: Iterable[str] = DEFAULT_QUANTIZATIONS,
    max_batches: int | None = None,
    representative_data=None,
    task: Task | str = Task.BINARY,
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
      task: The model's head (`Task` or its value). Defaults to binary.

    Returns:
      The evaluation written to `tflite_eval.json` (see `evaluate_copies`).

    Raises:
      ValueError: as `evaluate_copies`; nothing is written then.
    """
    task = _check_task(model, task)
    copies = _convert_all(model, quantizations, representative_data, task)
    result = _evaluate(model, dataset, copies, max_batches, task)
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
            if len(outputs) == 1:
                return next(iter(outputs.values()))
            known = [key for key in _PREDICTION_KEYS if key in outputs]
            if len(known) != 1:
                raise ValueError(
                    f"TFLite model has outputs {sorted(outputs)}; expected one of "
                    f"{list(_PREDICTION_KEYS)}. Use a copy made by `convert`."
                )
            return outputs[known[0]]
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


def _check_task(model: keras.Model, task: Task | str) -> Task:
    """`task` as a `Task`, once the model's output width is known to fit it."""
    task = prediction_metrics.as_task(task)
    width = model.outputs[0].shape[-1]
    if (width >= 2) != (task is Task.MULTICLASS):
        expected = "one probability per class" if task is Task.MULTICLASS else "one value"
        raise ValueError(
            f"The model outputs {width} value(s) per example, but a {task.value} head outputs "
            f"{expected}. Pass the task of the model's head (`Head.task`) as `task`."
        )
    return task


def _convert_all(model, quantizations, representative_data, task: Task) -> dict[str, bytes]:
    quantizations = tuple(quantizations)
    unknown = sorted(set(quantizations) - set(QUANTIZATIONS))
    if unknown:
        raise ValueError(f"Unknown TFLite quantization(s) {unknown}; choose from {QUANTIZATIONS}.")
    return {
        quantization: convert(
            model, quantization, representative_data if quantization == "int8" else None, task
        )
        for quantization in quantizations
    }


def _take(dataset: Iterable, batches: int | None) -> Iterable:
    if batches is None:
        return dataset
    if isinstance(dataset, tf.data.Dataset):
        return dataset.take(batches)
    return itertools.islice(dataset, batches)


def _evaluate(model, dataset, copies: dict[str, bytes], max_batches, task: Task) -> dict:
    """The task's metrics of the model and of each copy over the same batches."""
    metrics = prediction_metrics.TASK_METRICS[task]
    runners = {quantization: _Runner(content) for quantization, content in copies.items()}
    labels, keras_predictions = [], []
    copy_predictions = {quantization: [] for quantization in copies}
    for features, label in _take(dataset, max_batches):
        inputs = _model_inputs(model, features)
        labels.append(np.asarray(label).ravel())
        # (batch, 1), or (batch, K) for multiclass, from both.
        keras_predictions.append(model(inputs, training=False).numpy())
        for quantization, runner in runners.items():
            copy_predictions[quantization].append(runner(inputs))
    if not labels:
        raise ValueError("No batches to evaluate the TFLite copies on: the dataset is empty.")
    labels = np.concatenate(labels)
    reference = np.concatenate(keras_predictions)
    keras_metrics = metrics.compute(labels, reference)
    result = {"keras": {**keras_metrics, "examples": int(labels.size)}}
    for quantization, parts in copy_predictions.items():
        predictions = np.concatenate(parts)
        copy_metrics = metrics.compute(labels, predictions)
        diffs = {f"{m}_diff": copy_metrics[m] - keras_metrics[m] for m in metrics.compared}
        result[quantization] = {
            **copy_metrics,
            **diffs,
            "max_abs_diff": float(np.max(np.abs(predictions - reference))),
            "bytes": len(copies[quantization]),
        }
    return result
