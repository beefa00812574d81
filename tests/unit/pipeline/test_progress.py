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


def test_heartbeat_while_a_component_runs():
    import time

    out = io.StringIO()
    handler = ProgressHandler(stream=out, heartbeat_seconds=0.05)
    handler.emit(_record("Component Transform is running."))
    time.sleep(0.3)
    handler.emit(_record("Component Transform is finished."))
    lines = out.getvalue().splitlines()
    beats = [line for line in lines if line.startswith("… Transform still running (")]
    assert len(beats) >= 2
    assert lines[-1].startswith("✔ Transform finished in")
    time.sleep(0.15)  # no beat after the component finished
    assert out.getvalue().splitlines() == lines


def test_json_mode_writes_one_event_per_line():
    import json

    times = iter([0.0, 3.0])
    out = io.StringIO()
    handler = ProgressHandler(stream=out, clock=lambda: next(times), mode="json")
    handler.emit(_record("Component Trainer is running."))
    handler.emit(_record("Component Trainer is finished."))
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [e["event"] for e in events] == ["component_started", "component_finished"]
    assert events[1]["component"] == "Trainer" and events[1]["seconds"] == 3.0
    assert all("time" in e for e in events)


def test_quiet_mode_prints_nothing_but_keeps_timings():
    times = iter([0.0, 4.0])
    out = io.StringIO()
    handler = ProgressHandler(stream=out, clock=lambda: next(times), mode="quiet")
    handler.emit(_record("Component Evaluator is running."))
    handler.emit(_record("Component Evaluator is finished."))
    assert out.getvalue() == ""
    assert handler.timings["Evaluator"].seconds == 4.0


def test_durations_read_as_minutes_past_a_minute():
    from pipeline.progress import format_duration

    assert format_duration(12.34) == "12.3s"
    assert format_duration(95) == "1m35s"
