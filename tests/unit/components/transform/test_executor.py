"""Transform's executor: TFX's, with a larger fixed batch for tabular data sets only."""

import json
from pathlib import Path

import pytest
from tfx.components.transform import executor as tfx_transform_executor

from components.dataset import load_spec, to_custom_config
from components.transform import executor
from pipeline.config import PipelineConfig
from pipeline.pipeline import create_pipeline

DATA = Path(__file__).resolve().parents[4] / "data"


@pytest.mark.parametrize(
    "dataset, batch_size",
    [
        ("taxi", executor.TABULAR_BATCH_SIZE),
        ("penguins", executor.TABULAR_BATCH_SIZE),
        ("imdb-small", None),
        ("digits", None),
    ],
    ids=["taxi", "penguins", "text", "images"],
)
def test_tabular_data_sets_get_the_fixed_batch_and_text_or_images_tfx_batching(dataset, batch_size):
    assert executor.batch_size_for(load_spec(DATA / dataset / "spec.yaml")) == batch_size


def test_tfx_keeps_its_own_choice_and_the_spec_sets_the_rest(monkeypatch):
    processor = executor.processor_class(8192)()
    assert isinstance(processor, tfx_transform_executor.TransformProcessor)
    assert processor._GetDesiredBatchSize(0, None) == 8192
    monkeypatch.setattr(
        tfx_transform_executor.TransformProcessor, "_GetDesiredBatchSize", lambda self, f, s: 1
    )
    assert processor._GetDesiredBatchSize(0, None) == 1


def test_tfx_processor_is_back_after_do_even_when_it_fails(monkeypatch):
    seen = []

    def failing_do(self, input_dict, output_dict, exec_properties):
        seen.append(tfx_transform_executor.TransformProcessor)
        raise RuntimeError("boom")

    monkeypatch.setattr(tfx_transform_executor.Executor, "Do", failing_do)
    original = tfx_transform_executor.TransformProcessor
    config = json.dumps(to_custom_config(load_spec(DATA / "taxi" / "spec.yaml")))
    with pytest.raises(RuntimeError, match="boom"):
        executor.Executor().Do({}, {}, {"custom_config": config})
    assert seen[0] is not original and issubclass(seen[0], original)
    assert seen[0]()._GetDesiredBatchSize(0, None) == executor.TABULAR_BATCH_SIZE
    assert tfx_transform_executor.TransformProcessor is original


def test_the_pipeline_runs_tfx_transform_with_our_executor(tmp_path):
    config = PipelineConfig(output_dir=str(tmp_path), code_fingerprint="abc").absolute()
    transform = {c.id: c for c in create_pipeline(config).components}["Transform"]
    assert type(transform).__module__.startswith("tfx.components.transform")
    assert transform.executor_spec.executor_class is executor.Executor
    assert issubclass(executor.Executor, tfx_transform_executor.Executor)
