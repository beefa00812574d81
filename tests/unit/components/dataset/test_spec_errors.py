"""The data set spec's errors: each located by file, line and YAML path, or by the source and
path of a spec given as data; specs built in code are checked too.

Parsing every kind: test_spec.py. The smallest valid spec (`minimal_spec`) is a fixture of
conftest.py.
"""

import pytest

from components import dataset as S

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
            "log1p, buckets, fill, embedding, min, max",
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
        (
            "transform: vocabulary}",
            "transform: vocabulary, min: 0}",
            8,
            "features.company.min: value bounds apply to numeric and ignored columns, not "
            "categorical ones; remove 'min', or declare the column kind numeric or ignore",
        ),
        (
            "transform: zscore}",
            "transform: zscore, min: zero}",
            7,
            "features.fare.min: must be a number, got 'zero'",
        ),
        (
            "transform: zscore}",
            "transform: zscore, max: .inf}",
            7,
            "features.fare.max: must be finite, got inf",
        ),
        (
            "transform: zscore}",
            "transform: zscore, min: 10, max: 2.5}",
            7,
            "features.fare.min: 10 is above max 2.5; make min at most max",
        ),
        (
            "  tips: ignore\n",
            "  tips:\n    kind: ignore\n    max: -1\n    min: 0\n",
            12,
            "features.tips.min: 0 is above max -1; make min at most max",
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
        "bounds-on-a-categorical-column",
        "bound-not-a-number",
        "bound-infinite",
        "min-above-max",
        "min-above-max-on-its-own-line",
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
    "changes, message",
    [
        ({"label": None}, "d.yaml: label: missing; a spec "),
        ({"labels": {}}, "d.yaml: labels: unknown key; allowed: name, source, "),
        ({"features": {}}, "d.yaml: features: must map each column name"),
        (
            {"label": {"column": "y"}},
            "d.yaml: label.kind: missing; it is required",
        ),
        (
            {"label": {"column": "y", "kind": "binary", "derive": "y > 1"}},
            "d.yaml: label.derive: 'y' is not declared under features",
        ),
        (
            {"label": {"column": "y", "kind": "regression", "derive": "x > 1"}},
            "d.yaml: label.derive: only binary labels can be derived, not regression",
        ),
        (
            {"source": {"format": "xlsx", "path": "a"}},
            "d.yaml: source.format: 'xlsx' is not a format; allowed: csv, parquet, jsonl, tfrecord",
        ),
        (
            {"source": {"format": "csv", "path": "a", "spans": "span-N"}},
            "d.yaml: source.spans: must be one folder name with one {SPAN}",
        ),
        (
            {"source": {"format": "csv", "path": "a", "delimiter": ";;"}},
            "d.yaml: source.delimiter: must be one character other than a quote or a line "
            "break (e.g. ';', '|' or \"\\t\" for a tab), got ';;'",
        ),
        (
            {"source": {"format": "csv", "path": "a", "delimiter": 1}},
            "d.yaml: source.delimiter: must be one character in quotes, e.g. ';', got 1",
        ),
        (
            {"source": {"format": "jsonl", "path": "a", "delimiter": ";"}},
            "d.yaml: source.delimiter: applies to csv files only; remove it (source.format is "
            "jsonl)",
        ),
        (
            {"features": {"x": {"kind": "image", "encoding": "png", "width": 3}}},
            "d.yaml: features.x.height: missing; required for kind image",
        ),
        (
            {
                "features": {
                    "x": {"kind": "categorical", "encoding": "one_hot", "embedding_size": 4}
                }
            },
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
        "delimiter-of-two-characters",
        "delimiter-not-text",
        "delimiter-of-json-lines",
        "image-without-height",
        "embedding-size-with-one-hot",
    ],
)
def test_errors_of_specs_given_as_data_name_the_source_and_path(minimal_spec, changes, message):
    with pytest.raises(S.SpecError) as caught:
        S.parse_spec(minimal_spec(**changes), "d.yaml")
    assert str(caught.value).startswith(message)


def test_specs_built_in_code_are_checked_too(minimal_spec):
    source = S.SourceSpec(S.SourceFormat.CSV, "data.csv")
    label = S.LabelSpec("y", S.Task.REGRESSION)
    with pytest.raises(S.SpecError, match=r"^features\.x: declared twice; keep one$"):
        S.DatasetSpec(source, label, (S.NumericFeature("x"), S.IgnoredColumn("x")))
    with pytest.raises(S.SpecError, match=r"^top_k: does not apply to transform 'hash'"):
        S.CategoricalFeature("c", S.CategoricalTransform.HASH, bins=8, top_k=5)
    with pytest.raises(S.SpecError, match=r"^channels: must be 1, 3 or 4, got 2$"):
        S.ImageFeature("i", S.ImageEncoding.PNG, 8, 8, channels=2)
    with pytest.raises(S.SpecError, match=r"^max: must be a finite number, got nan; leave it"):
        S.NumericFeature("x", max=float("nan"))
    with pytest.raises(S.SpecError, match=r"^min: must be a number, got '0'$"):
        S.NumericFeature("x", S.NumericTransform.BUCKETIZE, buckets=2, min="0")
    with pytest.raises(S.SpecError, match=r"^min: 0\.5 is above max 0\.25; make min at most max$"):
        S.IgnoredColumn("t", min=0.5, max=0.25)
    with pytest.raises(S.SpecError) as caught:
        S.parse_spec(
            minimal_spec(features={"x": {"kind": "ignore", "transform": "zscore"}}), "d.yaml"
        )
    assert str(caught.value) == (
        "d.yaml: features.x.transform: unknown option 'transform'; options of an ignore "
        "feature: min, max"
    )


def test_invalid_yaml_and_empty_files_are_reported_with_the_file(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("source: {format: csv\nlabel: [\n")
    with pytest.raises(S.SpecError, match=r"broken\.yaml:\d+: not valid YAML"):
        S.load_spec(path)
    path.write_text("# nothing yet\n")
    with pytest.raises(S.SpecError, match=r"broken\.yaml: the file is empty"):
        S.load_spec(path)


YAML_MISTAKES = [
    (
        "  column: big_tipper\n",
        "  column big_tipper\n",
        3,
        "not valid YAML in `column big_tipper`: a key and its value need a colon and a space "
        "between them, `key: value`",
    ),
    (
        "  kind: binary\n",
        "    kind: binary\n",
        4,
        "not valid YAML in `kind: binary`: this key is indented deeper than the key above it; "
        "indent it like its sibling keys",
    ),
    (
        "label:\n",
        " label:\n",
        2,
        "not valid YAML in `label:`: its indentation matches no key above it; indent it like its "
        "sibling keys (the same number of spaces)",
    ),
    (
        "  tips: ignore\n",
        "\ttips: ignore\n",
        9,
        "not valid YAML in `tips: ignore`: YAML indents with spaces, not tabs; replace the tab "
        "with spaces",
    ),
    (
        "path: data.csv}",
        "path: data.csv",
        1,
        "not valid YAML in `source: {format: csv, path: data.csv`: the `{` opened here is not "
        "closed on its line; close it with `}`",
    ),
    (
        "path: data.csv}",
        'path: "data.csv}',
        1,
        'not valid YAML in `source: {format: csv, path: "data.csv}`: a quote opened here is '
        "never closed; close it",
    ),
]


@pytest.mark.parametrize(
    "old, new, line, message",
    YAML_MISTAKES,
    ids=["key-without-colon", "indented-too-deep", "matches-no-key", "tab", "open-brace", "quote"],
)
def test_yaml_mistakes_name_the_line_at_fault_and_quote_it(tmp_path, old, new, line, message):
    assert old in VALID_YAML
    path = tmp_path / "spec.yaml"
    path.write_text(VALID_YAML.replace(old, new, 1))
    with pytest.raises(S.SpecError) as caught:
        S.load_spec(path)
    assert str(caught.value) == f"{path}:{line}: {message}"
