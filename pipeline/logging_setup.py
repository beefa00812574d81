"""The command line's logging: progress lines, our own modules' messages, and quiet or JSON modes.

`configure_logging(args)` routes the process's logs for the options every
`deepline` command takes (`--quiet`, `--log-format`, `--verbose`), and its
Python warnings (`route_warnings`): a warning raised by our own code is
shown; one raised inside a library (TFMA's "invalid value encountered in
divide" on an empty slice, Beam's and TensorFlow's notices) is not the
user's concern and goes to the log, which the console shows with --verbose.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import warnings
from pathlib import Path

# Where our own code is: a warning raised from a file under these folders is the user's concern.
OWN_CODE = tuple(
    str(Path(__file__).resolve().parents[1] / name) + os.sep for name in ("pipeline", "components")
)
# Warning categories that worker processes (Beam's, started after the logging is set up)
# ignore without --verbose: they run library code, whose warnings `route_warnings` keeps out
# of the console in this process. Python reads the variable when a process starts.
WORKER_IGNORED_WARNINGS = ("RuntimeWarning", "UserWarning", "DeprecationWarning", "FutureWarning")
WARNINGS_LOGGER = "py.warnings"  # the logger `logging.captureWarnings` uses, for the same records


def configure_logging(args: argparse.Namespace):
    """Routes logs for the chosen output mode; returns the progress handler.

    Text (default): progress lines and our own modules' messages (devices,
    epochs); JSON: the same as JSON lines; quiet: nothing but errors. TFX and
    Beam logs only with --verbose. The CLI owns the process's logging, so
    handlers that libraries installed on the root logger are replaced.
    """
    from absl import logging as absl_logging

    from pipeline import progress as progress_lib

    mode = progress_lib.QUIET if args.quiet else args.log_format
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    # Never without a handler: the first module-level `logging.info(...)` a library calls
    # on a root logger without one installs a stderr handler (`logging.basicConfig`) that
    # prints every record, TFX's and Beam's INFO lines too (so it did under --quiet).
    root.addHandler(logging.NullHandler())
    root.setLevel(logging.INFO)
    if args.verbose:
        root.addHandler(logging.StreamHandler(sys.stderr))
    else:
        # TensorFlow's logger has a stderr handler of its own (deprecation notices).
        logging.getLogger("tensorflow").setLevel(logging.ERROR)
    if mode != progress_lib.QUIET:
        ours = logging.StreamHandler(sys.stdout)
        ours.addFilter(lambda r: r.name.startswith(("components", "pipeline")))
        if mode == progress_lib.JSON:
            ours.setFormatter(_JsonFormatter())
        else:
            ours.setFormatter(logging.Formatter("  %(message)s"))
        root.addHandler(ours)
    progress = progress_lib.ProgressHandler(mode=mode)
    # Through absl's own setter: TensorFlow saves and restores absl's verbosity
    # flag around SavedModel export, so a bare setLevel would be undone there.
    absl_logging.set_verbosity(absl_logging.INFO)
    logging.getLogger("absl").addHandler(progress)
    route_warnings(verbose=args.verbose)
    return progress


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """`warnings.showwarning` of a deepline process: ours to stderr, a library's to the log."""
    text = warnings.formatwarning(message, category, filename, lineno, line)
    if os.path.abspath(filename).startswith(OWN_CODE):
        (file or sys.stderr).write(text)
    else:
        logging.getLogger(WARNINGS_LOGGER).warning(text.rstrip())


def route_warnings(verbose: bool) -> None:
    """Shows our own code's warnings; sends a library's to the log (the console with --verbose).

    In this process, every thread (Beam's in-process DirectRunner runs the
    components' work on threads) shows a warning through `_show_warning`.
    Without `verbose`, the worker processes started from now on (Beam's
    multi-processing DirectRunner) ignore `WORKER_IGNORED_WARNINGS`, through
    `PYTHONWARNINGS`, which they inherit.

    Args:
      verbose: --verbose: every warning reaches the console.
    """
    warnings.showwarning = _show_warning
    if verbose:
        return
    entries = [e for e in os.environ.get("PYTHONWARNINGS", "").split(",") if e]
    entries += [f"ignore::{c}" for c in WORKER_IGNORED_WARNINGS if f"ignore::{c}" not in entries]
    os.environ["PYTHONWARNINGS"] = ",".join(entries)


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        from pipeline.progress import json_line

        return json_line(
            "log", logger=record.name, level=record.levelname, message=record.getMessage()
        )
