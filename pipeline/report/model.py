"""What a run report shows: typed, frozen records shared by the collector and the renderer.

`collect.py` builds a `ReportData` from a run's outputs; `render.py` turns it
into a page. Nothing here reads files or knows about TFX, so a report can be
rendered from hand-built data in a test.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class FeatureStats:
    """Summary statistics of one feature in one data split.

    Attributes:
      name: Feature name as in the schema.
      kind: "numeric" or "categorical".
      count: Examples in which the feature is present (TFDV `num_non_missing`).
      missing: Examples in which it is absent (TFDV `num_missing`); the share
        missing is `missing / (count + missing)`.
      mean: Mean value; None for a categorical feature.
      std: Standard deviation; None for a categorical feature.
      minimum: Smallest value; None for a categorical feature.
      maximum: Largest value; None for a categorical feature.
      top_values: (value, frequency) pairs, most frequent first, for a
        categorical feature; empty for a numeric one.
    """

    name: str
    kind: str
    count: int
    missing: int
    mean: float | None
    std: float | None
    minimum: float | None
    maximum: float | None
    top_values: tuple[tuple[str, int], ...]


@dataclasses.dataclass(frozen=True)
class RunInfo:
    """What ran, when, and what became of the model.

    Attributes:
      pipeline_name: Name of the TFX pipeline.
      data: Where the input data came from (path or URI).
      output_dir: Root folder of the run's outputs.
      started: Start time of the run, ISO 8601.
      component_seconds: (component, wall seconds, whether the cached result
        was reused) per component, in execution order.
      blessed: Whether the Evaluator blessed the candidate model.
      pushed: Whether the Pusher pushed it.
      not_blessed_reasons: Failed blessing thresholds in words; empty when
        blessed or when none were recorded.
      model_dir: Where the pushed model was written; None when nothing was pushed.
    """

    pipeline_name: str
    data: str
    output_dir: str
    started: str
    component_seconds: tuple[tuple[str, float, bool], ...]
    blessed: bool
    pushed: bool
    not_blessed_reasons: tuple[str, ...]
    model_dir: str | None


@dataclasses.dataclass(frozen=True)
class Training:
    """How the Trainer's fit went.

    Attributes:
      epochs: Epochs run before training stopped.
      best_epoch: Epoch whose weights were kept, counted from 1.
      history: Keras history: metric name ("loss", "accuracy", "auc", ...) and
        its "val_" twin for the eval split -> one value per epoch.
      learning_rate_per_step: Learning rate at each optimizer step.
      momentum_per_step: Momentum (or Adam beta_1) at each step; empty when the
        schedule does not vary it.
      lr_finder: (learning rate, loss) points of a learning-rate range test;
        empty when none was run.
      hparams: Hyperparameters of the run, name -> value.
    """

    epochs: int
    best_epoch: int
    history: dict[str, tuple[float, ...]]
    learning_rate_per_step: tuple[float, ...]
    momentum_per_step: tuple[float, ...]
    lr_finder: tuple[tuple[float, float], ...]
    hparams: dict[str, object]


@dataclasses.dataclass(frozen=True)
class CalibrationBucket:
    """One prediction bucket of a calibration plot.

    Attributes:
      lower: Lowest prediction in the bucket (may be -inf for the first one).
      upper: Bound above the bucket's predictions (may be +inf for the last one).
      mean_prediction: Mean predicted probability of the bucket's examples.
      mean_label: Mean label (share of positives) of those examples.
      count: (Weighted) number of examples in the bucket.
    """

    lower: float
    upper: float
    mean_prediction: float
    mean_label: float
    count: float


@dataclasses.dataclass(frozen=True)
class ConfusionAtThreshold:
    """Confusion counts when scores above `threshold` are called positive.

    Attributes:
      threshold: Decision threshold on the predicted probability.
      tp: True positives.
      fp: False positives.
      tn: True negatives.
      fn: False negatives.
    """

    threshold: float
    tp: float
    fp: float
    tn: float
    fn: float


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """The Evaluator's verdict on the candidate model, from the test split.

    Attributes:
      metrics_by_slice: Slice name ("overall", or "column=value") -> metric
        name -> value.
      calibration: Buckets of the calibration plot, by increasing prediction.
      confusion: Confusion counts at many thresholds, sorted by threshold.
      baseline_diff: Metric -> candidate minus baseline (the live model) on
        the overall slice; empty when there was no baseline.
    """

    metrics_by_slice: dict[str, dict[str, float]]
    calibration: tuple[CalibrationBucket, ...]
    confusion: tuple[ConfusionAtThreshold, ...]
    baseline_diff: dict[str, float]


@dataclasses.dataclass(frozen=True)
class LayerRow:
    """One layer of the trained Keras model, as in `model.summary()`.

    Attributes:
      name: Layer name.
      kind: Layer class, e.g. "Dense".
      output_shape: Output shape as text, e.g. "(None, 64)".
      params: Number of weights.
      trainable: Whether its weights are trained.
    """

    name: str
    kind: str
    output_shape: str
    params: int
    trainable: bool


@dataclasses.dataclass(frozen=True)
class Candidate:
    """One model the Trainer trained (or averaged) and could have served.

    Attributes:
      name: A model family's name, or "ensemble".
      eval_metrics: Its metrics on the eval split: what the choice read.
      test_metrics: Its metrics on the test split (for reading, never for choosing);
        None when they could not be computed.
      trainer_seconds: Wall seconds its training took.
      chosen: Whether it is the model the Evaluator judged.
    """

    name: str
    eval_metrics: dict[str, float | None]
    test_metrics: dict[str, float | None] | None
    trainer_seconds: float
    chosen: bool


@dataclasses.dataclass(frozen=True)
class ModelChoice:
    """What `--model` trained and why the served model was chosen.

    Attributes:
      choice: The `--model` value.
      reason: Why the chosen one (e.g. "gbdt: highest eval auc 0.93 (against dnn 0.91)").
      left_out: Families `auto` left out, with the reason in words.
      candidates: Every candidate, in training order.
    """

    choice: str
    reason: str
    left_out: tuple[str, ...]
    candidates: tuple[Candidate, ...]


@dataclasses.dataclass(frozen=True)
class DriftRow:
    """One column compared with the live model's training data.

    Attributes:
      column: The column.
      measure: How it was compared, in words (e.g. "Jensen–Shannon divergence").
      distance: The measured distance.
      threshold: The largest distance that is not drift.
      drifted: Whether `distance` is beyond `threshold`.
    """

    column: str
    measure: str
    distance: float
    threshold: float
    drifted: bool


@dataclasses.dataclass(frozen=True)
class Drift:
    """The drift check of a run.

    Attributes:
      compared: False when there was no live model to compare with (a first run).
      action: "stop" (drift stops a run) or "warn" (drift only warns).
      rows: Each compared column; empty when nothing was compared.
    """

    compared: bool
    action: str
    rows: tuple[DriftRow, ...]


@dataclasses.dataclass(frozen=True)
class ReportData:
    """Everything one run report shows.

    Attributes:
      run: Pipeline, timings and the fate of the model.
      statistics: Split name ("train", "eval", ...) -> statistics per feature.
      anomalies: Data validation anomalies in words; empty when there were none.
      training: The fit; None when the Trainer did not run or left no history.
      evaluation: The Evaluator's results; None when it did not run.
      layers: The model's layers; empty when no model summary was recorded.
      model_choice: The Trainer's candidates and its choice; None when not recorded.
      drift: The comparison with the live model's training data; None when the run did
        not check drift. Defaults to None.
    """

    run: RunInfo
    statistics: dict[str, tuple[FeatureStats, ...]]
    anomalies: tuple[str, ...]
    training: Training | None
    evaluation: Evaluation | None
    layers: tuple[LayerRow, ...]
    model_choice: ModelChoice | None = None
    drift: Drift | None = None
