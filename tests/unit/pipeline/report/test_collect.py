"""The report reads the layer table the Trainer recorded, without loading the model."""

import json
import types

from pipeline.contracts import HISTORY_FILE
from pipeline.report import collect
from pipeline.report.model import LayerRow

ROW = {
    "name": "hidden_0",
    "kind": "Dense",
    "output_shape": "(None, 8)",
    "params": 40,
    "trainable": True,
}


class _Run:
    """A finished run whose Trainer wrote its ModelRun folder to `model_run` and no Model."""

    def __init__(self, model_run):
        self._uris = {("Trainer", "ModelRun"): str(model_run)}

    def output(self, component, artifact_type):
        uri = self._uris.get((component, artifact_type))
        return types.SimpleNamespace(uri=uri) if uri else None


def test_the_recorded_layer_table_is_read_from_the_trainers_history(tmp_path):
    (tmp_path / HISTORY_FILE).write_text(json.dumps({"layers": [ROW]}))
    # No Model artifact: reading the model back would find nothing to list.
    assert collect.collect_layers(_Run(tmp_path)) == (LayerRow(**ROW),)


def test_a_history_without_a_layer_table_falls_back_to_the_model(tmp_path):
    (tmp_path / HISTORY_FILE).write_text(json.dumps({"epochs": 3}))
    assert collect.collect_layers(_Run(tmp_path)) == ()  # no served model in this run
