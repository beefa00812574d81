"""Local scheduler: runs the pipeline on an interval or a cron expression, one run at a time.

The engine behind `deepline schedule`: a schedule (`CronSchedule`, `IntervalSchedule`) says
when a run is due; `run_schedule` waits, takes a cross-process `RunLock` (`pipeline.run_lock`)
so that runs never overlap, runs, and appends a JSON line per run to a run log, until
SIGINT/SIGTERM stops it between runs. Times are local wall-clock times, and the clock is read
again after every short sleep, so a DST change or a clock adjustment is followed instead of
slept through.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any, NamedTuple, Protocol

from pipeline.run_lock import LockHeldError, RunLock
from pipeline.runners.cron import CronSchedule

__all__ = [
    "CronSchedule",
    "IntervalSchedule",
    "LockHeldError",
    "RunLock",
    "RunResult",
    "Schedule",
    "run_schedule",
]

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Sleep = Callable[[float], None]

# The longest single sleep while waiting for a run, hence the longest a stop request goes
# unnoticed: time.sleep resumes after a signal handler returns (PEP 475).
SLEEP_SLICE_SECONDS = 0.5

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Schedule(Protocol):
    """When runs are due."""

    def next_after(self, moment: datetime) -> datetime:
        """The first time a run is due strictly after `moment`."""


@dataclasses.dataclass(frozen=True)
class IntervalSchedule:
    """A run every `seconds` seconds, counted from the start of the previous run.

    `run_schedule` never queues runs: after a run that outlasts the interval the next one
    starts at once, and the slots it overran are dropped.
    """

    seconds: float

    def __post_init__(self):
        if not self.seconds > 0:  # written so that NaN fails too
            raise ValueError(
                f"a schedule interval must be a positive number of seconds, got {self.seconds}"
            )

    def next_after(self, moment: datetime) -> datetime:
        """`moment` plus the interval."""
        return moment + timedelta(seconds=self.seconds)


class RunResult(NamedTuple):
    """What one run returns: its exit code (see `pipeline.exit_codes`) and its summary."""

    exit_code: int
    summary: dict[str, Any] | None


def run_schedule(
    run_once: Callable[[], RunResult],
    schedule: Schedule,
    lock_path: str | os.PathLike,
    log_path: str | os.PathLike,
    *,
    clock: Clock = datetime.now,
    sleep: Sleep = time.sleep,
    max_runs: int | None = None,
    stop_event: threading.Event | None = None,
) -> int:
    """Calls `run_once` whenever `schedule` says, one run at a time, until stopped.

    Each run is due at `schedule.next_after(<start of the previous attempt, or now>)`. A run
    that falls due during the previous one starts when that one ends; other slots missed
    meanwhile are dropped, not queued. A slot whose lock another process holds is skipped.

    Each run appends one JSON line to `log_path`: `started` and `finished` (ISO, with the UTC
    offset), `seconds`, `exit_code` and `summary`; if `run_once` raised, `error` ("<type>:
    <message>") replaces `exit_code`, `summary` is null, and the schedule goes on. A skipped
    slot appends `{"scheduled": ..., "skipped": <why>}`.

    From the main thread, SIGINT and SIGTERM request a stop: a wait ends within
    `SLEEP_SLICE_SECONDS`; a run in progress is finished and logged first. The first signal
    puts the previous handlers back, so a second Ctrl-C interrupts the run. Ignored signals
    stay ignored; the previous handlers are back in place on return.

    Args:
      run_once: runs the pipeline once.
      schedule: when runs are due, e.g. `CronSchedule.parse("0 2 * * *")`.
      lock_path: the lock file shared by everything that must not run at the same time.
      log_path: the run log (JSON lines), appended to; its folder is created if needed.
      clock: the local time now. Defaults to `datetime.now`.
      sleep: sleeps for a number of seconds. Defaults to `time.sleep`.
      max_runs: return after this many runs, failed runs included, skipped slots not.
        Defaults to None: no limit.
      stop_event: another way to request a stop, e.g. from another thread. Defaults to None:
        only the signals stop the schedule.

    Returns:
      The number of runs done, failed runs included.
    """
    stop = stop_event if stop_event is not None else threading.Event()
    lock = RunLock(lock_path)
    runs = 0
    with _stop_on_signals(stop):
        attempted = clock()
        while not stop.is_set() and (max_runs is None or runs < max_runs):
            due = schedule.next_after(attempted)
            logger.info("Next run at %s", _timestamp(due))
            if not _wait_until(due, clock, sleep, stop):
                break
            attempted = clock()
            try:
                lock.acquire()
            except LockHeldError as held:
                logger.warning("Skipped the run due at %s: %s", _timestamp(due), held)
                _append_line(log_path, {"scheduled": _timestamp(due), "skipped": str(held)})
                continue
            try:
                # Logged under the lock, so the log is in run order whoever ran them.
                _append_line(log_path, _run(run_once, clock))
            finally:
                lock.release()
            runs += 1
    logger.info("Schedule stopped after %d run(s)", runs)
    return runs


def _wait_until(due: datetime, clock: Clock, sleep: Sleep, stop: threading.Event) -> bool:
    """Sleeps until the clock reaches `due`; False if a stop was requested first."""
    # Polls stop.is_set() instead of calling stop.wait(timeout): the signal handler calls
    # stop.set(), which takes the Event's internal lock, and would deadlock if the signal
    # arrived while this same thread held that lock inside wait().
    while not stop.is_set():
        remaining = (due - clock()).total_seconds()
        if remaining <= 0:
            return True
        sleep(min(remaining, SLEEP_SLICE_SECONDS))
    return False


def _run(run_once: Callable[[], RunResult], clock: Clock) -> dict[str, Any]:
    """Calls `run_once` and returns its run-log record."""
    # Aware times: their difference stays right across a DST change during the run.
    started = clock().astimezone()
    try:
        result = run_once()
        outcome = {"exit_code": result.exit_code, "summary": result.summary}
    except Exception as error:  # noqa: BLE001 - the failure is logged; the schedule goes on
        logger.exception("Scheduled run failed")
        outcome = {"error": f"{type(error).__name__}: {error}", "summary": None}
    finished = clock().astimezone()
    return {
        "started": started.isoformat(timespec="seconds"),
        "finished": finished.isoformat(timespec="seconds"),
        "seconds": round((finished - started).total_seconds(), 3),
        **outcome,
    }


def _timestamp(moment: datetime) -> str:
    return moment.astimezone().isoformat(timespec="seconds")


def _append_line(path: str | os.PathLike, record: dict[str, Any]) -> None:
    # default=str: a summary value JSON cannot take (a numpy float, a Path) is still logged.
    line = json.dumps(record, default=str) + "\n"
    os.makedirs(os.path.dirname(os.fspath(path)) or ".", exist_ok=True)
    with open(path, "a", encoding="utf-8") as log:
        log.write(line)


@contextlib.contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Inside, SIGINT and SIGTERM set `stop`; see `run_schedule` for the details."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may install handlers; stop_event still works
        return
    # A signal the process ignores on purpose (SIGINT in a background job) stays ignored.
    previous = {sig: signal.getsignal(sig) for sig in _STOP_SIGNALS}
    previous = {sig: handler for sig, handler in previous.items() if handler != signal.SIG_IGN}

    def restore() -> None:
        for sig, handler in previous.items():
            # None: a handler installed outside Python, which cannot be put back.
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)

    def request_stop(signum: int, frame: object) -> None:
        logger.warning(
            "%s received: stopping after the current run (send it again to stop now)",
            signal.Signals(signum).name,
        )
        stop.set()
        restore()

    for sig in previous:
        signal.signal(sig, request_stop)
    try:
        yield
    finally:
        restore()
