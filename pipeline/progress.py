"""Console progress for a local run: which component runs, for how long, and whether it was cached.

LocalDagRunner announces each component through absl logging ("Component X
is running." / "... is finished."); this handler turns those lines into one
short line per component, prints a heartbeat while a long component runs,
and records the wall time of each, for the summary. Output is text for a
person, JSON lines for a scheduler, or nothing (quiet).
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import logging
import re
import sys
import threading
import time

_RUNNING = re.compile(r"^Component (\S+) is running\.$")
_FINISHED = re.compile(r"^Component (\S+) is finished\.$")
_CACHED = re.compile(r"^A cached execution \d+ is used\.$")

TEXT, JSON, QUIET = "text", "json", "quiet"
HEARTBEAT_SECONDS = 30.0


@dataclasses.dataclass
class ComponentTiming:
    name: str
    seconds: float = 0.0
    cached: bool = False
    finished: bool = False


def format_duration(seconds: float) -> str:
    """12.3 -> "12.3s", 95 -> "1m35s"."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes}m{rest:02d}s"


def json_line(event: str, **fields) -> str:
    """One JSON log line with a UTC timestamp, for schedulers."""
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")
    return json.dumps({"time": now, "event": event, **fields}, sort_keys=True)


class ProgressHandler(logging.Handler):
    """Reports component progress to `stream` and keeps per-component timings.

    Args:
      stream: Where lines go. Defaults to stdout.
      clock: Monotonic clock in seconds; tests pass a fake one.
      mode: TEXT, JSON or QUIET. Defaults to TEXT.
      heartbeat_seconds: While a component runs, say so this often; 0 for
        never. Defaults to 30.
    """

    def __init__(
        self, stream=None, clock=time.monotonic, mode=TEXT, heartbeat_seconds=HEARTBEAT_SECONDS
    ):
        super().__init__(level=logging.INFO)
        self._stream = stream or sys.stdout
        self._clock = clock
        self._mode = mode
        self._heartbeat_seconds = heartbeat_seconds
        self._started: dict[str, float] = {}
        self._current: str | None = None
        self._heartbeat_stop: threading.Event | None = None
        self.timings: dict[str, ComponentTiming] = {}

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if match := _RUNNING.match(message):
            self._on_start(match.group(1))
        elif _CACHED.match(message) and self._current in self.timings:
            self.timings[self._current].cached = True
        elif match := _FINISHED.match(message):
            self._on_finish(match.group(1))

    def _on_start(self, name: str) -> None:
        self._current = name
        self._started[name] = self._clock()
        self.timings[name] = ComponentTiming(name)
        self._report("component_started", f"▶ {name} running…", component=name)
        self._start_heartbeat(name)

    def _on_finish(self, name: str) -> None:
        self._stop_heartbeat()
        timing = self.timings.setdefault(name, ComponentTiming(name))
        now = self._clock()
        timing.seconds = now - self._started.get(name, now)
        timing.finished = True
        note = " (cached)" if timing.cached else ""
        self._report(
            "component_finished",
            f"✔ {name} finished in {format_duration(timing.seconds)}{note}",
            component=name,
            seconds=round(timing.seconds, 2),
            cached=timing.cached,
        )

    def _start_heartbeat(self, name: str) -> None:
        self._stop_heartbeat()
        if not self._heartbeat_seconds or self._mode == QUIET:
            return
        stop = threading.Event()
        self._heartbeat_stop = stop

        def beat():
            while not stop.wait(self._heartbeat_seconds):
                elapsed = self._clock() - self._started[name]
                self._report(
                    "heartbeat",
                    f"… {name} still running ({format_duration(elapsed)})",
                    component=name,
                    seconds=round(elapsed, 1),
                )

        threading.Thread(target=beat, name=f"heartbeat-{name}", daemon=True).start()

    def _stop_heartbeat(self) -> None:
        if self._heartbeat_stop is not None:
            self._heartbeat_stop.set()
            self._heartbeat_stop = None

    def _report(self, event: str, text: str, **fields) -> None:
        if self._mode == QUIET:
            return
        line = json_line(event, **fields) if self._mode == JSON else text
        print(line, file=self._stream, flush=True)

    def close(self) -> None:
        self._stop_heartbeat()
        super().close()

    def failed_component(self) -> str | None:
        """The component that started but did not finish, if any."""
        self._stop_heartbeat()
        unfinished = [t.name for t in self.timings.values() if not t.finished]
        return unfinished[-1] if unfinished else None
