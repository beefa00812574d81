"""Spec round trips through YAML, and the spec as the feature registry (TAXI field by field)."""

import re
import textwrap
from pathlib import Path

import pytest
import yaml

from components import features as F
from components import spec as S

TAXI_SPEC = Path(__file__).parents[3] / "data" / "taxi" / "spec.yaml"


def test_dump_writes_short_yaml_that_loads_back_equal(tmp_path):
    spec = S.parse_spec(
        {
            "source": {"format": "jsonl", "path": "rows", "spans": "span-{SPAN}"},
            "label": {"column": "ok", "kind": "binary", "classes": ["no", "yes"]},
            "features": {
                "amount": {"kind": "numeric", "transform": "minmax", "fill": 0.5},
                "note": {"kind": "text", "transform": "tfidf"},
                "row": "ignore",
            },
            "split": {"train": 0.6, "eval": 0.2, "test": 0.2, "key": "row"},
        }
    )
    text = S.dump_spec(spec)
    assert text == textwrap.dedent(
        """\
        source:
          format: jsonl
          path: rows
          spans: span-{SPAN}
        label:
          column: ok
          kind: binary
          classes: ['no', 'yes']
        features:
          amount: {kind: numeric, transform: minmax, fill: 0.5}
          note: {kind: text, transform: tfidf}
          row: ignore
        split:
          train: 0.6
          eval: 0.2
          test: 0.2
          key: row
        """
    )
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    assert S.load_spec(path) == spec


def test_taxi_spec_round_trips():
    spec = S.load_spec(TAXI_SPEC)
    assert S.parse_spec(yaml.safe_load(S.dump_spec(spec))) == spec


# The taxi registry as it was written in Python before the spec existed.
EXPECTED_TAXI = F.FeatureRegistry(
    numeric=(
        F.NumericFeature("fare", log1p=True),
        F.NumericFeature("trip_miles", log1p=True),
        F.NumericFeature("trip_seconds", log1p=True),
        F.NumericFeature("pickup_latitude", buckets=10),
        F.NumericFeature("pickup_longitude", buckets=10),
        F.NumericFeature("dropoff_latitude", buckets=10),
        F.NumericFeature("dropoff_longitude", buckets=10),
    ),
    categorical=(
        F.CategoricalFeature("payment_type", F.Encoding.VOCABULARY, top_k=20, oov_buckets=2),
        F.CategoricalFeature("company", F.Encoding.VOCABULARY, top_k=200, oov_buckets=5),
        F.CategoricalFeature("pickup_census_tract", F.Encoding.HASH, hash_buckets=256),
        F.CategoricalFeature("dropoff_census_tract", F.Encoding.HASH, hash_buckets=256),
        F.CategoricalFeature("pickup_community_area", F.Encoding.HASH, hash_buckets=64),
        F.CategoricalFeature("dropoff_community_area", F.Encoding.HASH, hash_buckets=64),
        F.CategoricalFeature("trip_start_hour", F.Encoding.IDENTITY, num_values=24),
        F.CategoricalFeature("trip_start_day", F.Encoding.IDENTITY, num_values=7, offset=1),
        F.CategoricalFeature("trip_start_month", F.Encoding.IDENTITY, num_values=12, offset=1),
    ),
    label=F.BinaryLabel("big_tipper", numerator="tips", denominator="fare", ratio=0.2),
    ignored=("trip_start_timestamp",),
    slice_columns=("payment_type", "company"),
)


def test_taxi_spec_gives_the_taxi_registry_field_by_field():
    registry = S.load_spec(TAXI_SPEC).to_registry()
    assert registry.numeric == EXPECTED_TAXI.numeric
    assert registry.categorical == EXPECTED_TAXI.categorical
    assert registry.label == F.BinaryLabel("big_tipper", "tips", "fare", 0.2)
    assert registry.ignored == ("trip_start_timestamp",)
    assert registry.slice_columns == EXPECTED_TAXI.slice_columns
    assert registry == EXPECTED_TAXI
    assert registry.transformed_features() == EXPECTED_TAXI.transformed_features()


@pytest.mark.parametrize(
    "label, expected",
    [
        ({"column": "y", "kind": "regression"}, F.ColumnLabel("y", F.Task.REGRESSION)),
        ({"column": "y", "kind": "binary"}, F.ColumnLabel("y", F.Task.BINARY)),
        (
            {"column": "y", "kind": "multiclass", "classes": ["a", "b", "c"]},
            F.ColumnLabel("y", F.Task.MULTICLASS, ("a", "b", "c")),
        ),
    ],
    ids=["regression", "binary", "multiclass"],
)
def test_labels_read_from_a_column_keep_their_kind_and_classes(minimal_spec, label, expected):
    spec = S.parse_spec(minimal_spec(label=label, features={"a": "numeric"}))
    registry = spec.to_registry()
    assert registry.label == expected
    assert registry.num_classes == {"regression": 0, "binary": 2, "multiclass": 3}[label["kind"]]
    assert registry.raw_columns == ("a", "y")


@pytest.mark.parametrize(
    "derive, expected",
    [
        ("a > 0.5 * b", F.BinaryLabel("y", "a", "b", 0.5)),
        ("a > b * 3", F.BinaryLabel("y", "a", "b", 3.0)),
        ("a > b", F.BinaryLabel("y", "a", "b", 1.0)),
    ],
    ids=["ratio-first", "ratio-last", "no-ratio"],
)
def test_registry_labels_of_the_form_a_greater_than_ratio_times_b(minimal_spec, derive, expected):
    spec = S.parse_spec(
        minimal_spec(
            label={"column": "y", "kind": "binary", "derive": derive},
            features={"a": "numeric", "b": "ignore"},
        )
    )
    registry = spec.to_registry()
    assert registry.label == expected
    assert registry.ignored == ()  # b is a label source, not an ignored column


def test_every_numeric_and_categorical_option_reaches_the_registry(minimal_spec):
    spec = S.parse_spec(
        minimal_spec(
            label={"column": "y", "kind": "regression"},
            features={
                "a": {"kind": "numeric", "transform": "minmax", "fill": 0},
                "b": {"kind": "numeric", "transform": "bucketize", "buckets": 5},
                "c": {"kind": "categorical", "encoding": "one_hot", "frequency_threshold": 3},
                "d": {"kind": "categorical", "transform": "hash", "bins": 9, "embedding_size": 4},
            },
        )
    )
    registry = spec.to_registry()
    assert registry.numeric == (
        F.NumericFeature("a", scale=F.Scale.MINMAX, fill=0.0),
        F.NumericFeature("b", buckets=5, scale=F.Scale.BUCKETIZE),
    )
    assert registry.categorical == (
        F.CategoricalFeature("c", F.Encoding.VOCABULARY, frequency_threshold=3, one_hot=True),
        F.CategoricalFeature("d", F.Encoding.HASH, hash_buckets=9, embedding_size=4),
    )
    assert [(f.name, f.is_categorical, f.cardinality) for f in registry.transformed_features()] == [
        ("a_xf", False, None),  # no missing flag: the fill value stands in
        ("b_xf", True, 6),  # 5 buckets and one for a missing value
        ("b_missing_xf", False, None),
        ("c_xf", True, None),
        ("d_xf", True, 9),
    ]


@pytest.mark.parametrize(
    "label, message",
    [
        ({"column": "y", "kind": "binary", "derive": "a < b"}, "not 'a < b'"),
        ({"column": "y", "kind": "binary", "derive": "a > b + 1"}, "not 'a > b + 1'"),
    ],
    ids=["less-than", "offset"],
)
def test_registry_refuses_other_labels(minimal_spec, label, message):
    spec = S.parse_spec(minimal_spec(label=label, features={"a": "numeric", "b": "ignore"}))
    with pytest.raises(S.UnsupportedSpecError, match=re.escape(message)):
        spec.to_registry()


def test_the_spec_travels_to_components_in_custom_config_as_plain_json():
    import json

    spec = S.load_spec(TAXI_SPEC)
    carried = json.loads(json.dumps(S.to_custom_config(spec)))
    assert carried["spec_origin"] == "taxi/spec.yaml"  # no path of this machine
    assert S.spec_from_custom_config(carried) == spec
    assert S.registry_from_custom_config(carried) == EXPECTED_TAXI


def test_a_component_without_the_spec_says_how_to_build_the_pipeline():
    with pytest.raises(ValueError, match="pipeline.create_pipeline"):
        S.registry_from_custom_config({"hparams": {}})


def test_text_features_keep_their_options(minimal_spec):
    spec = S.parse_spec(
        minimal_spec(
            label={"column": "y", "kind": "binary"},
            features={
                "review": {"kind": "text", "transform": "tfidf", "vocabulary_size": 500},
                "title": {"kind": "text", "tokenize": "characters", "max_tokens": 8},
            },
        )
    )
    registry = spec.to_registry()
    assert registry.text == (
        F.TextFeature("review", F.TextOutput.TFIDF, vocabulary_size=500),
        F.TextFeature("title", tokenize="characters", max_tokens=8),
    )
    assert [(f.name, f.is_categorical, f.width) for f in registry.transformed_features()] == [
        ("review_xf", False, 501),  # TF-IDF over the vocabulary and one OOV bucket
        ("title_xf", True, 8),  # token ids; padding, vocabulary, OOV: 10,000 + 2 ids at most
    ]
    assert registry.transformed_features()[1].max_ids == 10_002


def test_the_digits_spec_gives_an_image_feature_and_ten_classes():
    registry = S.load_spec(TAXI_SPEC.parents[1] / "digits" / "spec.yaml").to_registry()
    assert registry.images == (F.ImageFeature("image", "tensor", 8, 8, 1, "rescale"),)
    (pixels,) = registry.transformed_features()
    assert (pixels.name, pixels.width, pixels.image_shape) == ("image_xf", 64, (8, 8, 1))
    assert registry.num_classes == 10
