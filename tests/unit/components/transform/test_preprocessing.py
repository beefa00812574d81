"""preprocessing_fn on a handful of in-memory rows, with exact expected outputs."""

import functools
import math
import tempfile
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform as tft
import tensorflow_transform.beam as tft_beam
from tensorflow_transform.tf_metadata import dataset_metadata, schema_utils

from components import dataset as S
from components import transform
from components.dataset import load_spec, to_custom_config
from components.transform.tensors import MISSING_TOKEN

TAXI_SPEC = load_spec(Path(__file__).parents[4] / "data" / "taxi" / "spec.yaml")
TAXI = TAXI_SPEC

TAXI_SCHEMA = Path(__file__).parents[4] / "data" / "taxi" / "schema.pbtxt"


def _spec(features: tuple, label: S.LabelSpec) -> S.DatasetSpec:
    """A data set spec of `features` and `label` (its source is never read here)."""
    return S.DatasetSpec(S.SourceSpec(S.SourceFormat.CSV, "rows.csv"), label, features)


SMALL = _spec(
    (
        S.NumericFeature("x", buckets=2),
        S.NumericFeature("y", log1p=True),
        S.CategoricalFeature("c", S.CategoricalTransform.VOCABULARY, top_k=10, oov_buckets=1),
        S.CategoricalFeature("h", S.CategoricalTransform.HASH, bins=7),
        S.CategoricalFeature("d", S.CategoricalTransform.IDENTITY, num_values=3, offset=1),
        S.IgnoredColumn("tips"),
    ),
    S.LabelSpec("big", S.Task.BINARY, derive=S.parse_expression("tips > 0.2 * y")),
)

# Every raw column may be missing: VarLen features, as the curated schema declares them.
RAW_SPEC = {
    "x": tf.io.VarLenFeature(tf.float32),
    "y": tf.io.VarLenFeature(tf.float32),
    "tips": tf.io.VarLenFeature(tf.float32),
    "c": tf.io.VarLenFeature(tf.string),
    "h": tf.io.VarLenFeature(tf.int64),
    "d": tf.io.VarLenFeature(tf.int64),
}

# Six rows; [] is a missing value.
ROWS = [
    {"x": [1.0], "y": [0.0], "tips": [0.0], "c": [b"a"], "h": [17], "d": [1]},
    {"x": [2.0], "y": [math.e - 1], "tips": [1.0], "c": [b"a"], "h": [18], "d": [3]},
    {"x": [9.0], "y": [math.e**2 - 1], "tips": [0.5], "c": [b"a"], "h": [], "d": [4]},
    {"x": [10.0], "y": [], "tips": [0.3], "c": [b"b"], "h": [17], "d": []},
    {"x": [], "y": [0.0], "tips": [], "c": [b"b"], "h": [19], "d": [2]},
    {"x": [], "y": [0.0], "tips": [0.0], "c": [], "h": [17], "d": [2]},
]


def _transform(dataset_spec, spec: dict, rows: list[dict]) -> list[dict]:
    """Analyzes and transforms `rows` (raw columns as in `spec`) as `dataset_spec` asks."""
    metadata = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec(spec))
    with tempfile.TemporaryDirectory() as tmp, tft_beam.Context(temp_dir=tmp):
        (transformed, _), _ = (rows, metadata) | tft_beam.AnalyzeAndTransformDataset(
            lambda inputs: transform.transform_features(inputs, dataset_spec),
            output_record_batches=False,
        )
    return transformed


def _one_column(feature: S.Feature, dtype, values: list) -> list[dict]:
    """Transforms one raw column (`values`, [] for missing) declared by `feature`, beside a
    regression label."""
    dataset_spec = _spec((feature,), S.LabelSpec("y", S.Task.REGRESSION))
    spec = {feature.name: tf.io.VarLenFeature(dtype), "y": tf.io.VarLenFeature(tf.float32)}
    return _transform(dataset_spec, spec, [{feature.name: value, "y": [0.0]} for value in values])


def _analyze_and_transform(rows, dataset_spec):
    transformed = _transform(dataset_spec, RAW_SPEC, rows)
    return {k: np.array([row[k] for row in transformed]) for k in transformed[0]}


@pytest.fixture(scope="module")
def out():
    return _analyze_and_transform(ROWS, SMALL)


def test_outputs_are_exactly_the_spec_features_and_label(out):
    expected = {f.name for f in SMALL.transformed_features()} | {SMALL.label_key}
    assert set(out) == expected


def test_numeric_z_score_uses_present_values_and_zero_fills_missing(out):
    # Present x: 1, 2, 9, 10 -> mean 5.5, population std sqrt(16.25).
    std = math.sqrt(((4.5**2) * 2 + (3.5**2) * 2) / 4)
    expected = [(1 - 5.5) / std, (2 - 5.5) / std, (9 - 5.5) / std, (10 - 5.5) / std, 0.0, 0.0]
    np.testing.assert_allclose(out["x_xf"], expected, rtol=1e-5)
    np.testing.assert_array_equal(out["x_missing_xf"], [0, 0, 0, 0, 1, 1])


def test_log1p_before_z_score(out):
    # log1p(y) of present values: 0, 1, 2, 0, 0 -> mean 0.6, population std sqrt(0.64) = 0.8.
    expected = [-0.75, 0.5, 1.75, 0.0, -0.75, -0.75]
    np.testing.assert_allclose(out["y_xf"], expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(out["y_missing_xf"], [0, 0, 0, 1, 0, 0])


def test_quantile_buckets_with_a_bucket_for_missing(out):
    # Two quantile buckets split {1, 2} from {9, 10}; missing values get bucket 2.
    np.testing.assert_array_equal(out["x_bucket_xf"], [0, 0, 1, 1, 2, 2])


def test_vocabulary_ids_by_frequency_and_missing_token(out):
    # "a" x3 -> 0, "b" x2 -> 1, the missing token x1 -> 2.
    np.testing.assert_array_equal(out["c_xf"], [0, 0, 0, 1, 1, 2])


def test_unseen_vocabulary_value_goes_to_an_oov_bucket():
    # Transform the training rows plus one unseen category with the same analysis.
    metadata = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec(RAW_SPEC))
    unseen = dict(ROWS[0], c=[b"zzz"])
    fn = lambda inputs: transform.transform_features(inputs, SMALL)  # noqa: E731
    with tempfile.TemporaryDirectory() as tmp, tft_beam.Context(temp_dir=tmp):
        transform_fn = (ROWS, metadata) | tft_beam.AnalyzeDataset(fn)
        transformed, _ = ((([unseen], metadata), transform_fn)) | tft_beam.TransformDataset(
            output_record_batches=False
        )
    # Vocabulary has 3 entries (ids 0..2); the single OOV bucket is id 3.
    assert transformed[0]["c_xf"] == 3


def test_hashing_is_the_fingerprint_of_the_string_form(out):
    strings = tf.constant(["17", "18", MISSING_TOKEN, "17", "19", "17"])
    expected = tf.strings.to_hash_bucket_fast(strings, 7).numpy()
    np.testing.assert_array_equal(out["h_xf"], expected)
    assert out["h_xf"][0] == out["h_xf"][3] == out["h_xf"][5]


def test_identity_ids_shift_by_offset_and_send_missing_and_out_of_range_to_last_id(out):
    # d in 1..3 -> 0..2; 4 is out of range and missing is missing: both id 3.
    np.testing.assert_array_equal(out["d_xf"], [0, 2, 3, 3, 1, 1])


def test_label_is_tips_over_ratio_of_fare_with_missing_as_zero(out):
    # tips > 0.2 * y: 0>0 no; 1>0.34 yes; 0.5>1.28 no; 0.3>0 (y missing) yes;
    # missing tips no; 0>0 no.
    np.testing.assert_array_equal(out["big_xf"], [0, 1, 0, 1, 0, 0])


def test_taxi_schema_spec_and_preprocessing_fn_agree(taxi_rows):
    """Real taxi rows, parsed with the curated schema, give every feature the spec lists."""
    import csv

    from tensorflow_metadata.proto.v0 import schema_pb2
    from tensorflow_transform.tf_metadata import schema_utils as tft_schema_utils
    from tfx.utils import io_utils

    schema = io_utils.parse_pbtxt_file(str(TAXI_SCHEMA), schema_pb2.Schema())
    spec = tft_schema_utils.schema_as_feature_spec(schema).feature_spec
    assert set(TAXI.raw_columns) <= set(spec)
    casts = {tf.float32: float, tf.int64: lambda v: int(float(v)), tf.string: str.encode}
    rows = [
        {name: [casts[spec[name].dtype](record[name])] if record[name] else [] for name in spec}
        for record in csv.DictReader(taxi_rows)
    ]
    metadata = dataset_metadata.DatasetMetadata(schema)
    with tempfile.TemporaryDirectory() as tmp, tft_beam.Context(temp_dir=tmp):
        (transformed, _), _ = (rows, metadata) | tft_beam.AnalyzeAndTransformDataset(
            functools.partial(
                transform.preprocessing_fn, custom_config=to_custom_config(TAXI_SPEC)
            ),
            output_record_batches=False,
        )
    names = {f.name for f in TAXI.transformed_features()} | {TAXI.label_key}
    assert set(transformed[0]) == names
    assert all(name.endswith("_xf") for name in names)
    assert len(transformed) == 40


def _labels(label: S.LabelSpec, values: list, dtype) -> np.ndarray:
    """Transforms one label column of `values` ([] for missing) with `label`."""
    dataset_spec = _spec((S.NumericFeature("x"),), label)
    spec = {"x": tf.io.VarLenFeature(tf.float32), label.column: tf.io.VarLenFeature(dtype)}
    rows = [{"x": [1.0], label.column: value} for value in values]
    return np.array([row[dataset_spec.label_key] for row in _transform(dataset_spec, spec, rows)])


def test_a_class_label_becomes_the_index_of_its_class_and_an_unknown_value_minus_one():
    label = S.LabelSpec("species", S.Task.MULTICLASS, classes=("Adelie", "Chinstrap", "Gentoo"))
    values = [[b"Gentoo"], [b"Adelie"], [b"Chinstrap"], [b"Gentoo"], [b"Emperor"]]
    labels = _labels(label, values, tf.string)
    np.testing.assert_array_equal(labels, [2, 0, 1, 2, -1])
    assert labels.dtype == np.int64


def test_class_names_read_as_numbers_match_by_their_text():
    # A schema may declare classes "3", "5", "7" as INT; they still map to their index.
    label = S.LabelSpec("grade", S.Task.MULTICLASS, classes=("3", "5", "7"))
    np.testing.assert_array_equal(_labels(label, [[7], [3], [5]], tf.int64), [2, 0, 1])


def test_a_binary_label_without_classes_is_its_0_or_1_value():
    label = S.LabelSpec("clicked", S.Task.BINARY)
    np.testing.assert_array_equal(_labels(label, [[1], [0], [1]], tf.int64), [1, 0, 1])


def test_a_binary_label_with_classes_is_1_for_the_second_class():
    label = S.LabelSpec("answer", S.Task.BINARY, classes=("no", "yes"))
    np.testing.assert_array_equal(_labels(label, [[b"yes"], [b"no"]], tf.string), [1, 0])


def test_a_regression_label_is_its_float_value():
    label = S.LabelSpec("price", S.Task.REGRESSION)
    labels = _labels(label, [[2.5], [-1.0], [1e6]], tf.float32)
    np.testing.assert_array_equal(labels, [2.5, -1.0, 1e6])


def test_tft_is_importable_under_the_chosen_keras():
    # TF Transform's Keras layer and our model must be the same Keras (tf_keras).
    assert tf.keras.__name__.startswith("tf_keras")
    assert hasattr(tft, "TFTransformOutput")


TEXTS = [[b"The cat, the DOG!"], [b"the cat"], []]  # the x3, cat x2, dog x1; a missing text


def _text(feature: S.TextFeature) -> np.ndarray:
    rows = _one_column(feature, tf.string, TEXTS)
    return np.array([row["review_xf"] for row in rows])


def test_text_becomes_padded_token_ids_by_frequency_with_an_oov_id():
    # Lowercased, punctuation stripped; ids: 0 pad, the=1, cat=2; dog is outside a
    # vocabulary of 2, so it gets the OOV id 3. Five tokens kept per text.
    ids = _text(S.TextFeature("review", vocabulary_size=2, max_tokens=5))
    np.testing.assert_array_equal(ids, [[1, 2, 1, 3, 0], [1, 2, 0, 0, 0], [0, 0, 0, 0, 0]])
    # Tokens past max_tokens are cut.
    cut = _text(S.TextFeature("review", vocabulary_size=3, max_tokens=3))
    np.testing.assert_array_equal(cut, [[1, 2, 1], [1, 2, 0], [0, 0, 0]])


def test_text_tfidf_weights_follow_the_smoothed_formula():
    weights = _text(S.TextFeature("review", S.TextTransform.TFIDF, vocabulary_size=2))
    # tf = count / tokens in the text; idf = 1 + ln((1 + texts) / (1 + texts with the token)):
    # 3 texts; "the" and "cat" are in 2, the OOV bucket (dog) in 1.
    common, rare = 1 + math.log(4 / 3), 1 + math.log(4 / 2)
    expected = [
        [2 / 4 * common, 1 / 4 * common, 1 / 4 * rare],
        [1 / 2 * common, 1 / 2 * common, 0.0],
        [0.0, 0.0, 0.0],
    ]
    np.testing.assert_allclose(weights, expected, rtol=1e-6)


def _image(feature: S.ImageFeature, encoded: list) -> np.ndarray:
    rows = _one_column(feature, tf.string, encoded)
    return np.array([row["img_xf"] for row in rows])


PIXELS = np.array([[0, 51], [102, 255]], np.uint8).reshape(2, 2, 1)


def test_a_serialized_tensor_image_is_flattened_and_rescaled():
    tensor = tf.io.serialize_tensor(tf.constant(PIXELS)).numpy()
    out = _image(S.ImageFeature("img", S.ImageEncoding.TENSOR, 2, 2, 1), [[tensor], []])
    np.testing.assert_allclose(out, [[0.0, 0.2, 0.4, 1.0], [0.0, 0.0, 0.0, 0.0]], rtol=1e-6)


def test_a_png_image_is_decoded_resized_and_standardized():
    png = tf.io.encode_png(tf.constant(PIXELS)).numpy()
    same = _image(
        S.ImageFeature("img", S.ImageEncoding.PNG, 2, 2, 1, S.ImageTransform.STANDARDIZE), [[png]]
    )
    values = PIXELS.ravel().astype(np.float64)
    np.testing.assert_allclose(same[0], (values - values.mean()) / values.std(), rtol=1e-5)
    # Resized to 4 x 4 (bilinear, half-pixel centers): the corners keep their values.
    big = _image(S.ImageFeature("img", S.ImageEncoding.PNG, 4, 4, 1), [[png]]).reshape(4, 4)
    np.testing.assert_allclose([big[0, 0], big[0, 3], big[3, 0], big[3, 3]], [0, 0.2, 0.4, 1.0])


def _numeric(feature: S.NumericFeature, values: list) -> dict:
    rows = _one_column(feature, tf.float32, values)
    return {k: np.array([row[k] for row in rows]) for k in rows[0] if k != "y_xf"}


def test_minmax_scales_to_0_1_and_a_missing_value_takes_the_mean():
    out = _numeric(S.NumericFeature("x", S.NumericTransform.MINMAX), [[2.0], [4.0], [], [10.0]])
    # (x - 2) / 8 over present values: 0, 0.25, 1; the missing value takes their mean.
    np.testing.assert_allclose(out["x_xf"], [0.0, 0.25, 1.25 / 3, 1.0], rtol=1e-6)
    np.testing.assert_array_equal(out["x_missing_xf"], [0, 0, 1, 0])


def test_a_fill_value_replaces_missing_cells_before_scaling_and_drops_the_flag():
    out = _numeric(S.NumericFeature("x", S.NumericTransform.MINMAX, fill=0.0), [[2.0], [], [10.0]])
    np.testing.assert_allclose(out["x_xf"], [0.2, 0.0, 1.0], rtol=1e-6)
    assert set(out) == {"x_xf"}


def test_bucketize_gives_quantile_bucket_ids_and_missing_its_own():
    values = [[float(v)] for v in range(1, 9)] + [[]]
    out = _numeric(S.NumericFeature("x", S.NumericTransform.BUCKETIZE, buckets=4), values)
    np.testing.assert_array_equal(out["x_xf"], [0, 0, 1, 1, 2, 2, 3, 3, 4])


def test_a_frequency_threshold_sends_rare_values_to_the_oov_bucket():
    feature = S.CategoricalFeature(
        "c", S.CategoricalTransform.VOCABULARY, oov_buckets=1, frequency_threshold=2
    )
    values = [[v] for v in (b"a", b"a", b"a", b"b", b"b", b"rare")]
    rows = _one_column(feature, tf.string, values)
    # a (3 times) = 0, b (2) = 1; "rare" (once) is below the threshold: the OOV id 2.
    assert [row["c_xf"] for row in rows] == [0, 0, 0, 1, 1, 2]


@pytest.mark.parametrize(
    "derive, expected",
    [
        ("a > 0.5 * b", [1, 0, 0, 1]),
        ("a > b + 1", [1, 0, 0, 1]),
        ("b * 2 <= a", [1, 0, 1, 1]),
    ],
    ids=["ratio", "offset", "less-or-equal"],
)
def test_a_derived_label_is_its_comparison_with_a_missing_value_as_0(derive, expected):
    label = S.LabelSpec("y", S.Task.BINARY, derive=S.parse_expression(derive))
    dataset_spec = _spec((S.NumericFeature("a"), S.IgnoredColumn("b")), label)
    spec = {"a": tf.io.VarLenFeature(tf.float32), "b": tf.io.VarLenFeature(tf.float32)}
    # a, b: (3, 1); (1, 4); missing a (0), b 0; (2, missing: 0).
    rows = [{"a": [3.0], "b": [1.0]}, {"a": [1.0], "b": [4.0]}, {"a": [], "b": [0.0]}]
    rows.append({"a": [2.0], "b": []})
    labels = np.array([row["y_xf"] for row in _transform(dataset_spec, spec, rows)])
    np.testing.assert_array_equal(labels, expected)
    assert labels.dtype == np.int64
