"""The `deepline` command.

    deepline run [--data PATH] [--output DIR] [...]   run the whole pipeline locally

Exit codes: 0 the model was pushed; 4 the run completed but the model was not
blessed (the live model is untouched); 3 data validation stopped the run;
2 usage or input-file error; 1 anything else.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import warnings

from pipeline import runtime

EXIT_PUSHED = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INVALID_DATA = 3
EXIT_NOT_BLESSED = 4


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

    parser = argparse.ArgumentParser(
        prog="deepline",
        description="Deepline: raw data to a validated, evaluated and served deep-learning model, "
        "orchestrated by TFX.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser(
        "run",
        help="run the whole pipeline locally",
        description="Ingest, validate, transform, train, evaluate and (if blessed) push, with the "
        "local orchestrator and Beam's DirectRunner. Components whose inputs, parameters and "
        "code are unchanged since an earlier run in the same --output are reused from cache.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    paths = run.add_argument_group("paths")
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

    training = run.add_argument_group("training")
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

    blessing = run.add_argument_group("blessing")
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

    execution = run.add_argument_group("execution")
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
        help="a Beam pipeline option, repeatable, written --beam-arg=--flag=value; any "
        f"replace the defaults {' '.join(config_lib.DEFAULT_BEAM_ARGS)}",
    )
    execution.add_argument(
        "-v", "--verbose", action="store_true", help="show TFX and Beam logs, not just progress"
    )
    execution.add_argument("--debug", action="store_true", help="print tracebacks of errors")
    return parser


def config_from_args(args: argparse.Namespace):
    """Builds the typed PipelineConfig from parsed `run` arguments."""
    from components.evaluation import BlessingThresholds
    from components.trainer.hparams import HParams
    from pipeline import config as config_lib

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
    return config_lib.PipelineConfig(
        data=args.data,
        schema=args.schema,
        output_dir=args.output,
        pipeline_name=args.pipeline_name,
        hparams=hparams,
        thresholds=thresholds,
        beam_args=tuple(args.beam_args) if args.beam_args else config_lib.DEFAULT_BEAM_ARGS,
        enable_cache=not args.no_cache,
        code_fingerprint=config_lib.module_code_fingerprint(),
    ).absolute()


def _configure_logging(verbose: bool):
    """Routes logs: progress lines always; TFX/Beam logs only with --verbose.

    The CLI owns the process's logging, so handlers that libraries installed
    on the root logger at import time are replaced.
    """
    from absl import logging as absl_logging

    from pipeline.progress import ProgressHandler

    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.setLevel(logging.INFO)
    if verbose:
        root.addHandler(logging.StreamHandler(sys.stderr))
    else:
        # Our own modules' messages (devices, early stopping) are worth seeing.
        ours = logging.StreamHandler(sys.stdout)
        ours.addFilter(lambda r: r.name.startswith(("components", "pipeline")))
        ours.setFormatter(logging.Formatter("  %(message)s"))
        root.addHandler(ours)
    progress = ProgressHandler()
    # Through absl's own setter: TensorFlow saves and restores absl's verbosity
    # flag around SavedModel export, so a bare setLevel would be undone there.
    absl_logging.set_verbosity(absl_logging.INFO)
    logging.getLogger("absl").addHandler(progress)
    return progress


def _run(args: argparse.Namespace) -> int:
    from components import features as features_lib
    from components.validation_gate import DataValidationError
    from pipeline import preflight, summary
    from pipeline.runners import local

    config = config_from_args(args)
    try:
        rows = preflight.check_inputs(config.data_root, config.data_pattern, features_lib.TAXI)
    except preflight.InputDataError as error:
        print(f"deepline: input error: {error}", file=sys.stderr)
        return EXIT_USAGE
    print(f"Input: {sum(rows.values())} rows in {len(rows)} file(s) under {config.data_root}")
    progress = _configure_logging(args.verbose)
    try:
        local.run(config)
    except Exception as error:  # noqa: BLE001 - every failure becomes one readable paragraph
        validation = _find_cause(error, DataValidationError)
        if args.debug:
            logging.getLogger(__name__).exception("Run failed")
        if validation is not None:
            print(f"deepline: {validation}", file=sys.stderr)
            return EXIT_INVALID_DATA
        component = progress.failed_component() or "the pipeline"
        print(
            f"deepline: {component} failed: {type(error).__name__}: {error}\n"
            "Run again with --verbose for the TFX/Beam logs, --debug for the traceback.",
            file=sys.stderr,
        )
        return EXIT_FAILED
    run_summary = summary.collect(config, progress.timings)
    summary.write(run_summary, config.summary_path)
    print(summary.render(run_summary))
    return EXIT_PUSHED if run_summary["pushed"] else EXIT_NOT_BLESSED


def _find_cause(error: BaseException, kind: type) -> BaseException | None:
    """Returns the first exception of `kind` in `error`'s cause/context chain."""
    while error is not None:
        if isinstance(error, kind):
            return error
        error = error.__cause__ or error.__context__
    return None


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `deepline` console script; returns the exit code."""
    runtime.configure_environment()
    # Import-time notices of third-party packages (Python version support,
    # deprecations) are not the user's concern.
    for category in (FutureWarning, DeprecationWarning, UserWarning):
        warnings.filterwarnings("ignore", category=category, module=r"(?!pipeline|components)")
    args = build_parser().parse_args(argv)
    if args.command == "run":
        return _run(args)
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
