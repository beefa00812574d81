"""The local scheduler: interval times, the cross-process run lock, the run loop.

Cron times are tested in test_cron.py."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta

import pytest

from pipeline.runners.cron import CronSchedule
from pipeline.runners.schedule import (
    SLEEP_SLICE_SECONDS,
    IntervalSchedule,
    LockHeldError,
    RunLock,
    RunResult,
    run_schedule,
)

FRIDAY = datetime(2024, 3, 8)  # a Friday


def test_interval_adds_its_seconds_without_rounding():
    assert IntervalSchedule(90).next_after(datetime(2024, 3, 8, 10, 0, 15)) == datetime(
        2024, 3, 8, 10, 1, 45
    )


@pytest.mark.parametrize("seconds", [0, -5, float("nan")], ids=["zero", "negative", "nan"])
def test_interval_must_be_positive(seconds):
    with pytest.raises(ValueError, match="must be a positive number of seconds"):
        IntervalSchedule(seconds)


class FakeTime:
    """A clock that moves only when the scheduler sleeps or a run takes time."""

    def __init__(self, start: datetime = FRIDAY):
        self.start = start
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def offset(self, timestamp: str) -> float:
        """Seconds from the start to a run-log timestamp."""
        local = datetime.fromisoformat(timestamp).replace(tzinfo=None)
        return (local - self.start).total_seconds()


def read_log(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def schedule_runs(tmp_path, fake, run_once, schedule, **kwargs) -> int:
    return run_schedule(
        run_once,
        schedule,
        tmp_path / "run.lock",
        tmp_path / "logs" / "runs.jsonl",
        clock=fake.clock,
        sleep=fake.sleep,
        **kwargs,
    )


def test_three_runs_write_three_json_lines_with_their_summaries(tmp_path):
    fake = FakeTime()
    exit_codes = iter([0, 4, 0])  # 4: not blessed
    summaries = iter([{"run": n, "auc": 0.75} for n in (1, 2, 3)])

    def run_once():
        fake.advance(3)
        return RunResult(next(exit_codes), next(summaries))

    runs = schedule_runs(tmp_path, fake, run_once, IntervalSchedule(10), max_runs=3)

    assert runs == 3
    lines = read_log(tmp_path / "logs" / "runs.jsonl")
    assert list(lines[0]) == ["started", "finished", "seconds", "exit_code", "summary"]
    assert [fake.offset(line["started"]) for line in lines] == [10, 20, 30]
    assert [fake.offset(line["finished"]) for line in lines] == [13, 23, 33]
    assert [line["seconds"] for line in lines] == [3.0, 3.0, 3.0]
    assert [line["exit_code"] for line in lines] == [0, 4, 0]
    assert [line["summary"] for line in lines] == [{"run": n, "auc": 0.75} for n in (1, 2, 3)]
    # Waits of 10, 7 and 7 s (runs are 10 s apart, start to start), in slices short
    # enough to notice a stop request.
    assert fake.sleeps == [SLEEP_SLICE_SECONDS] * int(24 / SLEEP_SLICE_SECONDS)


def test_a_failed_run_is_logged_and_the_schedule_goes_on(tmp_path):
    fake = FakeTime()
    calls = []

    def run_once():
        calls.append(fake.now)
        fake.advance(2)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return RunResult(0, {"run": len(calls)})

    runs = schedule_runs(tmp_path, fake, run_once, IntervalSchedule(10), max_runs=3)

    assert runs == 3
    first, failed, third = read_log(tmp_path / "logs" / "runs.jsonl")
    assert (first["exit_code"], first["summary"]) == (0, {"run": 1})
    assert failed["error"] == "RuntimeError: disk full"
    assert "exit_code" not in failed and failed["summary"] is None
    assert (failed["seconds"], fake.offset(failed["started"])) == (2.0, 20)
    assert (third["exit_code"], third["summary"]) == (0, {"run": 3})


def test_slots_missed_during_a_long_run_are_skipped_not_queued(tmp_path):
    fake = FakeTime()
    durations = iter([35, 1, 1])  # the first run overruns slots +20, +30 and +40

    def run_once():
        fake.advance(next(durations))
        return RunResult(0, None)

    schedule_runs(tmp_path, fake, run_once, IntervalSchedule(10), max_runs=3)

    starts = [fake.offset(line["started"]) for line in read_log(tmp_path / "logs" / "runs.jsonl")]
    # One late run right after the long one, then 10 s after that late start.
    assert starts == [10, 45, 55]


def test_cron_runs_start_on_their_minutes(tmp_path):
    fake = FakeTime(FRIDAY.replace(hour=10, minute=7, second=30))

    def run_once():
        fake.advance(60)
        return RunResult(0, None)

    schedule_runs(tmp_path, fake, run_once, CronSchedule.parse("*/15 * * * *"), max_runs=2)

    starts = [line["started"][:16] for line in read_log(tmp_path / "logs" / "runs.jsonl")]
    assert starts == ["2024-03-08T10:15", "2024-03-08T10:30"]


def test_a_stop_request_ends_the_wait_within_one_slice(tmp_path):
    fake = FakeTime()
    stop = threading.Event()
    handlers_before = [signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)]

    def sleep(seconds):
        fake.sleep(seconds)
        if len(fake.sleeps) == 3:
            stop.set()

    def run_once():
        raise AssertionError("no run was due yet")

    runs = run_schedule(
        run_once,
        IntervalSchedule(3600),
        tmp_path / "run.lock",
        tmp_path / "runs.jsonl",
        clock=fake.clock,
        sleep=sleep,
        stop_event=stop,
    )

    assert (runs, len(fake.sleeps)) == (0, 3)
    assert not (tmp_path / "runs.jsonl").exists()
    assert [signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)] == handlers_before


@pytest.fixture
def terminal_sigint():
    """SIGINT raises KeyboardInterrupt, as in a terminal, even if pytest started ignoring it."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_a_signal_during_a_run_lets_it_finish_then_stops(tmp_path, terminal_sigint):
    fake = FakeTime()

    def run_once():
        os.kill(os.getpid(), signal.SIGINT)
        fake.advance(5)
        return RunResult(0, {"finished": True})

    runs = schedule_runs(tmp_path, fake, run_once, IntervalSchedule(10), max_runs=3)

    assert runs == 1
    [line] = read_log(tmp_path / "logs" / "runs.jsonl")
    assert (line["seconds"], line["summary"]) == (5.0, {"finished": True})
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_second_signal_interrupts_the_run(tmp_path, terminal_sigint):
    fake = FakeTime()

    def run_once():
        os.kill(os.getpid(), signal.SIGINT)  # stop after this run
        os.kill(os.getpid(), signal.SIGINT)  # no: stop now (the previous handler's behaviour)
        raise AssertionError("the second Ctrl-C should have interrupted the run")

    with pytest.raises(KeyboardInterrupt):
        schedule_runs(tmp_path, fake, run_once, IntervalSchedule(10))

    assert not (tmp_path / "logs" / "runs.jsonl").exists()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with RunLock(tmp_path / "run.lock"):  # released on the way out
        pass


def test_the_lock_file_holds_the_pid_while_locked(tmp_path):
    path = tmp_path / "locks" / "run.lock"
    with RunLock(path) as lock:
        assert path.read_text().splitlines()[0] == str(os.getpid())
        with pytest.raises(LockHeldError) as held:
            RunLock(path).acquire()
        assert held.value.pid == os.getpid()
        with pytest.raises(RuntimeError, match="holds .* already"):
            lock.acquire()
    assert path.read_text() == ""
    with RunLock(path):  # free again
        pass


def test_waiting_for_the_lock_blocks_until_it_is_released(tmp_path):
    holder = RunLock(tmp_path / "run.lock")
    holder.acquire()
    threading.Timer(0.3, holder.release).start()
    waiter = RunLock(tmp_path / "run.lock")
    started = time.monotonic()
    waiter.acquire(wait=True)
    try:
        assert time.monotonic() - started >= 0.25
    finally:
        waiter.release()


HOLD_LOCK = """
import sys, time
from pipeline.runners.schedule import RunLock

RunLock(sys.argv[1]).acquire()
print("locked", flush=True)
time.sleep(60)
"""


@pytest.fixture
def lock_holder(tmp_path):
    """Another process holding the lock `tmp_path/run.lock`."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(tmp_path / "run.lock")],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout.readline() == "locked\n"
        yield process
    finally:
        process.kill()
        process.wait()
        process.stdout.close()


def test_a_lock_held_by_another_process_names_the_file_and_pid(tmp_path, lock_holder):
    path = str(tmp_path / "run.lock")
    with pytest.raises(LockHeldError) as held:
        RunLock(path).acquire()
    assert (held.value.path, held.value.pid) == (path, lock_holder.pid)
    assert f"the run lock {path} is held by process {lock_holder.pid}" in str(held.value)


def test_the_lock_of_a_killed_process_is_free(tmp_path, lock_holder):
    lock_holder.kill()
    lock_holder.wait()
    with RunLock(tmp_path / "run.lock"):
        assert (tmp_path / "run.lock").read_text().splitlines()[0] == str(os.getpid())


def test_a_slot_is_skipped_while_another_process_holds_the_lock(tmp_path, lock_holder):
    fake = FakeTime()
    stop = threading.Event()

    def sleep(seconds):
        fake.sleep(seconds)
        if fake.now > fake.start + timedelta(seconds=10):  # past the first slot
            stop.set()

    def run_once():
        raise AssertionError("ran while another process held the lock")

    runs = run_schedule(
        run_once,
        IntervalSchedule(10),
        tmp_path / "run.lock",
        tmp_path / "runs.jsonl",
        clock=fake.clock,
        sleep=sleep,
        stop_event=stop,
    )

    assert runs == 0
    [line] = read_log(tmp_path / "runs.jsonl")
    assert fake.offset(line["scheduled"]) == 10
    assert f"held by process {lock_holder.pid}" in line["skipped"]


SCHEDULE_SLOW_RUNS = """
import signal, sys, time
from pathlib import Path
from pipeline.runners.schedule import IntervalSchedule, RunResult, run_schedule

# As in a terminal, even if the test runner was started with SIGINT ignored.
signal.signal(signal.SIGINT, signal.default_int_handler)
folder = Path(sys.argv[1])

def run_once():
    (folder / "run-started").touch()
    time.sleep(0.5)
    return RunResult(0, {"slept_seconds": 0.5})

print(run_schedule(run_once, IntervalSchedule(0.2), folder / "run.lock", folder / "runs.jsonl"))
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_signal_finishes_the_current_run_and_exits_0(tmp_path, signum):
    process = subprocess.Popen(
        [sys.executable, "-c", SCHEDULE_SLOW_RUNS, str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 10
    while not (tmp_path / "run-started").exists():
        assert process.poll() is None, process.communicate()[1]
        assert time.monotonic() < deadline, "the first run never started"
        time.sleep(0.01)

    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=10)

    assert process.returncode == 0, stderr
    assert stdout == "1\n"
    [line] = read_log(tmp_path / "runs.jsonl")
    assert (line["exit_code"], line["summary"]) == (0, {"slept_seconds": 0.5})
    assert line["seconds"] >= 0.5
