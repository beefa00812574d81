"""What ingestion reads a data set with, from its spec: column types, the label check, the split."""

from pathlib import Path

import pyarrow as pa
import pytest

from components.dataset import load_spec, parse_spec
from components.ingestion import (
    IngestionError,
    RawColumn,
    ingest,
    label_rule,
    read_result,
    spec_columns,
    spec_config,
)

DATA = Path(__file__).parents[4] / "data"


def _spec(label: dict, **features) -> dict:
    return {
        "source": {"format": "csv", "path": "data.csv"},
        "label": label,
        "features": {"x": {"kind": "numeric"}, **features},
    }


def test_the_taxi_columns_come_from_its_curated_schema():
    config = spec_config(load_spec(DATA / "taxi" / "spec.yaml"))
    columns = {c.name: (c.kind, c.required) for c in config.columns}
    assert len(columns) == 18
    assert columns["fare"] == ("float", True)
    assert columns["tips"] == ("float", True)
    assert columns["trip_start_timestamp"] == ("int", True)
    assert columns["payment_type"] == ("string", True)
    assert columns["company"] == ("string", False)
    assert columns["pickup_census_tract"] == ("int", False)
    # A derived label has no check beyond its columns' types.
    assert config.label is None
    assert config.splits == (("train", 14), ("eval", 3), ("test", 3))


def test_without_a_schema_the_spec_implies_the_column_types():
    spec = parse_spec(
        _spec(
            {"column": "species", "kind": "multiclass", "classes": ["a", "b", "c"]},
            island={"kind": "categorical", "transform": "vocabulary"},
            area={"kind": "categorical", "transform": "hash", "bins": 8},
            hour={"kind": "categorical", "transform": "identity", "num_values": 24},
            note="ignore",
        )
    )
    assert spec_columns(spec) == (
        RawColumn("x", "float"),
        RawColumn("island", "string"),
        RawColumn("area", "string"),
        RawColumn("hour", "int"),
        RawColumn("species", "string", required=True),
        RawColumn("note", "string"),
    )


@pytest.mark.parametrize(
    "label, kind, allowed",
    [
        ({"column": "y", "kind": "binary"}, "int", (0, 1)),
        ({"column": "y", "kind": "binary", "classes": ["no", "yes"]}, "string", ("no", "yes")),
        (
            {"column": "y", "kind": "multiclass", "classes": ["a", "b", "c"]},
            "string",
            ("a", "b", "c"),
        ),
        ({"column": "y", "kind": "regression"}, "float", None),
        ({"column": "y", "kind": "binary", "derive": "x > z"}, None, None),
    ],
)
def test_label_column_kind_and_allowed_values(label, kind, allowed):
    config = spec_config(parse_spec(_spec(label, z="ignore")))
    columns = {c.name: c for c in config.columns}
    if kind is None:
        assert "y" not in columns  # derived: not a column of the data
        assert columns["z"] == RawColumn("z", "float")  # a label source is a number
    else:
        assert columns["y"] == RawColumn("y", kind, required=True)
    assert (config.label.allowed if config.label else None) == allowed


def test_classes_take_the_schema_type_of_the_label_column():
    spec = parse_spec(_spec({"column": "y", "kind": "multiclass", "classes": ["3", "5", "7"]}))
    rule = label_rule(spec, (RawColumn("x", "float"), RawColumn("y", "int", True)))
    assert rule.allowed == (3, 5, 7)
    np_mask = rule.rejected(pa.array([3, 4, None, 7], pa.int64()))
    assert np_mask.tolist() == [False, True, False, False]


def test_class_names_that_are_not_numbers_cannot_be_read_as_int():
    spec = parse_spec(_spec({"column": "y", "kind": "multiclass", "classes": ["low", "high"]}))
    with pytest.raises(IngestionError, match="read as int, but its classes"):
        label_rule(spec, (RawColumn("x", "float"), RawColumn("y", "int", True)))


def test_a_split_key_column_becomes_required():
    data = _spec({"column": "y", "kind": "regression"}, user="ignore")
    data["split"] = {"train": 0.8, "eval": 0.1, "test": 0.1, "key": "user"}
    config = spec_config(parse_spec(data))
    assert config.split_key == "user"
    assert config.column("user") == RawColumn("user", "string", required=True)
    assert config.splits == (("train", 8), ("eval", 1), ("test", 1))


def test_the_delimiter_and_the_spec_file_name_come_from_the_spec(tmp_path):
    data = _spec({"column": "y", "kind": "regression"})
    data["source"]["delimiter"] = "|"
    config = spec_config(parse_spec(data, str(tmp_path / "pipes.yaml")))
    assert (config.delimiter, config.spec_name) == ("|", "pipes.yaml")
    assert spec_config(parse_spec(_spec({"column": "y", "kind": "regression"}))).delimiter == ","


def test_rows_with_a_value_outside_the_classes_or_no_label_are_quarantined(tmp_path):
    spec = parse_spec(
        _spec(
            {"column": "species", "kind": "multiclass", "classes": ["Adelie", "Gentoo"]},
            island={"kind": "categorical"},
        )
    )
    path = tmp_path / "penguins.csv"
    path.write_text(
        "x,island,species\n1.5,Biscoe,Adelie\n2.5,Dream,Emperor\n,Biscoe,Gentoo\n3.0,Dream,\n"
    )
    config = spec_config(spec, max_quarantined_fraction=1.0)
    result = ingest(str(path), str(tmp_path / "out"), config, workers=1)
    assert (result.rows_in, result.rows_written, result.rows_quarantined) == (4, 2, 2)
    summary = read_result(str(tmp_path / "out"))
    assert summary.rows_quarantined == 2
    reasons = [line for line in Path(result.quarantine_file).read_text().splitlines()]
    assert "'Emperor' fails the label check" in reasons[0]
    assert "the classes of 'species' are Adelie, Gentoo" in reasons[0]
    assert "species" in reasons[1]


def test_the_bundled_penguins_ingest_without_loss(tmp_path):
    spec = load_spec(DATA / "penguins" / "spec.yaml")
    result = ingest(str(DATA / "penguins" / "data.csv"), str(tmp_path), spec_config(spec))
    assert (result.rows_in, result.rows_written, result.rows_quarantined) == (344, 344, 0)
    assert sum(result.rows_per_split.values()) == 344
