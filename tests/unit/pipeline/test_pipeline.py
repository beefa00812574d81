"""create_pipeline: the component graph, built from the config alone."""

import builtins
import io
import json
import os

from pipeline.config import PipelineConfig, SplitRatio
from pipeline.contracts import (
    CODE_FINGERPRINT_KEY,
    EPOCHS_PER_TRIAL_KEY,
    HPARAMS_KEY,
    MAX_TRIALS_KEY,
    MODEL_KEY,
)
from pipeline.pipeline import create_pipeline


def _pipeline(tmp_path, **overrides):
    config = PipelineConfig(output_dir=str(tmp_path), code_fingerprint="abc", **overrides)
    return create_pipeline(config.absolute()), config.absolute()


def _by_id(pipeline):
    return {c.id: c for c in pipeline.components}


def test_components_in_dependency_order(tmp_path):
    pipeline, _ = _pipeline(tmp_path)
    order = [c.id for c in pipeline.components]
    assert sorted(order) == sorted(
        [
            "CsvExampleGen",
            "StatisticsGen",
            "ImportSchemaGen",
            "ExampleValidator",
            "DataValidationGate",
            "Transform",
            "Trainer",
            "latest_blessed_model_resolver",
            "Evaluator",
            "Pusher",
        ]
    )
    chain = [
        "CsvExampleGen",
        "StatisticsGen",
        "ExampleValidator",
        "DataValidationGate",
        "Transform",
        "Trainer",
        "Evaluator",
        "Pusher",
    ]
    assert [order.index(c) for c in chain] == sorted(order.index(c) for c in chain)


def test_transform_waits_for_the_validation_gate(tmp_path):
    components = _by_id(_pipeline(tmp_path)[0])
    assert "DataValidationGate" in {n.id for n in components["Transform"].upstream_nodes}
    assert "ExampleValidator" in {n.id for n in components["DataValidationGate"].upstream_nodes}


def test_split_and_paths_come_from_the_config(tmp_path):
    pipeline, config = _pipeline(tmp_path, split=SplitRatio(train=6, eval=2, test=2))
    components = _by_id(pipeline)
    output_config = json.loads(components["CsvExampleGen"].exec_properties["output_config"])
    buckets = {s["name"]: s["hash_buckets"] for s in output_config["split_config"]["splits"]}
    assert buckets == {"train": 6, "eval": 2, "test": 2}
    assert pipeline.pipeline_info.pipeline_root == str(tmp_path / "pipeline")
    push = json.loads(components["Pusher"].exec_properties["push_destination"])
    assert push["filesystem"]["base_directory"] == config.serving_dir
    assert components["Evaluator"].exec_properties["example_splits"] == '["test"]'


def test_hyperparameters_and_code_fingerprint_reach_the_trainer(tmp_path):
    trainer = _by_id(_pipeline(tmp_path)[0])["Trainer"]
    custom = json.loads(trainer.exec_properties["custom_config"])
    assert custom[CODE_FINGERPRINT_KEY] == "abc"
    assert custom[HPARAMS_KEY]["hidden_units"] == [256, 128, 64]


def test_the_model_choice_reaches_the_trainer_which_never_sees_the_test_split(tmp_path):
    """The Trainer chooses among its candidates on what it is given: train and eval only;
    the test split goes to the Evaluator alone."""
    components = _by_id(_pipeline(tmp_path, model="dnn", tuner_trials=2)[0])
    trainer, tuner = components["Trainer"], components["Tuner"]
    assert json.loads(trainer.exec_properties["custom_config"])[MODEL_KEY] == "dnn"
    for component in (trainer, tuner):
        assert json.loads(component.exec_properties["train_args"]) == {"splits": ["train"]}
        assert json.loads(component.exec_properties["eval_args"]) == {"splits": ["eval"]}
    assert components["Evaluator"].exec_properties["example_splits"] == '["test"]'


def test_pusher_publishes_atomically(tmp_path):
    from components.atomic_pusher import AtomicPusher

    assert isinstance(_by_id(_pipeline(tmp_path)[0])["Pusher"], AtomicPusher)


def test_span_layout_pins_the_span_and_windows_transform(tmp_path):
    pipeline, _ = _pipeline(tmp_path, data_pattern="span-{SPAN}/*.csv", span=3, span_window=2)
    components = _by_id(pipeline)
    range_config = json.loads(components["CsvExampleGen"].exec_properties["range_config"])
    assert range_config["static_range"] == {"start_span_number": 3, "end_span_number": 3}
    assert "span_window_resolver" in {n.id for n in components["Transform"].upstream_nodes}
    assert "CsvExampleGen" in {n.id for n in components["span_window_resolver"].upstream_nodes}
    assert "latest_transform_cache_resolver" in {
        n.id for n in components["Transform"].upstream_nodes
    }


def test_without_spans_there_is_no_window(tmp_path):
    components = _by_id(_pipeline(tmp_path)[0])
    assert "span_window_resolver" not in components
    assert "latest_transform_cache_resolver" not in components
    assert components["CsvExampleGen"].exec_properties.get("range_config") is None


def test_span_runs_warm_start_from_the_live_model_and_fixed_data_does_not(tmp_path):
    spans = _by_id(_pipeline(tmp_path, data_pattern="span-{SPAN}/*.csv")[0])
    fixed = _by_id(_pipeline(tmp_path)[0])
    assert "base_model" in spans["Trainer"].inputs
    assert "latest_blessed_model_resolver" in {n.id for n in spans["Trainer"].upstream_nodes}
    assert "base_model" not in fixed["Trainer"].inputs


def test_tuner_runs_before_the_trainer_and_hands_it_the_best_hyperparameters(tmp_path):
    pipeline, config = _pipeline(tmp_path, tuner_trials=4, tuner_epochs=2)
    components = _by_id(pipeline)
    tuner, trainer = components["Tuner"], components["Trainer"]
    custom_config = json.loads(tuner.exec_properties["custom_config"])
    assert custom_config[MAX_TRIALS_KEY] == 4 and custom_config[EPOCHS_PER_TRIAL_KEY] == 2
    assert custom_config[HPARAMS_KEY] == config.hparams.to_dict()
    assert tuner.exec_properties["tuner_fn"] == "components.trainer.tuning.tuner_fn"
    assert trainer.inputs["hyperparameters"].producer_component_id == "Tuner"
    order = [c.id for c in pipeline.components]
    assert order.index("Transform") < order.index("Tuner") < order.index("Trainer")


def test_no_tuner_by_default(tmp_path):
    pipeline, _ = _pipeline(tmp_path)
    assert "Tuner" not in _by_id(pipeline)
    assert "hyperparameters" not in _by_id(pipeline)["Trainer"].inputs


def test_create_pipeline_reads_no_file(tmp_path, monkeypatch):
    # Everything read from disk (the spec, the code fingerprint) is read by the
    # config builder, at the edge; the factory only assembles components.
    config = PipelineConfig(output_dir=str(tmp_path), code_fingerprint="abc", tuner_trials=2)
    config = config.absolute()

    def no_file(*args, **kwargs):
        raise AssertionError(f"create_pipeline touched the disk: {args}")

    for module, name in ((builtins, "open"), (io, "open"), (os, "listdir"), (os, "scandir")):
        monkeypatch.setattr(module, name, no_file)
    pipeline = create_pipeline(config, runtime_parameters=True)
    assert "Tuner" in _by_id(pipeline)


def test_the_pusher_pushes_the_trainers_model_only_with_the_evaluators_blessing(tmp_path):
    components = _by_id(_pipeline(tmp_path)[0])
    pusher = components["Pusher"]
    # Without the blessing input the Pusher would push every trained model, blessed or not.
    assert pusher.inputs["model_blessing"] is components["Evaluator"].outputs["blessing"]
    assert pusher.inputs["model"] is components["Trainer"].outputs["model"]
    assert {"Evaluator", "Trainer"} <= {n.id for n in pusher.upstream_nodes}
