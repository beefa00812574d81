"""The run report as one self-contained HTML page: inline CSS, plots embedded as PNG data URIs.

The page needs nothing but a browser: no scripts, fonts or links outside the
file, so it can be mailed, archived with the run, or opened offline. Every
piece of text from the run is HTML-escaped.
"""

from __future__ import annotations

import html
import os
from collections.abc import Sequence
from pathlib import Path

from pipeline.report import markup, plots
from pipeline.report.model import (
    Drift,
    Evaluation,
    FeatureStats,
    LayerRow,
    ModelChoice,
    ReportData,
    RunInfo,
    Training,
)

# The decision threshold shown in the confusion matrix.
CONFUSION_THRESHOLD = 0.5
# Metrics that count examples: shown as whole numbers, not to 4 decimals.
_COUNT_METRICS = frozenset({"example_count", "weighted_example_count"})
_OVERALL = "overall"


def _verdict(run: RunInfo) -> str:
    if run.pushed:
        return '<p class="good">Blessed and pushed.</p>'
    if run.blessed:
        return '<p class="good">Blessed, but not pushed.</p>'
    verdict = '<p class="bad">Not blessed, not pushed: the live model is unchanged.</p>'
    reasons = run.not_blessed_reasons or ("No reason was recorded; see the Evaluator output.",)
    return verdict + markup.bullets(reasons)


def _summary(run: RunInfo) -> str:
    facts = (
        ("Pipeline", run.pipeline_name),
        ("Data", run.data),
        ("Started", run.started or "Not recorded."),
        ("Outputs", run.output_dir),
        ("Model", run.model_dir or "No model was pushed."),
    )
    listing = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in facts)
    cached = markup.Raw('<span class="tag">cached</span>')
    rows = [
        (name, markup.Num(f"{seconds:.1f}"), cached if was_cached else "")
        for name, seconds, was_cached in run.component_seconds
    ]
    total = sum(seconds for _, seconds, _ in run.component_seconds)
    times = markup.table(
        ("Component", markup.Num("Seconds"), "Cache"),
        rows,
        ("Total", markup.Num(f"{total:.1f}"), ""),
    )
    return f'<dl class="facts">{listing}</dl>{_verdict(run)}<h3>Time per component</h3>{times}'


def _feature_row(feature: FeatureStats) -> tuple[str, ...]:
    examples = feature.count + feature.missing
    share = markup.Num(f"{100 * feature.missing / examples:.1f}%") if examples else ""
    if feature.kind == "categorical":
        summary = ("", "", "", "")
        top = ", ".join(f"{value} ({frequency:,})" for value, frequency in feature.top_values)
    else:
        numbers = (feature.mean, feature.std, feature.minimum, feature.maximum)
        # Four significant digits keep ids like census tracts (1.703e+10) narrow.
        summary = tuple("" if n is None else markup.Num(f"{n:.4g}") for n in numbers)
        top = ""
    return (
        feature.name,
        feature.kind,
        markup.count(feature.count),
        markup.count(feature.missing),
        share,
        *summary,
        top,
    )


def _data(statistics: dict[str, tuple[FeatureStats, ...]], anomalies: Sequence[str]) -> str:
    numeric = ("Count", "Missing", "Missing %", "Mean", "Std", "Min", "Max")
    header = ("Feature", "Type", *map(markup.Num, numeric), "Top values")
    parts = [
        f"<h3>Split: {html.escape(split)}</h3>" + markup.table(header, map(_feature_row, features))
        for split, features in statistics.items()
    ]
    if not parts:
        parts.append(markup.paragraph("No data statistics were recorded for this run.", "note"))
    parts.append("<h3>Anomalies</h3>")
    parts.append(markup.bullets(anomalies) if anomalies else markup.paragraph("No anomalies."))
    return "".join(parts)


def _drift(drift: Drift | None) -> str:
    if drift is None:
        return ""
    parts = ["<h3>Drift against the live model's training data</h3>"]
    if not drift.compared:
        parts.append(
            markup.paragraph(
                "Nothing to compare with: no live model yet, or this run's data is the data "
                "the live model was trained on.",
                "note",
            )
        )
        return "".join(parts)
    header = ("Column", "Measure", markup.Num("Distance"), markup.Num("Threshold"), "Drifted")
    rows = [
        (
            row.column,
            row.measure,
            markup.Num(f"{row.distance:.4f}"),
            markup.Num(f"{row.threshold:.4f}"),
            markup.Raw('<span class="bad">drifted</span>') if row.drifted else "no",
        )
        for row in drift.rows
    ]
    verdict = (
        "Drift stops a run of this data set."
        if drift.action == "stop"
        else "Drift only warns for this data set: the run went on."
    )
    parts.append(markup.paragraph(f"Measured on the train split. {verdict}"))
    parts.append(markup.table(header, rows))
    return "".join(parts)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _training(training: Training | None) -> str:
    if training is None:
        return markup.paragraph(
            "No training record: the Trainer did not run or left no history.", "note"
        )
    parts = [
        markup.paragraph(
            f"Trained for {training.epochs} epochs; "
            f"the weights of epoch {training.best_epoch} were kept."
        )
    ]
    figures = []
    if training.history:
        figures.append(
            markup.image(
                plots.learning_curves(training),
                "Loss and metrics per epoch",
                "Loss and metrics per epoch, train and eval; the dashed line marks the best epoch.",
            )
        )
    if training.learning_rate_per_step:
        figures.append(markup.image(plots.learning_rate(training), "Learning rate per step"))
    if training.lr_finder:
        figures.append(
            markup.image(
                plots.lr_finder(training.lr_finder),
                "Learning-rate finder",
                "Loss against learning rate in a range test before training.",
            )
        )
    parts.append(f'<div class="figures">{"".join(figures)}</div>')
    if training.hparams:
        rows = [
            (name, markup.Num(str(value)) if _is_number(value) else str(value))
            for name, value in training.hparams.items()
        ]
        parts.append("<h3>Hyperparameters</h3>" + markup.table(("Name", "Value"), rows))
    return "".join(parts)


def _candidates(choice: ModelChoice | None) -> str:
    if choice is None:
        return markup.paragraph("No model choice was recorded.", "note")
    parts = [markup.paragraph(f"--model {choice.choice} serves {choice.reason}.")]
    if choice.left_out:
        parts.append(markup.bullets(f"Left out: {why}." for why in choice.left_out))
    names = sorted({m for c in choice.candidates for m in c.eval_metrics})
    rows = [
        (
            f"{c.name} (served)" if c.chosen else c.name,
            *(_format_metric(m, c.eval_metrics.get(m)) for m in names),
            *(_format_metric(m, c.test_metrics.get(m)) if c.test_metrics else "-" for m in names),
            markup.Num(f"{c.trainer_seconds:.1f}"),
        )
        for c in choice.candidates
    ]
    header = (
        "Candidate",
        *(markup.Num(f"eval {m}") for m in names),
        *(markup.Num(f"test {m}") for m in names),
        markup.Num("Trainer s"),
    )
    parts.append(markup.table(header, rows))
    parts.append(
        markup.paragraph(
            "Chosen on the eval split only; the test columns are for reading (the Evaluator "
            "judges the served model on the test split).",
            "note",
        )
    )
    return "".join(parts)


def _slice_order(metrics_by_slice: dict[str, dict[str, float]]) -> list[str]:
    """Overall first, then the largest slices; slices without a count last, by name."""
    others = [name for name in metrics_by_slice if name != _OVERALL]
    others.sort(key=lambda name: (-metrics_by_slice[name].get("example_count", -1.0), name))
    return ([_OVERALL] if _OVERALL in metrics_by_slice else []) + others


def _format_metric(name: str, value: float | None) -> str:
    if value is None:
        return ""
    return markup.count(value) if name in _COUNT_METRICS else markup.metric(value)


def _metrics_table(metrics_by_slice: dict[str, dict[str, float]]) -> str:
    slices = _slice_order(metrics_by_slice)
    names = list(dict.fromkeys(name for s in slices for name in metrics_by_slice[s]))
    rows = [(s, *(_format_metric(n, metrics_by_slice[s].get(n)) for n in names)) for s in slices]
    return markup.table(("Slice", *map(markup.Num, names)), rows)


def _baseline(evaluation: Evaluation) -> str:
    if not evaluation.baseline_diff:
        return markup.paragraph("No baseline model: first blessed model.")
    overall = evaluation.metrics_by_slice.get(_OVERALL, {})
    rows = []
    for name, change in evaluation.baseline_diff.items():
        candidate = overall.get(name)
        baseline = None if candidate is None else candidate - change
        rows.append(
            (
                name,
                _format_metric(name, candidate),
                _format_metric(name, baseline),
                markup.Num(f"{change:+.4f}"),
            )
        )
    header = ("Metric", *map(markup.Num, ("Candidate", "Baseline", "Candidate - baseline")))
    return markup.table(header, rows)


def _evaluation_figures(evaluation: Evaluation) -> list[str]:
    figures = []
    if evaluation.calibration:
        figures.append(
            markup.image(
                plots.calibration(evaluation.calibration),
                "Calibration plot",
                "Mean label against mean prediction per bucket; "
                "on the diagonal, predictions match outcomes.",
            )
        )
    if not evaluation.confusion:
        return figures
    chosen = plots.nearest_threshold(evaluation.confusion, CONFUSION_THRESHOLD)
    figures.append(
        markup.image(
            plots.confusion_matrix(evaluation.confusion, CONFUSION_THRESHOLD),
            "Confusion matrix",
            f"At threshold {chosen.threshold:.4f}, the recorded one nearest to "
            f"{CONFUSION_THRESHOLD}.",
        )
    )
    try:
        png, auc = plots.roc(evaluation.confusion)
    except ValueError as error:
        # A test split holding one class has no ROC curve; the rest of the report still stands.
        figures.append(markup.paragraph(f"ROC curve not drawn: {error}", "note"))
    else:
        figures.append(
            markup.image(
                png,
                "ROC curve",
                f"AUC {auc:.4f} by the trapezoid rule over {len(evaluation.confusion)} thresholds.",
            )
        )
    return figures


def _evaluation(evaluation: Evaluation | None) -> str:
    if evaluation is None:
        return markup.paragraph(
            "No evaluation: the Evaluator did not run or left no results.", "note"
        )
    if evaluation.metrics_by_slice:
        parts = ["<h3>Metrics by slice</h3>" + _metrics_table(evaluation.metrics_by_slice)]
    else:
        parts = [markup.paragraph("No metrics were recorded.", "note")]
    parts.append(f'<div class="figures">{"".join(_evaluation_figures(evaluation))}</div>')
    parts.append("<h3>Against the baseline</h3>" + _baseline(evaluation))
    return "".join(parts)


def _model(layers: Sequence[LayerRow]) -> str:
    if not layers:
        return markup.paragraph("No model summary was recorded for this run.", "note")
    rows = [
        (
            layer.name,
            layer.kind,
            layer.output_shape,
            markup.count(layer.params),
            "yes" if layer.trainable else "no",
        )
        for layer in layers
    ]
    total = sum(layer.params for layer in layers)
    trainable = sum(layer.params for layer in layers if layer.trainable)
    header = ("Layer", "Type", "Output shape", markup.Num("Params"), "Trainable")
    footer = ("Total", "", "", markup.count(total), f"{trainable:,} trainable")
    return markup.table(header, rows, footer)


_SECTIONS = (
    ("summary", "Summary"),
    ("data", "Data"),
    ("training", "Training"),
    ("candidates", "Candidates"),
    ("evaluation", "Evaluation"),
    ("model", "Model"),
)


def render(data: ReportData) -> str:
    """Renders the run report as one self-contained HTML5 page.

    Args:
      data: Everything the report shows.

    Returns:
      The page: inline CSS, plots as PNG data URIs, no scripts and no external URLs.
    """
    bodies = {
        "summary": _summary(data.run),
        "data": _data(data.statistics, data.anomalies) + _drift(data.drift),
        "training": _training(data.training),
        "candidates": _candidates(data.model_choice),
        "evaluation": _evaluation(data.evaluation),
        "model": _model(data.layers),
    }
    sections = "".join(markup.section(key, title, bodies[key]) for key, title in _SECTIONS)
    nav = "".join(f'<a href="#{key}">{title}</a>' for key, title in _SECTIONS)
    title = html.escape(f"Run report: {data.run.pipeline_name}")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title}</title>\n<style>{markup.STYLE}</style>\n</head>\n<body>\n"
        f"<header><h1>{title}</h1><nav>{nav}</nav></header>\n"
        f"<main>{sections}</main>\n</body>\n</html>\n"
    )


def write_report(data: ReportData, path: str | os.PathLike[str]) -> None:
    """Renders the report and writes it as UTF-8, creating the folder if needed.

    Args:
      data: Everything the report shows.
      path: Where to write the HTML file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(data), encoding="utf-8")
