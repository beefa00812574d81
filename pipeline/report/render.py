"""The run report as one self-contained HTML page: inline CSS, plots embedded as PNG data URIs.

The page needs nothing but a browser: no scripts, fonts or links outside the
file, so it can be mailed, archived with the run, or opened offline. Every
piece of text from the run is HTML-escaped.
"""

from __future__ import annotations

import base64
import html
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from pipeline.report import plots
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

_STYLE = """
:root { --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --head: #f6f8fa;
        --good: #1a7f37; --bad: #cf222e; --link: #0969da; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: var(--fg); max-width: 1100px; margin: 0 auto; padding: 0 1.5rem 3rem; }
header { border-bottom: 1px solid var(--line); padding: 1rem 0 .5rem; }
h1 { margin: 0 0 .25rem; font-size: 1.6rem; }
h2 { margin-top: 2.5rem; padding-bottom: .25rem; border-bottom: 1px solid var(--line); }
h3 { margin-top: 1.5rem; font-size: 1.05rem; }
nav a { color: var(--link); text-decoration: none; margin-right: 1.25rem; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: .2rem 1.25rem; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.good { color: var(--good); font-weight: 600; }
.bad { color: var(--bad); font-weight: 600; }
.note { color: var(--muted); }
table { border-collapse: collapse; margin: .75rem 0; font-size: 14px; }
th, td { border: 1px solid var(--line); padding: .25rem .6rem; text-align: left;
         vertical-align: top; }
th { background: var(--head); font-weight: 600; }
td:last-child { min-width: 12rem; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tfoot td { font-weight: 600; background: var(--head); }
.tag { font-size: 12px; padding: 0 .45rem; border-radius: 1rem; background: #ddf4ff; }
.figures { display: flex; flex-wrap: wrap; gap: 1.5rem; align-items: flex-start; }
figure { margin: .75rem 0; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: 13px; }
"""


class _Raw(str):
    """Markup built here from escaped parts; a table puts it in a cell as is."""


class _Num(str):
    """A formatted number; a table right-aligns it."""


def _cell(tag: str, value: str) -> str:
    if isinstance(value, _Num):
        return f'<{tag} class="num">{html.escape(value)}</{tag}>'
    if isinstance(value, _Raw):
        return f"<{tag}>{value}</{tag}>"
    return f"<{tag}>{html.escape(value)}</{tag}>"


def _table(header: Sequence[str], rows: Iterable[Sequence[str]], footer: Sequence[str] = ()) -> str:
    head = "".join(_cell("th", h) for h in header)
    body = "".join("<tr>" + "".join(_cell("td", c) for c in row) + "</tr>" for row in rows)
    foot = "<tfoot><tr>" + "".join(_cell("td", c) for c in footer) + "</tr></tfoot>"
    return (
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody>"
        f"{foot if footer else ''}</table>"
    )


def _metric(value: float) -> _Num:
    return _Num(f"{value:.4f}")


def _count(value: float) -> _Num:
    return _Num(f"{value:,.0f}")


def _paragraph(text: str, css_class: str = "") -> str:
    attribute = f' class="{css_class}"' if css_class else ""
    return f"<p{attribute}>{html.escape(text)}</p>"


def _bullets(items: Iterable[str]) -> str:
    return "<ul>" + "".join(f"<li>{html.escape(item)}</li>" for item in items) + "</ul>"


def _image(png: bytes, alt: str, caption: str = "") -> str:
    data = base64.b64encode(png).decode("ascii")
    text = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    image = f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'
    return f"<figure>{image}{text}</figure>"


def _section(section_id: str, title: str, body: str) -> str:
    return f'<section id="{section_id}"><h2>{html.escape(title)}</h2>{body}</section>'


def _verdict(run: RunInfo) -> str:
    if run.pushed:
        return '<p class="good">Blessed and pushed.</p>'
    if run.blessed:
        return '<p class="good">Blessed, but not pushed.</p>'
    verdict = '<p class="bad">Not blessed, not pushed: the live model is unchanged.</p>'
    reasons = run.not_blessed_reasons or ("No reason was recorded; see the Evaluator output.",)
    return verdict + _bullets(reasons)


def _summary(run: RunInfo) -> str:
    facts = (
        ("Pipeline", run.pipeline_name),
        ("Data", run.data),
        ("Started", run.started or "Not recorded."),
        ("Outputs", run.output_dir),
        ("Model", run.model_dir or "No model was pushed."),
    )
    listing = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in facts)
    cached = _Raw('<span class="tag">cached</span>')
    rows = [
        (name, _Num(f"{seconds:.1f}"), cached if was_cached else "")
        for name, seconds, was_cached in run.component_seconds
    ]
    total = sum(seconds for _, seconds, _ in run.component_seconds)
    times = _table(
        ("Component", _Num("Seconds"), "Cache"), rows, ("Total", _Num(f"{total:.1f}"), "")
    )
    return f'<dl class="facts">{listing}</dl>{_verdict(run)}<h3>Time per component</h3>{times}'


def _feature_row(feature: FeatureStats) -> tuple[str, ...]:
    examples = feature.count + feature.missing
    share = _Num(f"{100 * feature.missing / examples:.1f}%") if examples else ""
    if feature.kind == "categorical":
        summary = ("", "", "", "")
        top = ", ".join(f"{value} ({frequency:,})" for value, frequency in feature.top_values)
    else:
        numbers = (feature.mean, feature.std, feature.minimum, feature.maximum)
        # Four significant digits keep ids like census tracts (1.703e+10) narrow.
        summary = tuple("" if n is None else _Num(f"{n:.4g}") for n in numbers)
        top = ""
    return (
        feature.name,
        feature.kind,
        _count(feature.count),
        _count(feature.missing),
        share,
        *summary,
        top,
    )


def _data(statistics: dict[str, tuple[FeatureStats, ...]], anomalies: Sequence[str]) -> str:
    numeric = ("Count", "Missing", "Missing %", "Mean", "Std", "Min", "Max")
    header = ("Feature", "Type", *map(_Num, numeric), "Top values")
    parts = [
        f"<h3>Split: {html.escape(split)}</h3>" + _table(header, map(_feature_row, features))
        for split, features in statistics.items()
    ]
    if not parts:
        parts.append(_paragraph("No data statistics were recorded for this run.", "note"))
    parts.append("<h3>Anomalies</h3>")
    parts.append(_bullets(anomalies) if anomalies else _paragraph("No anomalies."))
    return "".join(parts)


def _drift(drift: Drift | None) -> str:
    if drift is None:
        return ""
    parts = ["<h3>Drift against the live model's training data</h3>"]
    if not drift.compared:
        parts.append(
            _paragraph(
                "Nothing to compare with: no live model yet, or this run's data is the data "
                "the live model was trained on.",
                "note",
            )
        )
        return "".join(parts)
    header = ("Column", "Measure", _Num("Distance"), _Num("Threshold"), "Drifted")
    rows = [
        (
            row.column,
            row.measure,
            _Num(f"{row.distance:.4f}"),
            _Num(f"{row.threshold:.4f}"),
            _Raw('<span class="bad">drifted</span>') if row.drifted else "no",
        )
        for row in drift.rows
    ]
    verdict = (
        "Drift stops a run of this data set."
        if drift.action == "stop"
        else "Drift only warns for this data set: the run went on."
    )
    parts.append(_paragraph(f"Measured on the train split. {verdict}"))
    parts.append(_table(header, rows))
    return "".join(parts)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _training(training: Training | None) -> str:
    if training is None:
        return _paragraph("No training record: the Trainer did not run or left no history.", "note")
    parts = [
        _paragraph(
            f"Trained for {training.epochs} epochs; "
            f"the weights of epoch {training.best_epoch} were kept."
        )
    ]
    figures = []
    if training.history:
        figures.append(
            _image(
                plots.learning_curves(training),
                "Loss and metrics per epoch",
                "Loss and metrics per epoch, train and eval; the dashed line marks the best epoch.",
            )
        )
    if training.learning_rate_per_step:
        figures.append(_image(plots.learning_rate(training), "Learning rate per step"))
    if training.lr_finder:
        figures.append(
            _image(
                plots.lr_finder(training.lr_finder),
                "Learning-rate finder",
                "Loss against learning rate in a range test before training.",
            )
        )
    parts.append(f'<div class="figures">{"".join(figures)}</div>')
    if training.hparams:
        rows = [
            (name, _Num(str(value)) if _is_number(value) else str(value))
            for name, value in training.hparams.items()
        ]
        parts.append("<h3>Hyperparameters</h3>" + _table(("Name", "Value"), rows))
    return "".join(parts)


def _candidates(choice: ModelChoice | None) -> str:
    if choice is None:
        return _paragraph("No model choice was recorded.", "note")
    parts = [_paragraph(f"--model {choice.choice} serves {choice.reason}.")]
    if choice.left_out:
        parts.append(_bullets(f"Left out: {why}." for why in choice.left_out))
    names = sorted({m for c in choice.candidates for m in c.eval_metrics})
    rows = [
        (
            f"{c.name} (served)" if c.chosen else c.name,
            *(_format_metric(m, c.eval_metrics.get(m)) for m in names),
            *(_format_metric(m, c.test_metrics.get(m)) if c.test_metrics else "-" for m in names),
            _Num(f"{c.trainer_seconds:.1f}"),
        )
        for c in choice.candidates
    ]
    header = (
        "Candidate",
        *(_Num(f"eval {m}") for m in names),
        *(_Num(f"test {m}") for m in names),
        _Num("Trainer s"),
    )
    parts.append(_table(header, rows))
    parts.append(
        _paragraph(
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
    return _count(value) if name in _COUNT_METRICS else _metric(value)


def _metrics_table(metrics_by_slice: dict[str, dict[str, float]]) -> str:
    slices = _slice_order(metrics_by_slice)
    names = list(dict.fromkeys(name for s in slices for name in metrics_by_slice[s]))
    rows = [(s, *(_format_metric(n, metrics_by_slice[s].get(n)) for n in names)) for s in slices]
    return _table(("Slice", *map(_Num, names)), rows)


def _baseline(evaluation: Evaluation) -> str:
    if not evaluation.baseline_diff:
        return _paragraph("No baseline model: first blessed model.")
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
                _Num(f"{change:+.4f}"),
            )
        )
    header = ("Metric", *map(_Num, ("Candidate", "Baseline", "Candidate - baseline")))
    return _table(header, rows)


def _evaluation_figures(evaluation: Evaluation) -> list[str]:
    figures = []
    if evaluation.calibration:
        figures.append(
            _image(
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
        _image(
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
        figures.append(_paragraph(f"ROC curve not drawn: {error}", "note"))
    else:
        figures.append(
            _image(
                png,
                "ROC curve",
                f"AUC {auc:.4f} by the trapezoid rule over {len(evaluation.confusion)} thresholds.",
            )
        )
    return figures


def _evaluation(evaluation: Evaluation | None) -> str:
    if evaluation is None:
        return _paragraph("No evaluation: the Evaluator did not run or left no results.", "note")
    if evaluation.metrics_by_slice:
        parts = ["<h3>Metrics by slice</h3>" + _metrics_table(evaluation.metrics_by_slice)]
    else:
        parts = [_paragraph("No metrics were recorded.", "note")]
    parts.append(f'<div class="figures">{"".join(_evaluation_figures(evaluation))}</div>')
    parts.append("<h3>Against the baseline</h3>" + _baseline(evaluation))
    return "".join(parts)


def _model(layers: Sequence[LayerRow]) -> str:
    if not layers:
        return _paragraph("No model summary was recorded for this run.", "note")
    rows = [
        (
            layer.name,
            layer.kind,
            layer.output_shape,
            _count(layer.params),
            "yes" if layer.trainable else "no",
        )
        for layer in layers
    ]
    total = sum(layer.params for layer in layers)
    trainable = sum(layer.params for layer in layers if layer.trainable)
    header = ("Layer", "Type", "Output shape", _Num("Params"), "Trainable")
    footer = ("Total", "", "", _count(total), f"{trainable:,} trainable")
    return _table(header, rows, footer)


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
    sections = "".join(_section(key, title, bodies[key]) for key, title in _SECTIONS)
    nav = "".join(f'<a href="#{key}">{title}</a>' for key, title in _SECTIONS)
    title = html.escape(f"Run report: {data.run.pipeline_name}")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
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
