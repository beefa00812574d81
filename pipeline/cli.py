"""The `deepline` command: run configuration from arguments, logging set-up, exit codes.

    deepline run [--data PATH] [--output DIR] [...]   run the whole pipeline locally
    deepline schedule --every S | --cron EXPR [...]   run it again and again, never overlapping
    deepline compile | deploy --target vertex [...]   KFP v2 spec; submit / schedule on Vertex AI
    deepline report [RUN]                             write RUN's HTML report again
    deepline tensorboard [RUN]                        TensorBoard on RUN's training logs

The options are declared in `pipeline.arguments`.
Exit codes: 0 the model was pushed (or the command succeeded); 4 the run
completed but the model was not blessed (the live model is untouched); 3 data
validation stopped the run; 2 usage or input-file error; 1 anything else.
The commands themselves live in `pipeline.commands`.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import warnings

from pipeline import runtime
from pipeline.arguments import VERSION, build_parser  # noqa: F401 - VERSION: `cli.VERSION`
from pipeline.exit_codes import EXIT_FAILED, EXIT_USAGE


def tunables_from_args(args: argparse.Namespace) -> dict:
    """The PipelineConfig fields set by the span, training and blessing options.

    Raises:
      ValueError: an unknown or invalid hyperparameter (`--hparam`), or
        hyperparameters that contradict their preset.
    """
    from components.evaluation import BlessingThresholds
    from components.trainer.hparams import HParams

    values = {
        "preset": args.preset,
        "hidden_units": list(args.hidden_units),
        "optimizer": args.optimizer,
        "lr_schedule": args.lr_schedule,
        "learning_rate": args.learning_rate,
        "batch_size": args.batch_size,
        "max_epochs": args.max_epochs,
        "seed": args.seed,
    }
    values.update(dict(args.hparams or ()))
    hparams = HParams.from_dict(values)
    hparams.resolve()  # refuses contradictions now, not in the Trainer an hour later
    thresholds = BlessingThresholds(
        min_auc=args.min_auc, min_accuracy=args.min_accuracy, min_auc_gain=args.min_auc_gain
    )
    return {
        "span": args.span,
        "span_window": args.span_window,
        "hparams": hparams,
        "thresholds": thresholds,
        "tuner_trials": args.tune,
        "tuner_epochs": args.tune_epochs,
    }


def dataset_from_args(args: argparse.Namespace) -> dict:
    """PipelineConfig fields of the data set: the spec's, with --data / --schema /
    --pipeline-name replacing what it says.

    Raises:
      ValueError: no such bundled data set; a spec that is invalid, unsupported or
        has a source format ingestion cannot read.
    """
    import data
    from pipeline import config as config_lib

    spec_file = args.spec or str(data.spec_path(args.dataset or data.DEFAULT_DATASET))
    try:
        fields = config_lib.dataset_settings(spec_file)
    except OSError as error:
        raise ValueError(f"cannot read the data set spec {spec_file}: {error}") from None
    fields["spec"] = spec_file
    if args.data is not None:
        extension = config_lib.PipelineConfig(spec=spec_file).dataset_spec().source.format.value
        fields["data_root"], fields["data_pattern"] = config_lib.split_data_path(
            args.data, extension
        )
    if args.schema is not None:
        fields["schema"] = args.schema
    if args.pipeline_name:
        fields["pipeline_name"] = args.pipeline_name
    return fields


def input_bytes(data_root: str, data_pattern: str) -> int:
    """Total size of the local input files (every span); remote input counts as large."""
    import glob

    from pipeline import config as config_lib

    if config_lib.is_uri(data_root):
        return 1 << 62
    pattern = os.path.join(data_root, data_pattern.replace(config_lib.SPAN_PLACEHOLDER, "*"))
    return sum(os.path.getsize(path) for path in glob.glob(pattern) if os.path.isfile(path))


def config_from_args(args: argparse.Namespace):
    """Builds the typed PipelineConfig from parsed `run` arguments.

    Raises:
      ValueError: the options contradict each other (e.g. Dataflow without a project).
    """
    from pipeline import config as config_lib
    from pipeline.runners import beam_options as beam_lib

    dataset = dataset_from_args(args)
    own_mode = any("direct_running_mode" in arg for arg in args.beam_args or ())
    small = not own_mode and (
        input_bytes(dataset["data_root"], dataset["data_pattern"]) <= beam_lib.SMALL_INPUT_BYTES
    )
    beam_options = beam_lib.BeamOptions(
        runner=args.runner,
        project=args.gcp_project,
        region=args.gcp_region,
        temp_location=args.temp_location,
        max_num_workers=args.max_num_workers,
        machine_type=args.machine_type,
        in_memory=small,
    )
    return config_lib.PipelineConfig(
        **dataset,
        output_dir=args.output,
        beam_args=beam_options.to_args() + tuple(args.beam_args or ()),
        enable_cache=not args.no_cache,
        max_quarantined_fraction=args.max_quarantined_fraction,
        code_fingerprint=config_lib.module_code_fingerprint(),
        **tunables_from_args(args),
    ).absolute()


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


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `deepline` console script; returns the exit code."""
    runtime.configure_environment()
    # Import-time notices of third-party packages (Python version support,
    # deprecations) are not the user's concern.
    for category in (FutureWarning, DeprecationWarning, UserWarning):
        warnings.filterwarnings("ignore", category=category, module=r"(?!pipeline|components)")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    args.argv = argv  # `schedule` hands its run options on to each run verbatim
    from pipeline import commands

    command = {
        "run": commands.run,
        "schedule": commands.schedule,
        "compile": commands.compile_spec,
        "deploy": commands.deploy,
        "ingest": commands.ingest,
        "init-spec": commands.init_spec,
        "report": commands.report,
        "tensorboard": commands.tensorboard,
    }[args.command]
    try:
        return command(args)
    except commands.UsageError as error:
        print(f"deepline: {error}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as error:  # noqa: BLE001 - one readable paragraph, traceback on request
        if args.debug:
            logging.getLogger(__name__).exception("deepline %s failed", args.command)
        print(
            f"deepline {args.command} failed: {type(error).__name__}: {error}\n"
            "Run again with --debug for the traceback.",
            file=sys.stderr,
        )
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
