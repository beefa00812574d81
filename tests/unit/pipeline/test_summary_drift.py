"""The run summary's drift lines: nothing compared, nothing drifted, drift that only warned."""

import pytest

from pipeline.summary import render, render_drift

WARNING = "income: Jensen–Shannon divergence 0.96 > 0.10 (default; spec: drift.numeric_threshold)"
COLUMN = {"measure": "jensen_shannon_divergence", "threshold": 0.1}


@pytest.mark.parametrize(
    "drift, lines",
    [
        (None, []),
        (
            {"compared": False, "action": "stop", "columns": [], "warnings": []},
            [
                "Drift: nothing to compare with (no live model yet, or this run's data is the "
                "data the live model was trained on)."
            ],
        ),
        (
            {
                "compared": True,
                "action": "stop",
                "columns": [
                    dict(COLUMN, column="age", distance=0.01, drifted=False),
                    dict(COLUMN, column="income", distance=0.02, drifted=False),
                ],
                "warnings": [],
            },
            ["Drift: 2 column(s) compared with the live model's training data; none drifted."],
        ),
        (
            {
                "compared": True,
                "action": "warn",
                "columns": [dict(COLUMN, column="income", distance=0.96, drifted=True)],
                "warnings": [WARNING],
                "not_compared": ["tract: not compared with the live model's training data: x"],
            },
            [
                "Warning: the data drifted from the live model's training data in 1 column(s); "
                "the run went on (drift only warns for this data set):",
                "  " + WARNING,
                "  tract: not compared with the live model's training data: x",
            ],
        ),
    ],
    ids=["not-checked", "first-run", "none-drifted", "warned"],
)
def test_drift_lines(drift, lines):
    assert render_drift(drift) == lines


def test_the_printed_summary_carries_the_drift_warning():
    summary = {
        "components": {},
        "total_seconds": 0.0,
        "ingestion": None,
        "drift": {"compared": True, "action": "warn", "columns": [], "warnings": [WARNING]},
        "training": None,
        "metrics": {},
        "pushed": True,
        "model_dir": "/out/serving_model/deepline-shop/1",
    }
    assert "  " + WARNING + "\nBlessed and pushed to /out" in render(summary)
