"""The quality benchmark's table (`benchmarks/quality.py`): one markdown line per data set,
mean ± standard deviation over seeds, every candidate of a run that had several."""

from __future__ import annotations

import collections
import statistics


def _mean_spread(values: list[float | None], digits: int) -> str:
    values = [v for v in values if v is not None]
    if not values:
        return "—"
    mean = statistics.fmean(values)
    if len(values) == 1:
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {statistics.stdev(values):.{digits}f}"


def _cell(runs: list[dict], task: str) -> str:
    if any("error" in r for r in runs):
        return "failed"
    if task == "regression":
        digits = 1 if max(r["rmse"] or 0 for r in runs) >= 100 else 3
        return "RMSE " + _mean_spread([r["rmse"] for r in runs], digits)
    cell = "acc " + _mean_spread([r["accuracy"] for r in runs], 3)
    if task == "binary":
        cell += ", AUC " + _mean_spread([r["auc"] for r in runs], 3)
    return cell


def _candidate_names(rows: list[dict], model: str) -> list[str]:
    """The candidates runs of `model` scored, in the order they were trained."""
    names: list[str] = []
    for row in rows:
        for run in row.get("deepline", {}).get(model, []):
            names.extend(n for n in run.get("candidates", {}) if n not in names)
    return names


def _chosen(runs: list[dict]) -> str:
    counts = collections.Counter(r.get("chosen") for r in runs if r.get("chosen"))
    return ", ".join(f"{name} ×{n}" for name, n in counts.most_common()) or "—"


def render_table(rows: list[dict], models: list[str]) -> str:
    """The results as a markdown table: one line per data set; for a model whose runs had
    several candidates, each candidate's test metrics and which one was served."""
    candidates = {m: _candidate_names(rows, m) for m in models}
    head = ["data set", "task", "rows (train / eval / test)"]
    for m in models:
        head += [f"Deepline {m}"] + [f"{m}: {name}" for name in candidates[m]]
        head += [f"{m}: served"] if candidates[m] else []
    head += [f"Trainer s ({m})" for m in models]
    head += ["HistGradientBoosting", "LightGBM (early-stopped)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        if "error" in row:
            lines.append(f"| {row['data_set']} | — | — | failed: {row['error']} |")
            continue
        cells = [row["data_set"], row["task"], " / ".join(f"{n:,}" for n in row["rows"])]
        for model in models:
            runs = row["deepline"][model]
            cells.append(_cell(runs, row["task"]))
            for name in candidates[model]:
                scored = [r["candidates"][name] for r in runs if name in r.get("candidates", {})]
                cells.append(_cell(scored, row["task"]) if scored else "—")
            if candidates[model]:
                cells.append(_chosen(runs))
        for model in models:
            runs = [r for r in row["deepline"][model] if "error" not in r]
            cells.append(_mean_spread([r["trainer_seconds"] for r in runs], 1))
        for reference in ("hgb", "lightgbm"):
            cells.append(_cell([s[reference] for s in row["references"]], row["task"]))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
