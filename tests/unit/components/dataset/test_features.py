"""The taxi spec is consistent with itself and with the bundled taxi data."""

import csv
from pathlib import Path

import pytest

from components import dataset as S
from components.dataset import load_spec

TAXI = load_spec(Path(__file__).parents[4] / "data" / "taxi" / "spec.yaml")

TAXI_CSV = Path(__file__).parents[4] / "data" / "taxi" / "data.csv"


def test_taxi_spec_names_every_csv_column_exactly_once():
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
    assert set(TAXI.slices) == {"payment_type", "company"}
    assert set(TAXI.slices) <= categorical


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(name="h", transform=S.CategoricalTransform.HASH), "bins"),
        (dict(name="i", transform=S.CategoricalTransform.IDENTITY), "num_values"),
    ],
    ids=["hash-without-buckets", "identity-without-range"],
)
def test_incomplete_categorical_features_are_refused(kwargs, message):
    with pytest.raises(S.SpecError, match=message):
        S.CategoricalFeature(**kwargs)


def test_duplicate_and_unknown_slice_columns_are_refused(minimal_spec):
    label = {"column": "y", "kind": "binary", "derive": "a > 0.5 * b"}
    features = {"a": "numeric", "b": "ignore"}
    spec = S.parse_spec(minimal_spec(label=label, features=features))
    x = S.NumericFeature("x")
    with pytest.raises(S.SpecError, match="declared twice"):
        S.DatasetSpec(spec.source, spec.label, (*spec.features, x, x))
    with pytest.raises(S.SpecError, match="not declared under features"):
        S.DatasetSpec(spec.source, spec.label, spec.features, slices=("z",))
