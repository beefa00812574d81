"""The `deepline` command: argument parsing, logging set-up and exit codes.

    deepline run [--data PATH] [--output DIR] [...]   run the whole pipeline locally
    deepline report [RUN]                             write RUN's HTML report again
    deepline tensorboard [RUN]                        TensorBoard on RUN's training logs

Exit codes: 0 the model was pushed (or the command succeeded); 4 the run
completed but the model was not blessed (the live model is untouched); 3 data
validation stopped the run; 2 usage or input-file error; 1 anything else.
The commands themselves live in `pipeline.commands`.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import warnings

from pipeline import runtime
from pipeline.exit_codes import EXIT_FAILED, EXIT_USAGE

VERSION = "0.1.0"


def _int_tuple(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from None
    if not values:
        raise argparse.ArgumentTypeError("expected at least one layer width")
    return values


def build_parser() -> argparse.ArgumentParser:
    # Defaults come from the config dataclasses, so they are written once.
    from components.evaluation import BlessingThresholds
    from components.trainer.hparams import HParams
    from pipeline import config as config_lib
    from pipeline.runners import beam_options as beam_lib
    from pipeline.runners.vertex import VertexTarget as vertex_defaults

    common = argparse.ArgumentParser(add_help=False)
    output = common.add_argument_group("output")
    output.add_argument(
        "-q", "--quiet", action="store_true", help="print only errors and the final result"
    )
    output.add_argument(
        "--log-format",
        choices=("text", "json"),
        default="text",
        help="json: one JSON object per line (progress, epochs, summary), for schedulers",
    )
    output.add_argument(
        "-v", "--verbose", action="store_true", help="show TFX and Beam logs, not just progress"
    )
    output.add_argument("--debug", action="store_true", help="print tracebacks of errors")

    # Options of a pipeline run, shared by `run` and `schedule`.
    run_options = argparse.ArgumentParser(add_help=False)
    paths = run_options.add_argument_group("paths")
    paths.add_argument(
        "--data",
        default=config_lib.DEFAULT_DATA,
        help="input CSV file, or a folder whose *.csv files are read together",
    )
    paths.add_argument(
        "--schema",
        default=config_lib.DEFAULT_SCHEMA,
        help="curated schema (schema.pbtxt) the data is validated against",
    )
    paths.add_argument(
        "--output",
        default=config_lib.DEFAULT_OUTPUT_DIR,
        help="root of everything the run writes: pipeline artifacts, ML Metadata, "
        "serving_model/<pipeline name>/<version>/, summary.json",
    )
    paths.add_argument(
        "--pipeline-name",
        default=config_lib.DEFAULT_PIPELINE_NAME,
        help="pipeline name in ML Metadata and in the serving path",
    )

    paths.add_argument(
        "--span",
        type=int,
        default=None,
        help="with span folders (<data>/span-N/*.csv): the span to ingest; none: the newest",
    )
    paths.add_argument(
        "--span-window",
        type=int,
        default=config_lib.PipelineConfig.span_window,
        help="with span folders: Transform and the Trainer use the latest this many spans",
    )
    training = run_options.add_argument_group("training")
    training.add_argument(
        "--hidden-units",
        type=_int_tuple,
        default=",".join(map(str, HParams.hidden_units)),
        help="hidden layer widths, comma-separated; 4 or more layers make a deep "
        "net (Swish + batch norm)",
    )
    training.add_argument(
        "--optimizer",
        choices=("adamw", "nesterov"),
        default=HParams.optimizer,
        help="AdamW, or SGD with Nesterov momentum",
    )
    training.add_argument(
        "--learning-rate",
        type=float,
        default=HParams.learning_rate,
        help="initial learning rate (reduced on plateau)",
    )
    training.add_argument(
        "--batch-size", type=int, default=HParams.batch_size, help="examples per step"
    )
    training.add_argument(
        "--max-epochs",
        type=int,
        default=HParams.max_epochs,
        help="upper bound; early stopping decides the length",
    )
    training.add_argument("--seed", type=int, default=HParams.seed, help="random seed")

    blessing = run_options.add_argument_group("blessing")
    blessing.add_argument(
        "--min-auc",
        type=float,
        default=BlessingThresholds.min_auc,
        help="AUC the candidate must reach on the test split",
    )
    blessing.add_argument(
        "--min-accuracy",
        type=float,
        default=BlessingThresholds.min_accuracy,
        help="accuracy the candidate must reach on the test split",
    )
    blessing.add_argument(
        "--min-auc-gain",
        type=float,
        default=BlessingThresholds.min_auc_gain,
        help="AUC gain required over the live model (0: no worse than it)",
    )

    execution = run_options.add_argument_group("execution")
    execution.add_argument(
        "--no-cache",
        action="store_true",
        help="re-run every component even when a cached result exists",
    )
    execution.add_argument(
        "--beam-arg",
        action="append",
        dest="beam_args",
        metavar="ARG",
        help="an extra Beam pipeline option, repeatable, written --beam-arg=--flag=value",
    )
    beam = run_options.add_argument_group("beam (where ingestion, statistics, Transform run)")
    beam.add_argument(
        "--runner",
        choices=beam_lib.RUNNERS,
        default=beam_lib.BeamOptions.runner,
        help="DirectRunner: this machine, one worker process per core; DataflowRunner: "
        "Google Cloud Dataflow (workers install this package from setup.py)",
    )
    beam.add_argument("--gcp-project", default=None, help="Dataflow: project")
    beam.add_argument("--gcp-region", default=None, help="Dataflow: region")
    beam.add_argument("--temp-location", default=None, help="Dataflow: gs:// temp folder")
    beam.add_argument(
        "--max-num-workers", type=int, default=None, help="Dataflow: autoscaling upper bound"
    )
    beam.add_argument("--machine-type", default=None, help="Dataflow: worker machine type")

    parser = argparse.ArgumentParser(
        prog="deepline",
        description="Deepline: raw data to a validated, evaluated and served deep-learning model, "
        "orchestrated by TFX.",
        epilog="Exit codes: 0 pushed / succeeded, 4 not blessed, 3 data validation stopped the "
        "run, 2 usage or input error, 1 anything else.",
    )
    parser.add_argument("--version", action="version", version=f"deepline {VERSION}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "run",
        parents=[common, run_options],
        help="run the whole pipeline locally",
        description="Ingest, validate, transform, train, evaluate and (if blessed) push, with the "
        "local orchestrator and Beam's DirectRunner. Components whose inputs, parameters and "
        "code are unchanged since an earlier run in the same --output are reused from cache.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    schedule = commands.add_parser(
        "schedule",
        parents=[common, run_options],
        help="run the pipeline every interval or on a cron expression",
        description="Run the pipeline again and again, one run at a time (a lock in --output "
        "keeps two schedulers from overlapping), appending each run's result to "
        "<output>/runs.jsonl. SIGINT/SIGTERM stop it between runs; a run in progress finishes.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    when = schedule.add_argument_group("when").add_mutually_exclusive_group(required=True)
    when.add_argument("--every", type=float, metavar="SECONDS", help="run every SECONDS")
    when.add_argument(
        "--cron", metavar="EXPR", help='5-field cron expression, e.g. "0 2 * * *" (local time)'
    )
    schedule.add_argument(
        "--max-runs", type=int, default=None, help="stop after this many runs; none: never stop"
    )
    cloud = argparse.ArgumentParser(add_help=False)
    where = cloud.add_argument_group("pipeline")
    where.add_argument(
        "--target",
        choices=("vertex", "kubeflow"),
        default="vertex",
        help="orchestrator; both run the same KFP v2 pipeline spec",
    )
    where.add_argument(
        "--pipeline-root",
        required=True,
        metavar="GS_URI",
        help="gs:// folder every run writes to: artifacts, and pushed models under "
        "serving_model/<pipeline name>/",
    )
    where.add_argument(
        "--data",
        default=config_lib.DEFAULT_DATA,
        help="input CSV file or folder (gs://, or the bundled data baked into the image)",
    )
    where.add_argument("--schema", default=config_lib.DEFAULT_SCHEMA, help="curated schema")
    where.add_argument(
        "--pipeline-name", default=config_lib.DEFAULT_PIPELINE_NAME, help="pipeline name"
    )
    gcp = cloud.add_argument_group("Google Cloud")
    gcp.add_argument("--image", default=vertex_defaults.image, help="container image of every step")
    gcp.add_argument("--project", default=None, help="project id (default: gcloud's)")
    gcp.add_argument("--region", default=vertex_defaults.region, help="Vertex AI region")
    gcp.add_argument("--service-account", default=None, help="service account the pipeline runs as")
    compile_ = commands.add_parser(
        "compile",
        parents=[common, cloud],
        help="write the pipeline as a KFP v2 pipeline spec (Vertex AI / Kubeflow)",
        description="Compile the pipeline for Vertex AI Pipelines or Kubeflow Pipelines.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    compile_.add_argument(
        "--output", default="deepline_pipeline.json", metavar="FILE", help="spec file to write"
    )
    deploy = commands.add_parser(
        "deploy",
        parents=[common, cloud],
        help="submit the pipeline to Vertex AI, once or on a schedule",
        description="Compile (or take --spec) and submit to Vertex AI Pipelines; with "
        "--schedule, create a Vertex schedule instead of one run.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    deploy.add_argument("--spec", metavar="FILE", help="a compiled spec (default: compile now)")
    deploy.add_argument("--schedule", metavar="CRON", help='e.g. "0 2 * * *" (UTC)')

    finished_run = argparse.ArgumentParser(add_help=False)
    finished_run.add_argument(
        "run_dir",
        nargs="?",
        default=config_lib.DEFAULT_OUTPUT_DIR,
        metavar="RUN",
        help="the --output folder of a run",
    )
    commands.add_parser(
        "report",
        parents=[common, finished_run],
        help="write a run's HTML report again",
        description="Rebuild RUN/report.html from what the run wrote (no re-run).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    board = commands.add_parser(
        "tensorboard",
        parents=[common, finished_run],
        help="TensorBoard on a run's training logs",
        description="Print the TensorBoard command for RUN's training logs, or start it.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    board.add_argument("--start", action="store_true", help="start TensorBoard, not just print")
    board.add_argument("--port", type=int, default=6006, help="TensorBoard port")
    return parser


def config_from_args(args: argparse.Namespace):
    """Builds the typed PipelineConfig from parsed `run` arguments.

    Raises:
      ValueError: the options contradict each other (e.g. Dataflow without a project).
    """
    from components.evaluation import BlessingThresholds
    from components.trainer.hparams import HParams
    from pipeline import config as config_lib
    from pipeline.runners import beam_options as beam_lib

    hparams = dataclasses.replace(
        HParams(),
        hidden_units=args.hidden_units,
        optimizer=args.optimizer,
        learning_rate=args.learning_rate,
        batch_size=args.batch_size,
        max_epochs=args.max_epochs,
        seed=args.seed,
    )
    thresholds = BlessingThresholds(
        min_auc=args.min_auc, min_accuracy=args.min_accuracy, min_auc_gain=args.min_auc_gain
    )
    data_root, data_pattern = config_lib.split_data_path(args.data)
    beam_options = beam_lib.BeamOptions(
        runner=args.runner,
        project=args.gcp_project,
        region=args.gcp_region,
        temp_location=args.temp_location,
        max_num_workers=args.max_num_workers,
        machine_type=args.machine_type,
    )
    return config_lib.PipelineConfig(
        data_root=data_root,
        data_pattern=data_pattern,
        span=args.span,
        span_window=args.span_window,
        schema=args.schema,
        output_dir=args.output,
        pipeline_name=args.pipeline_name,
        hparams=hparams,
        thresholds=thresholds,
        beam_args=beam_options.to_args() + tuple(args.beam_args or ()),
        enable_cache=not args.no_cache,
        code_fingerprint=config_lib.module_code_fingerprint(),
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
