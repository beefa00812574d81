"""Bundled Palmer penguins: the spec loads as declared and data.csv has the measured contents."""

import collections
from pathlib import Path

from components.dataset import Kind, Task

DATASET = Path(__file__).parents[3] / "data" / "penguins"
MEASUREMENTS = ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g")


def test_spec_label(spec):
    assert spec.name == "penguins"
    assert spec.label.column == "species"
    assert spec.label.kind is Task.MULTICLASS
    assert spec.label.derive is None
    assert spec.label.classes == ("Adelie", "Chinstrap", "Gentoo")


def test_spec_features(spec):
    kinds = {feature.name: feature.kind for feature in spec.features}
    assert kinds == {
        **{name: Kind.NUMERIC for name in MEASUREMENTS},
        "island": Kind.CATEGORICAL,
        "sex": Kind.CATEGORICAL,
        "year": Kind.IGNORE,
    }
    assert spec.slices == ("island",)
    assert spec.split.key is None
    assert spec.source.path == "data.csv"


def test_rows_and_species_counts(table):
    header, rows = table
    assert len(rows) == 344
    assert all(len(row) == len(header) for row in rows)
    assert collections.Counter(table.column("species")) == {
        "Adelie": 152,
        "Gentoo": 124,
        "Chinstrap": 68,
    }


def test_species_are_spec_classes(spec, table):
    assert set(table.column("species")) <= set(spec.label.classes)


def test_header_is_declared_columns_plus_label(spec, table):
    header, _ = table
    assert len(header) == len(set(header))
    assert set(header) == set(spec.feature_names) | {spec.label.column}


def test_missing_cells(table):
    header, _ = table
    empty = {name: table.column(name).count("") for name in header}
    assert empty["sex"] == 11
    assert empty == {
        "species": 0,
        "island": 0,
        **{name: 2 for name in MEASUREMENTS},
        "sex": 11,
        "year": 0,
    }
    assert all("NA" not in table.column(name) for name in header)
