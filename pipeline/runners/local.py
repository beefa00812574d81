"""Local runner: LocalDagRunner, Beam DirectRunner, sqlite ML Metadata under the output folder."""

from __future__ import annotations

import datetime
import os

from tfx import v1 as tfx
from tfx.dsl.compiler import constants
from tfx.orchestration.portable import runtime_parameter_utils

from pipeline.config import PipelineConfig
from pipeline.pipeline import create_pipeline


def new_run_id() -> str:
    """A pipeline run id as LocalDagRunner makes them: the local time, ISO 8601."""
    return datetime.datetime.now().isoformat()


class _LocalDagRunnerWithRunId(tfx.orchestration.LocalDagRunner):
    """LocalDagRunner with a pipeline run id chosen by the caller instead of by the runner.

    ML Metadata names the run's `pipeline_run` context after this id, so the summary can
    read *this* run's executions, whatever other runs recorded in the same store.
    """

    def __init__(self, run_id: str):
        super().__init__()
        self._run_id = run_id

    def run_with_ir(self, pipeline, run_options=None):
        # Bound first, the id is no longer a runtime parameter when LocalDagRunner binds its own.
        runtime_parameter_utils.substitute_runtime_parameter(
            pipeline, {constants.PIPELINE_RUN_ID_PARAMETER_NAME: self._run_id}
        )
        return super().run_with_ir(pipeline, run_options=run_options)


def run(config: PipelineConfig, run_id: str | None = None) -> str:
    """Runs the whole pipeline for `config` in this process (Beam work in worker processes).

    Args:
      config: The run's configuration.
      run_id: The pipeline run id ML Metadata records the run under. Defaults to None:
        `new_run_id()`.

    Returns:
      The pipeline run id.

    Raises:
      Whatever the failing component raised (e.g. DataValidationError).
    """
    run_id = run_id or new_run_id()
    config = config.absolute()
    os.makedirs(config.output_dir, exist_ok=True)
    metadata = tfx.orchestration.metadata.sqlite_metadata_connection_config(config.metadata_path)
    _LocalDagRunnerWithRunId(run_id).run(create_pipeline(config, metadata))
    return run_id
