"""The numeric option `embedding: periodic` in the spec: parse, dump, parse again, what the
Trainer reads of it, and its errors.

The layer's exact values: tests/unit/components/trainer/test_periodic.py.
"""

import pytest
import yaml

from components import dataset as S


def _features(minimal_spec, body) -> S.DatasetSpec:
    return S.parse_spec(minimal_spec(features={"x": body}), "d.yaml")


@pytest.mark.parametrize(
    "transform", [S.NumericTransform.ZSCORE, S.NumericTransform.MINMAX, S.NumericTransform.ROBUST]
)
def test_parse_dump_parse_keeps_the_periodic_embedding(minimal_spec, transform):
    spec = _features(
        minimal_spec, {"kind": "numeric", "transform": transform.value, "embedding": "periodic"}
    )
    assert spec.features == (
        S.NumericFeature("x", transform, embedding=S.NumericEmbedding.PERIODIC),
    )
    dumped = S.dump_spec(spec)
    assert "embedding: periodic" in dumped
    assert S.parse_spec(yaml.safe_load(dumped)) == spec


def test_the_default_embedding_is_not_written(minimal_spec):
    spec = _features(minimal_spec, {"kind": "numeric", "embedding": "none"})
    assert spec.features[0].embedding is S.NumericEmbedding.NONE
    assert "embedding" not in S.dump_spec(spec)


@pytest.mark.parametrize(
    "body, outputs",
    [
        (
            {"kind": "numeric", "embedding": "periodic"},
            (
                S.TransformedFeature("x_xf", False, periodic=True),
                S.TransformedFeature("x_missing_xf", False),
            ),
        ),
        (
            {"kind": "numeric", "transform": "robust", "embedding": "periodic", "buckets": 3},
            (
                S.TransformedFeature("x_xf", False, periodic=True),
                S.TransformedFeature("x_missing_xf", False),
                S.TransformedFeature("x_bucket_xf", True, cardinality=4),
            ),
        ),
        (
            {"kind": "numeric"},
            (S.TransformedFeature("x_xf", False), S.TransformedFeature("x_missing_xf", False)),
        ),
    ],
    ids=["zscore-periodic", "robust-periodic-with-buckets", "no-embedding"],
)
def test_only_the_scaled_value_is_read_periodically(minimal_spec, body, outputs):
    assert _features(minimal_spec, body).transformed_features() == outputs


@pytest.mark.parametrize(
    "body, message",
    [
        (
            {"kind": "numeric", "transform": "bucketize", "buckets": 4, "embedding": "periodic"},
            "d.yaml: features.x.embedding: option 'embedding' applies to transform zscore / "
            "minmax / robust, not bucketize; options of a numeric bucketize feature: "
            "buckets, fill, min, max",
        ),
        (
            {"kind": "numeric", "transform": "piecewise_linear", "buckets": 4, "embedding": "none"},
            "d.yaml: features.x.embedding: option 'embedding' applies to transform zscore / "
            "minmax / robust, not piecewise_linear; options of a numeric piecewise_linear "
            "feature: log1p, buckets, fill, min, max",
        ),
        (
            {"kind": "numeric", "embedding": "fourier"},
            "d.yaml: features.x.embedding: 'fourier' is not a numeric embedding; allowed: "
            "none, periodic",
        ),
    ],
    ids=["on-bucketize", "on-piecewise-linear", "unknown-embedding"],
)
def test_errors_name_the_path_and_the_fix(minimal_spec, body, message):
    with pytest.raises(S.SpecError) as caught:
        _features(minimal_spec, body)
    assert str(caught.value) == message
