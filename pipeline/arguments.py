"""The `deepline` command line: every subcommand, option and default (defaults come from the
config classes, so each is written once). `pipeline.cli` parses with it and dispatches.

The options of what a run trains and blesses with are declared in `pipeline.tunable_arguments`,
those of a pipeline compiled for Vertex AI, Kubeflow or Airflow in `pipeline.cloud_arguments`."""

from __future__ import annotations

import argparse

from pipeline.cloud_arguments import COMPILE_TARGETS, airflow_parser, cloud_parser
from pipeline.tunable_arguments import tunables_parser

VERSION = "0.1.0"


def build_parser() -> argparse.ArgumentParser:
    # Defaults come from the config dataclasses, so they are written once.
    from components.dataset.drift_spec import (
        DEFAULT_CATEGORICAL_THRESHOLD,
        DEFAULT_NUMERIC_THRESHOLD,
    )
    from data import DEFAULT_DATASET, dataset_names
    from pipeline import config as config_lib
    from pipeline.runners import beam_options as beam_lib

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

    # Which data set: a bundled one by name, or a spec of one's own.
    dataset_options = argparse.ArgumentParser(add_help=False)
    which = dataset_options.add_argument_group("data set").add_mutually_exclusive_group()
    which.add_argument(
        "--dataset",
        default=None,  # not DEFAULT_DATASET: argparse would then let --spec through beside it
        choices=dataset_names(),
        help=f"a bundled data set (data/NAME/spec.yaml); default: {DEFAULT_DATASET}",
    )
    which.add_argument(
        "--spec",
        metavar="FILE",
        help="data set spec (YAML) of your own data; `deepline init-spec` drafts one",
    )

    # What a pipeline reads and is called, shared by `run`, `schedule`, `compile`, `deploy`.
    data_options = argparse.ArgumentParser(add_help=False, parents=[dataset_options])
    data = data_options.add_argument_group("data")
    data.add_argument(
        "--data",
        default=None,
        help="input file (.gz read through GZIP), a folder whose files of the spec's format "
        "(*.csv, *.csv.gz, ...) are read together, or a folder of span-N folders (local, or "
        "gs:// on Vertex AI / Dataflow); default: the spec's source",
    )
    data.add_argument(
        "--schema",
        default=None,
        help="curated schema (schema.pbtxt) the data is validated against; default: the "
        "spec's, and without one, a schema inferred from the data",
    )
    data.add_argument(
        "--pipeline-name",
        default=None,
        help="pipeline name in ML Metadata and in the serving path; default: deepline-<spec name>",
    )

    # What a run trains and blesses with; on Vertex these are runtime parameters.
    tunables = tunables_parser()

    # How a run here executes, shared by `run`, `schedule` and `compile --target airflow`.
    execution_options = argparse.ArgumentParser(add_help=False)
    execution = execution_options.add_argument_group("execution")
    execution.add_argument(
        "--max-quarantined-fraction",
        type=float,
        default=config_lib.PipelineConfig.max_quarantined_fraction,
        help="rows failing the ingestion's checks are set aside in a quarantine file; fail "
        "the run when more than this fraction is (0: any bad row fails it)",
    )
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
    drift = execution_options.add_argument_group(
        "drift (the data against the live model's training data, from the second run on)"
    )
    drift.add_argument(
        "--numeric-drift-threshold",
        type=float,
        default=None,
        metavar="D",
        help="Jensen–Shannon divergence beyond which a numeric column has drifted; default: "
        f"the spec's drift.numeric_threshold, else {DEFAULT_NUMERIC_THRESHOLD}",
    )
    drift.add_argument(
        "--categorical-drift-threshold",
        type=float,
        default=None,
        metavar="D",
        help="L-infinity distance of the value frequencies beyond which a categorical column "
        "has drifted; default: the spec's drift.categorical_threshold, else "
        f"{DEFAULT_CATEGORICAL_THRESHOLD}",
    )
    drift.add_argument(
        "--drift-warn-only",
        action="store_true",
        help="drift only warns (printed, and in the summary) instead of stopping the run "
        "with exit code 3; for data whose drift is expected (spec: drift.on_drift: warn)",
    )
    beam = execution_options.add_argument_group("beam (where ingestion, statistics, Transform run)")
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

    # Options of a pipeline run, shared by `run` and `schedule`.
    run_options = argparse.ArgumentParser(
        add_help=False, parents=[data_options, tunables, execution_options]
    )
    paths = run_options.add_argument_group("paths")
    paths.add_argument(
        "--output",
        default=config_lib.DEFAULT_OUTPUT_DIR,
        help="root of everything the run writes: pipeline artifacts, ML Metadata, "
        "serving_model/<pipeline name>/<version>/, summary.json",
    )

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
    compile_ = commands.add_parser(
        "compile",
        parents=[
            common,
            cloud_parser(data_options, tunables, COMPILE_TARGETS),
            execution_options,
            airflow_parser(),
        ],
        help="write the pipeline definition for Vertex AI / Kubeflow, or an Airflow DAG file",
        description="Compile the pipeline for Vertex AI Pipelines or Kubeflow Pipelines (a KFP "
        "v2 pipeline definition, JSON), or for Apache Airflow (a DAG file for Airflow's DAGs "
        "folder, one task per TFX component; the execution options apply to it).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    compile_.add_argument(
        "--output",
        default=None,
        metavar="FILE",
        help="file to write; default: deepline_pipeline.json (Vertex AI, Kubeflow), "
        "deepline_<pipeline name>.py (Airflow)",
    )
    deploy = commands.add_parser(
        "deploy",
        parents=[common, cloud_parser(data_options, tunables)],
        help="submit the pipeline to Vertex AI, once or on a schedule",
        description="Compile (or take --pipeline-spec) and submit to Vertex AI Pipelines; with "
        "--schedule, create a Vertex schedule instead of one run.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    deploy.add_argument(
        "--pipeline-spec", metavar="FILE", help="a compiled pipeline (default: compile now)"
    )
    deploy.add_argument("--schedule", metavar="CRON", help='e.g. "0 2 * * *" (UTC)')

    ingest = commands.add_parser(
        "ingest",
        parents=[common, dataset_options],
        help="check and convert rows to TFRecord splits, bad rows to quarantine",
        description="Read DATA (files of the spec's source.format: CSV, JSON lines, Parquet or "
        "TFRecord, each but Parquet also as .gz; patterns or folders), check every row against "
        "the data set's columns, write "
        "good rows as GZIP TFRecord shards of tf.Example per split (CsvExampleGen's layout) and "
        "bad rows with file, line and reason to <output>/quarantine/. Rows in = rows written + "
        "rows quarantined, always. The counts are in <output>/ingestion_summary.json (printed "
        "with --log-format json).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    ingest.add_argument(
        "data",
        nargs="*",
        metavar="DATA",
        help="files, patterns or folders (one or more); default: the spec's source",
    )
    ingest.add_argument("--output", required=True, help="folder to write the splits to")
    ingest.add_argument(
        "--max-quarantined-fraction",
        type=float,
        default=0.0,
        help="fail when more rows than this fraction are quarantined (0: any)",
    )
    ingest.add_argument(
        "--runner", choices=("local", "beam"), default="local", help="local processes, or Beam"
    )
    ingest.add_argument("--workers", type=int, default=0, help="local processes; 0: one per core")
    ingest.add_argument(
        "--beam-arg",
        action="append",
        dest="beam_args",
        metavar="ARG",
        help="with --runner beam: a Beam pipeline option, repeatable, written "
        "--beam-arg=--flag=value; none: the DirectRunner on every core",
    )
    ingest.add_argument("--overwrite", action="store_true", help="replace an earlier output")

    init_spec = commands.add_parser(
        "init-spec",
        parents=[common],
        help="draft a data set spec (YAML) from a data file, for you to review",
        description="Profile DATA (its first rows) and write a draft data set spec: its format "
        "and CSV delimiter, a kind and a transform per column, and the label's kind, each "
        "choice explained in a comment.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    init_spec.add_argument(
        "data",
        metavar="DATA",
        help="file to profile: .csv or .tsv, .jsonl, .parquet, .tfrecord (all but Parquet also "
        "as .gz)",
    )
    init_spec.add_argument("--label", required=True, help="the column to predict")
    init_spec.add_argument(
        "--output", metavar="FILE", default=None, help="write here; none: standard output"
    )
    init_spec.add_argument(
        "--sample-rows", type=int, default=100_000, help="rows read to profile the columns"
    )

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
