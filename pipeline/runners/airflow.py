"""Airflow runner: the pipeline as an Airflow DAG, one task per TFX component.

Compiling writes a DAG file for Airflow's DAGs folder (`write_dag_file`). The file holds the
`deepline compile` command line, paths made absolute and the start date fixed, and nothing else;
Airflow imports it, and it calls `pipeline.airflow_dag.dag_from_argv`, which parses those
options with the `deepline` parser, builds the run configuration with
`config_builder.config_from_args` (the one builder of every command and target) and the DAG
settings, and calls `build_dag`: `create_pipeline(config)` handed to TFX's `AirflowDagRunner`.
So a DAG runs what `deepline run` with the same options runs, and reads nothing from the shell
of whoever compiled it.

A run writes where `deepline run --output` would: artifacts under `<pipeline root>/pipeline/`,
ML Metadata in `<pipeline root>/metadata.sqlite` (which keeps the cache and the latest blessed
model across runs), models under `<pipeline root>/serving_model/<pipeline name>/`. Two runs of
one DAG never overlap (`max_active_runs=1`).

Parsing a DAG file imports TensorFlow (TFX builds the components), which takes longer than
Airflow's default 30 s DAG-file import timeout on a busy machine: `DAG_IMPORT_TIMEOUT_SECONDS`
is what to allow (`AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT`).

Imports no Airflow, TFX or TensorFlow until a DAG is built, so `deepline compile` writes DAG files
without Airflow installed.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import re
from collections.abc import Sequence

from pipeline.config import PipelineConfig, absolute_path, is_uri
from pipeline.runners.cron import CronSchedule

# Seconds to allow Airflow to import one DAG file (Airflow's default is 30).
DAG_IMPORT_TIMEOUT_SECONDS = 180
# Options whose value is a local path, made absolute in the DAG file.
PATH_OPTIONS = ("--pipeline-root", "--output", "--data", "--schema", "--spec")

_DAG_FILE = '''"""Airflow DAG {dag_id!r}: the Deepline pipeline, one task per TFX component.

Written by `deepline compile --target airflow`; compile again rather than edit. Every option of
the runs is in DEEPLINE_ARGV (paths absolute); nothing is read from the compiling shell. Parsing
this file imports TensorFlow: allow Airflow {timeout} s for it
(AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT={timeout}). Needs Deepline installed where Airflow runs:
pip install -e "{package_root}[airflow]" -c {package_root}/constraints-airflow.txt
"""

from pipeline import runtime

runtime.configure_environment()  # tf_keras, before TFX imports TensorFlow

from pipeline import airflow_dag  # noqa: E402

DEEPLINE_ARGV = [
{argv}
]

dag = airflow_dag.dag_from_argv(DEEPLINE_ARGV, __file__)
'''


@dataclasses.dataclass(frozen=True)
class DagSettings:
    """When and how Airflow runs the pipeline's DAG.

    Attributes:
      start_date: First day of the schedule, at 00:00 UTC.
      schedule: A cron expression (UTC) or croniter alias such as "@daily"; None runs only
        when triggered (`airflow dags trigger`, the UI). Defaults to None.
      catchup: Also run the slots between `start_date` and now, oldest first. Defaults
        to False: only the latest.
      retries: Times Airflow retries a failed component (a task). Defaults to 1.
      retry_delay_minutes: Minutes between a failure and its retry. Defaults to 5.
    """

    start_date: datetime.date
    schedule: str | None = None
    catchup: bool = False
    retries: int = 1
    retry_delay_minutes: float = 5

    def __post_init__(self):
        if self.schedule is not None:
            CronSchedule.parse(self.schedule)
        if self.retries < 0:
            raise ValueError(f"--retries must be 0 or more, got {self.retries}")

    def dag_arguments(self) -> dict:
        """The keyword arguments of `airflow.models.DAG` (AirflowDagRunner adds the dag_id)."""
        import pendulum

        start = self.start_date
        return {
            "schedule": self.schedule,
            "start_date": pendulum.datetime(start.year, start.month, start.day, tz="UTC"),
            "catchup": self.catchup,
            # One run at a time on one output folder: a run reads the ML Metadata (cache,
            # latest blessed model) the previous one wrote.
            "max_active_runs": 1,
            "default_args": {
                "owner": "deepline",
                "retries": self.retries,
                "retry_delay": datetime.timedelta(minutes=self.retry_delay_minutes),
            },
            "tags": ["deepline"],
        }


def settings_from_args(args) -> DagSettings:
    """The DAG settings of `compile --target airflow`'s options.

    Raises:
      ValueError: a start date that is not YYYY-MM-DD, a schedule that is not a cron
        expression, negative retries.
    """
    try:
        start = datetime.date.fromisoformat(args.start_date)
    except (TypeError, ValueError):
        raise ValueError(
            f"--start-date {args.start_date!r} is not a date: write it YYYY-MM-DD"
        ) from None
    return DagSettings(
        start_date=start, schedule=args.schedule, catchup=args.catchup, retries=args.retries
    )


def dag_argv(argv: Sequence[str], today: datetime.date) -> list[str]:
    """The command line a DAG file keeps: `argv` with local paths absolute and a start date.

    Args:
      argv: A `deepline compile --target airflow ...` command line, without the program name.
      today: The start date when `argv` names none.

    Returns:
      The command line, parsed again by the DAG file wherever Airflow imports it.
    """
    out, path_value, has_start = [], False, False
    for arg in argv:
        flag, eq, value = arg.partition("=")
        if path_value:
            arg, path_value = _absolute(arg), False
        elif flag in PATH_OPTIONS and eq:
            arg = f"{flag}={_absolute(value)}"
        elif arg in PATH_OPTIONS:
            path_value = True
        has_start = has_start or flag == "--start-date"
        out.append(arg)
    if not has_start:
        out += ["--start-date", today.isoformat()]
    return out


def default_dag_file(pipeline_name: str) -> str:
    """`deepline_<pipeline name>.py`, the name a DAG file gets without --output."""
    name = pipeline_name.lower().removeprefix("deepline-")
    return "deepline_" + re.sub(r"[^a-z0-9]+", "_", name) + ".py"


def write_dag_file(argv: Sequence[str], config: PipelineConfig, dag_file: str) -> str:
    """Writes the DAG file of a `compile --target airflow` command line.

    Args:
      argv: The command line, as `dag_argv` returns it.
      config: The configuration it builds (checked already): names the DAG.
      dag_file: Where to write, normally in Airflow's DAGs folder; a `.py` file.

    Returns:
      The absolute path of the written file.

    Raises:
      ValueError: `dag_file` is not a `.py` file (Airflow reads only those), or the pipeline
        root is not a local folder (ML Metadata is a SQLite file in it).
    """
    if is_uri(config.output_dir):
        raise ValueError(
            f"--pipeline-root {config.output_dir}: on Airflow, runs keep their ML Metadata in "
            "a SQLite file under the pipeline root, so it must be a folder of the Airflow "
            "workers (local, or a shared mount), not a URI."
        )
    if not dag_file.endswith(".py"):
        raise ValueError(
            f"{dag_file}: Airflow reads DAGs from .py files; give --output DAGS_FOLDER/"
            f"{default_dag_file(config.pipeline_name)}"
        )
    dag_file = os.path.abspath(dag_file)
    from pipeline.config import PACKAGE_ROOT

    text = _DAG_FILE.format(
        dag_id=config.pipeline_name,
        timeout=DAG_IMPORT_TIMEOUT_SECONDS,
        package_root=PACKAGE_ROOT,
        argv="\n".join(f"    {arg!r}," for arg in argv),
    )
    os.makedirs(os.path.dirname(dag_file), exist_ok=True)
    # Written aside and renamed: Airflow may parse the folder at any moment.
    partial = os.path.join(os.path.dirname(dag_file), f".{os.path.basename(dag_file)}.partial")
    with open(partial, "w") as f:
        f.write(text)
    os.replace(partial, dag_file)
    return dag_file


def build_dag(config: PipelineConfig, settings: DagSettings):
    """Hands the pipeline of `config` to TFX's AirflowDagRunner.

    Args:
      config: The run configuration, paths absolute.
      settings: The DAG's schedule, start date, catch-up and retries.

    Returns:
      An `airflow.models.DAG` whose id is the pipeline name, with one task per component and
      the components' data dependencies as its edges.
    """
    from tfx import v1 as tfx
    from tfx.orchestration.airflow import airflow_dag_runner

    from pipeline.pipeline import create_pipeline
    from pipeline.runners.airflow_drivers import CandidateIsNotBaselineDriver

    os.makedirs(config.output_dir, exist_ok=True)  # ML Metadata's SQLite file goes there
    metadata = tfx.orchestration.metadata.sqlite_metadata_connection_config(config.metadata_path)
    # No drift check under Airflow yet: its resolver (components.drift.baseline) hands the
    # same statistics to two of its outputs on a first run, which TFX's driver-based launcher
    # records as two OUTPUT events of one artifact, and ML Metadata refuses the second.
    pipeline = create_pipeline(dataclasses.replace(config, drift=None), metadata)
    for component in pipeline.components:
        if isinstance(component, tfx.components.Evaluator):
            # See airflow_drivers: TFX's driver-based launcher cannot record a cached model
            # that is also the baseline.
            component.driver_class = CandidateIsNotBaselineDriver
    runner = airflow_dag_runner.AirflowDagRunner(
        airflow_dag_runner.AirflowPipelineConfig(airflow_dag_config=settings.dag_arguments())
    )
    return runner.run(pipeline)


def _absolute(path: str) -> str:
    return path if is_uri(path) else absolute_path(os.path.expanduser(path))
