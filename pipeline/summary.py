"""The run summary: time per component, eval metrics, blessing and where the model went.

Read from ML Metadata after a local run (the `pipeline_run` context of this run's id),
so it describes what TFX recorded for this run, cached components included. Written as
JSON to `<output>/summary.json` and printed as a short table.
"""

from __future__ import annotations

import json
import os
from typing import Any

from pipeline import contracts
from pipeline.config import PipelineConfig
from pipeline.progress import ComponentTiming
from pipeline.run_artifacts import RunArtifacts, custom_value

# Where TFX's Trainer puts the serving SavedModel inside its Model artifact.
SERVING_MODEL_SUBDIR = "Format-Serving"
# The test split's folder inside the Examples artifact (the Evaluator's rows).
TEST_SPLIT_FOLDER = "Split-test"
# The name TFX's Evaluator gives the baseline model when it compares two.
BASELINE_MODEL_NAME = "baseline"
# The metrics the one-line summary shows, when the evaluation has them (binary,
# multiclass, regression: see components.evaluation.task_metrics).
HEADLINE_METRICS = (
    "binary_accuracy",
    "auc",
    "precision",
    "recall",
    "calibration",
    "sparse_categorical_accuracy",
    "root_mean_squared_error",
    "mean_absolute_error",
    "trivial_model_accuracy",
    "trivial_model_rmse",
    "example_count",
)


def metrics_by_slice(evaluation_uri: str) -> dict[str, dict[str, float]]:
    """TFMA metrics of an evaluation folder: slice name ("overall", "column=value") -> metrics.

    The candidate's metrics only; a metric compared with the baseline also
    appears as `<name>_diff` (candidate minus baseline).
    """
    import tensorflow_model_analysis as tfma

    return candidate_metrics(tfma.load_metrics(evaluation_uri))


def candidate_metrics(records) -> dict[str, dict[str, float]]:
    """Slice name -> the candidate's metrics, from TFMA `MetricsForSlice` records."""
    result = {}
    for record in records:
        slice_name = "overall"
        if record.slice_key.single_slice_keys:
            parts = []
            for key in record.slice_key.single_slice_keys:
                which = key.WhichOneof("kind")
                value = getattr(key, which)
                parts.append(
                    f"{key.column}={value.decode() if isinstance(value, bytes) else value}"
                )
            slice_name = ",".join(parts)
        metrics = result.setdefault(slice_name, {})
        for kv in record.metric_keys_and_values:
            # With a baseline, TFMA records both models' values under the same
            # metric names; only the model name tells them apart.
            if kv.key.model_name == BASELINE_MODEL_NAME:
                continue
            name = f"{kv.key.name}_diff" if kv.key.is_diff else kv.key.name
            if kv.value.WhichOneof("type") == "double_value":
                metrics[name] = kv.value.double_value.value
    return result


def _failed_thresholds(
    evaluation_uri: str, config: PipelineConfig, metrics: dict[str, float]
) -> list[str]:
    """One line per failed blessing threshold: the metric, its value, the bar and its source.

    Args:
      evaluation_uri: The Evaluator's output folder.
      config: The run's configuration (its command-line bars and the spec's).
      metrics: The candidate's overall metrics.
    """
    import tensorflow_model_analysis as tfma

    from components.blessing import describe_failure, resolve_bars

    validation = tfma.load_validation_result(evaluation_uri)
    evaluation = config.dataset.evaluation
    bars = resolve_bars(config.thresholds, evaluation, config.dataset.task)
    reasons = []
    for per_slice in validation.metric_validations_per_slice:
        for failure in per_slice.failures:
            key = failure.metric_key
            value = failure.metric_value.double_value.value
            reasons.append(
                describe_failure(
                    key.name, key.is_diff, value, metrics, bars, config.thresholds, evaluation
                )
            )
    if validation.missing_thresholds:  # a flag in this TFMA: a threshold found no metric
        reasons.append("a blessing threshold had no metric value to check")
    return reasons


def collect_drift(run: RunArtifacts, config: PipelineConfig) -> dict[str, Any] | None:
    """The drift check of a run: each compared column, and the warnings drift gave.

    Args:
      run: The run's artifacts in ML Metadata.
      config: The run's configuration (its drift thresholds and action).

    Returns:
      None when the run did not check drift (DistributionValidator did not run); else
      `compared` (False when there was nothing to compare with: no live model yet, or the
      live model's training statistics are this run's, unchanged data), `action` ("stop" or
      "warn"), `columns` (column, measure, distance, threshold, drifted), `warnings` (each
      drifted column in words, when drift only warns) and `not_compared` (each column that
      could not be compared, e.g. without any value, in words).
    """
    from components.drift import comparison

    anomalies = run.output("DistributionValidator", "ExampleAnomalies")
    if anomalies is None or config.drift is None:
        return None
    # Without a live model, the baseline is this run's own statistics: nothing to compare.
    statistics = {a.id for a in run.inputs("DistributionValidator", "ExampleStatistics")}
    result: dict[str, Any] = {
        "compared": len(statistics) > 1,
        "action": config.drift.action.value,
        "columns": [],
        "warnings": [],
        "not_compared": [],
    }
    loaded = comparison.load_comparison(anomalies.uri)
    if not result["compared"] or loaded is None:
        return result
    result["columns"] = [
        {
            "column": drift.column,
            "measure": drift.measure.value,
            "distance": drift.distance,
            "threshold": drift.threshold,
            "drifted": drift.drifted,
        }
        for drift in comparison.column_drifts(loaded)
    ]
    result["warnings"] = list(comparison.drift_lines(loaded, config.drift))
    result["not_compared"] = list(comparison.not_compared(loaded))
    return result


def collect(
    config: PipelineConfig,
    timings: dict[str, ComponentTiming],
    started: str = "",
    run_id: str | None = None,
) -> dict[str, Any]:
    """Builds the summary of one run recorded in `config`'s ML Metadata.

    Args:
      config: The run's configuration.
      timings: Wall time of each component in this run, from the progress handler.
      started: When the run started (ISO 8601). Defaults to "".
      run_id: The run's pipeline run id (`pipeline.runners.local.run`). Defaults to None:
        the newest run in the store.
    """
    run = RunArtifacts(config.metadata_path, run_id)
    summary: dict[str, Any] = {
        "pipeline_name": config.pipeline_name,
        "pipeline_run_id": run_id,
        "started": started,
        "data": os.path.join(config.data_root, config.data_pattern),
        "output_dir": config.output_dir,
        "components": {
            name: {"seconds": round(t.seconds, 2), "cached": t.cached}
            for name, t in timings.items()
        },
        "total_seconds": round(sum(t.seconds for t in timings.values()), 2),
        "blessed": False,
        "pushed": False,
        "not_blessed_reasons": [],
        "metrics": {},
        "model_dir": None,
        "training": None,
        "ingestion": None,
        "model": None,
        "drift": None,
    }
    examples = run.output("CsvExampleGen", "Examples")
    counts = os.path.join(examples.uri, contracts.INGESTION_SUMMARY_FILE) if examples else ""
    if counts and os.path.exists(counts):
        with open(counts) as f:
            ingested = json.load(f)
        summary["ingestion"] = {
            key: ingested[key]
            for key in (
                "rows_in",
                "rows_written",
                "rows_quarantined",
                "rows_per_split",
                "quarantined_by_check",
                "quarantine_file",
                "rows_per_second",
            )
        }
    summary["drift"] = collect_drift(run, config)
    evaluation = run.output("Evaluator", "ModelEvaluation")
    if evaluation is not None:
        summary["metrics"] = metrics_by_slice(evaluation.uri)
        summary["not_blessed_reasons"] = _failed_thresholds(
            evaluation.uri, config, summary["metrics"].get("overall", {})
        )
    blessing = run.output("Evaluator", "ModelBlessing")
    if blessing is not None:
        summary["blessed"] = custom_value(blessing, "blessed") == 1
    pushed = run.output("Pusher", "PushedModel")
    if pushed is not None:
        summary["pushed"] = custom_value(pushed, "pushed") == 1
        summary["model_dir"] = custom_value(pushed, "pushed_destination")
    model_run = run.output("Trainer", "ModelRun")
    history = os.path.join(model_run.uri, contracts.HISTORY_FILE) if model_run else ""
    if history and os.path.exists(history):
        with open(history) as f:
            record = json.load(f)
        if "epochs" in record:
            summary["training"] = {"epochs": record["epochs"], "best_epoch": record["best_epoch"]}
        summary["model"] = _model_choice(record.get("model"), run)
    return summary


def _model_choice(choice: dict | None, run: RunArtifacts) -> dict | None:
    """What the Trainer trained, scored on eval and chose; each candidate's SavedModel.

    The chosen candidate's is the Trainer's Model artifact (what the Evaluator judges and
    the Pusher pushes); the others were exported beside the training record.
    """
    if not choice:
        return None
    model = run.output("Trainer", "Model")
    chosen_dir = os.path.join(model.uri, SERVING_MODEL_SUBDIR) if model else None
    examples = run.output("CsvExampleGen", "Examples")
    return {
        "choice": choice["choice"],
        "chosen": choice["chosen"],
        "reason": choice["reason"],
        "left_out": choice.get("left_out", {}),
        "test_examples": os.path.join(examples.uri, TEST_SPLIT_FOLDER) if examples else None,
        "candidates": {
            name: {
                "eval": candidate["eval"],
                "trainer_seconds": candidate["trainer_seconds"],
                "model_dir": chosen_dir if name == choice["chosen"] else candidate.get("export"),
            }
            for name, candidate in choice["candidates"].items()
        },
    }


def write(summary: dict[str, Any], path: str) -> None:
    """Writes the summary as JSON, creating the folder if needed."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w") as f:
        json.dump(summary, f, indent=2, sort_keys=True)


def render_drift(drift: dict[str, Any] | None) -> list[str]:
    """The drift check in a line or a few: compared or not, and every drifted column."""
    if drift is None:
        return []
    if not drift["compared"]:
        return [
            "Drift: nothing to compare with (no live model yet, or this run's data is the "
            "data the live model was trained on)."
        ]
    notes = [f"  {line}" for line in drift.get("not_compared", [])]
    if not drift["warnings"]:
        return [
            f"Drift: {len(drift['columns'])} column(s) compared with the live model's "
            "training data; none drifted.",
            *notes,
        ]
    return [
        f"Warning: the data drifted from the live model's training data in "
        f"{len(drift['warnings'])} column(s); the run went on (drift only warns for this "
        "data set):",
        *(f"  {line}" for line in drift["warnings"]),
        *notes,
    ]


def render(summary: dict[str, Any]) -> str:
    """Returns the summary as a few lines of plain text for the console."""
    lines = ["", "Run summary"]
    for name, component in summary["components"].items():
        cached = "  (cached)" if component["cached"] else ""
        lines.append(f"  {name:<32} {component['seconds']:>8.1f}s{cached}")
    lines.append(f"  {'total':<32} {summary['total_seconds']:>8.1f}s")
    ingestion = summary.get("ingestion")
    if ingestion:
        line = (
            f"Ingestion: {ingestion['rows_in']:,} rows in, {ingestion['rows_written']:,} "
            f"written, {ingestion['rows_quarantined']:,} quarantined"
        )
        if ingestion["rows_quarantined"]:
            line += f" ({ingestion['quarantine_file']})"
        lines.append(line)
    lines += render_drift(summary.get("drift"))
    if summary["training"]:
        training = summary["training"]
        lines.append(
            f"Training: {training['epochs']} epochs, "
            f"best weights from epoch {training['best_epoch']}"
        )
    model = summary.get("model")
    if model:
        lines.append(f"Model: --model {model['choice']} serves {model['reason']}")
        lines.extend(f"  left out: {why}" for why in model["left_out"].values())
        if len(model["candidates"]) > 1:
            lines.extend(_candidate_lines(model["candidates"]))
    overall = summary["metrics"].get("overall", {})
    if overall:
        shown = [f"{m}={overall[m]:.4f}" for m in HEADLINE_METRICS if m in overall]
        lines.append("Test metrics: " + ", ".join(shown))
    if summary["pushed"]:
        lines.append(f"Blessed and pushed to {summary['model_dir']}")
    elif summary["blessed"]:
        lines.append("Blessed, but not pushed.")
    else:
        reasons = "; ".join(summary["not_blessed_reasons"]) or "see the Evaluator output"
        lines.append(f"Not blessed, not pushed (the live model is unchanged): {reasons}")
    return "\n".join(lines)


def _candidate_lines(candidates: dict[str, dict]) -> list[str]:
    """One line per candidate: its eval metrics (the choice) and test metrics (for reading)."""

    def shown(metrics: dict | None) -> str:
        if not metrics:
            return "-"
        return ", ".join(
            f"{name} {'undefined' if value is None else f'{value:.4f}'}"
            for name, value in metrics.items()
        )

    return [
        f"  {name:<10} eval: {shown(c['eval'])}; test: {shown(c.get('test'))}; "
        f"trained in {c['trainer_seconds']:.1f}s"
        for name, c in candidates.items()
    ]
