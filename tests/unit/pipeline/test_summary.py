"""The run summary's metrics: the candidate's, never the baseline's, per slice."""

from tensorflow_model_analysis.proto import metrics_for_slice_pb2

from pipeline.summary import candidate_metrics, render


def _record(slice_column=None, slice_value=None, values=()):
    record = metrics_for_slice_pb2.MetricsForSlice()
    if slice_column:
        key = record.slice_key.single_slice_keys.add(column=slice_column)
        key.bytes_value = slice_value
    for model_name, name, is_diff, value in values:
        kv = record.metric_keys_and_values.add()
        kv.key.name = name
        kv.key.model_name = model_name
        kv.key.is_diff = is_diff
        kv.value.double_value.value = value
    return record


def test_with_a_baseline_the_summary_shows_the_candidates_metrics_and_the_differences():
    overall = _record(
        values=[
            # In either order, the baseline's value must not replace the candidate's.
            ("candidate", "auc", False, 0.91),
            ("baseline", "auc", False, 0.96),
            ("candidate", "auc", True, -0.05),
            ("baseline", "binary_accuracy", False, 0.90),
            ("candidate", "binary_accuracy", False, 0.88),
        ]
    )
    cash = _record("payment_type", b"Cash", [("candidate", "auc", False, 0.8)])
    assert candidate_metrics([overall, cash]) == {
        "overall": {"auc": 0.91, "auc_diff": -0.05, "binary_accuracy": 0.88},
        "payment_type=Cash": {"auc": 0.8},
    }


def test_without_a_baseline_the_unnamed_model_is_the_candidate():
    record = _record(values=[("", "auc", False, 0.95)])
    assert candidate_metrics([record]) == {"overall": {"auc": 0.95}}


def test_the_console_summary_names_the_served_candidate_and_every_candidates_metrics():
    summary = {
        "components": {"Trainer": {"seconds": 20.0, "cached": False}},
        "total_seconds": 20.0,
        "training": None,
        "metrics": {},
        "pushed": False,
        "blessed": True,
        "model": {
            "choice": "auto",
            "reason": "ensemble: highest eval auc 0.9500 (against dnn 0.9000, gbdt 0.9400)",
            "left_out": {},
            "candidates": {
                "dnn": {"eval": {"auc": 0.9}, "test": {"auc": 0.89}, "trainer_seconds": 12.0},
                "gbdt": {"eval": {"auc": 0.94}, "test": None, "trainer_seconds": 3.0},
                "ensemble": {"eval": {"auc": 0.95}, "test": {"auc": None}, "trainer_seconds": 15.0},
            },
        },
    }
    lines = render(summary).splitlines()
    start = lines.index(
        "Model: --model auto serves ensemble: highest eval auc 0.9500 "
        "(against dnn 0.9000, gbdt 0.9400)"
    )
    assert lines[start + 1 : start + 4] == [
        "  dnn        eval: auc 0.9000; test: auc 0.8900; trained in 12.0s",
        "  gbdt       eval: auc 0.9400; test: -; trained in 3.0s",
        "  ensemble   eval: auc 0.9500; test: auc undefined; trained in 15.0s",
    ]
