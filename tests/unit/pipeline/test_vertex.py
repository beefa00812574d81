"""Vertex runner: the compiled KFP v2 spec and its golden copy (submitting: test_vertex_submit.py).

The golden spec is tests/testdata/vertex_pipeline.json. After an intended
change to the pipeline (components, defaults, hyperparameters), regenerate it
and review the diff before committing:

    DEEPLINE_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/unit/pipeline/test_vertex.py
    git diff tests/testdata/vertex_pipeline.json
"""

import json
import os
from pathlib import Path

import pytest

from components.blessing import BlessingThresholds
from components.dataset import to_custom_config
from components.trainer.hparams import HParams
from pipeline import contracts
from pipeline.config import PACKAGE_ROOT, SPAN_PATTERN, CloudTraining, PipelineConfig
from pipeline.runners import vertex
from pipeline.runners.beam_options import BeamOptions
from pipeline.runners.vertex import DeploymentError, VertexTarget

GOLDEN = Path(__file__).parents[2] / "testdata" / "vertex_pipeline.json"
UPDATE_GOLDEN = os.environ.get("DEEPLINE_UPDATE_GOLDEN") == "1"

# The same as conftest.py's `compiled_file` is compiled with.
IMAGE = "gcr.io/deepline-test/deepline:test"
TARGET = VertexTarget(project="deepline-test", image=IMAGE)
OUTPUT_DIR = "gs://deepline-test/outputs"

RESOLVER_BLESSING = "latest_blessed_model_resolver-model-blessing-resolver"
RESOLVER_MODEL = "latest_blessed_model_resolver-model-resolver"
# Task -> the tasks it waits for. The resolver compiles to two metadata queries
# (latest blessing, then its model), which Vertex runs without a container.
EXPECTED_DEPENDENCIES = {
    "CsvExampleGen": set(),
    "StatisticsGen": {"CsvExampleGen"},
    "ImportSchemaGen": set(),
    "ExampleValidator": {"StatisticsGen", "ImportSchemaGen"},
    "DataValidationGate": {"ExampleValidator"},
    "Transform": {"CsvExampleGen", "ImportSchemaGen", "DataValidationGate"},
    "Trainer": {"Transform", "ImportSchemaGen"},
    RESOLVER_BLESSING: set(),
    RESOLVER_MODEL: set(),
    "Evaluator": {"CsvExampleGen", "Trainer", RESOLVER_MODEL},
    "Pusher": {"Trainer", "Evaluator"},
}


def _config(**overrides) -> PipelineConfig:
    return PipelineConfig(output_dir=OUTPUT_DIR, code_fingerprint="test", **overrides)


def _compile(directory: Path, config=None, target=TARGET) -> dict:
    path = vertex.compile_pipeline(config or _config(), target, str(directory / "pipeline.json"))
    with open(path) as f:
        return json.load(f)


@pytest.fixture(scope="module")
def compiled(compiled_file) -> dict:
    with open(compiled_file) as f:
        return json.load(f)


def _tasks(spec: dict) -> dict:
    return spec["pipelineSpec"]["root"]["dag"]["tasks"]


def _parameter(spec: dict, task: str, name: str):
    value = _tasks(spec)[task]["inputs"]["parameters"][name]["runtimeValue"]["constantValue"]
    return next(iter(value.values()))


def _normalized(spec: dict) -> dict:
    """The spec without what changes with the machine or the TFX release (no timestamps)."""
    spec = json.loads(json.dumps(spec).replace(str(PACKAGE_ROOT), "<repo>"))
    labels = spec.get("labels", {})
    for key in ("tfx_version", "tfx_py_version"):
        if key in labels:
            labels[key] = f"<{key}>"
    spec["pipelineSpec"]["sdkVersion"] = "<tfx version>"
    return spec


def test_compile_returns_the_absolute_path_of_the_spec(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert vertex.compile_pipeline(_config(), TARGET, "spec.json") == str(tmp_path / "spec.json")
    assert json.loads((tmp_path / "spec.json").read_text())["displayName"] == "deepline-taxi"


def test_every_component_is_a_task(compiled):
    assert set(_tasks(compiled)) == set(EXPECTED_DEPENDENCIES)
    assert set(compiled["pipelineSpec"]["components"]) == set(EXPECTED_DEPENDENCIES)


@pytest.mark.parametrize("task", list(EXPECTED_DEPENDENCIES), ids=str)
def test_dag_edges(compiled, task):
    assert set(_tasks(compiled)[task].get("dependentTasks", [])) == EXPECTED_DEPENDENCIES[task]


def test_the_resolver_queries_the_latest_blessing_then_its_model(compiled):
    inputs = _tasks(compiled)[RESOLVER_MODEL]["inputs"]["artifacts"]["input"]
    assert inputs["taskOutputArtifact"]["producerTask"] == RESOLVER_BLESSING


def test_every_container_runs_the_target_image(compiled):
    executors = compiled["pipelineSpec"]["deploymentSpec"]["executors"]
    containers = {name: e["container"] for name, e in executors.items() if "container" in e}
    assert set(executors) - set(containers) == {
        f"{RESOLVER_BLESSING}_executor",
        f"{RESOLVER_MODEL}_executor",
    }
    assert {c["image"] for c in containers.values()} == {IMAGE}
    assert len(containers) == 9
    gate = containers["DataValidationGate_executor"]["args"]
    assert gate[:2] == [
        "--executor_class_path",
        "components.validation_gate.DataValidationGate_Executor",
    ]


def test_bundled_data_is_read_from_the_image(compiled):
    assert _parameter(compiled, "CsvExampleGen", "input_base") == "/pipeline/data/taxi"
    assert _parameter(compiled, "ImportSchemaGen", "schema_file") == (
        "/pipeline/data/taxi/schema.pbtxt"
    )
    assert _parameter(compiled, "DataValidationGate", "schema_path") == (
        "/pipeline/data/taxi/schema.pbtxt"
    )


def test_outputs_go_to_cloud_storage(compiled):
    assert compiled["runtimeConfig"]["gcsOutputDirectory"] == f"{OUTPUT_DIR}/pipeline"
    push = json.loads(_parameter(compiled, "Pusher", "push_destination"))
    assert push["filesystem"]["base_directory"] == f"{OUTPUT_DIR}/serving_model/deepline-taxi"


@pytest.mark.parametrize(
    "data_root, expected",
    [
        ("gs://bucket/taxi", "gs://bucket/taxi"),
        ("/srv/data/taxi", "/srv/data/taxi"),
        (str(PACKAGE_ROOT / "data" / "other"), "/pipeline/data/other"),
    ],
    ids=["cloud-storage", "outside-the-checkout", "inside-the-checkout"],
)
def test_input_paths(tmp_path, data_root, expected):
    spec = _compile(tmp_path, _config(data_root=data_root))
    assert _parameter(spec, "CsvExampleGen", "input_base") == expected


def test_target_pipeline_root_replaces_the_output_folder(tmp_path):
    target = VertexTarget(image=IMAGE, pipeline_root="gs://other-bucket/root")
    spec = _compile(tmp_path, target=target)
    assert spec["runtimeConfig"]["gcsOutputDirectory"] == "gs://other-bucket/root"


def test_dataflow_workers_install_the_package_from_the_image(tmp_path):
    beam = BeamOptions(
        runner="DataflowRunner",
        project="deepline-test",
        region="us-central1",
        temp_location="gs://deepline-test/tmp",
    )
    spec = _compile(tmp_path, _config(beam_args=beam.to_args()))
    executors = spec["pipelineSpec"]["deploymentSpec"]["executors"]
    args = executors["Transform_executor"]["container"]["args"]
    assert "--setup_file=/pipeline/setup.py" in args
    assert "--runner=DataflowRunner" in args


def _runtime_parameter(spec: dict, name: str) -> str:
    return spec["runtimeConfig"]["parameters"][name]["stringValue"]


def _fed_by(spec: dict, task: str, name: str) -> str:
    """The pipeline parameter a task's input comes from."""
    return _tasks(spec)[task]["inputs"]["parameters"][name]["componentInputParameter"]


def test_training_and_blessing_are_runtime_parameters(compiled):
    assert set(compiled["runtimeConfig"]["parameters"]) == {"trainer_config", "eval_config"}
    assert _fed_by(compiled, "Trainer", "custom_config") == "trainer_config"
    assert _fed_by(compiled, "Evaluator", "eval_config") == "eval_config"
    declared = compiled["pipelineSpec"]["root"]["inputDefinitions"]["parameters"]
    assert declared == {"trainer_config": {"type": "STRING"}, "eval_config": {"type": "STRING"}}


def test_runtime_parameters_default_to_the_config(tmp_path):
    config = _config(
        hparams=HParams(max_epochs=7, learning_rate=0.01),
        thresholds=BlessingThresholds(min_auc=0.93),
    )
    spec = _compile(tmp_path, config)
    trainer_config = json.loads(_runtime_parameter(spec, "trainer_config"))
    assert trainer_config == {
        contracts.HPARAMS_KEY: config.hparams.to_dict(),
        contracts.MODEL_KEY: "auto",
        contracts.CODE_FINGERPRINT_KEY: "test",
        **to_custom_config(config.dataset),
    }
    assert trainer_config[contracts.SPEC_ORIGIN_KEY] == "taxi/spec.yaml"
    eval_config = json.loads(_runtime_parameter(spec, "eval_config"))
    auc = next(m for m in eval_config["metricsSpecs"][0]["metrics"] if m["className"] == "AUC")
    assert auc["perSliceThresholds"][0]["threshold"]["valueThreshold"]["lowerBound"] == 0.93


@pytest.mark.parametrize(
    "span, expected",
    [(None, ""), (3, {"staticRange": {"startSpanNumber": 3, "endSpanNumber": 3}})],
    ids=["newest-span", "span-3"],
)
def test_span_data_makes_the_span_a_runtime_parameter(tmp_path, span, expected):
    config = _config(data_root="gs://bucket/taxi", data_pattern=SPAN_PATTERN, span=span)
    spec = _compile(tmp_path, config)
    assert _fed_by(spec, "CsvExampleGen", "range_config") == "span_range"
    value = _runtime_parameter(spec, "span_range")
    assert (json.loads(value) if value else value) == expected


def test_the_trainer_can_run_as_a_custom_job_on_gpus(tmp_path):
    training = CloudTraining(
        project="deepline-test",
        image=IMAGE,
        region="europe-west4",
        machine_type="n1-standard-16",
        accelerator_type="NVIDIA_TESLA_T4",
        accelerator_count=2,
    )
    spec = _compile(tmp_path, _config(cloud_training=training))
    executor = spec["pipelineSpec"]["deploymentSpec"]["executors"]["Trainer_executor"]
    args = executor["container"]["args"]
    assert args[args.index("--executor_class_path") + 1] == (
        "tfx.extensions.google_cloud_ai_platform.trainer.executor.GenericExecutor"
    )
    trainer_config = json.loads(_runtime_parameter(spec, "trainer_config"))
    assert trainer_config["ai_platform_enable_vertex"] is True
    assert trainer_config["ai_platform_vertex_region"] == "europe-west4"
    job = trainer_config["ai_platform_training_args"]
    assert job["project"] == "deepline-test"
    (pool,) = job["worker_pool_specs"]
    assert pool["machine_spec"] == {
        "machine_type": "n1-standard-16",
        "accelerator_type": "NVIDIA_TESLA_T4",
        "accelerator_count": 2,
    }
    assert pool["container_spec"] == {"image_uri": IMAGE}
    assert trainer_config[contracts.HPARAMS_KEY] == HParams().to_dict()


def test_an_accelerator_type_alone_means_one(tmp_path):
    training = CloudTraining(project="p", image=IMAGE, accelerator_type="NVIDIA_L4")
    assert training.accelerator_count == 1
    with pytest.raises(ValueError, match="accelerator type"):
        CloudTraining(project="p", image=IMAGE, accelerator_count=2)


@pytest.mark.parametrize(
    "config, target, message",
    [
        (PipelineConfig(output_dir="/tmp/deepline"), TARGET, "pipeline root on Cloud Storage"),
        (
            PipelineConfig(output_dir="/tmp/deepline"),
            VertexTarget(pipeline_root="gs://bucket/root"),
            "discarded when the step ends",
        ),
    ],
    ids=["local-pipeline-root", "local-serving-folder"],
)
def test_local_outputs_are_refused(tmp_path, config, target, message):
    with pytest.raises(DeploymentError, match=message):
        vertex.compile_pipeline(config, target, str(tmp_path / "spec.json"))
    assert not (tmp_path / "spec.json").exists()


def test_matches_the_golden_spec(compiled):
    actual = _normalized(compiled)
    if UPDATE_GOLDEN:
        GOLDEN.write_text(json.dumps(actual, indent=2, sort_keys=True) + "\n")
        pytest.skip(f"rewrote {GOLDEN}; review it with git diff")
    assert str(PACKAGE_ROOT) not in json.dumps(actual)
    expected = json.loads(GOLDEN.read_text())
    assert actual == expected, (
        "The compiled spec differs from the golden copy; if the change is intended, "
        "regenerate it (see this module's docstring)."
    )


def test_with_a_custom_job_the_tuner_runs_as_one_too(tmp_path):
    training = CloudTraining(project="deepline-test", image=IMAGE, accelerator_type="NVIDIA_L4")
    spec = _compile(tmp_path, _config(cloud_training=training, tuner_trials=3))
    executors = spec["pipelineSpec"]["deploymentSpec"]["executors"]
    args = executors["Tuner_executor"]["container"]["args"]
    assert args[args.index("--executor_class_path") + 1] == (
        "tfx.extensions.google_cloud_ai_platform.tuner.executor.Executor"
    )
    tuner_config = json.loads(_parameter(spec, "Tuner", "custom_config"))
    pool = tuner_config["ai_platform_tuning_args"]["worker_pool_specs"][0]
    assert pool["machine_spec"]["accelerator_type"] == "NVIDIA_L4"
    assert tuner_config[contracts.MAX_TRIALS_KEY] == 3
    assert "Tuner" in _tasks(spec)["Trainer"]["dependentTasks"]
