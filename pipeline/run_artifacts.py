"""What one pipeline run recorded in ML Metadata: its executions and their outputs.

Read after a local run by the summary and the report. The run is named by its pipeline
run id (`pipeline.runners.local.run` returns it, `summary.json` keeps it): another run
recorded in the same store meanwhile must not lend its Evaluator or Pusher to this one.
A cached component counts as part of the run: its execution points at the outputs it reused.
"""

from __future__ import annotations

from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2
from tfx import v1 as tfx

# The context type TFX records each pipeline run under, named after the run id.
PIPELINE_RUN_CONTEXT = "pipeline_run"


class RunArtifacts:
    """Output artifacts of each component of one run in an ML Metadata store.

    Args:
      metadata_path: The sqlite ML Metadata file.
      run_id: The pipeline run id. Defaults to None: the newest run in the store (for runs
        whose summary predates run ids).
    """

    def __init__(self, metadata_path: str, run_id: str | None = None):
        connection = tfx.orchestration.metadata.sqlite_metadata_connection_config(metadata_path)
        self._store = metadata_store.MetadataStore(connection)
        self._executions = self._run_executions(run_id)

    def _run_executions(self, run_id: str | None) -> dict[str, metadata_store_pb2.Execution]:
        if run_id is not None:
            run = self._store.get_context_by_type_and_name(PIPELINE_RUN_CONTEXT, run_id)
        else:
            runs = self._store.get_contexts_by_type(PIPELINE_RUN_CONTEXT)
            run = max(runs, key=lambda c: c.create_time_since_epoch) if runs else None
        if run is None:
            return {}
        by_node = {}
        for execution in self._store.get_executions_by_context(run.id):
            for context in self._store.get_contexts_by_execution(execution.id):
                if context.type == "node":
                    by_node[context.name.split(".", 1)[-1]] = execution
        return by_node

    def outputs(self, component: str, artifact_type: str) -> list[metadata_store_pb2.Artifact]:
        """Output artifacts of `artifact_type` (e.g. "ModelBlessing") of `component`."""
        return self._artifacts(component, artifact_type, metadata_store_pb2.Event.OUTPUT)

    def inputs(self, component: str, artifact_type: str) -> list[metadata_store_pb2.Artifact]:
        """Input artifacts of `artifact_type` (e.g. "Examples") of `component`."""
        return self._artifacts(component, artifact_type, metadata_store_pb2.Event.INPUT)

    def _artifacts(self, component: str, artifact_type: str, event_type: int):
        execution = self._executions.get(component)
        if execution is None:
            return []
        events = self._store.get_events_by_execution_ids([execution.id])
        ids = [e.artifact_id for e in events if e.type == event_type]
        artifacts = self._store.get_artifacts_by_id(ids) if ids else []
        return [a for a in artifacts if a.type == artifact_type]

    def output(self, component: str, artifact_type: str) -> metadata_store_pb2.Artifact | None:
        """The single output of `artifact_type` of `component`, or None."""
        found = self.outputs(component, artifact_type)
        return found[0] if found else None


def custom_value(artifact: metadata_store_pb2.Artifact, key: str):
    """An artifact's custom property value (int, string, float...), or None."""
    if key not in artifact.custom_properties:
        return None
    value = artifact.custom_properties[key]
    which = value.WhichOneof("value")
    return getattr(value, which) if which else None
