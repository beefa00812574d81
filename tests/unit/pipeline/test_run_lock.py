"""The run lock (`pipeline.run_lock`): held, stale, released; and `deepline run` behind it."""

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import cli, contracts
from pipeline.exit_codes import EXIT_BUSY, EXIT_USAGE
from pipeline.run_lock import LockHeldError, LockHolder, RunLock

ROOT = Path(__file__).resolve().parents[3]

HOLD_LOCK = """
import sys, time
from pipeline.run_lock import RunLock

RunLock(sys.argv[1]).acquire()
print("locked", flush=True)
time.sleep(120)
"""


def _hold(path) -> subprocess.Popen:
    """Another process holding the lock `path`, once this returns."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(path)], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    assert process.stdout.readline() == "locked\n"
    return process


@pytest.fixture
def holder(tmp_path):
    """Another process holding `tmp_path/out/.deepline-run.lock`, killed afterwards."""
    process = _hold(tmp_path / "out" / contracts.RUN_LOCK_FILE)
    try:
        yield process
    finally:
        process.kill()
        process.wait()
        process.stdout.close()


def test_a_held_lock_names_the_holders_pid_host_and_start_time(tmp_path, holder):
    path = tmp_path / "out" / contracts.RUN_LOCK_FILE
    with pytest.raises(LockHeldError) as held:
        RunLock(path).acquire()
    assert held.value.pid == holder.pid
    assert held.value.holder.host == socket.gethostname()
    assert held.value.holder.started.endswith("+00:00")
    message = str(held.value)
    assert f"process {holder.pid} on host {socket.gethostname()}, started " in message
    assert str(path) in message


def test_the_lock_of_a_killed_run_is_taken_over_and_says_whose_it_was(tmp_path, holder):
    path = tmp_path / "out" / contracts.RUN_LOCK_FILE
    os.kill(holder.pid, signal.SIGKILL)  # no chance to release: its lines stay in the file
    holder.wait()
    lock = RunLock(path)
    lock.acquire()
    try:
        assert lock.taken_over is not None
        assert lock.taken_over.pid == holder.pid
        assert LockHolder.parse(path.read_text()).pid == os.getpid()
    finally:
        lock.release()


def test_a_released_lock_is_not_reported_as_taken_over(tmp_path):
    path = tmp_path / "run.lock"
    with RunLock(path):
        pass
    with RunLock(path) as lock:
        assert lock.taken_over is None


def test_the_lock_is_released_when_the_block_raises(tmp_path):
    path = tmp_path / "run.lock"
    with pytest.raises(RuntimeError, match="the run failed"), RunLock(path):
        raise RuntimeError("the run failed")
    assert path.read_text() == ""
    with RunLock(path) as lock:  # free, and not stale
        assert lock.taken_over is None


def test_a_lock_file_of_an_older_version_holding_only_a_pid_is_read():
    assert LockHolder.parse("4242\n") == LockHolder(pid=4242)
    assert LockHolder.parse("") is None


def test_a_second_run_on_a_busy_output_refuses_at_once_naming_the_holder(tmp_path, holder, capsys):
    data = tmp_path / "data.csv"
    data.write_text("")  # never read: the lock comes first
    code = cli.main(["run", "--data", str(data), "--output", str(tmp_path / "out")])
    assert code == EXIT_BUSY
    err = capsys.readouterr().err
    assert f"another run is writing to {tmp_path / 'out'}" in err
    assert f"process {holder.pid} on host {socket.gethostname()}, started " in err
    assert "Traceback" not in err


def test_a_run_takes_over_the_lock_of_a_killed_run_and_says_so(tmp_path, holder, capsys):
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    data = tmp_path / "data.csv"
    data.write_text("")  # the run then stops at the input check, with the lock taken over
    code = cli.main(["run", "--data", str(data), "--output", str(tmp_path / "out")])
    assert code == EXIT_USAGE
    err = capsys.readouterr().err
    assert f"taking over the run lock {tmp_path / 'out' / contracts.RUN_LOCK_FILE}" in err
    assert f"process {holder.pid} on host" in err
    assert "the file is empty" in err
    # Released again: the next run is not refused.
    with RunLock(tmp_path / "out" / contracts.RUN_LOCK_FILE) as lock:
        assert lock.taken_over is None


def test_a_run_refused_for_its_input_leaves_no_output_folder(tmp_path, capsys):
    data = tmp_path / "data.csv"
    data.write_text("")
    output = tmp_path / "new" / "out"
    assert cli.main(["run", "--data", str(data), "--output", str(output)]) == EXIT_USAGE
    assert not output.exists()
