"""The command line's logging: progress lines, our own modules' messages, and quiet or JSON modes.

`configure_logging(args)` routes the process's logs for the options every
`deepline` command takes (`--quiet`, `--log-format`, `--verbose`).
"""

from __future__ import annotations

import argparse
import logging
import sys


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
    return progress


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        from pipeline.progress import json_line

        return json_line(
            "log", logger=record.name, level=record.levelname, message=record.getMessage()
        )
