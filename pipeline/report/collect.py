"""Gathers a run's report data from what the pipeline wrote: summary, ML Metadata, artifacts.

Everything is read from the run's output folder, so a report can be made
again later (`deepline report RUN`) without re-running anything.
"""

from __future__ import annotations

import json
import os

from pipeline.contracts import HISTORY_FILE, METADATA_FILE, SUMMARY_FILE
from pipeline.report import model as report_model
from pipeline.run_artifacts import RunArtifacts


def _present_and_missing(common) -> tuple[int, int]:
    """Examples with a value, and without one.

    CsvExampleGen writes an empty cell as an empty value list, which TFDV
    counts as present; for a single-valued column the examples that really
    have a value are its total number of values.
    """
    examples = int(common.num_non_missing + common.num_missing)
    present = int(common.num_non_missing)
    if common.max_num_values <= 1:
        present = min(present, int(common.tot_num_values))
    return present, examples - present


def _feature_stats(feature) -> report_model.FeatureStats:
    name = feature.path.step[-1] if feature.path.step else feature.name
    numeric = feature.HasField("num_stats")
    stats = feature.num_stats if numeric else feature.string_stats
    present, missing = _present_and_missing(stats.common_stats)
    return report_model.FeatureStats(
        name=name,
        kind="numeric" if numeric else "categorical",
        count=present,
        missing=missing,
        mean=stats.mean if numeric else None,
        std=stats.std_dev if numeric else None,
        minimum=stats.min if numeric else None,
        maximum=stats.max if numeric else None,
        top_values=()
        if numeric
        else tuple((v.value, int(v.frequency)) for v in stats.top_values[:5]),
    )


def collect_statistics(run: RunArtifacts) -> dict[str, tuple[report_model.FeatureStats, ...]]:
    """Per-split feature statistics from StatisticsGen's output."""
    from tfx.components.statistics_gen import stats_artifact_utils
    from tfx.types import artifact_utils, standard_artifacts

    artifact = run.output("StatisticsGen", "ExampleStatistics")
    if artifact is None:
        return {}
    statistics = standard_artifacts.ExampleStatistics()
    statistics.set_mlmd_artifact(artifact)
    result = {}
    for split in artifact_utils.decode_split_names(statistics.split_names):
        proto = stats_artifact_utils.load_statistics(statistics, split).proto()
        features = proto.datasets[0].features if proto.datasets else []
        result[split] = tuple(sorted((_feature_stats(f) for f in features), key=lambda s: s.name))
    return result


def collect_anomalies(run: RunArtifacts) -> tuple[str, ...]:
    """The validator's anomalies in words, one per line."""
    from tfx.types import artifact_utils

    from components.validation_gate import describe_anomalies, load_anomalies

    artifact = run.output("ExampleValidator", "ExampleAnomalies")
    if artifact is None:
        return ()
    splits = artifact_utils.decode_split_names(artifact.properties["split_names"].string_value)
    return tuple(describe_anomalies(load_anomalies(artifact.uri, splits)))


def collect_training(run: RunArtifacts) -> report_model.Training | None:
    """Per-epoch history, per-step learning rate and hyperparameters from the Trainer."""
    artifact = run.output("Trainer", "ModelRun")
    path = os.path.join(artifact.uri, HISTORY_FILE) if artifact else ""
    if not path or not os.path.exists(path):
        return None
    with open(path) as f:
        record = json.load(f)
    steps = record.get("steps", {})
    if "epochs" not in record:  # a family trained without epochs (trees)
        return None
    return report_model.Training(
        epochs=record["epochs"],
        best_epoch=record["best_epoch"],
        history={k: tuple(v) for k, v in record["history"].items()},
        learning_rate_per_step=tuple(steps.get("learning_rate", ())),
        momentum_per_step=tuple(steps.get("momentum", ())),
        lr_finder=_lr_finder_points(record.get("lr_finder")),
        hparams=record.get("hparams", {}),
    )


def _lr_finder_points(finder: dict | None) -> tuple[tuple[float, float], ...]:
    """(rate, smoothed loss) points of the Trainer's learning-rate finder; () if it did not run."""
    if not finder:
        return ()
    return tuple(zip(finder["rates"], finder["losses"], strict=True))


def collect_evaluation(run: RunArtifacts) -> report_model.Evaluation | None:
    """Metrics per slice, calibration buckets, confusion matrices and the baseline comparison."""
    import tensorflow_model_analysis as tfma

    from pipeline.summary import metrics_by_slice

    artifact = run.output("Evaluator", "ModelEvaluation")
    if artifact is None:
        return None
    metrics = metrics_by_slice(artifact.uri)
    overall = metrics.get("overall", {})
    baseline_diff = {k[: -len("_diff")]: v for k, v in overall.items() if k.endswith("_diff")}
    metrics = {
        name: {k: v for k, v in values.items() if not k.endswith("_diff")}
        for name, values in metrics.items()
    }
    calibration, confusion = (), ()
    for plots in tfma.load_plots(artifact.uri):
        if plots.slice_key.single_slice_keys:
            continue
        for entry in plots.plot_keys_and_values:
            value = entry.value
            if value.HasField("calibration_histogram_buckets"):
                calibration = tuple(
                    report_model.CalibrationBucket(
                        lower=b.lower_threshold_inclusive,
                        upper=b.upper_threshold_exclusive,
                        mean_prediction=_ratio(
                            b.total_weighted_refined_prediction.value, b.num_weighted_examples.value
                        ),
                        mean_label=_ratio(
                            b.total_weighted_label.value, b.num_weighted_examples.value
                        ),
                        count=b.num_weighted_examples.value,
                    )
                    for b in value.calibration_histogram_buckets.buckets
                    if b.num_weighted_examples.value > 0
                )
            if value.HasField("confusion_matrix_at_thresholds"):
                confusion = tuple(
                    report_model.ConfusionAtThreshold(
                        threshold=m.threshold,
                        tp=m.true_positives,
                        fp=m.false_positives,
                        tn=m.true_negatives,
                        fn=m.false_negatives,
                    )
                    for m in sorted(
                        value.confusion_matrix_at_thresholds.matrices, key=lambda m: m.threshold
                    )
                )
    return report_model.Evaluation(
        metrics_by_slice=metrics,
        calibration=calibration,
        confusion=confusion,
        baseline_diff=baseline_diff,
    )


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0


def collect_layers(run: RunArtifacts) -> tuple[report_model.LayerRow, ...]:
    """Layer table of the served model, as the Trainer recorded it (`export.layer_table`).

    A run from before the Trainer recorded it: the table is read from the model itself.
    """
    artifact = run.output("Trainer", "ModelRun")
    path = os.path.join(artifact.uri, HISTORY_FILE) if artifact else ""
    rows = None
    if path and os.path.exists(path):
        with open(path) as f:
            rows = json.load(f).get("layers")
    if rows is None:
        rows = _layers_of_served_model(run)
    return tuple(report_model.LayerRow(**row) for row in rows)


def _layers_of_served_model(run: RunArtifacts) -> list[dict]:
    import tf_keras as keras

    from components import serving_ops
    from components.trainer.export import layer_table

    artifact = run.output("Trainer", "Model")
    path = os.path.join(artifact.uri, "Format-Serving") if artifact else ""
    if not path or not os.path.exists(path):
        return []
    serving_ops.register()  # the served model may hold TF-DF trees
    return layer_table(keras.models.load_model(path, compile=False))


def collect_model_choice(model: dict | None) -> report_model.ModelChoice | None:
    """The Trainer's candidates and choice, as the run summary recorded them."""
    if not model:
        return None
    return report_model.ModelChoice(
        choice=model["choice"],
        reason=model["reason"],
        left_out=tuple(model.get("left_out", {}).values()),
        candidates=tuple(
            report_model.Candidate(
                name=name,
                eval_metrics=candidate["eval"],
                test_metrics=candidate.get("test"),
                trainer_seconds=candidate["trainer_seconds"],
                chosen=name == model["chosen"],
            )
            for name, candidate in model["candidates"].items()
        ),
    )


def collect_drift(summary: dict) -> report_model.Drift | None:
    """The drift check the summary recorded (`pipeline.summary.collect_drift`), or None."""
    from components.drift.settings import Measure

    drift = summary.get("drift")
    if not drift:
        return None
    rows = tuple(
        report_model.DriftRow(
            column=row["column"],
            measure=Measure(row["measure"]).words,
            distance=row["distance"],
            threshold=row["threshold"],
            drifted=row["drifted"],
        )
        for row in drift["columns"]
    )
    return report_model.Drift(compared=drift["compared"], action=drift["action"], rows=rows)


def collect(output_dir: str) -> report_model.ReportData:
    """Builds the report data of the run `output_dir`'s summary.json describes.

    Raises:
      FileNotFoundError: `output_dir` holds no finished run (no summary.json).
    """
    summary_path = os.path.join(output_dir, SUMMARY_FILE)
    if not os.path.exists(summary_path):
        raise FileNotFoundError(
            f"{summary_path} not found: {output_dir} holds no finished run. "
            "Pass the --output folder of a `deepline run`."
        )
    with open(summary_path) as f:
        summary = json.load(f)
    # The summary's run, not the store's newest: another run may have recorded since.
    run = RunArtifacts(os.path.join(output_dir, METADATA_FILE), summary.get("pipeline_run_id"))
    info = report_model.RunInfo(
        pipeline_name=summary["pipeline_name"],
        data=summary["data"],
        output_dir=summary["output_dir"],
        started=summary.get("started", ""),
        component_seconds=tuple(
            (name, c["seconds"], c["cached"]) for name, c in summary["components"].items()
        ),
        blessed=summary["blessed"],
        pushed=summary["pushed"],
        not_blessed_reasons=tuple(summary["not_blessed_reasons"]),
        model_dir=summary["model_dir"],
    )
    return report_model.ReportData(
        run=info,
        statistics=collect_statistics(run),
        anomalies=collect_anomalies(run),
        training=collect_training(run),
        evaluation=collect_evaluation(run),
        layers=collect_layers(run),
        model_choice=collect_model_choice(summary.get("model")),
        drift=collect_drift(summary),
    )
