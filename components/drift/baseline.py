"""The live model's training data, found in ML Metadata: the resolver of the drift check.

The live model is the newest model the Pusher pushed (a `PushedModel` whose `pushed` property
is 1). Its lineage in ML Metadata leads to what it was trained on:

    PushedModel <- Pusher <- Model <- Trainer <- schema (Schema)
                                              <- transformed Examples <- Transform <- Examples
    Examples -> StatisticsGen -> ExampleStatistics

so nothing is copied beside the pushed model, and the answer follows whatever ML Metadata
recorded, cached executions included. `LiveModelTrainingData` is a TFX `ResolverStrategy`: the
pipeline's `Resolver` node gives it this run's statistics and schema, every statistics and
every pushed model of the pipeline; it returns

    statistics           this run's statistics, unchanged;
    baseline_statistics  the live model's training statistics; this run's when there is no
                         live model yet (TFX's DistributionValidator needs one: comparing the
                         statistics with themselves finds no drift);
    schema               with `freeze_schema`, the schema the live model was trained with (a
                         data set without a curated schema keeps the schema inferred on its
                         first run); else, or without a live model, this run's;
    pushed_model         the live model, or nothing.
"""

from __future__ import annotations

import logging

import ml_metadata as mlmd
from ml_metadata.proto import metadata_store_pb2
from tfx import types
from tfx.dsl.components.common import resolver
from tfx.types import artifact_utils

logger = logging.getLogger(__name__)

# The Resolver's channel keys (its outputs have the same keys as its inputs).
STATISTICS_KEY = "statistics"
BASELINE_STATISTICS_KEY = "baseline_statistics"
SCHEMA_KEY = "schema"
PUSHED_MODEL_KEY = "pushed_model"
# The custom property TFX's Pusher (and `components.atomic_pusher`) sets to 1 on a push.
PUSHED_PROPERTY = "pushed"

_INPUT = metadata_store_pb2.Event.INPUT
_OUTPUT = metadata_store_pb2.Event.OUTPUT


class TrainingLineage:
    """Walks ML Metadata from a pushed model back to the data its model was trained on.

    Args:
      store: The ML Metadata store.
    """

    def __init__(self, store: mlmd.MetadataStore):
        self._store = store
        self._type_names: dict[int, str] = {}

    def _type_name(self, type_id: int) -> str:
        if type_id not in self._type_names:
            [artifact_type] = self._store.get_artifact_types_by_id([type_id])
            self._type_names[type_id] = artifact_type.name
        return self._type_names[type_id]

    def _executions(self, artifact_id: int, event_type) -> list[int]:
        events = self._store.get_events_by_artifact_ids([artifact_id])
        return sorted({e.execution_id for e in events if e.type == event_type})

    def _artifacts(self, execution_id: int, event_type, type_name: str) -> list:
        events = self._store.get_events_by_execution_ids([execution_id])
        ids = sorted({e.artifact_id for e in events if e.type == event_type})
        artifacts = self._store.get_artifacts_by_id(ids) if ids else []
        return [a for a in artifacts if self._type_name(a.type_id) == type_name]

    def _upstream(self, artifact_id: int, type_name: str) -> list:
        """The `type_name` inputs of the executions that made artifact `artifact_id`."""
        found = {}
        for execution_id in self._executions(artifact_id, _OUTPUT):
            for artifact in self._artifacts(execution_id, _INPUT, type_name):
                found[artifact.id] = artifact
        return [found[i] for i in sorted(found)]

    def _downstream(self, artifact_id: int, type_name: str) -> list:
        """The `type_name` outputs of the executions that read artifact `artifact_id`."""
        found = {}
        for execution_id in self._executions(artifact_id, _INPUT):
            for artifact in self._artifacts(execution_id, _OUTPUT, type_name):
                found[artifact.id] = artifact
        return [found[i] for i in sorted(found)]

    def training_data(self, pushed_model_id: int):
        """The schema and statistics the pushed model's model was trained with.

        Args:
          pushed_model_id: The id of a `PushedModel` artifact.

        Returns:
          (schema, statistics): MLMD artifacts, each None when the lineage does not lead to
          one. Over several spans, the statistics of the newest span the model saw.
        """
        models = self._upstream(pushed_model_id, "Model")
        if not models:
            return None, None
        # The Pusher's one Model; the Trainer may also have read a base model (warm start).
        trainer_inputs = models[-1].id
        schemas = self._upstream(trainer_inputs, "Schema")
        statistics = []
        for transformed in self._upstream(trainer_inputs, "Examples"):
            for examples in self._upstream(transformed.id, "Examples"):
                statistics += self._downstream(examples.id, "ExampleStatistics")
        newest = max(statistics, key=lambda a: a.id) if statistics else None
        return (schemas[-1] if schemas else None), newest


def _to_tfx(store: mlmd.MetadataStore, artifact) -> types.Artifact:
    [artifact_type] = store.get_artifact_types_by_id([artifact.type_id])
    return artifact_utils.deserialize_artifact(artifact_type, artifact)


def _newest(artifacts: list) -> list:
    return [max(artifacts, key=lambda a: a.id)] if artifacts else []


def live_model(pushed_models: list) -> types.Artifact | None:
    """The newest pushed model that was really pushed, or None."""
    pushed = [m for m in pushed_models if m.get_int_custom_property(PUSHED_PROPERTY) == 1]
    return max(pushed, key=lambda m: m.id) if pushed else None


class LiveModelTrainingData(resolver.ResolverStrategy):
    """Resolves the live model's training statistics (and schema): see the module docstring.

    Args:
      freeze_schema: Return the live model's schema instead of this run's (for data sets
        without a curated schema). Defaults to True.
    """

    def __init__(self, freeze_schema: bool = True):
        self._freeze_schema = freeze_schema

    def resolve_artifacts(self, store, input_dict):
        """Returns the inputs with the baseline and the schema chosen (module docstring).

        Args:
          store: The ML Metadata store.
          input_dict: Artifacts by key: this run's `statistics` and `schema`, every
            statistics of the pipeline (`baseline_statistics`), every `pushed_model`.
        """
        # LocalDagRunner gives this run's statistics and schema alone; TFX's older launcher
        # (Airflow) every one the producer made: this run's is then the newest.
        current = _newest(input_dict.get(STATISTICS_KEY, []))
        result = {
            STATISTICS_KEY: current,
            BASELINE_STATISTICS_KEY: current,
            SCHEMA_KEY: _newest(input_dict.get(SCHEMA_KEY, [])),
            PUSHED_MODEL_KEY: [],
        }
        live = live_model(input_dict.get(PUSHED_MODEL_KEY, []))
        if live is None:
            return result
        schema, statistics = TrainingLineage(store).training_data(live.id)
        candidates = {a.id: a for a in input_dict.get(BASELINE_STATISTICS_KEY, [])}
        if statistics is None or statistics.id not in candidates:
            logger.warning(
                "The live model (pushed model %d) has no training statistics in ML Metadata; "
                "drift is not checked.",
                live.id,
            )
            return result
        result[PUSHED_MODEL_KEY] = [live]
        result[BASELINE_STATISTICS_KEY] = [candidates[statistics.id]]
        if self._freeze_schema and schema is not None:
            result[SCHEMA_KEY] = [_to_tfx(store, schema)]
        return result
