"""Where and as whom a pipeline runs on Vertex AI: `VertexTarget` and its defaults.

Apart from `pipeline.runners.vertex` so that the command line can show the defaults in
`--help` without importing TFX and TensorFlow (`pipeline.cloud_arguments`).
"""

from __future__ import annotations

import dataclasses

DEFAULT_REGION = "us-central1"
DEFAULT_IMAGE = "gcr.io/deepline/deepline:0.1.0"


@dataclasses.dataclass(frozen=True)
class VertexTarget:
    """Where and as whom the pipeline runs on Vertex AI Pipelines.

    Attributes:
      project: Google Cloud project. Defaults to None: the project of the
        application-default credentials (`gcloud config set project ...`).
      region: Vertex AI region. Defaults to "us-central1".
      image: Container image every component runs in, built from the
        repository's Dockerfile and pushed where Vertex can pull it. Defaults
        to "gcr.io/deepline/deepline:0.1.0".
      pipeline_root: gs:// folder for the run's artifacts. Defaults to None:
        `<config.output_dir>/pipeline`.
      service_account: Service account the run acts as. Defaults to None:
        the project's Compute Engine default service account.
    """

    project: str | None = None
    region: str = DEFAULT_REGION
    image: str = DEFAULT_IMAGE
    pipeline_root: str | None = None
    service_account: str | None = None
