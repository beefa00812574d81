"""The live model's training data, through ML Metadata lineage, in an in-memory store laid out
as a pipeline run records it: ExampleGen -> StatisticsGen, SchemaGen, Transform, Trainer, Pusher.
"""

import pytest
from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2
from tfx.types import artifact_utils, standard_artifacts

from components.drift import baseline

_TYPES = {
    "Examples": standard_artifacts.Examples,
    "ExampleStatistics": standard_artifacts.ExampleStatistics,
    "Schema": standard_artifacts.Schema,
    "Model": standard_artifacts.Model,
    "PushedModel": standard_artifacts.PushedModel,
}


class _Store:
    """An in-memory ML Metadata store, and helpers to record executions as TFX does."""

    def __init__(self):
        config = metadata_store_pb2.ConnectionConfig()
        config.fake_database.SetInParent()
        self.store = metadata_store.MetadataStore(config)
        self._artifact_types = {
            name: self.store.put_artifact_type(metadata_store_pb2.ArtifactType(name=name))
            for name in _TYPES
        }
        self._execution_type = self.store.put_execution_type(
            metadata_store_pb2.ExecutionType(name="component")
        )

    def artifact(self, type_name: str, pushed: int | None = None):
        """A new artifact of `type_name`, as a TFX artifact."""
        mlmd = metadata_store_pb2.Artifact(
            type_id=self._artifact_types[type_name], uri=f"/{type_name}"
        )
        if pushed is not None:
            mlmd.custom_properties[baseline.PUSHED_PROPERTY].int_value = pushed
        [mlmd.id] = self.store.put_artifacts([mlmd])
        [artifact_type] = self.store.get_artifact_types_by_id([mlmd.type_id])
        return artifact_utils.deserialize_artifact(artifact_type, mlmd)

    def execution(self, inputs=(), outputs=()):
        """Records an execution that read `inputs` and wrote `outputs`."""
        [execution_id] = self.store.put_executions(
            [metadata_store_pb2.Execution(type_id=self._execution_type)]
        )
        events = [
            metadata_store_pb2.Event(artifact_id=a.id, execution_id=execution_id, type=kind)
            for kind, artifacts in (
                (metadata_store_pb2.Event.INPUT, inputs),
                (metadata_store_pb2.Event.OUTPUT, outputs),
            )
            for a in artifacts
        ]
        self.store.put_events(events)


@pytest.fixture
def trained_and_pushed():
    """A run that trained and pushed a model, then a second run's statistics and schema.

    Returns (store, artifacts by name).
    """
    s = _Store()
    a = {}
    a["examples"] = s.artifact("Examples")
    s.execution(outputs=[a["examples"]])  # ExampleGen
    a["statistics"] = s.artifact("ExampleStatistics")
    s.execution([a["examples"]], [a["statistics"]])  # StatisticsGen
    a["schema"] = s.artifact("Schema")
    s.execution([a["statistics"]], [a["schema"]])  # SchemaGen
    a["transformed"] = s.artifact("Examples")
    s.execution([a["examples"], a["schema"]], [a["transformed"]])  # Transform
    a["model"] = s.artifact("Model")
    s.execution([a["transformed"], a["schema"]], [a["model"]])  # Trainer
    a["pushed"] = s.artifact("PushedModel", pushed=1)
    s.execution([a["model"]], [a["pushed"]])  # Pusher
    # The second run: new data, its statistics and the schema inferred from them.
    a["new_examples"] = s.artifact("Examples")
    a["new_statistics"] = s.artifact("ExampleStatistics")
    s.execution([a["new_examples"]], [a["new_statistics"]])
    a["new_schema"] = s.artifact("Schema")
    s.execution([a["new_statistics"]], [a["new_schema"]])
    return s, a


def _inputs(a, pushed):
    return {
        baseline.STATISTICS_KEY: [a["new_statistics"]],
        baseline.BASELINE_STATISTICS_KEY: [a["statistics"], a["new_statistics"]],
        baseline.SCHEMA_KEY: [a["new_schema"]],
        baseline.PUSHED_MODEL_KEY: pushed,
    }


def _ids(resolved):
    return {key: [artifact.id for artifact in value] for key, value in resolved.items()}


def test_lineage_leads_from_the_pushed_model_to_its_schema_and_statistics(trained_and_pushed):
    s, a = trained_and_pushed
    schema, statistics = baseline.TrainingLineage(s.store).training_data(a["pushed"].id)
    assert (schema.id, statistics.id) == (a["schema"].id, a["statistics"].id)


def test_the_baseline_is_the_live_models_training_data_and_the_schema_is_frozen(
    trained_and_pushed,
):
    s, a = trained_and_pushed
    strategy = baseline.LiveModelTrainingData()
    resolved = strategy.resolve_artifacts(s.store, _inputs(a, [a["pushed"]]))
    assert _ids(resolved) == {
        baseline.STATISTICS_KEY: [a["new_statistics"].id],
        baseline.BASELINE_STATISTICS_KEY: [a["statistics"].id],
        baseline.SCHEMA_KEY: [a["schema"].id],
        baseline.PUSHED_MODEL_KEY: [a["pushed"].id],
    }
    assert isinstance(resolved[baseline.SCHEMA_KEY][0], standard_artifacts.Schema)


def test_a_curated_schema_is_not_frozen(trained_and_pushed):
    s, a = trained_and_pushed
    strategy = baseline.LiveModelTrainingData(freeze_schema=False)
    resolved = strategy.resolve_artifacts(s.store, _inputs(a, [a["pushed"]]))
    assert _ids(resolved)[baseline.SCHEMA_KEY] == [a["new_schema"].id]
    assert _ids(resolved)[baseline.BASELINE_STATISTICS_KEY] == [a["statistics"].id]


@pytest.mark.parametrize("pushed", ["none", "not-pushed"])
def test_without_a_live_model_the_run_is_its_own_baseline(trained_and_pushed, pushed):
    s, a = trained_and_pushed
    models = [] if pushed == "none" else [s.artifact("PushedModel", pushed=0)]
    resolved = baseline.LiveModelTrainingData().resolve_artifacts(s.store, _inputs(a, models))
    assert _ids(resolved) == {
        baseline.STATISTICS_KEY: [a["new_statistics"].id],
        baseline.BASELINE_STATISTICS_KEY: [a["new_statistics"].id],
        baseline.SCHEMA_KEY: [a["new_schema"].id],
        baseline.PUSHED_MODEL_KEY: [],
    }


def test_the_newest_pushed_model_is_the_live_one(trained_and_pushed):
    s, a = trained_and_pushed
    later = s.artifact("PushedModel", pushed=1)
    latest_not_pushed = s.artifact("PushedModel", pushed=0)  # a Pusher that did not push
    assert baseline.live_model([later, a["pushed"], latest_not_pushed]).id == later.id
    assert baseline.live_model([a["pushed"], latest_not_pushed]).id == a["pushed"].id
