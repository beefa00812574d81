"""The numeric transforms robust and piecewise_linear in the spec: parse, dump, parse again,
their outputs, and the errors of their options.

Their exact values: tests/unit/components/transform/test_numeric_encodings.py.
"""

import pytest
import yaml

from components import dataset as S


def _features(minimal_spec, body) -> S.DatasetSpec:
    return S.parse_spec(minimal_spec(features={"x": body}), "d.yaml")


@pytest.mark.parametrize(
    "body, expected",
    [
        (
            {"kind": "numeric", "transform": "robust"},
            S.NumericFeature("x", S.NumericTransform.ROBUST),
        ),
        (
            {"kind": "numeric", "transform": "robust", "log1p": True, "buckets": 4, "fill": 0},
            S.NumericFeature("x", S.NumericTransform.ROBUST, log1p=True, buckets=4, fill=0.0),
        ),
        (
            {"kind": "numeric", "transform": "piecewise_linear", "buckets": 8},
            S.NumericFeature("x", S.NumericTransform.PIECEWISE_LINEAR, buckets=8),
        ),
        (
            {
                "kind": "numeric",
                "transform": "piecewise_linear",
                "buckets": 2,
                "log1p": True,
                "fill": -1.5,
                "min": -2,
                "max": 10,
            },
            S.NumericFeature(
                "x",
                S.NumericTransform.PIECEWISE_LINEAR,
                log1p=True,
                buckets=2,
                fill=-1.5,
                min=-2,
                max=10,
            ),
        ),
    ],
    ids=["robust", "robust-all-options", "piecewise-linear", "piecewise-linear-all-options"],
)
def test_parse_dump_parse_keeps_the_feature(minimal_spec, body, expected):
    spec = _features(minimal_spec, body)
    assert spec.features == (expected,)
    dumped = S.dump_spec(spec)
    again = S.parse_spec(yaml.safe_load(dumped))
    assert again == spec
    # Options at their defaults are not written.
    assert ("buckets" in dumped) == (expected.buckets != 0)


@pytest.mark.parametrize(
    "body, outputs",
    [
        (
            {"kind": "numeric", "transform": "robust", "buckets": 3},
            (
                S.TransformedFeature("x_xf", False),
                S.TransformedFeature("x_missing_xf", False),
                S.TransformedFeature("x_bucket_xf", True, cardinality=4),
            ),
        ),
        (
            {"kind": "numeric", "transform": "piecewise_linear", "buckets": 6},
            (
                S.TransformedFeature("x_xf", False, width=6),
                S.TransformedFeature("x_missing_xf", False),
            ),
        ),
        (
            {"kind": "numeric", "transform": "piecewise_linear", "buckets": 6, "fill": 0},
            (S.TransformedFeature("x_xf", False, width=6),),
        ),
    ],
    ids=["robust-with-bucket-view", "piecewise-linear", "piecewise-linear-filled"],
)
def test_outputs_the_trainer_reads(minimal_spec, body, outputs):
    assert _features(minimal_spec, body).transformed_features() == outputs


@pytest.mark.parametrize(
    "body, message",
    [
        (
            {"kind": "numeric", "transform": "piecewise_linear"},
            "d.yaml: features.x.buckets: piecewise_linear needs buckets: 2 or more "
            "(e.g. buckets: 8), got 0",
        ),
        (
            {"kind": "numeric", "transform": "piecewise_linear", "buckets": 1},
            "d.yaml: features.x.buckets: piecewise_linear needs buckets: 2 or more "
            "(e.g. buckets: 8), got 1",
        ),
        (
            {"kind": "numeric", "transform": "piecewise_linear", "buckets": -3},
            "d.yaml: features.x.buckets: must be at least 0, got -3",
        ),
        (
            {"kind": "numeric", "transform": "piecewise_linear", "buckets": 4.5},
            "d.yaml: features.x.buckets: must be a whole number, got 4.5",
        ),
        (
            {"kind": "numeric", "transform": "bucketize", "buckets": 4, "log1p": True},
            "d.yaml: features.x.log1p: option 'log1p' applies to transform zscore / minmax / "
            "robust / piecewise_linear, not bucketize; options of a numeric bucketize feature: "
            "buckets, fill, min, max",
        ),
        (
            {"kind": "numeric", "transform": "robust_scaling"},
            "d.yaml: features.x.transform: 'robust_scaling' is not a numeric transform; allowed: "
            "zscore, minmax, bucketize, robust, piecewise_linear",
        ),
    ],
    ids=[
        "buckets-missing",
        "buckets-below-2",
        "buckets-negative",
        "buckets-not-whole",
        "log1p-on-bucketize",
        "misspelt-transform",
    ],
)
def test_errors_of_the_new_options_name_the_path_and_the_fix(minimal_spec, body, message):
    with pytest.raises(S.SpecError) as caught:
        _features(minimal_spec, body)
    assert str(caught.value) == message


def test_features_built_in_code_are_checked_too():
    with pytest.raises(S.SpecError, match="piecewise_linear needs buckets: 2 or more"):
        S.NumericFeature("x", S.NumericTransform.PIECEWISE_LINEAR)
    with pytest.raises(S.SpecError, match="does not apply to transform 'bucketize'"):
        S.NumericFeature("x", S.NumericTransform.BUCKETIZE, buckets=4, log1p=True)
