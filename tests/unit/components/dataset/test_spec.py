"""The data set spec: parsing every kind of feature, and a whole spec, to exact dataclasses.

Errors located by file, line and YAML path: test_spec_errors.py; the derive grammar:
test_spec_expression.py; round trips and what the stages read: test_model.py. The smallest
valid spec (`minimal_spec`) is a fixture of conftest.py.
"""

import json

import pytest
import yaml

from components import dataset as S


@pytest.mark.parametrize(
    "body, expected",
    [
        ("numeric", S.NumericFeature("x")),
        (
            {"kind": "numeric", "transform": "zscore", "log1p": True, "buckets": 10, "fill": 0},
            S.NumericFeature("x", S.NumericTransform.ZSCORE, log1p=True, buckets=10, fill=0.0),
        ),
        ({"kind": "numeric", "fill": "mean"}, S.NumericFeature("x", fill=None)),
        (
            {"kind": "numeric", "transform": "minmax", "fill": -1.5},
            S.NumericFeature("x", S.NumericTransform.MINMAX, fill=-1.5),
        ),
        (
            {"kind": "numeric", "transform": "bucketize", "buckets": 4},
            S.NumericFeature("x", S.NumericTransform.BUCKETIZE, buckets=4),
        ),
        ("categorical", S.CategoricalFeature("x")),
        (
            {
                "kind": "categorical",
                "transform": "vocabulary",
                "top_k": 50,
                "frequency_threshold": 3,
                "oov_buckets": 4,
                "encoding": "embedding",
                "embedding_size": 8,
            },
            S.CategoricalFeature(
                "x", top_k=50, frequency_threshold=3, oov_buckets=4, embedding_size=8
            ),
        ),
        (
            {"kind": "categorical", "transform": "hash", "bins": 128, "encoding": "one_hot"},
            S.CategoricalFeature(
                "x", S.CategoricalTransform.HASH, bins=128, encoding=S.CategoricalEncoding.ONE_HOT
            ),
        ),
        (
            {"kind": "categorical", "transform": "identity", "num_values": 12, "offset": 1},
            S.CategoricalFeature("x", S.CategoricalTransform.IDENTITY, num_values=12, offset=1),
        ),
        ("text", S.TextFeature("x")),
        (
            {
                "kind": "text",
                "transform": "token_ids",
                "standardize": "lower",
                "tokenize": "characters",
                "vocabulary_size": 500,
                "max_tokens": 32,
                "embedding_size": 16,
            },
            S.TextFeature(
                "x",
                standardize=S.TextStandardize.LOWER,
                tokenize=S.TextTokenize.CHARACTERS,
                vocabulary_size=500,
                max_tokens=32,
                embedding_size=16,
            ),
        ),
        (
            {"kind": "text", "transform": "tfidf", "standardize": "none", "vocabulary_size": 99},
            S.TextFeature(
                "x",
                S.TextTransform.TFIDF,
                standardize=S.TextStandardize.NONE,
                vocabulary_size=99,
            ),
        ),
        (
            {"kind": "image", "encoding": "jpeg", "height": 64, "width": 48},
            S.ImageFeature("x", S.ImageEncoding.JPEG, height=64, width=48),
        ),
        (
            {
                "kind": "image",
                "encoding": "tensor",
                "height": 28,
                "width": 28,
                "channels": 1,
                "transform": "standardize",
            },
            S.ImageFeature(
                "x",
                S.ImageEncoding.TENSOR,
                28,
                28,
                channels=1,
                transform=S.ImageTransform.STANDARDIZE,
            ),
        ),
        ("ignore", S.IgnoredColumn("x")),
        ({"kind": "ignore"}, S.IgnoredColumn("x")),
        (
            {"kind": "numeric", "log1p": True, "min": 0, "max": 1000.5},
            S.NumericFeature("x", log1p=True, min=0.0, max=1000.5),
        ),
        (
            {"kind": "numeric", "transform": "minmax", "min": -1.5},
            S.NumericFeature("x", S.NumericTransform.MINMAX, min=-1.5),
        ),
        (
            {"kind": "numeric", "transform": "bucketize", "buckets": 4, "max": 1e20},
            S.NumericFeature("x", S.NumericTransform.BUCKETIZE, buckets=4, max=1e20),
        ),
        ({"kind": "numeric", "min": 3, "max": 3}, S.NumericFeature("x", min=3.0, max=3.0)),
        ({"kind": "ignore", "min": 0}, S.IgnoredColumn("x", min=0.0)),
    ],
    ids=[
        "numeric-short",
        "numeric-zscore-all",
        "numeric-fill-mean",
        "numeric-minmax",
        "numeric-bucketize",
        "categorical-short",
        "vocabulary-all",
        "hash-one-hot",
        "identity",
        "text-short",
        "text-token-ids-all",
        "text-tfidf",
        "image-jpeg",
        "image-tensor-all",
        "ignore-short",
        "ignore-mapping",
        "numeric-zscore-bounds",
        "numeric-minmax-min",
        "numeric-bucketize-max",
        "numeric-min-equal-to-max",
        "ignore-min",
    ],
)
def test_every_feature_kind_parses_to_its_dataclass(minimal_spec, body, expected):
    spec = S.parse_spec(minimal_spec(features={"x": body}))
    assert spec.features == (expected,)
    # And back: dumping then loading gives the same feature.
    assert S.parse_spec(yaml.safe_load(S.dump_spec(spec))).features == (expected,)


def test_whole_spec_parses_to_exact_dataclasses():
    data = {
        "name": "shop",
        "source": {
            "format": "parquet",
            "path": "gs://bucket/shop",
            "pattern": "*.parquet",
            "spans": "span-{SPAN}",
        },
        "label": {"column": "segment", "kind": "multiclass", "classes": ["gold", 2, "bronze"]},
        "features": {"price": {"kind": "numeric", "log1p": True}, "order_id": "ignore"},
        "slices": ["order_id"],
        "split": {"train": 0.8, "eval": 0.1, "test": 0.1, "key": "order_id"},
    }
    spec = S.parse_spec(data, "shop.yaml")
    assert spec == S.DatasetSpec(
        source=S.SourceSpec(S.SourceFormat.PARQUET, "gs://bucket/shop", "*.parquet", "span-{SPAN}"),
        label=S.LabelSpec("segment", S.Task.MULTICLASS, classes=("gold", "2", "bronze")),
        features=(S.NumericFeature("price", log1p=True), S.IgnoredColumn("order_id")),
        slices=("order_id",),
        split=S.SplitSpec(0.8, 0.1, 0.1, key="order_id"),
        name="shop",
    )
    assert spec.origin == "shop.yaml"
    assert spec.source.file_pattern == "span-{SPAN}/*.parquet"
    assert spec.split.hash_buckets() == (8, 1, 1)
    assert S.SplitSpec().hash_buckets() == (14, 3, 3)
    assert S.SourceSpec(S.SourceFormat.CSV, "d", spans="span-{SPAN}").file_pattern == (
        "span-{SPAN}/*.csv"
    )
    assert S.SourceSpec(S.SourceFormat.CSV, "data.csv").file_pattern is None


def test_bounds_are_dumped_only_when_set_and_travel_in_custom_config(minimal_spec):
    spec = S.parse_spec(
        minimal_spec(
            label={"column": "big_tipper", "kind": "binary", "derive": "tips > 0.2 * x"},
            features={"x": {"kind": "numeric", "max": 99.5}, "tips": {"kind": "ignore", "min": 0}},
        )
    )
    assert S.spec_to_dict(spec)["features"] == {
        "x": {"kind": "numeric", "transform": "zscore", "max": 99.5},
        "tips": {"kind": "ignore", "min": 0.0},
    }
    assert S.parse_spec(yaml.safe_load(S.dump_spec(spec))) == spec
    carried = json.loads(json.dumps(S.to_custom_config(spec)))
    assert carried["spec"]["features"]["tips"] == {"kind": "ignore", "min": 0.0}
    assert S.spec_from_custom_config(carried) == spec
    # Bounds are ingestion's: what Transform makes is the same without them.
    unbounded = S.parse_spec(
        minimal_spec(
            label={"column": "big_tipper", "kind": "binary", "derive": "tips > 0.2 * x"},
            features={"x": "numeric", "tips": "ignore"},
        )
    )
    assert spec.transformed_features() == unbounded.transformed_features()
    assert spec.label == unbounded.label
