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

from components import features as F
from components import preprocessing
from components.spec import load_spec, to_custom_config

TAXI_SPEC = load_spec(Path(__file__).parents[3] / "data" / "taxi" / "spec.yaml")
TAXI = TAXI_SPEC.to_registry()

TAXI_SCHEMA = Path(__file__).parents[3] / "data" / "taxi" / "schema.pbtxt"

SMALL = F.FeatureRegistry(
    numeric=(F.NumericFeature("x", buckets=2), F.NumericFeature("y", log1p=True)),
    categorical=(
        F.CategoricalFeature("c", F.Encoding.VOCABULARY, top_k=10, oov_buckets=1),
        F.CategoricalFeature("h", F.Encoding.HASH, hash_buckets=7),
        F.CategoricalFeature("d", F.Encoding.IDENTITY, num_values=3, offset=1),
    ),
    label=F.BinaryLabel("big", numerator="tips", denominator="y", ratio=0.2),
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


def _transform(registry, spec: dict, rows: list[dict]) -> list[dict]:
    """Analyzes and transforms `rows` (raw columns as in `spec`) with the registry's transforms."""
    metadata = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec(spec))
    with tempfile.TemporaryDirectory() as tmp, tft_beam.Context(temp_dir=tmp):
        (transformed, _), _ = (rows, metadata) | tft_beam.AnalyzeAndTransformDataset(
            lambda inputs: preprocessing.transform_features(inputs, registry),
            output_record_batches=False,
        )
    return transformed


def _one_column(features: dict, name: str, dtype, values: list) -> list[dict]:
    """Transforms one raw column (`values`, [] for missing) declared by `features`
    (FeatureRegistry fields), beside a regression label."""
    registry = F.FeatureRegistry(
        **{"numeric": (), "categorical": (), **features},
        label=F.ColumnLabel("y", F.Task.REGRESSION),
    )
    spec = {name: tf.io.VarLenFeature(dtype), "y": tf.io.VarLenFeature(tf.float32)}
    return _transform(registry, spec, [{name: value, "y": [0.0]} for value in values])


def _analyze_and_transform(rows, registry):
    transformed = _transform(registry, RAW_SPEC, rows)
    return {k: np.array([row[k] for row in transformed]) for k in transformed[0]}


@pytest.fixture(scope="module")
def out():
    return _analyze_and_transform(ROWS, SMALL)


def test_outputs_are_exactly_the_registry_features_and_label(out):
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
    fn = lambda inputs: preprocessing.transform_features(inputs, SMALL)  # noqa: E731
    with tempfile.TemporaryDirectory() as tmp, tft_beam.Context(temp_dir=tmp):
        transform_fn = (ROWS, metadata) | tft_beam.AnalyzeDataset(fn)
        transformed, _ = ((([unseen], metadata), transform_fn)) | tft_beam.TransformDataset(
            output_record_batches=False
        )
    # Vocabulary has 3 entries (ids 0..2); the single OOV bucket is id 3.
    assert transformed[0]["c_xf"] == 3


def test_hashing_is_the_fingerprint_of_the_string_form(out):
    strings = tf.constant(["17", "18", preprocessing.MISSING_TOKEN, "17", "19", "17"])
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


def test_taxi_schema_registry_and_preprocessing_fn_agree(taxi_rows):
    """Real taxi rows, parsed with the curated schema, give every registry feature."""
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
                preprocessing.preprocessing_fn, custom_config=to_custom_config(TAXI_SPEC)
            ),
            output_record_batches=False,
        )
    names = {f.name for f in TAXI.transformed_features()} | {TAXI.label_key}
    assert set(transformed[0]) == names
    assert all(name.endswith(F.TRANSFORMED_SUFFIX) for name in names)
    assert len(transformed) == 40


def _labels(label: F.Label, values: list, dtype) -> np.ndarray:
    """Transforms one label column of `values` ([] for missing) with `label`."""
    registry = F.FeatureRegistry(numeric=(F.NumericFeature("x"),), categorical=(), label=label)
    spec = {"x": tf.io.VarLenFeature(tf.float32), label.name: tf.io.VarLenFeature(dtype)}
    rows = [{"x": [1.0], label.name: value} for value in values]
    return np.array([row[registry.label_key] for row in _transform(registry, spec, rows)])


def test_a_class_label_becomes_the_index_of_its_class_and_an_unknown_value_minus_one():
    label = F.ColumnLabel("species", F.Task.MULTICLASS, ("Adelie", "Chinstrap", "Gentoo"))
    values = [[b"Gentoo"], [b"Adelie"], [b"Chinstrap"], [b"Gentoo"], [b"Emperor"]]
    labels = _labels(label, values, tf.string)
    np.testing.assert_array_equal(labels, [2, 0, 1, 2, -1])
    assert labels.dtype == np.int64


def test_class_names_read_as_numbers_match_by_their_text():
    # A schema may declare classes "3", "5", "7" as INT; they still map to their index.
    label = F.ColumnLabel("grade", F.Task.MULTICLASS, ("3", "5", "7"))
    np.testing.assert_array_equal(_labels(label, [[7], [3], [5]], tf.int64), [2, 0, 1])


def test_a_binary_label_without_classes_is_its_0_or_1_value():
    label = F.ColumnLabel("clicked", F.Task.BINARY)
    np.testing.assert_array_equal(_labels(label, [[1], [0], [1]], tf.int64), [1, 0, 1])


def test_a_binary_label_with_classes_is_1_for_the_second_class():
    label = F.ColumnLabel("answer", F.Task.BINARY, ("no", "yes"))
    np.testing.assert_array_equal(_labels(label, [[b"yes"], [b"no"]], tf.string), [1, 0])


def test_a_regression_label_is_its_float_value():
    label = F.ColumnLabel("price", F.Task.REGRESSION)
    labels = _labels(label, [[2.5], [-1.0], [1e6]], tf.float32)
    np.testing.assert_array_equal(labels, [2.5, -1.0, 1e6])


def test_tft_is_importable_under_the_chosen_keras():
    # TF Transform's Keras layer and our model must be the same Keras (tf_keras).
    assert tf.keras.__name__.startswith("tf_keras")
    assert hasattr(tft, "TFTransformOutput")


TEXTS = [[b"The cat, the DOG!"], [b"the cat"], []]  # the x3, cat x2, dog x1; a missing text


def _text(feature: F.TextFeature) -> np.ndarray:
    rows = _one_column({"text": (feature,)}, "review", tf.string, TEXTS)
    return np.array([row["review_xf"] for row in rows])


def test_text_becomes_padded_token_ids_by_frequency_with_an_oov_id():
    # Lowercased, punctuation stripped; ids: 0 pad, the=1, cat=2; dog is outside a
    # vocabulary of 2, so it gets the OOV id 3. Five tokens kept per text.
    ids = _text(F.TextFeature("review", vocabulary_size=2, max_tokens=5))
    np.testing.assert_array_equal(ids, [[1, 2, 1, 3, 0], [1, 2, 0, 0, 0], [0, 0, 0, 0, 0]])
    # Tokens past max_tokens are cut.
    cut = _text(F.TextFeature("review", vocabulary_size=3, max_tokens=3))
    np.testing.assert_array_equal(cut, [[1, 2, 1], [1, 2, 0], [0, 0, 0]])


def test_text_tfidf_weights_follow_the_smoothed_formula():
    weights = _text(F.TextFeature("review", F.TextOutput.TFIDF, vocabulary_size=2))
    # tf = count / tokens in the text; idf = 1 + ln((1 + texts) / (1 + texts with the token)):
    # 3 texts; "the" and "cat" are in 2, the OOV bucket (dog) in 1.
    common, rare = 1 + math.log(4 / 3), 1 + math.log(4 / 2)
    expected = [
        [2 / 4 * common, 1 / 4 * common, 1 / 4 * rare],
        [1 / 2 * common, 1 / 2 * common, 0.0],
        [0.0, 0.0, 0.0],
    ]
    np.testing.assert_allclose(weights, expected, rtol=1e-6)


def _image(feature: F.ImageFeature, encoded: list) -> np.ndarray:
    rows = _one_column({"images": (feature,)}, "img", tf.string, encoded)
    return np.array([row["img_xf"] for row in rows])


PIXELS = np.array([[0, 51], [102, 255]], np.uint8).reshape(2, 2, 1)


def test_a_serialized_tensor_image_is_flattened_and_rescaled():
    tensor = tf.io.serialize_tensor(tf.constant(PIXELS)).numpy()
    out = _image(F.ImageFeature("img", "tensor", 2, 2, 1), [[tensor], []])
    np.testing.assert_allclose(out, [[0.0, 0.2, 0.4, 1.0], [0.0, 0.0, 0.0, 0.0]], rtol=1e-6)


def test_a_png_image_is_decoded_resized_and_standardized():
    png = tf.io.encode_png(tf.constant(PIXELS)).numpy()
    same = _image(F.ImageFeature("img", "png", 2, 2, 1, "standardize"), [[png]])
    values = PIXELS.ravel().astype(np.float64)
    np.testing.assert_allclose(same[0], (values - values.mean()) / values.std(), rtol=1e-5)
    # Resized to 4 x 4 (bilinear, half-pixel centers): the corners keep their values.
    big = _image(F.ImageFeature("img", "png", 4, 4, 1), [[png]]).reshape(4, 4)
    np.testing.assert_allclose([big[0, 0], big[0, 3], big[3, 0], big[3, 3]], [0, 0.2, 0.4, 1.0])


def _numeric(feature: F.NumericFeature, values: list) -> dict:
    rows = _one_column({"numeric": (feature,)}, "x", tf.float32, values)
    return {k: np.array([row[k] for row in rows]) for k in rows[0] if k != "y_xf"}


def test_minmax_scales_to_0_1_and_a_missing_value_takes_the_mean():
    out = _numeric(F.NumericFeature("x", scale=F.Scale.MINMAX), [[2.0], [4.0], [], [10.0]])
    # (x - 2) / 8 over present values: 0, 0.25, 1; the missing value takes their mean.
    np.testing.assert_allclose(out["x_xf"], [0.0, 0.25, 1.25 / 3, 1.0], rtol=1e-6)
    np.testing.assert_array_equal(out["x_missing_xf"], [0, 0, 1, 0])


def test_a_fill_value_replaces_missing_cells_before_scaling_and_drops_the_flag():
    out = _numeric(F.NumericFeature("x", scale=F.Scale.MINMAX, fill=0.0), [[2.0], [], [10.0]])
    np.testing.assert_allclose(out["x_xf"], [0.2, 0.0, 1.0], rtol=1e-6)
    assert set(out) == {"x_xf"}


def test_bucketize_gives_quantile_bucket_ids_and_missing_its_own():
    values = [[float(v)] for v in range(1, 9)] + [[]]
    out = _numeric(F.NumericFeature("x", buckets=4, scale=F.Scale.BUCKETIZE), values)
    np.testing.assert_array_equal(out["x_xf"], [0, 0, 1, 1, 2, 2, 3, 3, 4])


def test_a_frequency_threshold_sends_rare_values_to_the_oov_bucket():
    feature = F.CategoricalFeature("c", F.Encoding.VOCABULARY, oov_buckets=1, frequency_threshold=2)
    values = [[v] for v in (b"a", b"a", b"a", b"b", b"b", b"rare")]
    rows = _one_column({"categorical": (feature,)}, "c", tf.string, values)
    # a (3 times) = 0, b (2) = 1; "rare" (once) is below the threshold: the OOV id 2.
    assert [row["c_xf"] for row in rows] == [0, 0, 0, 1, 1, 2]
