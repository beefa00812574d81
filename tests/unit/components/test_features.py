"""The feature registry is consistent with itself and with the bundled taxi data."""

import csv
from pathlib import Path

import pytest

from components import features as F
from components.spec import load_spec

TAXI = load_spec(Path(__file__).parents[3] / "data" / "taxi" / "spec.yaml").to_registry()

TAXI_CSV = Path(__file__).parents[3] / "data" / "taxi" / "data.csv"


def test_taxi_registry_names_every_csv_column_exactly_once():
    with open(TAXI_CSV) as f:
        header = next(csv.reader(f))
    assert sorted(TAXI.raw_columns) == sorted(header)
    assert len(set(TAXI.raw_columns)) == len(TAXI.raw_columns)


def test_transformed_names_are_unique_and_suffixed():
    names = [f.name for f in TAXI.transformed_features()]
    assert len(names) == len(set(names))
    assert all(n.endswith("_xf") for n in names)
    assert TAXI.label_key == "big_tipper_xf"
    assert TAXI.label_key not in names


def test_every_categorical_output_has_a_cardinality_or_a_vocabulary():
    for feature in TAXI.transformed_features():
        if feature.is_categorical:
            assert (feature.cardinality or 0) > 0 or feature.vocabulary_name, feature


def test_slices_are_raw_categorical_columns():
    categorical = {f.name for f in TAXI.categorical}
    assert set(TAXI.slice_columns) == {"payment_type", "company"}
    assert set(TAXI.slice_columns) <= categorical


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(name="h", encoding=F.Encoding.HASH), "hash_buckets"),
        (dict(name="i", encoding=F.Encoding.IDENTITY), "num_values"),
    ],
    ids=["hash-without-buckets", "identity-without-range"],
)
def test_incomplete_categorical_features_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        F.CategoricalFeature(**kwargs)


def test_duplicate_and_unknown_slice_columns_are_refused():
    label = F.BinaryLabel("y", "a", "b", 0.5)
    with pytest.raises(ValueError, match="declared twice"):
        F.FeatureRegistry(
            numeric=(F.NumericFeature("x"), F.NumericFeature("x")), categorical=(), label=label
        )
    with pytest.raises(ValueError, match="not raw columns"):
        F.FeatureRegistry(
            numeric=(F.NumericFeature("x"),), categorical=(), label=label, slice_columns=("z",)
        )
