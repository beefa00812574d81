"""Fixtures shared by the Vertex runner's test modules."""

import pytest

from pipeline.config import PipelineConfig
from pipeline.runners import vertex


@pytest.fixture(scope="session")
def compiled_file(tmp_path_factory) -> str:
    """The default config compiled once (image gcr.io/deepline-test/deepline:test, outputs
    gs://deepline-test/outputs), for the tests that only read or send it."""
    config = PipelineConfig(output_dir="gs://deepline-test/outputs", code_fingerprint="test")
    target = vertex.VertexTarget(
        project="deepline-test", image="gcr.io/deepline-test/deepline:test"
    )
    return vertex.compile_pipeline(
        config, target, str(tmp_path_factory.mktemp("vertex") / "pipeline.json")
    )
