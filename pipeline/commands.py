"""The `deepline` subcommands: run, schedule, compile (Vertex AI, Kubeflow, Airflow), deploy,
ingest, init-spec, report, tensorboard. Each returns an exit code; each that runs or compiles
the pipeline builds its configuration with `pipeline.config_builder.config_from_args`, and
nothing else (nor does an Airflow DAG file, which calls it on its baked command line)."""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import logging
import os
import shutil
import subprocess
import sys

from pipeline import config_builder, contracts
from pipeline.config import PipelineConfig
from pipeline.exit_codes import (
    EXIT_BUSY,
    EXIT_FAILED,
    EXIT_INVALID_DATA,
    EXIT_NOT_BLESSED,
    EXIT_PUSHED,
    EXIT_USAGE,
)
from pipeline.logging_setup import configure_logging

logger = logging.getLogger(__name__)


class UsageError(ValueError):
    """The command cannot run as asked; the message says what to pass instead."""


def config_or_usage_error(args: argparse.Namespace) -> PipelineConfig:
    """The run configuration of `args` (`config_builder.config_from_args`).

    Raises:
      UsageError: the options name an unusable data set or contradict each other.
    """
    try:
        return config_builder.config_from_args(args)
    except ValueError as error:
        raise UsageError(str(error)) from None


def run(args: argparse.Namespace) -> int:
    """`deepline run`: the whole pipeline, then the summary and the report.

    One run at a time per output folder: the folder's run lock is taken before anything else
    (`pipeline.output_folder.run_lock`); a second run on a busy folder exits `EXIT_BUSY` at
    once, naming the holder. A lock left by a killed run is taken over, with a notice.
    """
    from pipeline import output_folder
    from pipeline.run_lock import LockHeldError

    config = config_or_usage_error(args)
    try:
        output_folder.check_writable_folder(config.output_dir)
        with output_folder.run_lock(config.output_dir) as lock:
            if lock.taken_over is not None:
                print(
                    f"deepline: taking over the run lock {lock.path}: "
                    f"{lock.taken_over.describe()} did not release it (stopped or killed) and "
                    "no longer holds it; its finished components are reused.",
                    file=sys.stderr,
                )
            return _run_locked(args, config)
    except output_folder.OutputFolderError as error:
        raise UsageError(str(error)) from None
    except LockHeldError as held:
        holder = held.holder.describe() if held.holder else "another process"
        print(
            f"deepline: another run is writing to {config.output_dir}: {holder} holds its run "
            f"lock {held.path}. Wait for it to finish, or pass another --output; if that "
            "process is stuck, stop it and run again.",
            file=sys.stderr,
        )
        return EXIT_BUSY


def _run_locked(args: argparse.Namespace, config: PipelineConfig) -> int:
    """`deepline run` once its output folder is locked: check the input, run, summarize."""
    from components.ingestion import IngestionError
    from components.validation_gate import DataValidationError
    from pipeline import preflight, summary
    from pipeline.runners import local

    progress = configure_logging(args)
    try:
        pattern = config.data_pattern
        if config.uses_spans:
            pattern, span = preflight.span_pattern(config.data_root, pattern, config.span)
            logger.info(
                "Ingesting span %d; training on the latest %d span(s).", span, config.span_window
            )
        rows = preflight.check_inputs(
            config.data_root,
            pattern,
            config.dataset,
            config.dataset.source.format.value,
        )
    except preflight.InputDataError as error:
        print(f"deepline: input error: {error}", file=sys.stderr)
        return EXIT_USAGE
    logger.info(
        "Input: %d rows in %d file(s) under %s", sum(rows.values()), len(rows), config.data_root
    )
    started = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    run_id = local.new_run_id()
    try:
        local.run(config, run_id)
    except Exception as error:  # noqa: BLE001 - every failure becomes one readable paragraph
        if _find_cause(error, KeyboardInterrupt) is not None:
            raise KeyboardInterrupt from None  # Ctrl-C inside a component, wrapped by TFX
        if args.debug:
            logger.exception("Run failed")
        validation = _find_cause(error, DataValidationError)
        if validation is not None:
            print(f"deepline: {validation}", file=sys.stderr)
            return EXIT_INVALID_DATA
        bad_rows = _find_cause(error, IngestionError)
        if bad_rows is not None:
            print(f"deepline: input error: {bad_rows}", file=sys.stderr)
            return EXIT_USAGE
        component = progress.failed_component() or "the pipeline"
        print(
            f"deepline: {component} failed: {type(error).__name__}: {error}\n"
            "Run again with --verbose for the TFX/Beam logs, --debug for the traceback.",
            file=sys.stderr,
        )
        return EXIT_FAILED
    finally:
        progress.close()
    # This run's executions (by its run id), whatever else the store recorded meanwhile.
    run_summary = summary.collect(config, progress.timings, started, run_id)
    if run_summary.get("model"):
        from components import candidate_evaluation

        candidate_evaluation.add_test_metrics(run_summary["model"], config.dataset)
    # The report is built from what the run wrote, summary.json included; the
    # summary then records where the report went.
    summary.write(run_summary, config.summary_path)
    run_summary["report"] = _write_report(config.output_dir)
    summary.write(run_summary, config.summary_path)
    _print_result(args, summary.render(run_summary), run_summary)
    return EXIT_PUSHED if run_summary["pushed"] else EXIT_NOT_BLESSED


def _print_result(args: argparse.Namespace, text: str, run_summary: dict) -> None:
    from pipeline.progress import json_line

    if args.log_format == "json" and not args.quiet:
        print(json_line("summary", **run_summary), flush=True)
    elif args.quiet:
        verdict = (
            "pushed to " + str(run_summary["model_dir"])
            if run_summary["pushed"]
            else ("not blessed: " + "; ".join(run_summary["not_blessed_reasons"]))
        )
        print(f"deepline: {verdict}")
    else:
        print(text)
        if run_summary.get("report"):
            print(f"Report: {run_summary['report']}")


def _write_report(output_dir: str) -> str | None:
    """Writes `<output_dir>/report.html`; a report failure never fails a finished run."""
    from pipeline.report import collect, render

    path = os.path.join(output_dir, contracts.REPORT_FILE)
    try:
        render.write_report(collect.collect(output_dir), path)
    except Exception:  # noqa: BLE001 - the run itself succeeded; say why the page is missing
        logger.exception("Could not write the run report %s", path)
        return None
    return path


SCHEDULE_ONLY_OPTIONS = ("--every", "--cron", "--max-runs")


def run_arguments(argv: list[str]) -> list[str]:
    """The `deepline run` arguments inside a `deepline schedule` command line."""
    out, skip_value = [], False
    for arg in argv[1:]:  # argv[0] is "schedule"
        if skip_value:
            skip_value = False
        elif arg in SCHEDULE_ONLY_OPTIONS:
            skip_value = True
        elif not arg.startswith(tuple(f"{o}=" for o in SCHEDULE_ONLY_OPTIONS)):
            out.append(arg)
    return ["run", *out]


def schedule(args: argparse.Namespace) -> int:
    """`deepline schedule`: a run every interval or on a cron expression, never overlapping."""
    from pipeline.runners import schedule as schedule_lib

    try:
        when = (
            schedule_lib.CronSchedule.parse(args.cron)
            if args.cron
            else schedule_lib.IntervalSchedule(args.every)
        )
    except ValueError as error:
        raise UsageError(str(error)) from None
    # What each run will write where; the runs themselves read their options again.
    config = config_or_usage_error(args)
    os.makedirs(config.output_dir, exist_ok=True)
    child = [sys.executable, "-m", "pipeline.cli", *run_arguments(args.argv)]
    summary_path = config.summary_path
    run_log = os.path.join(config.output_dir, contracts.SCHEDULE_LOG_FILE)

    def run_once() -> schedule_lib.RunResult:
        # Each run is its own process: memory and TensorFlow state start fresh,
        # and a signal to the scheduler does not interrupt the run.
        code = subprocess.call(child, start_new_session=True)
        summary = None
        if code in (EXIT_PUSHED, EXIT_NOT_BLESSED) and os.path.exists(summary_path):
            with open(summary_path) as f:
                summary = json.load(f)
        return schedule_lib.RunResult(exit_code=code, summary=summary)

    runs = schedule_lib.run_schedule(
        run_once,
        when,
        os.path.join(config.output_dir, contracts.SCHEDULE_LOCK_FILE),
        run_log,
        max_runs=args.max_runs,
    )
    if not args.quiet:
        print(f"deepline schedule: stopped after {runs} run(s); log: {run_log}")
    return EXIT_PUSHED


def ingest(args: argparse.Namespace) -> int:
    """`deepline ingest [DATA] --output DIR`: checked rows to TFRecords, bad rows to quarantine."""
    from components import ingestion
    from pipeline import config as config_lib
    from pipeline import output_folder, preflight

    try:
        dataset = config_builder.load_dataset(args)
        config = ingestion.spec_config(
            dataset, max_quarantined_fraction=args.max_quarantined_fraction
        )
        source = config_builder.dataset_settings(dataset)
    except (OSError, ValueError) as error:  # SpecError is a ValueError
        raise UsageError(str(error)) from None
    # Without DATA: the spec's source, every span of it.
    pattern = source["data_pattern"].replace(config_lib.SPAN_PLACEHOLDER, "*")
    inputs = args.data or [f"{source['data_root']}/{pattern}"]
    try:
        output_folder.check_writable_folder(args.output)
    except output_folder.OutputFolderError as error:
        raise UsageError(str(error)) from None
    try:
        # `deepline run`'s own file checks (a missing spec column, an empty file), so both
        # commands refuse the same files, with the same words and exit code.
        file_format = dataset.source.format.value
        for path in ingestion.input_files(inputs, file_format):
            preflight.check_layout(path, dataset, file_format)
        result = ingestion.ingest(
            inputs,
            args.output,
            config,
            runner=args.runner,
            workers=args.workers,
            beam_args=args.beam_args,
            overwrite=args.overwrite,
        )
    except ingestion.IngestionError as error:  # as `deepline run`: an input error
        print(f"deepline: input error: {error}", file=sys.stderr)
        return EXIT_USAGE
    if args.log_format == "json":  # the summary as one line, for scripts and benchmarks
        from pipeline.progress import json_line

        print(json_line("ingestion_summary", **json.loads(result.to_json())), flush=True)
    elif not args.quiet:
        splits = ", ".join(f"{name} {rows:,}" for name, rows in result.rows_per_split.items())
        print(
            f"{result.rows_in:,} rows in: {result.rows_written:,} written ({splits}), "
            f"{result.rows_quarantined:,} quarantined; {result.seconds:.1f} s, "
            f"{result.rows_per_second:,.0f} rows/s"
        )
        if result.rows_quarantined:
            print(f"quarantine: {result.quarantine_file}")
    return EXIT_PUSHED


def init_spec(args: argparse.Namespace) -> int:
    """`deepline init-spec DATA --label COLUMN`: a draft data set spec from the data."""
    from components import dataset
    from components.dataset import inference
    from components.ingestion import sample

    if not os.path.isfile(args.data):
        raise UsageError(
            f"{args.data} is not a file: give the data file to profile, named {sample.SUPPORTED}."
        )
    try:
        text = inference.init_spec_text(sample.read_sample(args.data, args.sample_rows), args.label)
    except (dataset.SpecError, ValueError) as error:  # IngestionError is a ValueError
        raise UsageError(str(error)) from None
    if args.output is None:
        sys.stdout.write(text)
        return EXIT_PUSHED
    text = _source_relative_to_spec(text, args.data, args.output)
    try:
        os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
        with open(args.output, "w") as f:
            f.write(text)
    except OSError as error:
        raise UsageError(
            f"cannot write the spec to {args.output}: {error.strerror or error}. Pass an "
            "--output file in a folder you can write to."
        ) from None
    if not args.quiet:
        print(args.output)
    return EXIT_PUSHED


def _source_relative_to_spec(text: str, data: str, spec_path: str) -> str:
    """The drafted spec `text` with `source.path` relative to the folder of `spec_path`.

    The draft names the data file by its name alone, right for a spec saved next to it; a
    spec written elsewhere must reach the file from its own folder, as the spec loader does.
    """
    import yaml

    from components import dataset

    comment, _, body = text.partition("\n\n")  # the header comment, then the YAML
    spec = dataset.parse_spec(yaml.safe_load(body), spec_path)
    spec_folder = os.path.dirname(os.path.abspath(spec_path))
    relative = os.path.relpath(os.path.abspath(data), spec_folder)
    spec = dataclasses.replace(spec, source=dataclasses.replace(spec.source, path=relative))
    name = os.path.basename(data)
    comment = comment.replace(
        f"save this file next to {name}: source.path is relative to it.",
        f"source.path ({relative}) is relative to this file's folder.",
    )
    return f"{comment}\n\n{dataset.dump_spec(spec)}"


def report(args: argparse.Namespace) -> int:
    """`deepline report [RUN]`: rebuild the HTML report of a finished run."""
    from pipeline.report import collect, render

    if not os.path.exists(os.path.join(args.run_dir, contracts.SUMMARY_FILE)):
        raise UsageError(
            f"{args.run_dir} holds no finished run (no {contracts.SUMMARY_FILE}); pass the "
            "--output folder of a `deepline run`."
        )
    configure_logging(args)  # TensorFlow's deprecation chatter stays out of the way
    path = os.path.join(args.run_dir, contracts.REPORT_FILE)
    render.write_report(collect.collect(os.path.abspath(args.run_dir)), path)
    if not args.quiet:
        print(path)
    return EXIT_PUSHED


def tensorboard(args: argparse.Namespace) -> int:
    """`deepline tensorboard [RUN]`: print (or start) TensorBoard on the Trainer's logs."""
    log_dir = os.path.abspath(
        os.path.join(args.run_dir, contracts.PIPELINE_FOLDER, "Trainer", "model_run")
    )
    if not os.path.isdir(log_dir):
        raise UsageError(
            f"No training logs under {log_dir}; pass the --output folder of a run that trained."
        )
    executable = shutil.which("tensorboard") or os.path.join(
        os.path.dirname(sys.executable), "tensorboard"
    )
    command = [executable, "--logdir", log_dir, "--port", str(args.port)]
    if not args.start:
        print(" ".join(command))
        return EXIT_PUSHED
    return subprocess.call(command)


def _find_cause(error: BaseException, kind: type) -> BaseException | None:
    """Returns the first exception of `kind` in `error`'s cause/context chain."""
    while error is not None:
        if isinstance(error, kind):
            return error
        error = error.__cause__ or error.__context__
    return None
