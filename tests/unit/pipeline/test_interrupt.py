"""Ctrl-C: exit 130 and one line saying how to resume, never a traceback."""

import sys
import types

import pytest

from pipeline import cli, commands
from pipeline.contracts import RUN_LOCK_FILE
from pipeline.exit_codes import EXIT_INTERRUPTED
from pipeline.run_lock import RunLock

RESUME = (
    "deepline: interrupted; run the same command again to resume from the last finished component\n"
)


def _interrupted(args):
    raise KeyboardInterrupt


@pytest.mark.parametrize(
    "command, argv, message",
    [
        ("run", ["run", "--output", "{out}"], RESUME),
        ("schedule", ["schedule", "--every", "60", "--output", "{out}"], RESUME),
        (
            "ingest",
            ["ingest", "data.csv", "--output", "{out}"],
            "deepline: interrupted; run the same command again with --overwrite to replace "
            "the partial output\n",
        ),
    ],
    ids=["run", "schedule", "ingest"],
)
def test_ctrl_c_exits_130_with_one_line(command, argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(commands, command, _interrupted)
    code = cli.main([a.format(out=tmp_path / "out") for a in argv])
    assert code == EXIT_INTERRUPTED == 130
    captured = capsys.readouterr()
    assert captured.err == message
    assert "Traceback" not in captured.out


def test_ctrl_c_inside_a_component_is_an_interruption_not_a_failure(tmp_path, monkeypatch, capsys):
    # TFX's launcher may wrap the KeyboardInterrupt of a component into its own error.
    def run(config, run_id):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as interrupt:
            raise RuntimeError("component Trainer failed") from interrupt

    fake_local = types.ModuleType("pipeline.runners.local")
    fake_local.new_run_id = lambda: "run-1"
    fake_local.run = run
    monkeypatch.setitem(sys.modules, "pipeline.runners.local", fake_local)
    import pipeline.runners

    monkeypatch.setattr(pipeline.runners, "local", fake_local, raising=False)
    code = cli.main(["run", "--output", str(tmp_path / "out"), "-q"])
    assert code == EXIT_INTERRUPTED
    assert capsys.readouterr().err.endswith(RESUME)
    with RunLock(tmp_path / "out" / RUN_LOCK_FILE) as lock:  # released, not left stale
        assert lock.taken_over is None
