"""The options of a compiled pipeline (`deepline compile`, `deploy`): the orchestrator, the
pipeline root, the Google Cloud project and the Trainer's custom job (Vertex AI, Kubeflow), and
the schedule of an Airflow DAG. `pipeline.arguments` builds the command line with them."""

from __future__ import annotations

import argparse

from pipeline.config_builder import AIRFLOW_TARGET, CLOUD_TARGETS

COMPILE_TARGETS = (*CLOUD_TARGETS, AIRFLOW_TARGET)


def cloud_parser(
    data_options: argparse.ArgumentParser,
    tunables: argparse.ArgumentParser,
    targets: tuple[str, ...] = CLOUD_TARGETS,
) -> argparse.ArgumentParser:
    """Returns the options of a compiled pipeline, as a parent parser (no `--help`).

    Args:
      data_options: The parent parser of what the pipeline reads and is called.
      tunables: The parent parser of what a run trains and blesses with.
      targets: The orchestrators `--target` offers. Defaults to `CLOUD_TARGETS` (Vertex AI,
        Kubeflow: `deploy`); `compile` offers `COMPILE_TARGETS` (Airflow too).

    Returns:
      An `argparse.ArgumentParser` with `data_options`, `tunables` and the cloud options, to
      pass in `parents=` of `compile` and `deploy`.
    """
    # Defaults come from the config dataclasses, so they are written once.
    from pipeline.runners.vertex_target import VertexTarget as vertex_defaults

    cloud = argparse.ArgumentParser(add_help=False, parents=[data_options, tunables])
    where = cloud.add_argument_group("pipeline")
    where.add_argument(
        "--target",
        choices=targets,
        default=CLOUD_TARGETS[0],
        help="orchestrator; vertex and kubeflow run the same KFP v2 pipeline definition, "
        "airflow a DAG file",
    )
    where.add_argument(
        "--pipeline-root",
        required=True,
        metavar="DIR",
        help="folder every run writes to: artifacts, and pushed models under "
        "serving_model/<pipeline name>/; on Cloud Storage (gs://) for Vertex AI and Kubeflow, "
        "a folder of the Airflow workers for Airflow (its ML Metadata too: metadata.sqlite)",
    )
    gcp = cloud.add_argument_group("Google Cloud")
    gcp.add_argument("--image", default=vertex_defaults.image, help="container image of every step")
    gcp.add_argument("--project", default=None, help="project id (default: gcloud's)")
    gcp.add_argument("--region", default=vertex_defaults.region, help="Vertex AI region")
    gcp.add_argument("--service-account", default=None, help="service account the pipeline runs as")
    job = cloud.add_argument_group("Trainer as a Vertex AI custom job (needs --project)")
    job.add_argument(
        "--trainer-machine-type",
        default=None,
        help="train on a machine of its own, e.g. n1-standard-8; none: inside the pipeline step",
    )
    job.add_argument(
        "--trainer-accelerator",
        default=None,
        metavar="TYPE",
        help="accelerator of the Trainer's machine, e.g. NVIDIA_TESLA_T4",
    )
    job.add_argument(
        "--trainer-accelerator-count",
        type=int,
        default=0,
        help="accelerators attached (1 when a type is given); several: mirrored training",
    )
    return cloud


def airflow_parser() -> argparse.ArgumentParser:
    """Returns the options of an Airflow DAG (`compile --target airflow`), as a parent parser.

    Returns:
      An `argparse.ArgumentParser` with the schedule, start date, catch-up and retries of the
      DAG, to pass in `parents=` of `compile`.
    """
    # Defaults come from the DAG settings, so they are written once.
    from pipeline.runners.airflow import DagSettings as airflow_defaults

    parser = argparse.ArgumentParser(add_help=False)
    dag = parser.add_argument_group("Airflow DAG (--target airflow)")
    dag.add_argument(
        "--schedule",
        metavar="CRON",
        default=airflow_defaults.schedule,
        help='when Airflow runs the pipeline: a 5-field cron expression in UTC, e.g. "0 2 * * *", '
        "or an alias such as @daily; none: only when triggered",
    )
    dag.add_argument(
        "--start-date",
        metavar="YYYY-MM-DD",
        default=None,
        help="first day of the schedule (UTC); default: the day of compiling",
    )
    dag.add_argument(
        "--catchup",
        action="store_true",
        help="also run the schedule's slots between the start date and now, oldest first",
    )
    dag.add_argument(
        "--retries",
        type=int,
        default=airflow_defaults.retries,
        help="times Airflow retries a failed component (task), "
        f"{airflow_defaults.retry_delay_minutes:g} minutes apart",
    )
    return parser
