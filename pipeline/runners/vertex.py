"""Vertex AI runner: compile the pipeline to a KFP v2 spec, then submit or schedule it.

Compiling is offline (no credentials, no network), so a spec can be reviewed,
versioned and submitted later, e.g. by CI:

    path = compile_pipeline(config, target, "deepline.json")
    submit(path, target)                      # one run now
    schedule(path, target, "0 3 * * MON")     # a run every Monday at 03:00 UTC

Vertex runs every component in `target.image` (built from the repository's
Dockerfile), so every path in the pipeline must make sense inside it:
  - inputs (data, schema): gs:// paths, or files baked into the image. The
    image holds this package at /pipeline, so paths under this checkout (the
    bundled data sets, our setup.py) are rewritten to their copy there;
  - outputs (pipeline root, pushed models): Cloud Storage, since a step's
    local disk is discarded when it ends.
ML Metadata is Vertex's own; the pipeline gets no connection config.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import posixpath
import re
from collections.abc import Iterator, Mapping
from typing import Any

import google.auth
import google.auth.credentials
import google.auth.exceptions
import yaml
from tfx import v1 as tfx

from pipeline.config import PACKAGE_ROOT, PipelineConfig
from pipeline.pipeline import create_pipeline, runtime_parameter_values

# Re-exported: declared without TensorFlow, for the command line's defaults.
from pipeline.runners.vertex_target import DEFAULT_IMAGE, DEFAULT_REGION, VertexTarget  # noqa: F401

# The Dockerfile's WORKDIR, where the image holds (and pip-installs) this package.
IMAGE_PACKAGE_ROOT = "/pipeline"

_CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
# Optional "TZ=Area/City " or "CRON_TZ=Area/City " prefix, then five fields.
_CRON = re.compile(r"^((CRON_)?TZ=\S+\s+)?(\S+\s+){4}\S+$")


class DeploymentError(RuntimeError):
    """The pipeline cannot go to Vertex AI; the message says why and what to do."""


def compile_pipeline(config: PipelineConfig, target: VertexTarget, output_file: str) -> str:
    """Writes the pipeline as a Vertex AI (KFP v2) pipeline job spec.

    Args:
      config: The run configuration. Its output folder must be on Cloud
        Storage (gs://...); its inputs on Cloud Storage or in the image.
      target: The image and pipeline root to compile in.
      output_file: Where to write the spec: JSON, or YAML for a `.yaml` / `.yml` name.

    Returns:
      The absolute path of the written spec.

    Raises:
      DeploymentError: The pipeline root or the serving folder is not on Cloud Storage.
    """
    pipeline_root = target.pipeline_root or config.pipeline_root
    if not pipeline_root.startswith("gs://"):
        raise DeploymentError(
            f"Vertex AI needs the pipeline root on Cloud Storage, got {pipeline_root}. "
            "Pass a pipeline root such as gs://BUCKET/deepline/pipeline, or a Cloud Storage "
            "output folder such as gs://BUCKET/deepline."
        )
    if not config.serving_dir.startswith("gs://"):
        raise DeploymentError(
            f"Vertex AI would push the model to {config.serving_dir}, inside a container "
            "that is discarded when the step ends. Use a Cloud Storage output folder such "
            "as gs://BUCKET/deepline."
        )
    config = _as_seen_by_image(config)
    # The span, hyperparameters and thresholds become runtime parameters, with
    # `config`'s values as the spec's defaults.
    pipeline = create_pipeline(config, runtime_parameters=True)
    # create_pipeline derives the root from the output folder; a target may put
    # the artifacts elsewhere (e.g. one bucket per environment).
    pipeline.pipeline_info.pipeline_root = pipeline_root

    output_file = os.path.abspath(output_file)
    runner = tfx.orchestration.experimental.KubeflowV2DagRunner(
        config=tfx.orchestration.experimental.KubeflowV2DagRunnerConfig(default_image=target.image),
        output_dir=os.path.dirname(output_file),
        output_filename=os.path.basename(output_file),
    )
    runner.run(pipeline, parameter_values=runtime_parameter_values(config))
    return output_file


def submit(
    compiled_file: str,
    target: VertexTarget,
    *,
    parameter_values: Mapping[str, Any] | None = None,
    enable_caching: bool | None = None,
) -> str:
    """Starts one run of a compiled pipeline on Vertex AI; does not wait for it.

    Args:
      compiled_file: A spec written by `compile_pipeline`.
      target: Project, region and service account to run with.
      parameter_values: Values for the pipeline's runtime parameters.
        Defaults to None: the compiled defaults.
      enable_caching: Reuse earlier step results (True) or run every step
        (False). Defaults to None: what the spec says (`PipelineConfig.enable_cache`).

    Returns:
      The resource name of the pipeline job
      (projects/.../locations/.../pipelineJobs/...).

    Raises:
      DeploymentError: No compiled file, no credentials or project, or Vertex
        AI refused the job.
    """
    job = _pipeline_job(
        compiled_file,
        target,
        parameter_values=dict(parameter_values or {}),
        enable_caching=enable_caching,
    )
    with _vertex_errors(compiled_file, job.project, target.region):
        job.submit(service_account=target.service_account)
    return job.resource_name


def schedule(
    compiled_file: str,
    target: VertexTarget,
    cron: str,
    *,
    parameter_values: Mapping[str, Any] | None = None,
    display_name: str | None = None,
) -> str:
    """Creates a Vertex AI schedule that runs a compiled pipeline on `cron`.

    Args:
      compiled_file: A spec written by `compile_pipeline`.
      target: Project, region and service account to run with.
      cron: Five-field cron expression, UTC unless prefixed with
        "TZ=Area/City ", e.g. "0 3 * * *" (daily at 03:00).
      parameter_values: Values for the pipeline's runtime parameters, the
        same for every scheduled run. Defaults to None: the compiled defaults.
      display_name: The schedule's name in the console. Defaults to None:
        the pipeline name.

    Returns:
      The resource name of the schedule (projects/.../locations/.../schedules/...).

    Raises:
      ValueError: `cron` is not a five-field cron expression.
      DeploymentError: No compiled file, no credentials or project, or Vertex
        AI refused the schedule.
    """
    if not _CRON.match(cron.strip()):
        raise ValueError(
            f"{cron!r} is not a cron expression: give five fields (minute hour day-of-month "
            'month day-of-week), e.g. "0 3 * * *" for daily at 03:00 UTC, optionally '
            'prefixed with a time zone: "TZ=Europe/Paris 0 3 * * *".'
        )
    job = _pipeline_job(compiled_file, target, parameter_values=dict(parameter_values or {}))
    with _vertex_errors(compiled_file, job.project, target.region):
        created = job.create_schedule(
            cron=cron.strip(),
            display_name=display_name or _pipeline_name(compiled_file),
            service_account=target.service_account,
        )
    return created.resource_name


def _as_seen_by_image(config: PipelineConfig) -> PipelineConfig:
    """Returns `config` with the paths the image must read rewritten for the image."""
    return dataclasses.replace(
        config,
        data_root=_path_in_image(config.data_root),
        schema=_path_in_image(config.schema),
        # e.g. --setup_file=<checkout>/setup.py: Beam is launched from inside the image.
        beam_args=tuple(_beam_arg_in_image(arg) for arg in config.beam_args),
    )


def _path_in_image(path: str) -> str:
    """A path under this checkout becomes the image's copy; any other path is kept."""
    if "://" in path:
        return path
    absolute = os.path.abspath(path)
    relative = os.path.relpath(absolute, PACKAGE_ROOT)
    if relative == os.pardir or relative.startswith(os.pardir + os.sep):
        return absolute
    return posixpath.join(IMAGE_PACKAGE_ROOT, *relative.split(os.sep))


def _beam_arg_in_image(arg: str) -> str:
    flag, sep, value = arg.partition("=")
    if sep and os.path.isabs(value):
        return f"{flag}={_path_in_image(value)}"
    return arg


def _pipeline_name(compiled_file: str) -> str:
    """Reads the pipeline name, which also checks that the file is a compiled spec."""
    if not os.path.isfile(compiled_file):
        raise DeploymentError(
            f"{compiled_file} does not exist: compile the pipeline first, e.g. "
            f"`deepline compile --target vertex --output {compiled_file}`."
        )
    try:
        with open(compiled_file) as f:
            spec = yaml.safe_load(f)  # JSON is YAML too
        # A JSON file holds a whole PipelineJob; a YAML file its pipelineSpec only.
        return spec.get("pipelineSpec", spec)["pipelineInfo"]["name"]
    except (yaml.YAMLError, KeyError, TypeError, AttributeError) as err:
        raise DeploymentError(
            f"{compiled_file} is not a compiled Vertex AI pipeline ({err}); compile it again "
            "with `deepline compile --target vertex`."
        ) from err


def _credentials(target: VertexTarget) -> tuple[google.auth.credentials.Credentials, str]:
    """Returns (credentials, project) from application-default credentials.

    Raises:
      DeploymentError: No credentials, or no project from `target` or gcloud.
    """
    try:
        credentials, default_project = google.auth.default(scopes=[_CLOUD_PLATFORM_SCOPE])
    except google.auth.exceptions.DefaultCredentialsError:
        raise DeploymentError(
            "No Google Cloud credentials found, so nothing was sent to Vertex AI. Log in "
            "once with\n"
            "    gcloud auth application-default login\n"
            "(or set GOOGLE_APPLICATION_CREDENTIALS to a service account key file), then "
            "run the command again."
        ) from None
    project = target.project or default_project
    if not project:
        raise DeploymentError(
            "No Google Cloud project given: pass --project PROJECT_ID, or set a default "
            "with\n"
            "    gcloud config set project PROJECT_ID"
        )
    return credentials, project


def _pipeline_job(compiled_file: str, target: VertexTarget, **job_options: Any) -> Any:
    """Returns an `aiplatform.PipelineJob` for the compiled spec; sends nothing yet.

    Raises:
      DeploymentError: No compiled spec, no credentials or project, or the
        client refused the spec or `job_options`.
    """
    pipeline_name = _pipeline_name(compiled_file)
    credentials, project = _credentials(target)
    # Imported here: the Vertex AI client takes seconds to import, and only
    # submitting needs it.
    from google.cloud import aiplatform

    with _vertex_errors(compiled_file, project, target.region):
        return aiplatform.PipelineJob(
            display_name=pipeline_name,
            template_path=compiled_file,
            pipeline_root=target.pipeline_root,
            project=project,
            location=target.region,
            credentials=credentials,
            **job_options,
        )


@contextlib.contextmanager
def _vertex_errors(compiled_file: str, project: str, region: str) -> Iterator[None]:
    """Turns the Vertex AI client's errors into a DeploymentError saying what to do."""
    from google.api_core import exceptions as api_exceptions

    where = f"project {project}, region {region}"
    try:
        yield
    except google.auth.exceptions.RefreshError as err:
        raise DeploymentError(
            f"Google Cloud refused your credentials ({err}). Log in again with\n"
            "    gcloud auth application-default login"
        ) from err
    except google.auth.exceptions.TransportError as err:
        raise DeploymentError(
            f"Could not reach Google Cloud ({err}); check the network connection and try again."
        ) from err
    except api_exceptions.GoogleAPICallError as err:
        raise DeploymentError(
            f"Vertex AI refused the request in {where}: {err.message or err}. Check that the "
            f"Vertex AI API is enabled (gcloud services enable aiplatform.googleapis.com "
            f"--project {project}) and that your account has the Vertex AI User role "
            "(roles/aiplatform.user)."
        ) from err
    except ValueError as err:
        # The client validates the spec and the parameter values before any request.
        raise DeploymentError(f"{compiled_file} cannot be run in {where}: {err}") from err
