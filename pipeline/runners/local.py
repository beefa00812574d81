"""Local runner: LocalDagRunner, Beam DirectRunner, sqlite ML Metadata under the output folder."""

from __future__ import annotations

import os

from tfx import v1 as tfx

from pipeline.config import PipelineConfig
from pipeline.pipeline import create_pipeline


def run(config: PipelineConfig) -> None:
    """Runs the whole pipeline for `config` in this process (Beam work in worker processes).

    Raises:
      Whatever the failing component raised (e.g. DataValidationError).
    """
    config = config.absolute()
    os.makedirs(config.output_dir, exist_ok=True)
    metadata = tfx.orchestration.metadata.sqlite_metadata_connection_config(config.metadata_path)
    tfx.orchestration.LocalDagRunner().run(create_pipeline(config, metadata))
