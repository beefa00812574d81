"""The report's layer table (`export.layer_table`, recorded by the Trainer): an ensemble's members
are listed layer by layer."""

import tf_keras as keras

from components.dataset import Task
from components.trainer.export import layer_table
from components.trainer.families import selection
from components.trainer.heads import Head


def _member(name: str, units: int) -> keras.Model:
    x = keras.Input(shape=(2,), name="x")
    hidden = keras.layers.Dense(units, name="hidden_0")(x)
    return keras.Model({"x": x}, keras.layers.Dense(1, name="out")(hidden), name=name)


def test_an_ensembles_members_are_listed_by_their_own_layers():
    members = {"dnn": _member("deepline_dnn", 3), "other": _member("other", 2)}
    spec = {"x": members["dnn"].inputs[0].type_spec}
    ensemble = selection.average(members, spec, Head(Task.REGRESSION))
    rows = {row["name"]: row["params"] for row in layer_table(ensemble)}
    assert rows["deepline_dnn/hidden_0"] == 2 * 3 + 3
    assert rows["other/hidden_0"] == 2 * 2 + 2
    assert rows["deepline_dnn/out"] == 3 + 1
    assert "deepline_dnn" not in rows  # listed through its layers, not as one row
