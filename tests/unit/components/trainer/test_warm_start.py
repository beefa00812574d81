"""Warm start copies every layer that still fits, and nothing else."""

import numpy as np

from components.dataset import TransformedFeature
from components.trainer import model as model_lib
from components.trainer import warm_start
from components.trainer.hparams import HParams

FEATURES = (
    TransformedFeature("a_xf", is_categorical=False),
    TransformedFeature("c_xf", is_categorical=True, cardinality=10),
    TransformedFeature("v_xf", is_categorical=True, vocabulary_name="v", max_ids=100),
)


def _model(vocabulary_size, seed):
    return model_lib.build_model(
        FEATURES, {"c_xf": 10, "v_xf": vocabulary_size}, HParams(hidden_units=(8, 4), seed=seed)
    )


def test_layers_that_fit_are_copied_and_a_grown_vocabulary_starts_fresh(tmp_path):
    base = _model(vocabulary_size=30, seed=1)
    base.save(str(tmp_path / "base"), save_format="tf", save_traces=False)
    target = _model(vocabulary_size=40, seed=2)  # the vocabulary grew: v_xf's table changes
    fresh_v = target.get_layer("v_xf_embedding").get_weights()[0].copy()

    copied = warm_start.transfer_weights(target, str(tmp_path / "base"))

    assert copied == ["c_xf_embedding", "hidden_0", "hidden_1"]
    for name in copied:
        for new, old in zip(
            target.get_layer(name).get_weights(), base.get_layer(name).get_weights(), strict=True
        ):
            np.testing.assert_array_equal(new, old)
    np.testing.assert_array_equal(target.get_layer("v_xf_embedding").get_weights()[0], fresh_v)
    # The output layer is never copied: the new task head starts fresh.
    assert not np.array_equal(
        target.get_layer("probability").get_weights()[0],
        base.get_layer("probability").get_weights()[0],
    )


def test_frozen_layers_do_not_change_in_a_training_step():
    net = _model(vocabulary_size=5, seed=3)
    warm_start.set_trainable(net, ["hidden_0"], False)
    net.compile(optimizer="sgd", loss="binary_crossentropy")
    before = [w.copy() for w in net.get_layer("hidden_0").get_weights()]
    other_before = net.get_layer("hidden_1").get_weights()[0].copy()
    x = {
        "a_xf": np.ones((8, 1), "float32"),
        "c_xf": np.arange(8).reshape(8, 1) % 10,
        "v_xf": np.arange(8).reshape(8, 1) % 5,
    }
    net.fit(x, np.ones((8, 1)), epochs=2, verbose=0)
    for new, old in zip(net.get_layer("hidden_0").get_weights(), before, strict=True):
        np.testing.assert_array_equal(new, old)
    assert not np.array_equal(net.get_layer("hidden_1").get_weights()[0], other_before)
