"""`components.trainer.periodic`: the periodic embedding's formula at chosen points with
weights set by hand, its config round trip, and its place in the models."""

import math

import numpy as np
import pytest

from components.dataset import TransformedFeature
from components.trainer import model
from components.trainer.hparams import HParams
from components.trainer.periodic import PeriodicEmbedding

# Frequencies 1/4 and 1/2: at x = 1 the angles 2 pi c x are pi/2 and pi.
FREQUENCIES = np.array([[0.25, 0.5]], np.float32)
# Rows: sin(c1 x), sin(c2 x), cos(c1 x), cos(c2 x); columns: the two units.
KERNEL = np.array([[[1.0, 0.0], [0.0, 1.0], [1.0, -1.0], [0.0, 2.0]]], np.float32)
BIAS = np.array([[0.0, -0.5]], np.float32)


def _layer() -> PeriodicEmbedding:
    layer = PeriodicEmbedding(frequencies=2, width=2, sigma=0.1)
    layer.build((None, 1))
    layer.set_weights([FREQUENCIES, KERNEL, BIAS])
    return layer


@pytest.mark.parametrize(
    "x, expected",
    [
        # sin (0, 0), cos (1, 1): (1, -1 + 2) + bias = (1, 0.5)
        (0.0, [1.0, 0.5]),
        # sin (r, 1), cos (r, 0), r = sqrt(2)/2: (2r, 1 - r) + bias = (sqrt 2, 0.5 - r) -> relu
        (0.5, [math.sqrt(2.0), 0.0]),
        # sin (1, 0), cos (0, -1): (1, -2) + bias = (1, -2.5) -> relu
        (1.0, [1.0, 0.0]),
        # sin (-1, 0), cos (0, -1): (-1, -2) + bias -> relu
        (-1.0, [0.0, 0.0]),
        # sin (0, 0), cos (-1, 1): (-1, 1 + 2) + bias = (-1, 2.5) -> relu
        (2.0, [0.0, 2.5]),
    ],
    ids=["0", "0.5", "1", "-1", "2"],
)
def test_the_embedding_at_chosen_values(x, expected):
    out = _layer()(np.array([[x]], np.float32)).numpy()
    np.testing.assert_allclose(out, [expected], atol=1e-6)


def test_each_column_has_its_own_weights_and_the_outputs_are_side_by_side():
    layer = PeriodicEmbedding(frequencies=2, width=2, sigma=0.1)
    layer.build((None, 2))
    # Column 2 gets the same weights with its units swapped.
    layer.set_weights(
        [
            np.concatenate([FREQUENCIES, FREQUENCIES]),
            np.concatenate([KERNEL, KERNEL[:, :, ::-1]]),
            np.concatenate([BIAS, BIAS[:, ::-1]]),
        ]
    )
    out = layer(np.array([[0.0, 2.0]], np.float32)).numpy()
    np.testing.assert_allclose(out, [[1.0, 0.5, 2.5, 0.0]], atol=1e-6)


def test_the_frequencies_start_at_the_chosen_spread():
    layer = PeriodicEmbedding(frequencies=4000, width=1, sigma=0.3, seed=3)
    layer.build((None, 1))
    assert float(np.std(layer.get_weights()[0])) == pytest.approx(0.3, rel=0.05)


def test_config_round_trip():
    layer = PeriodicEmbedding(frequencies=3, width=5, sigma=0.2, seed=7, name="p")
    again = PeriodicEmbedding.from_config(layer.get_config())
    assert again.get_config() == layer.get_config()


def test_bad_settings_are_refused_by_name():
    with pytest.raises(ValueError, match="sigma > 0"):
        PeriodicEmbedding(frequencies=3, width=5, sigma=0.0)


def test_a_periodic_feature_is_embedded_in_the_dnn_and_others_are_not():
    features = (TransformedFeature("a_xf", False, periodic=True), TransformedFeature("b_xf", False))
    hparams = HParams(periodic_frequencies=3, periodic_width=4).resolve()
    dnn = model.build_model(features, {}, hparams)
    periodic = [layer for layer in dnn.layers if isinstance(layer, PeriodicEmbedding)]
    assert [layer.name for layer in periodic] == ["a_xf_periodic"]
    # 4 units of a's embedding and b as it is.
    assert dnn.get_layer("features").output.shape[-1] == 5
