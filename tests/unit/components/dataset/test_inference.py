"""Spec inference: column profiles with exact numbers, kinds on the taxi data and on known data."""

import csv
from pathlib import Path

import numpy as np
import pytest

from components import dataset as S
from components.dataset import inference as I
from components.dataset import profiling as P
from components.ingestion.sample import read_sample

TAXI_CSV = Path(__file__).parents[4] / "data" / "taxi" / "data.csv"
WORDS = [f"word{i}" for i in range(40)]


@pytest.fixture(scope="module")
def synthetic_csv(tmp_path_factory) -> Path:
    """6,000 rows whose columns have known kinds (one per inference rule)."""
    rng = np.random.RandomState(7)
    rows = 6000
    user_ids = rng.permutation(np.arange(rows) % 5000)
    path = tmp_path_factory.mktemp("synthetic") / "shop.csv"
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            ["row_id", "amount", "wait_minutes", "color", "user_id", "comment", "hour",
             "clicked", "segment", "price"]
        )  # fmt: skip
        for i in range(rows):
            writer.writerow(
                [
                    i,
                    "" if i % 50 == 0 else round(rng.normal(100, 15), 2),
                    round(rng.lognormal(2, 1), 2),
                    rng.choice(["red", "green", "blue", "black", "white"]),
                    f"u{user_ids[i]:05d}",
                    " ".join(rng.choice(WORDS, size=rng.randint(4, 13))),
                    rng.randint(0, 24),
                    rng.randint(0, 2),
                    rng.choice(["gold", "silver", "bronze"]),
                    round(rng.normal(20, 3), 2),
                ]
            )
    return path


def test_numeric_profile_has_exact_statistics():
    profile = P.profile_column("n", ["1", "2", "", "3", "10"])
    assert profile == P.ColumnProfile(
        name="n",
        rows=5,
        present=4,
        distinct=4,
        numeric=True,
        integral=True,
        minimum=1.0,
        maximum=10.0,
        mean=4.0,
        std=pytest.approx(12.5**0.5),
        # Mean cubed z-score: (-27 - 8 - 1 + 216) / 4 / 12.5 ** 1.5.
        skew=pytest.approx(45 / 12.5**1.5),
        values=("1", "2", "3", "10"),
    )
    assert profile.distinct_ratio == 1.0
    assert P.profile_column("f", ["0.5", "1e1", "-2"]).values == ("-2.0", "0.5", "10.0")


def test_string_profile_counts_words():
    profile = P.profile_column("s", ["a b", "A", "", "b c d", "a b"])
    assert profile == P.ColumnProfile(
        name="s",
        rows=5,
        present=4,
        distinct=3,
        numeric=False,
        mean_tokens=2.0,
        p95_tokens=3,
        distinct_tokens=4,
        values=("A", "a b", "b c d"),
    )
    # "1.2.3" or "nan" are not numbers: the column stays a string column.
    assert not P.profile_column("v", ["1.2.3", "4"]).numeric
    assert not P.profile_column("v", ["nan", "4"]).numeric


def test_synthetic_columns_get_exactly_the_expected_kinds(synthetic_csv):
    spec = I.infer_spec(read_sample(str(synthetic_csv)), label="clicked")
    assert spec == S.DatasetSpec(
        source=S.SourceSpec(S.SourceFormat.CSV, "shop.csv"),
        label=S.LabelSpec("clicked", S.Task.BINARY, classes=("0", "1")),
        features=(
            S.IgnoredColumn("row_id"),
            S.NumericFeature("amount"),
            S.NumericFeature("wait_minutes", log1p=True),
            S.CategoricalFeature("color", top_k=10, encoding=S.CategoricalEncoding.ONE_HOT),
            S.CategoricalFeature("user_id", S.CategoricalTransform.HASH, bins=8192),
            S.TextFeature("comment", vocabulary_size=64, max_tokens=16),
            S.CategoricalFeature("hour", S.CategoricalTransform.IDENTITY, num_values=24),
            S.CategoricalFeature("segment", top_k=10, encoding=S.CategoricalEncoding.ONE_HOT),
            S.NumericFeature("price"),
        ),
        slices=("color", "segment"),
        split=S.SplitSpec(key="row_id"),
        name="shop",  # the file's name: the pipeline becomes deepline-shop
    )


@pytest.mark.parametrize(
    "label, expected",
    [
        ("clicked", S.LabelSpec("clicked", S.Task.BINARY, classes=("0", "1"))),
        (
            "segment",
            S.LabelSpec("segment", S.Task.MULTICLASS, classes=("bronze", "gold", "silver")),
        ),
        ("price", S.LabelSpec("price", S.Task.REGRESSION)),
        ("hour", S.LabelSpec("hour", S.Task.MULTICLASS, classes=tuple(map(str, range(24))))),
        ("row_id", S.LabelSpec("row_id", S.Task.REGRESSION)),
    ],
    ids=["binary", "multiclass-strings", "regression", "multiclass-integers", "many-integers"],
)
def test_label_kind_follows_its_values(synthetic_csv, label, expected):
    spec = I.infer_spec(read_sample(str(synthetic_csv)), label=label)
    assert spec.label == expected
    assert label not in spec.feature_names


def _column(values) -> P.ColumnProfile:
    return P.profile_column("x", [str(v) for v in values])


PLE = S.NumericTransform.PIECEWISE_LINEAR


@pytest.mark.parametrize(
    "values, expected, reason",
    [
        (
            list(range(18, 61)) * 3,  # 43 ages, 3 rows each
            S.NumericFeature("x", PLE, buckets=16),
            "43 distinct integers 18..60, ordered → piecewise-linear over 16 quantile buckets",
        ),
        (
            [10, 20, 30, 40] * 5,
            S.NumericFeature("x", PLE, buckets=3),  # one bucket per gap between values
            "4 distinct integers 10..40, ordered → piecewise-linear over 3 quantile buckets",
        ),
        (
            [5, 9] * 5,
            S.NumericFeature("x", PLE, buckets=2),  # the fewest piecewise_linear takes
            "2 distinct integers 5..9, ordered → piecewise-linear over 2 quantile buckets",
        ),
        (
            list(range(60601, 60621)) * 3,  # 20 postal codes: spread / mean 0.0001
            S.CategoricalFeature("x", top_k=40),
            "20 distinct codes around 6.06e+04 → vocabulary, top_k 40",
        ),
        (
            list(range(100, 201)) * 2,  # 101 distinct: past INTEGER_CATEGORY_MAX_VALUES
            S.NumericFeature("x"),
            "numbers, skew 0.0 → z-score",
        ),
        (
            list(range(0, 32)) * 2,
            S.CategoricalFeature("x", S.CategoricalTransform.IDENTITY, num_values=32),
            "integers 0..31 → identity ids (32 values)",
        ),
    ],
    ids=["age", "four-levels", "two-levels", "postal-codes", "many-integers", "identity"],
)
def test_ordered_integers_stay_numeric_with_buckets(values, expected, reason):
    assert I.infer_feature(_column(values)) == (expected, reason)


@pytest.mark.parametrize(
    "minimum, skew, log1p",
    [(0.0, 1.6, True), (0.0, 1.0, True), (0.0, 0.99, False), (-0.5, 1.6, False)],
    ids=["skew-1.6", "skew-1.0", "skew-0.99", "negative"],
)
def test_log1p_from_skew_one_for_non_negative_numbers(minimum, skew, log1p):
    profile = P.ColumnProfile(
        "x", rows=10, present=10, distinct=10, numeric=True, integral=False,
        minimum=minimum, maximum=40.0, mean=5.0, std=6.0, skew=skew,
    )  # fmt: skip
    assert I.infer_feature(profile)[0] == S.NumericFeature("x", log1p=log1p)


def test_a_skew_below_two_gets_log1p_with_its_reason():
    # Mean 1.75, skew 1.76: under the threshold of 2 that drafts used before.
    profile = _column([0.5, 0.5, 0.5, 0.5, 1.5, 1.5, 2.5, 6.5])
    assert I.infer_feature(profile) == (
        S.NumericFeature("x", log1p=True),
        "numbers ≥ 0 with skew 1.8 → log1p, then z-score",
    )


@pytest.mark.parametrize(
    "values, expected",
    [
        (list(range(8)) * 2, S.CategoricalEncoding.ONE_HOT),
        (list(range(9)) * 2, S.CategoricalEncoding.EMBEDDING),
        ([f"v{i}" for i in range(8)] * 2, S.CategoricalEncoding.ONE_HOT),
        ([f"v{i}" for i in range(9)] * 2, S.CategoricalEncoding.EMBEDDING),
    ],
    ids=["8-ids", "9-ids", "8-strings", "9-strings"],
)
def test_at_most_eight_categories_are_one_hot(values, expected):
    feature, reason = I.infer_feature(_column(values))
    assert feature.encoding is expected
    assert ("one-hot" in reason) is (expected is S.CategoricalEncoding.ONE_HOT)


def test_taxi_columns_get_sensible_kinds():
    spec = I.infer_spec(read_sample(str(TAXI_CSV)), label="tips")
    assert spec.label == S.LabelSpec("tips", S.Task.REGRESSION)
    expected = {
        "payment_type": S.CategoricalFeature(
            "payment_type", top_k=20, encoding=S.CategoricalEncoding.ONE_HOT
        ),  # 7 strings
        "company": S.CategoricalFeature("company", top_k=130),  # 61 strings
        "fare": S.NumericFeature("fare", log1p=True),  # skew 15.8
        "trip_miles": S.NumericFeature("trip_miles", log1p=True),  # skew 93.8
        "trip_seconds": S.NumericFeature("trip_seconds", log1p=True),  # 110 integers, skew 30.9
        "pickup_latitude": S.NumericFeature("pickup_latitude"),
        "dropoff_longitude": S.NumericFeature("dropoff_longitude"),  # skewed, but negative
        "trip_start_hour": S.CategoricalFeature(
            "trip_start_hour", S.CategoricalTransform.IDENTITY, num_values=24
        ),
        "trip_start_day": S.CategoricalFeature(
            "trip_start_day",
            S.CategoricalTransform.IDENTITY,
            num_values=7,
            offset=1,
            encoding=S.CategoricalEncoding.ONE_HOT,
        ),
        "trip_start_month": S.CategoricalFeature(
            "trip_start_month", S.CategoricalTransform.IDENTITY, num_values=12, offset=1
        ),
        # 62 integers 1..77: read as ordered, though these are area ids (the values cannot
        # tell); bucketed, neighbouring areas still share buckets.
        "pickup_community_area": S.NumericFeature(
            "pickup_community_area", S.NumericTransform.PIECEWISE_LINEAR, buckets=16
        ),
        # 229 codes
        "dropoff_census_tract": S.CategoricalFeature("dropoff_census_tract", top_k=460),
        # One value in 15,002 rows: nothing to learn from.
        "pickup_census_tract": S.IgnoredColumn("pickup_census_tract"),
        # 13,789 distinct seconds since 1970: a quantity, not a key.
        "trip_start_timestamp": S.NumericFeature("trip_start_timestamp"),
    }
    for name, feature in expected.items():
        assert spec.feature(name) == feature, name
    assert len(spec.features) == 17
    assert spec.slices == ("payment_type", "company")
    assert spec.split == S.SplitSpec()


def test_at_most_three_slices_those_with_the_fewest_values(tmp_path):
    # Five sliceable string columns of 6, 2, 4, 3 and 4 values: the three with the fewest
    # (2, 3 and the first of the two 4s) are drafted as slices, in column order.
    counts = {"s6": 6, "s2": 2, "s4a": 4, "s3": 3, "s4b": 4}
    path = tmp_path / "many.csv"
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([*counts, "y"])
        for i in range(240):
            writer.writerow([f"{name}_{i % k}" for name, k in counts.items()] + [i % 2])
    assert I.SLICE_MAX_COLUMNS == 3
    assert I.infer_spec(read_sample(str(path)), label="y").slices == ("s2", "s4a", "s3")
    text = I.init_spec_text(read_sample(str(path)), label="y")
    header = text.split("\n\n")[0].splitlines()
    not_a_slice = "; not a slice (3 columns with fewer values are)"
    assert "#   s6: 6 distinct strings → vocabulary, top_k 20, one-hot" + not_a_slice in header
    assert "#   s4b: 4 distinct strings → vocabulary, top_k 10, one-hot" + not_a_slice in header
    assert "#   s3: 3 distinct strings → vocabulary, top_k 10, one-hot; slice" in header


def test_taxi_multiclass_label_lists_its_classes():
    label = I.infer_spec(read_sample(str(TAXI_CSV)), label="payment_type").label
    assert label.classes == (
        "Cash", "Credit Card", "Dispute", "No Charge", "Pcard", "Prcard", "Unknown"
    )  # fmt: skip


def test_init_text_explains_choices_and_loads_back(synthetic_csv, tmp_path):
    text = I.init_spec_text(read_sample(str(synthetic_csv)), label="clicked")
    header = text.split("\n\n")[0].splitlines()
    assert header[0] == (
        "# Data set spec drafted from shop.csv (first 6,000 rows). Review every choice below;"
    )
    assert "#   label clicked: 2 values ['0', '1'] → binary" in header
    assert "#   user_id: 5,000 distinct strings → hashed into 8192 bins" in header
    assert "#   color: 5 distinct strings → vocabulary, top_k 10, one-hot; slice" in header
    assert "#   hour: integers 0..23 → identity ids (24 values)" in header
    assert "#   row_id: every value different → ignored (a row key), used as split.key" in header
    assert any(line.startswith("#   comment: 8.0 words per value") for line in header)
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    assert S.load_spec(path) == I.infer_spec(read_sample(str(synthetic_csv)), label="clicked")


def test_sample_rows_limits_what_is_read(synthetic_csv):
    profiles = P.read_profiles(read_sample(str(synthetic_csv), sample_rows=100))
    assert [p.rows for p in profiles] == [100] * 10
    assert profiles[0].maximum == 99.0


@pytest.mark.parametrize(
    "content, label, message",
    [
        ("a,b\n1,2\n", "c", "no column 'c' to use as the label; columns: ['a', 'b']"),
        ("a,b\n1,2\n3,2\n", "b", "label column 'b' has 1 distinct value(s) in the first 2 rows"),
        ("a,b\n1,2\n3,4,5\n", "b", ":3: 3 cells but the header has 2"),
        ("a,a\n1,2\n", "a", ":1: columns named twice in the header: ['a']"),
        ("", "a", "empty file"),
        ("b\n1\n2\n", "b", "only the label column"),
    ],
    ids=["unknown-label", "constant-label", "long-row", "repeated-header", "empty", "only-label"],
)
def test_unusable_files_are_reported_with_the_file(tmp_path, content, label, message):
    path = tmp_path / "data.csv"
    path.write_text(content)
    with pytest.raises(ValueError) as caught:
        I.infer_spec(read_sample(str(path)), label=label)
    assert str(caught.value).startswith(str(path))
    assert message in str(caught.value)
