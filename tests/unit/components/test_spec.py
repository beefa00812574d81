"""The data set spec: parsing every kind, and errors located by file, line and YAML path.

The derive grammar: test_spec_expression.py; round trips and the registry: test_spec_registry.py.
"""

from pathlib import Path

import pytest
import yaml

from components import spec as S

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
