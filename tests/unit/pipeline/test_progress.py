"""Progress lines and per-component timings from the local runner's log records."""

import io
import logging

from pipeline.progress import ProgressHandler


def _record(message):
    return logging.LogRecord("absl", logging.INFO, __file__, 1, message, None, None)


def test_timings_and_cache_flags_come_from_runner_messages():
    times = iter([10.0, 12.5, 20.0, 20.25])
    out = io.StringIO()
    handler = ProgressHandler(stream=out, clock=lambda: next(times))
    for message in [
        "Component Transform is running.",
        "Component Transform is finished.",
        "Component Trainer is running.",
        "A cached execution 7 is used.",
        "Component Trainer is finished.",
    ]:
        handler.emit(_record(message))
    assert handler.timings["Transform"].seconds == 2.5
    assert not handler.timings["Transform"].cached
    assert handler.timings["Trainer"].seconds == 0.25
    assert handler.timings["Trainer"].cached
    assert out.getvalue().splitlines() == [
        "▶ Transform running…",
        "✔ Transform finished in 2.5s",
        "▶ Trainer running…",
        "✔ Trainer finished in 0.2s (cached)",
    ]
    assert handler.failed_component() is None


def test_failed_component_is_the_one_that_did_not_finish():
    handler = ProgressHandler(stream=io.StringIO(), clock=lambda: 0.0)
    handler.emit(_record("Component StatisticsGen is running."))
    handler.emit(_record("Component StatisticsGen is finished."))
    handler.emit(_record("Component DataValidationGate is running."))
    assert handler.failed_component() == "DataValidationGate"
