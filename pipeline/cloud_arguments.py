"""The options of a pipeline compiled for Vertex AI or Kubeflow (`deepline compile`, `deploy`):
the orchestrator, the pipeline root, the Google Cloud project and the Trainer's custom job.
`pipeline.arguments` builds the command line with them."""

from __future__ import annotations

import argparse


def cloud_parser(
    data_options: argparse.ArgumentParser, tunables: argparse.ArgumentParser
) -> argparse.ArgumentParser:
    """Returns the options of a compiled pipeline, as a parent parser (no `--help`).

    Args:
      data_options: The parent parser of what the pipeline reads and is called.
      tunables: The parent parser of what a run trains and blesses with.

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
