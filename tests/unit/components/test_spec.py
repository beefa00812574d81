"""The data set spec: parsing every kind, located errors, the derive grammar, round trips, TAXI."""

import math
import re
import textwrap
from pathlib import Path

import numpy as np
import pytest
import yaml

from components import features as F
from components import spec as S
from components.spec.expression import BinaryOp, Column, Negate, Number

TAXI_SPEC = Path(__file__).parents[3] / "data" / "taxi" / "spec.yaml"

MINIMAL = {
    "source": {"format": "csv", "path": "data.csv"},
    "label": {"column": "y", "kind": "regression"},
    "features": {"x": "numeric"},
}


def _with_feature(body) -> dict:
    return {**MINIMAL, "features": {"x": body}}


@pytest.mark.parametrize(
    "body, expected",
    [
        ("numeric", S.NumericSpec("x")),
        (
            {"kind": "numeric", "transform": "zscore", "log1p": True, "buckets": 10, "fill": 0},
            S.NumericSpec("x", S.NumericTransform.ZSCORE, log1p=True, buckets=10, fill=0.0),
        ),
        ({"kind": "numeric", "fill": "mean"}, S.NumericSpec("x", fill=None)),
        (
            {"kind": "numeric", "transform": "minmax", "fill": -1.5},
            S.NumericSpec("x", S.NumericTransform.MINMAX, fill=-1.5),
        ),
        (
            {"kind": "numeric", "transform": "bucketize", "buckets": 4},
            S.NumericSpec("x", S.NumericTransform.BUCKETIZE, buckets=4),
        ),
        ("categorical", S.CategoricalSpec("x")),
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
            S.CategoricalSpec(
                "x", top_k=50, frequency_threshold=3, oov_buckets=4, embedding_size=8
            ),
        ),
        (
            {"kind": "categorical", "transform": "hash", "bins": 128, "encoding": "one_hot"},
            S.CategoricalSpec(
                "x", S.CategoricalTransform.HASH, bins=128, encoding=S.CategoricalEncoding.ONE_HOT
            ),
        ),
        (
            {"kind": "categorical", "transform": "identity", "num_values": 12, "offset": 1},
            S.CategoricalSpec("x", S.CategoricalTransform.IDENTITY, num_values=12, offset=1),
        ),
        ("text", S.TextSpec("x")),
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
            S.TextSpec(
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
            S.TextSpec(
                "x",
                S.TextTransform.TFIDF,
                standardize=S.TextStandardize.NONE,
                vocabulary_size=99,
            ),
        ),
        (
            {"kind": "image", "encoding": "jpeg", "height": 64, "width": 48},
            S.ImageSpec("x", S.ImageEncoding.JPEG, height=64, width=48),
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
            S.ImageSpec(
                "x",
                S.ImageEncoding.TENSOR,
                28,
                28,
                channels=1,
                transform=S.ImageTransform.STANDARDIZE,
            ),
        ),
        ("ignore", S.IgnoredSpec("x")),
        ({"kind": "ignore"}, S.IgnoredSpec("x")),
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
    ],
)
def test_every_feature_kind_parses_to_its_dataclass(body, expected):
    spec = S.parse_spec(_with_feature(body))
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
        label=S.LabelSpec("segment", S.LabelKind.MULTICLASS, classes=("gold", "2", "bronze")),
        features=(S.NumericSpec("price", log1p=True), S.IgnoredSpec("order_id")),
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


VALID_YAML = """\
source: {format: csv, path: data.csv}
label:
  column: big_tipper
  kind: binary
  derive: tips > 0.2 * fare
features:
  fare: {kind: numeric, transform: zscore}
  company: {kind: categorical, transform: vocabulary}
  tips: ignore
slices: [company]
"""


@pytest.mark.parametrize(
    "old, new, line, message",
    [
        (
            "company: {kind: categorical,",
            "company: {kind: categoric,",
            8,
            "features.company.kind: 'categoric' is not a feature kind; allowed: numeric, "
            "categorical, text, image, ignore",
        ),
        (
            "transform: zscore}",
            "transform: zscor}",
            7,
            "features.fare.transform: 'zscor' is not a numeric transform; "
            "allowed: zscore, minmax, bucketize",
        ),
        (
            "transform: vocabulary}",
            "transform: vocabulary, bins: 8}",
            8,
            "features.company.bins: option 'bins' applies to transform hash, not vocabulary; "
            "options of a categorical vocabulary feature: top_k, frequency_threshold, "
            "oov_buckets, encoding, embedding_size",
        ),
        (
            "transform: zscore}",
            "transform: zscore, size: 3}",
            7,
            "features.fare.size: unknown option 'size'; options of a numeric zscore feature: "
            "log1p, buckets, fill",
        ),
        (
            "transform: zscore}",
            "transform: bucketize}",
            7,
            "features.fare.buckets: bucketize needs buckets: 2 or more",
        ),
        (
            "transform: zscore}",
            "transform: zscore, log1p: 1}",
            7,
            "features.fare.log1p: must be true or false, got 1",
        ),
        (
            "derive: tips > 0.2 * fare",
            "derive: tips > * fare",
            5,
            "label.derive: expected a column or a number at column 8 of 'tips > * fare', found '*'",
        ),
        (
            "derive: tips > 0.2 * fare",
            "derive: __import__('os')",
            5,
            'label.derive: unexpected character "\'" at column 12 of "__import__(\'os\')"',
        ),
        (
            "derive: tips > 0.2 * fare",
            "derive: tips > 0.2 * fares",
            5,
            "label.derive: 'fares' is not declared under features",
        ),
        (
            "derive: tips > 0.2 * fare",
            "derive: tips > 0.2 * company",
            5,
            "label.derive: 'company' is a categorical column; derive from numeric or ignored "
            "columns",
        ),
        (
            "derive: tips > 0.2 * fare",
            "derive: tips - 0.2 * fare",
            5,
            "label.derive: 'tips - 0.2 * fare' must be a comparison",
        ),
        (
            "  tips: ignore\n",
            "  tips: ignore\n  fare: numeric\n",
            10,
            "features.fare: declared twice (lines 7 and 10); keep one",
        ),
        (
            "slices: [company]",
            "slices: [company, city]",
            10,
            "slices[1]: 'city' is not declared under features",
        ),
        (
            "slices: [company]",
            "slices: [company]\nsplit: {train: 0.8, eval: 0.1, test: 0.2}",
            11,
            "split: train + eval + test must be 1, got 1.1",
        ),
        (
            "  kind: binary\n",
            "  kind: multiclass\n  classes: [no, yes]\n",
            5,
            "label.classes[0]: False: YAML reads unquoted yes/no/true/false/null as booleans",
        ),
        (
            "  fare: {kind: numeric",
            "  big_tipper: numeric\n  fare: {kind: numeric",
            3,
            "label.column: 'big_tipper' is also under features",
        ),
    ],
    ids=[
        "unknown-kind",
        "unknown-transform",
        "option-of-another-transform",
        "unknown-option",
        "bucketize-without-buckets",
        "option-of-wrong-type",
        "bad-derive-syntax",
        "unsafe-derive",
        "unknown-column-in-derive",
        "categorical-column-in-derive",
        "derive-not-a-comparison",
        "duplicate-feature",
        "unknown-slice",
        "split-not-summing-to-one",
        "unquoted-boolean-class",
        "label-also-a-feature",
    ],
)
def test_errors_name_the_file_line_and_yaml_path(tmp_path, old, new, line, message):
    assert old in VALID_YAML
    path = tmp_path / "spec.yaml"
    path.write_text(VALID_YAML.replace(old, new))
    with pytest.raises(S.SpecError) as caught:
        S.load_spec(path)
    assert str(caught.value).startswith(f"{path}:{line}: {message}")
    assert caught.value.line == line


def test_the_valid_yaml_of_the_error_table_loads(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(VALID_YAML)
    assert S.load_spec(path).slices == ("company",)


@pytest.mark.parametrize(
    "data, message",
    [
        ({k: v for k, v in MINIMAL.items() if k != "label"}, "d.yaml: label: missing; a spec "),
        ({**MINIMAL, "labels": {}}, "d.yaml: labels: unknown key; allowed: name, source, "),
        ({**MINIMAL, "features": {}}, "d.yaml: features: must map each column name"),
        (
            {**MINIMAL, "label": {"column": "y"}},
            "d.yaml: label.kind: missing; it is required",
        ),
        (
            {**MINIMAL, "label": {"column": "y", "kind": "binary", "derive": "y > 1"}},
            "d.yaml: label.derive: 'y' is not declared under features",
        ),
        (
            {**MINIMAL, "label": {"column": "y", "kind": "regression", "derive": "x > 1"}},
            "d.yaml: label.derive: only binary labels can be derived, not regression",
        ),
        (
            {**MINIMAL, "source": {"format": "xlsx", "path": "a"}},
            "d.yaml: source.format: 'xlsx' is not a format; allowed: csv, parquet, jsonl, tfrecord",
        ),
        (
            {**MINIMAL, "source": {"format": "csv", "path": "a", "spans": "span-N"}},
            "d.yaml: source.spans: must be one folder name with one {SPAN}",
        ),
        (
            _with_feature({"kind": "image", "encoding": "png", "width": 3}),
            "d.yaml: features.x.height: missing; required for kind image",
        ),
        (
            _with_feature({"kind": "categorical", "encoding": "one_hot", "embedding_size": 4}),
            "d.yaml: features.x.embedding_size: applies only to encoding 'embedding'",
        ),
    ],
    ids=[
        "missing-label",
        "unknown-top-level-key",
        "no-features",
        "label-without-kind",
        "derive-from-the-label-itself",
        "derived-regression",
        "unknown-format",
        "spans-without-placeholder",
        "image-without-height",
        "embedding-size-with-one-hot",
    ],
)
def test_errors_of_specs_given_as_data_name_the_source_and_path(data, message):
    with pytest.raises(S.SpecError) as caught:
        S.parse_spec(data, "d.yaml")
    assert str(caught.value).startswith(message)


def test_specs_built_in_code_are_checked_too():
    source = S.SourceSpec(S.SourceFormat.CSV, "data.csv")
    label = S.LabelSpec("y", S.LabelKind.REGRESSION)
    with pytest.raises(S.SpecError, match=r"^features\.x: declared twice; keep one$"):
        S.DatasetSpec(source, label, (S.NumericSpec("x"), S.IgnoredSpec("x")))
    with pytest.raises(S.SpecError, match=r"^top_k: does not apply to transform 'hash'"):
        S.CategoricalSpec("c", S.CategoricalTransform.HASH, bins=8, top_k=5)
    with pytest.raises(S.SpecError, match=r"^channels: must be 1, 3 or 4, got 2$"):
        S.ImageSpec("i", S.ImageEncoding.PNG, 8, 8, channels=2)
    with pytest.raises(S.SpecError) as caught:
        S.parse_spec(_with_feature({"kind": "ignore", "transform": "zscore"}), "d.yaml")
    assert str(caught.value) == (
        "d.yaml: features.x.transform: unknown option 'transform'; kind ignore takes no options"
    )


def test_invalid_yaml_and_empty_files_are_reported_with_the_file(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("source: {format: csv\nlabel: [\n")
    with pytest.raises(S.SpecError, match=r"broken\.yaml:\d+: not valid YAML"):
        S.load_spec(path)
    path.write_text("# nothing yet\n")
    with pytest.raises(S.SpecError, match=r"broken\.yaml: the file is empty"):
        S.load_spec(path)


# The derive grammar.


def test_derive_grammar_builds_the_expected_tree():
    expression = S.parse_expression("tips > 0.2 * (fare + -extras) / `trip miles`")
    assert expression.root == BinaryOp(
        ">",
        Column("tips"),
        BinaryOp(
            "/",
            BinaryOp("*", Number(0.2), BinaryOp("+", Column("fare"), Negate(Column("extras")))),
            Column("trip miles"),
        ),
    )
    assert expression.columns == ("tips", "fare", "extras", "trip miles")
    assert expression.is_comparison
    assert S.parse_expression("a  >  b") == S.parse_expression("a>b")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("tips > 0.2 * fare", [False, True, False, True, False]),
        ("tips >= 0.2 * fare", [True, True, False, True, True]),
        ("tips + 1 == fare / 5 + 1", [True, False, False, False, True]),
        ("tips != 0", [True, True, False, True, False]),
        ("-tips < -1", [True, True, False, True, False]),
        ("tips - 3 - 4", [-5.0, -4.0, -7.0, -2.0, -7.0]),  # left-associative
        ("tips - fare * 2 / 4", [-3.0, 0.5, -5.0, 4.0, 0.0]),
        ("(tips - fare) * 2", [-16.0, -4.0, -20.0, 6.0, 0.0]),
    ],
    ids=["gt", "ge", "eq", "ne", "negate", "assoc", "precedence", "parentheses"],
)
def test_derive_computes_exact_values_on_arrays(text, expected):
    # Row 3 has a missing tip and row 5 a missing fare: both count as 0.
    columns = {
        "tips": np.array([2.0, 3.0, np.nan, 5.0, 0.0]),
        "fare": np.array([10.0, 5.0, 10.0, 2.0, np.nan]),
    }
    result = S.parse_expression(text).evaluate(columns)
    assert result.tolist() == expected


def test_derive_divides_by_zero_like_tensorflow():
    result = S.parse_expression("a / b").evaluate({"a": [1.0, 0.0, -1.0], "b": [0.0, 0.0, 0.0]})
    assert result[0] == math.inf and math.isnan(result[1]) and result[2] == -math.inf


def test_derive_reports_a_missing_column():
    with pytest.raises(ValueError, match="reads column 'fare', which is not among"):
        S.parse_expression("tips > fare").evaluate({"tips": [1.0]})


def test_derive_runs_in_tensorflow_with_the_same_values():
    import tensorflow as tf

    expression = S.parse_expression("tips > 0.2 * fare")
    tips = tf.constant([2.0, 3.0, 0.0, 5.0])
    fare = tf.constant([10, 5, 10, 2], tf.int64)  # mixed dtypes are cast to float32
    assert expression.evaluate_tensor({"tips": tips, "fare": fare}).numpy().tolist() == [
        False,
        True,
        False,
        True,
    ]


@pytest.mark.parametrize(
    "text, message",
    [
        ("__import__('os')", 'unexpected character "\'" at column 12'),
        ("fare.__class__", "unexpected character '.' at column 5"),
        ("tips > 0.2 * fare; import os", "unexpected character ';' at column 18"),
        ("lambda: 1", "unexpected character ':' at column 7"),
        ("tips ** 2", "expected a column or a number at column 7"),
        ("tips[0]", "unexpected character '['"),
        ("open(x)", "expected an operator at column 5 of 'open(x)', found '('"),
        ("tips > fare > 1", "a second comparison at column 13"),
        ("(tips > fare)", "expected ')' at column 7"),
        ("tips >", "expected a column or a number at column 7 of 'tips >', found the end"),
        ("  ", "an expression is needed"),
        ("(" * 40 + "x" + ")" * 40, "nested more than 32 deep"),
    ],
    ids=[
        "import",
        "attribute",
        "statement",
        "lambda",
        "power",
        "indexing",
        "call",
        "chained-comparison",
        "comparison-in-parentheses",
        "truncated",
        "empty",
        "deep-nesting",
    ],
)
def test_derive_refuses_anything_outside_the_grammar(text, message):
    with pytest.raises(S.ExpressionError) as caught:
        S.parse_expression(text)
    assert message in str(caught.value)


# Round trips and the registry.


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


def test_taxi_spec_gives_the_taxi_registry_field_by_field():
    registry = S.load_spec(TAXI_SPEC).to_registry()
    assert registry.numeric == F.TAXI.numeric
    assert registry.categorical == F.TAXI.categorical
    assert registry.label == F.TAXI.label
    assert registry.label == F.BinaryLabel("big_tipper", "tips", "fare", 0.2)
    assert registry.ignored == F.TAXI.ignored == ("trip_start_timestamp",)
    assert registry.slice_columns == F.TAXI.slice_columns
    assert registry == F.TAXI
    assert registry.transformed_features() == F.TAXI.transformed_features()


@pytest.mark.parametrize(
    "derive, expected",
    [
        ("a > 0.5 * b", F.BinaryLabel("y", "a", "b", 0.5)),
        ("a > b * 3", F.BinaryLabel("y", "a", "b", 3.0)),
        ("a > b", F.BinaryLabel("y", "a", "b", 1.0)),
    ],
    ids=["ratio-first", "ratio-last", "no-ratio"],
)
def test_registry_labels_of_the_form_a_greater_than_ratio_times_b(derive, expected):
    spec = S.parse_spec(
        {
            **MINIMAL,
            "label": {"column": "y", "kind": "binary", "derive": derive},
            "features": {"a": "numeric", "b": "ignore"},
        }
    )
    registry = spec.to_registry()
    assert registry.label == expected
    assert registry.ignored == ()  # b is a label source, not an ignored column


@pytest.mark.parametrize(
    "body, message",
    [
        ({"kind": "text"}, "features.x: text features are not supported by the feature registry"),
        (
            {"kind": "image", "encoding": "png", "height": 2, "width": 2},
            "features.x: image features are not supported",
        ),
        (
            {"kind": "numeric", "transform": "minmax"},
            "features.x.transform: the feature registry supports numeric transform 'zscore' "
            "only, not 'minmax'",
        ),
        ({"kind": "numeric", "fill": 0}, "features.x.fill: the feature registry fills"),
        (
            {"kind": "categorical", "encoding": "one_hot"},
            "features.x.encoding: the feature registry does not support encoding 'one_hot'",
        ),
        (
            {"kind": "categorical", "embedding_size": 4},
            "features.x.embedding_size: the feature registry does not support embedding_size 4",
        ),
    ],
    ids=["text", "image", "minmax", "fill", "one-hot", "embedding-size"],
)
def test_registry_refuses_what_it_cannot_express_naming_the_feature(body, message):
    data = _with_feature(body)
    data["label"] = {"column": "y", "kind": "binary", "derive": "a > b"}
    data["features"] = {**data["features"], "a": "numeric", "b": "ignore"}
    spec = S.parse_spec(data, "d.yaml")
    with pytest.raises(S.UnsupportedSpecError) as caught:
        spec.to_registry()
    assert str(caught.value).startswith(f"d.yaml: {message}")


@pytest.mark.parametrize(
    "label, message",
    [
        ({"column": "y", "kind": "regression"}, "not a regression label read from a column"),
        ({"column": "y", "kind": "binary", "derive": "a < b"}, "not 'a < b'"),
        ({"column": "y", "kind": "binary", "derive": "a > b + 1"}, "not 'a > b + 1'"),
    ],
    ids=["regression", "less-than", "offset"],
)
def test_registry_refuses_other_labels(label, message):
    spec = S.parse_spec({**MINIMAL, "label": label, "features": {"a": "numeric", "b": "ignore"}})
    with pytest.raises(S.UnsupportedSpecError, match=re.escape(message)):
        spec.to_registry()
