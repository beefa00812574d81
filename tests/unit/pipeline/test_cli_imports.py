"""`deepline --help` stays fast: the command line imports no TensorFlow, TFX, TF Transform or
TFMA until a command needs them (they take 15-25 s to import; the help takes about 1 s)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
HEAVY = ("tensorflow", "tfx", "tensorflow_transform", "tensorflow_model_analysis", "apache_beam")

SHOW_HELP = """
import contextlib, io, sys
import pipeline.cli
pipeline.cli.build_parser()
for argv in {argvs!r}:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
        pipeline.cli.main(argv)
print(sorted(m for m in {heavy!r} if m in sys.modules))
"""


@pytest.mark.parametrize(
    "argvs",
    [[], [["--help"]], [["run", "--help"]], [["schedule", "--help"], ["ingest", "--help"]]],
    ids=["import-and-parser", "help", "run-help", "other-helps"],
)
def test_the_command_line_and_its_help_import_no_tensorflow(argvs):
    # A fresh interpreter: this one has imported TensorFlow for other tests.
    code = SHOW_HELP.format(argvs=argvs, heavy=HEAVY)
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().splitlines()[-1] == "[]"
