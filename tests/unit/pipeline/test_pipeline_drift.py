"""create_pipeline with a drift check: the live model's training data resolved from ML Metadata,
compared by DistributionValidator, and the gate that reads the comparison."""

import json

import pytest
from tfx.dsl.compiler import compiler
from tfx.dsl.components.common import resolver as resolver_lib

from components.dataset import DriftAction
from components.drift import baseline
from components.drift.settings import DriftCheck, Measure, Threshold
from pipeline.config import PipelineConfig
from pipeline.pipeline import create_pipeline

CHECK = DriftCheck(
    columns=(("fare", Measure.JENSEN_SHANNON), ("company", Measure.L_INFINITY)),
    numeric=Threshold(0.2, "spec: drift.numeric_threshold"),
    action=DriftAction.WARN,
    action_source="--drift-warn-only",
)
RESOLVER = "live_model_training_data_resolver"


def _components(tmp_path, **overrides):
    config = PipelineConfig(
        output_dir=str(tmp_path), code_fingerprint="abc", drift=CHECK, **overrides
    ).absolute()
    pipeline = create_pipeline(config)
    return pipeline, {c.id: c for c in pipeline.components}


def test_distribution_validator_gets_one_comparator_per_column_on_the_train_split(tmp_path):
    _, components = _components(tmp_path)
    validator = components["DistributionValidator"]
    config = validator.exec_properties["distribution_validator_config"]
    features = config.default_slice_config.feature
    comparators = {".".join(f.path.step): f.distribution_comparator for f in features}
    assert comparators["fare"].jensen_shannon_divergence.threshold == pytest.approx(0.2)
    assert comparators["company"].infinity_norm.threshold == pytest.approx(0.1)
    assert json.loads(validator.exec_properties["include_split_pairs"]) == [["train", "train"]]
    resolver = components[RESOLVER]
    assert validator.inputs["statistics"] is resolver.outputs[baseline.STATISTICS_KEY]
    assert (
        validator.inputs["baseline_statistics"]
        is resolver.outputs[baseline.BASELINE_STATISTICS_KEY]
    )


def test_the_gate_reads_the_comparison_and_the_check(tmp_path):
    _, components = _components(tmp_path)
    gate = components["DataValidationGate"]
    comparison = components["DistributionValidator"].outputs["anomalies"]
    assert gate.inputs["drift_anomalies"] is comparison
    assert DriftCheck.from_json(gate.exec_properties["drift_check"]) == CHECK


@pytest.mark.parametrize("curated", [True, False], ids=["curated-schema", "inferred-schema"])
def test_every_stage_validates_and_trains_with_the_resolved_schema(tmp_path, curated):
    _, components = _components(tmp_path, **({} if curated else {"schema": None}))
    resolver = components[RESOLVER]
    schema = resolver.outputs[baseline.SCHEMA_KEY]
    for component in ("ExampleValidator", "Transform", "Trainer"):
        assert components[component].inputs["schema"] is schema
    # Only a schema inferred by SchemaGen is frozen at the live model's.
    config = resolver.exec_properties[resolver_lib.RESOLVER_CONFIG]
    assert config == {"freeze_schema": not curated}


def test_the_pipeline_with_a_drift_check_compiles_for_the_local_runner(tmp_path):
    pipeline, _ = _components(tmp_path, schema=None)
    ir = compiler.Compiler().compile(pipeline)
    assert RESOLVER in [node.pipeline_node.node_info.id for node in ir.nodes]


def test_without_a_drift_check_there_is_no_resolver_nor_distribution_validator(tmp_path):
    config = PipelineConfig(output_dir=str(tmp_path), code_fingerprint="abc").absolute()
    ids = {c.id for c in create_pipeline(config).components}
    assert not {RESOLVER, "DistributionValidator"} & ids
