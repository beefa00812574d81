"""Console progress for a local run: which component runs, for how long, and whether it was cached.

LocalDagRunner announces each component through absl logging ("Component X
is running." / "... is finished."); this handler turns those lines into one
short line per component and records the wall time of each, for the summary.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import sys
import time

_RUNNING = re.compile(r"^Component (\S+) is running\.$")
_FINISHED = re.compile(r"^Component (\S+) is finished\.$")
_CACHED = re.compile(r"^A cached execution \d+ is used\.$")


@dataclasses.dataclass
class ComponentTiming:
    name: str
    seconds: float = 0.0
    cached: bool = False
    finished: bool = False


class ProgressHandler(logging.Handler):
    """Prints component progress to `stream` and keeps per-component timings."""

    def __init__(self, stream=None, clock=time.monotonic):
        super().__init__(level=logging.INFO)
        self._stream = stream or sys.stdout
        self._clock = clock
        self._started: dict[str, float] = {}
        self._current: str | None = None
        self.timings: dict[str, ComponentTiming] = {}

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if match := _RUNNING.match(message):
            name = match.group(1)
            self._current = name
            self._started[name] = self._clock()
            self.timings[name] = ComponentTiming(name)
            self._print(f"▶ {name} running…")
        elif _CACHED.match(message) and self._current in self.timings:
            self.timings[self._current].cached = True
        elif match := _FINISHED.match(message):
            name = match.group(1)
            timing = self.timings.setdefault(name, ComponentTiming(name))
            now = self._clock()
            timing.seconds = now - self._started.get(name, now)
            timing.finished = True
            note = " (cached)" if timing.cached else ""
            self._print(f"✔ {name} finished in {timing.seconds:.1f}s{note}")

    def _print(self, line: str) -> None:
        print(line, file=self._stream, flush=True)

    def failed_component(self) -> str | None:
        """The component that started but did not finish, if any."""
        unfinished = [t.name for t in self.timings.values() if not t.finished]
        return unfinished[-1] if unfinished else None
