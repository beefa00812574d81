"""`deepline schedule` wiring: run options pass through, every run is logged, runs never overlap."""

import json
import subprocess
import sys
from pathlib import Path

from pipeline import commands
from pipeline.contracts import SCHEDULE_LOG_FILE

ROOT = Path(__file__).resolve().parents[3]


def test_schedule_options_are_stripped_and_run_options_kept():
    argv = [
        "schedule",
        "--every",
        "60",
        "--output",
        "o",
        "--cron=0 2 * * *",
        "-q",
        "--max-runs",
        "3",
        "--min-auc",
        "0.5",
    ]
    assert commands.run_arguments(argv) == ["run", "--output", "o", "-q", "--min-auc", "0.5"]


def test_schedule_runs_and_logs_each_run(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")  # every run stops at the input check: exit 2, quickly
    output = tmp_path / "out"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline.cli",
            "schedule",
            "--every",
            "0.1",
            "--max-runs",
            "2",
            "--data",
            str(empty),
            "--output",
            str(output),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [json.loads(line) for line in (output / SCHEDULE_LOG_FILE).read_text().splitlines()]
    assert [line["exit_code"] for line in lines] == [2, 2]
    assert all(line["summary"] is None for line in lines)
    assert "the file is empty" in proc.stderr
    assert "stopped after 2 run(s)" in proc.stdout


def test_bad_cron_expression_is_a_usage_error(tmp_path, capsys):
    from pipeline import cli

    code = cli.main(["schedule", "--cron", "61 * * * *", "--output", str(tmp_path)])
    assert code == cli.EXIT_USAGE
    assert "minute" in capsys.readouterr().err
