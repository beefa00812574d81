"""A library's warnings stay out of the console (kept with --verbose), in the threads of this
process and in the worker processes it starts; our own code's warnings are shown."""

import argparse
import logging
import subprocess
import sys
import threading
import warnings

import pytest

from pipeline import logging_setup

# What TFMA does on a slice without positives: numpy's 0 / 0, in TFMA's own module.
LIBRARY_CODE = "import numpy as np\nnp.array([0.0]) / np.array([0.0])\n"
LIBRARY_FILE = "/site-packages/tensorflow_model_analysis/metrics/confusion_matrix_metrics.py"
NOISE = "RuntimeWarning: invalid value encountered in divide"


def _printed_on_stderr(message, category, filename, lineno, file=None, line=None):
    sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


@pytest.fixture
def configure(monkeypatch):
    """configure_logging(args) for --verbose or not; undone after the test."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level, list(logging.getLogger("absl").handlers))
    # As in a plain Python process (pytest records warnings instead): printed on stderr.
    monkeypatch.setattr(warnings, "showwarning", _printed_on_stderr)
    monkeypatch.setenv("PYTHONWARNINGS", "ignore::FutureWarning")
    monkeypatch.setattr(warnings, "filters", list(warnings.filters))

    def configure(verbose: bool, quiet: bool = False):
        args = argparse.Namespace(quiet=quiet, log_format="text", verbose=verbose)
        logging_setup.configure_logging(args).close()
        # As a run: numpy's warnings are shown once per place (pytest's own filters aside).
        warnings.simplefilter("default", RuntimeWarning)

    yield configure
    root.handlers[:], absl = saved[0], logging.getLogger("absl")
    root.setLevel(saved[1])
    absl.handlers[:] = saved[2]


def _library_warning_on_a_thread():
    """Runs the library's division on another thread, as Beam's in-process runner does."""
    code = compile(LIBRARY_CODE, LIBRARY_FILE, "exec")
    thread = threading.Thread(target=exec, args=(code, {"__name__": "tfma_like"}))
    thread.start()
    thread.join()


@pytest.mark.parametrize("verbose", [False, True], ids=["default", "verbose"])
def test_a_library_warning_on_a_thread_is_shown_only_with_verbose(configure, capsys, verbose):
    configure(verbose)
    _library_warning_on_a_thread()
    captured = capsys.readouterr()
    assert NOISE not in captured.out
    assert (NOISE in captured.err) is verbose


@pytest.mark.parametrize("verbose", [False, True], ids=["default", "verbose"])
def test_a_worker_process_started_after_set_up_is_quiet_unless_verbose(configure, verbose):
    configure(verbose)
    worker = subprocess.run(
        [sys.executable, "-c", LIBRARY_CODE], capture_output=True, text=True, check=True
    )
    assert (NOISE in worker.stderr) is verbose


def test_a_warning_of_our_own_code_is_shown(configure, capsys):
    configure(verbose=False)
    own_file = logging_setup.OWN_CODE[0] + "summary.py"
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn_explicit("a value was clipped", UserWarning, own_file, 7)
    err = capsys.readouterr().err
    assert err.startswith(f"{own_file}:7: UserWarning: a value was clipped\n")


@pytest.mark.parametrize("quiet", [False, True], ids=["default", "quiet"])
def test_a_librarys_log_lines_stay_off_the_console(configure, capsys, quiet):
    configure(verbose=False, quiet=quiet)
    # Module-level calls, as libraries make them: on a root logger without a handler the
    # first one would install a stderr handler printing every record.
    logging.info("a library's progress line")
    logging.getLogger("absl").info("Excluding no splits because exclude_splits is not set.")
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", "")
