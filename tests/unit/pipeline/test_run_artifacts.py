"""The summary reads *its own* run from ML Metadata, even when another run recorded later.

Two runs on one output folder used to share a store: the first run's summary then read the
newest `pipeline_run` (the second run's) and said "Not blessed, not pushed" although its own
Evaluator had blessed and its Pusher pushed.
"""

from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2
from tfx import v1 as tfx

from pipeline import summary
from pipeline.config import PipelineConfig
from pipeline.run_artifacts import RunArtifacts, custom_value


def _type(store, kind, name):
    put = {
        "context": (metadata_store_pb2.ContextType, store.put_context_type),
        "execution": (metadata_store_pb2.ExecutionType, store.put_execution_type),
        "artifact": (metadata_store_pb2.ArtifactType, store.put_artifact_type),
    }[kind]
    return put[1](put[0](name=name))


def _record_run(store, run_id, blessed, pushed):
    """One pipeline run as TFX records it: an Evaluator and a Pusher execution, each in the
    run's `pipeline_run` context and its node context, with their output artifact."""
    run_type = _type(store, "context", "pipeline_run")
    node_type = _type(store, "context", "node")
    [run_context] = store.put_contexts([metadata_store_pb2.Context(type_id=run_type, name=run_id)])
    for component, artifact_type, properties in (
        ("Evaluator", "ModelBlessing", {"blessed": blessed}),
        ("Pusher", "PushedModel", {"pushed": pushed, "pushed_destination": f"/models/{run_id}"}),
    ):
        node = store.get_context_by_type_and_name("node", f"deepline.{component}")
        if node is None:
            [node_id] = store.put_contexts(
                [metadata_store_pb2.Context(type_id=node_type, name=f"deepline.{component}")]
            )
        else:
            node_id = node.id
        artifact = metadata_store_pb2.Artifact(
            type_id=_type(store, "artifact", artifact_type), uri=f"/tmp/{run_id}/{component}"
        )
        for key, value in properties.items():
            field = "int_value" if isinstance(value, int) else "string_value"
            setattr(artifact.custom_properties[key], field, value)
        execution = metadata_store_pb2.Execution(type_id=_type(store, "execution", component))
        event = metadata_store_pb2.Event(type=metadata_store_pb2.Event.OUTPUT)
        store.put_execution(
            execution,
            [(artifact, event)],
            [
                metadata_store_pb2.Context(id=run_context, type_id=run_type, name=run_id),
                metadata_store_pb2.Context(
                    id=node_id, type_id=node_type, name=f"deepline.{component}"
                ),
            ],
        )


def _store(path):
    connection = tfx.orchestration.metadata.sqlite_metadata_connection_config(str(path))
    return metadata_store.MetadataStore(connection)


def test_the_run_id_picks_that_runs_executions_not_the_newest(tmp_path):
    path = tmp_path / "metadata.sqlite"
    store = _store(path)
    _record_run(store, "first", blessed=1, pushed=1)
    _record_run(store, "second", blessed=0, pushed=0)  # recorded later: the newest run

    first = RunArtifacts(str(path), "first")
    assert custom_value(first.output("Evaluator", "ModelBlessing"), "blessed") == 1
    assert custom_value(first.output("Pusher", "PushedModel"), "pushed") == 1
    newest = RunArtifacts(str(path))
    assert custom_value(newest.output("Evaluator", "ModelBlessing"), "blessed") == 0


def test_an_unknown_run_id_has_no_outputs(tmp_path):
    path = tmp_path / "metadata.sqlite"
    _record_run(_store(path), "first", blessed=1, pushed=1)
    assert RunArtifacts(str(path), "never-ran").output("Evaluator", "ModelBlessing") is None


def test_the_summary_of_a_blessed_run_says_pushed_though_a_later_run_was_not(tmp_path):
    config = PipelineConfig(output_dir=str(tmp_path), code_fingerprint="test")
    store = _store(config.metadata_path)
    _record_run(store, "first", blessed=1, pushed=1)
    _record_run(store, "second", blessed=0, pushed=0)

    first = summary.collect(config, {}, run_id="first")
    assert (first["blessed"], first["pushed"], first["model_dir"]) == (True, True, "/models/first")
    assert first["pipeline_run_id"] == "first"
    assert "Blessed and pushed to /models/first" in summary.render(first)
    second = summary.collect(config, {}, run_id="second")
    assert (second["blessed"], second["pushed"]) == (False, False)
