"""Spec round trips through YAML, and what the stages read from a spec (TAXI field by field)."""

import dataclasses
import textwrap
from pathlib import Path

import pytest
import yaml

from components import dataset as S

TAXI_SPEC = Path(__file__).parents[4] / "data" / "taxi" / "spec.yaml"


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


@pytest.mark.parametrize(
    "written, delimiter, dumped",
    [
        ("';'", ";", "delimiter: ;"),
        ('"\\t"', "\t", 'delimiter: "\\t"'),
        ("\\t", "\t", 'delimiter: "\\t"'),
    ],
    ids=["semicolon", "tab-quoted", "tab-unquoted"],
)
def test_source_delimiter_loads_and_dumps_back(tmp_path, written, delimiter, dumped):
    path = tmp_path / "spec.yaml"
    path.write_text(
        f"source: {{format: csv, path: d.csv, delimiter: {written}}}\n"
        "label: {column: y, kind: regression}\nfeatures: {x: numeric}\n"
    )
    spec = S.load_spec(path)
    assert spec.source.delimiter == delimiter
    text = S.dump_spec(spec)
    assert f"  {dumped}\n" in text
    path.write_text(text)
    assert S.load_spec(path) == spec
    default = dataclasses.replace(spec, source=S.SourceSpec(S.SourceFormat.CSV, "d.csv"))
    assert "delimiter" not in S.dump_spec(default)


def test_taxi_spec_round_trips():
    spec = S.load_spec(TAXI_SPEC)
    assert S.parse_spec(yaml.safe_load(S.dump_spec(spec))) == spec


# The taxi data set as it was written in Python before the spec existed.
EXPECTED_NUMERIC = (
    S.NumericFeature("fare", log1p=True, min=0),
    S.NumericFeature("trip_miles", log1p=True, min=0),
    S.NumericFeature("trip_seconds", log1p=True, min=0),
    S.NumericFeature("pickup_latitude", buckets=10),
    S.NumericFeature("pickup_longitude", buckets=10),
    S.NumericFeature("dropoff_latitude", buckets=10),
    S.NumericFeature("dropoff_longitude", buckets=10),
)
VOCABULARY, HASH, IDENTITY = (
    S.CategoricalTransform.VOCABULARY,
    S.CategoricalTransform.HASH,
    S.CategoricalTransform.IDENTITY,
)
EXPECTED_CATEGORICAL = (
    S.CategoricalFeature("payment_type", VOCABULARY, top_k=20, oov_buckets=2),
    S.CategoricalFeature("company", VOCABULARY, top_k=200, oov_buckets=5),
    S.CategoricalFeature("pickup_census_tract", HASH, bins=256),
    S.CategoricalFeature("dropoff_census_tract", HASH, bins=256),
    S.CategoricalFeature("pickup_community_area", HASH, bins=64),
    S.CategoricalFeature("dropoff_community_area", HASH, bins=64),
    S.CategoricalFeature("trip_start_hour", IDENTITY, num_values=24),
    S.CategoricalFeature("trip_start_day", IDENTITY, num_values=7, offset=1),
    S.CategoricalFeature("trip_start_month", IDENTITY, num_values=12, offset=1),
)


def test_taxi_spec_gives_the_taxi_features_field_by_field():
    spec = S.load_spec(TAXI_SPEC)
    assert spec.numeric == EXPECTED_NUMERIC
    assert spec.categorical == EXPECTED_CATEGORICAL
    assert (spec.label.column, spec.label.derive.text) == ("big_tipper", "tips > 0.2 * fare")
    assert spec.label.source_columns == ("tips", "fare")
    assert spec.ignored == ("trip_start_timestamp",)  # tips is a label source, not ignored
    assert spec.slices == ("payment_type", "company")
    assert spec.task is S.Task.BINARY and spec.num_classes == 2
    transformed = spec.transformed_features()
    assert [f.name for f in transformed[:2]] == ["fare_xf", "fare_missing_xf"]
    assert len(transformed) == 3 * 2 + 4 * 3 + 9  # log1p: value, flag; buckets: + view
    company = next(f for f in transformed if f.name == "company_xf")
    assert (company.vocabulary_name, company.extra_ids, company.max_ids) == ("company", 5, 205)


@pytest.mark.parametrize(
    "label, classes, num_classes",
    [
        ({"column": "y", "kind": "regression"}, (), 0),
        ({"column": "y", "kind": "binary"}, (), 2),
        ({"column": "y", "kind": "multiclass", "classes": ["a", "b", "c"]}, ("a", "b", "c"), 3),
    ],
    ids=["regression", "binary", "multiclass"],
)
def test_labels_read_from_a_column_keep_their_kind_and_classes(
    minimal_spec, label, classes, num_classes
):
    spec = S.parse_spec(minimal_spec(label=label, features={"a": "numeric"}))
    assert (spec.label.column, spec.task.value, spec.label.classes) == ("y", label["kind"], classes)
    assert not spec.label.derived
    assert spec.num_classes == num_classes
    assert spec.raw_columns == ("a", "y")


@pytest.mark.parametrize(
    "derive, sources",
    [
        ("a > 0.5 * b", ("a", "b")),
        ("b * 3 < a", ("b", "a")),
        ("a > b + 1", ("a", "b")),
    ],
    ids=["ratio-first", "less-than", "offset"],
)
def test_derived_labels_read_their_expression_columns(minimal_spec, derive, sources):
    spec = S.parse_spec(
        minimal_spec(
            label={"column": "y", "kind": "binary", "derive": derive},
            features={"a": "numeric", "b": "ignore"},
        )
    )
    assert spec.label.derived
    assert spec.label.source_columns == sources
    assert spec.ignored == ()  # b is a label source, not an ignored column
    assert spec.raw_columns == ("a", "b")
    assert spec.numeric_columns == ("a", "b")


def test_every_numeric_and_categorical_option_reaches_the_outputs(minimal_spec):
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
    assert spec.numeric == (
        S.NumericFeature("a", S.NumericTransform.MINMAX, fill=0.0),
        S.NumericFeature("b", S.NumericTransform.BUCKETIZE, buckets=5),
    )
    assert spec.categorical == (
        S.CategoricalFeature(
            "c", VOCABULARY, frequency_threshold=3, encoding=S.CategoricalEncoding.ONE_HOT
        ),
        S.CategoricalFeature("d", HASH, bins=9, embedding_size=4),
    )
    transformed = spec.transformed_features()
    assert [(f.name, f.is_categorical, f.cardinality) for f in transformed] == [
        ("a_xf", False, None),  # no missing flag: the fill value stands in
        ("b_xf", True, 6),  # 5 buckets and one for a missing value
        ("b_missing_xf", False, None),
        ("c_xf", True, None),
        ("d_xf", True, 9),
    ]
    assert [(f.one_hot, f.embedding_size) for f in transformed[3:]] == [(True, None), (False, 4)]


def test_the_spec_travels_to_components_in_custom_config_as_plain_json():
    import json

    spec = S.load_spec(TAXI_SPEC)
    carried = json.loads(json.dumps(S.to_custom_config(spec)))
    assert carried["spec_origin"] == "taxi/spec.yaml"  # no path of this machine
    # All but the blessing bars, which reach the Evaluator in its eval config.
    assert S.spec_from_custom_config(carried) == dataclasses.replace(
        spec, evaluation=S.EvaluationSpec()
    )
    assert S.spec_from_custom_config(carried).transformed_features() == spec.transformed_features()


def test_a_component_without_the_spec_says_how_to_build_the_pipeline():
    with pytest.raises(ValueError, match="pipeline.create_pipeline"):
        S.spec_from_custom_config({"hparams": {}})


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
    assert spec.text == (
        S.TextFeature("review", S.TextTransform.TFIDF, vocabulary_size=500),
        S.TextFeature("title", tokenize=S.TextTokenize.CHARACTERS, max_tokens=8),
    )
    transformed = spec.transformed_features()
    assert [(f.name, f.is_categorical, f.width) for f in transformed] == [
        ("review_xf", False, 501),  # TF-IDF over the vocabulary and one OOV bucket
        ("title_xf", True, 8),  # token ids; padding, vocabulary, OOV: 10,000 + 2 ids at most
    ]
    assert transformed[1].max_ids == 10_002


def test_the_digits_spec_gives_an_image_feature_and_ten_classes():
    spec = S.load_spec(TAXI_SPEC.parents[1] / "digits" / "spec.yaml")
    assert spec.images == (S.ImageFeature("image", S.ImageEncoding.TENSOR, 8, 8, 1),)
    assert spec.images[0].transform is S.ImageTransform.RESCALE
    (pixels,) = spec.transformed_features()
    assert (pixels.name, pixels.width, pixels.image_shape) == ("image_xf", 64, (8, 8, 1))
    assert spec.num_classes == 10
