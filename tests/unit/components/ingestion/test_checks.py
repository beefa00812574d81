"""Value bounds at ingestion: a number below its column's `min` or above its `max` quarantines the
row (check `out_of_bounds`); bounds come from the data set spec.

The trips CSV these tests write (`trips`) and the smallest spec (`minimal_spec`) are fixtures of
conftest.py; the taxi spec's bounds through the ExampleGen executor: test_example_gen.py.
"""

from pathlib import Path

import pytest

from components.dataset import load_spec, parse_spec
from components.ingestion import IngestionError, RawColumn, spec_config

DATA = Path(__file__).parents[4] / "data"
# The trips columns (id int, fare float, tips float, company string) with bounds on id and tips.
BOUNDED = (
    RawColumn("id", "int", required=True, minimum=1, maximum=100),
    RawColumn("fare", "float", required=True),
    RawColumn("tips", "float", minimum=0, maximum=0.1),
    RawColumn("company", "string"),
)


def test_values_outside_the_bounds_are_quarantined_and_the_bounds_themselves_pass(tmp_path, trips):
    rows = [
        trips.header,
        "1,10.5,0,Acme",  # line 2: both lower bounds exactly
        "0,10.5,0.05,Acme",  # line 3: id below 1
        "100,7.25,0.1,Bolt",  # line 4: both upper bounds exactly (0.1 is not rounded to float32)
        "5,7.25,-1.5,Bolt",  # line 5: tips below 0
        "6,7.25,0.1000001,Bolt",  # line 6: tips above 0.1
        "101,7.25,,Bolt",  # line 7: id above 100
        "7,7.25,,Bolt",  # line 8: an empty tip is not judged by the bounds
        "8,7.25,-0,",  # line 9: -0 is not below 0
    ]
    result, records = trips.run(
        tmp_path, trips.lines(*rows), trips.config(columns=BOUNDED, label=None)
    )
    assert (result.rows_in, result.rows_written, result.rows_quarantined) == (8, 4, 4)
    assert result.rows_written + result.rows_quarantined == result.rows_in
    assert result.quarantined_by_check == {"out_of_bounds": 4}
    assert [(r["line"], r["check"], r["reason"]) for r in records] == [
        (
            3,
            "out_of_bounds",
            "column 'id': '0' is below its minimum 1 (spec: features.id.min)",
        ),
        (
            5,
            "out_of_bounds",
            "column 'tips': '-1.5' is below its minimum 0 (spec: features.tips.min)",
        ),
        (
            6,
            "out_of_bounds",
            "column 'tips': '0.1000001' is above its maximum 0.1 (spec: features.tips.max)",
        ),
        (
            7,
            "out_of_bounds",
            "column 'id': '101' is above its maximum 100 (spec: features.id.max)",
        ),
    ]
    assert sorted(row["id"][1][0] for row in trips.examples(tmp_path / "out")) == [1, 7, 8, 100]


def test_bounds_come_after_the_type_checks_and_before_the_label_rule(tmp_path, trips):
    rows = [trips.header, "1,10,nan,A", "2,10,-inf,A", "3,10,-2,A", "4,10,0.05,A"]
    # The fixture's label rule (tips >= 0) would also reject -2: the bound is checked first.
    columns = (*BOUNDED[:2], RawColumn("tips", "float", minimum=-1), BOUNDED[3])
    result, records = trips.run(tmp_path, trips.lines(*rows), trips.config(columns=columns))
    assert [(r["line"], r["check"]) for r in records] == [
        (2, "nan"),
        (3, "infinite"),
        (4, "out_of_bounds"),
    ]
    assert (result.rows_in, result.rows_written, result.rows_quarantined) == (4, 1, 3)


def test_a_column_whose_cast_fails_is_bounded_too(tmp_path, trips):
    # With "abc" in the column, the values are read row by row (not cast as a whole).
    rows = [trips.header, "1,abc,0,A", "2,10,-0.5,A", "3,10,0,A"]
    result, records = trips.run(
        tmp_path, trips.lines(*rows), trips.config(columns=BOUNDED, label=None)
    )
    assert [(r["line"], r["check"]) for r in records] == [(2, "not_a_number"), (3, "out_of_bounds")]
    assert (result.rows_written, result.rows_quarantined) == (1, 2)


def test_the_spec_gives_the_bounds_of_numeric_and_label_source_columns(minimal_spec):
    spec = parse_spec(
        minimal_spec(
            label={"column": "big_tipper", "kind": "binary", "derive": "tips > 0.2 * x"},
            features={
                "x": {"kind": "numeric", "min": -5, "max": 5},
                "n": {"kind": "numeric", "max": 9.5},
                "tips": {"kind": "ignore", "min": 0},
                "note": "ignore",
            },
        )
    )
    assert spec_config(spec).columns == (
        RawColumn("x", "float", minimum=-5.0, maximum=5.0),
        RawColumn("n", "float", maximum=9.5),
        RawColumn("tips", "float", minimum=0.0),
        RawColumn("note", "string"),
    )


def test_the_taxi_spec_bounds_money_distance_duration_and_tips_at_zero():
    config = spec_config(load_spec(DATA / "taxi" / "spec.yaml"))
    bounded = {c.name: (c.kind, c.minimum, c.maximum) for c in config.columns if c.minimum == 0}
    assert bounded == {
        "fare": ("float", 0.0, None),
        "trip_miles": ("float", 0.0, None),
        "trip_seconds": ("int", 0.0, None),  # INT in the curated schema
        "tips": ("float", 0.0, None),
    }
    assert all(c.maximum is None for c in config.columns)


def test_bounds_on_a_column_read_as_text_are_refused(tmp_path, minimal_spec):
    data = minimal_spec(features={"x": "numeric", "note": {"kind": "ignore", "max": 3}})
    with pytest.raises(IngestionError) as caught:
        spec_config(parse_spec(data, "d.yaml"))
    assert str(caught.value).startswith(
        "d.yaml: features.note: column 'note' has min/max, but ingestion reads it as text (an "
        "ignored column the label is not derived from), and bounds apply to numbers."
    )
    schema = tmp_path / "schema.pbtxt"
    schema.write_text('feature { name: "x" type: BYTES }\nfeature { name: "y" type: FLOAT }\n')
    data = minimal_spec(features={"x": {"kind": "numeric", "min": 0}})
    with pytest.raises(IngestionError, match=rf"reads it as text \(the schema {schema} types it"):
        spec_config(parse_spec(data, "d.yaml"), schema)
    schema.write_text('feature { name: "y" type: FLOAT }\n')
    with pytest.raises(IngestionError, match="column 'x' has min/max, but ingestion does not read"):
        spec_config(parse_spec(data, "d.yaml"), schema)


@pytest.mark.parametrize(
    "column, message",
    [
        (lambda: RawColumn("c", "string", minimum=0), "a string column cannot have value bounds"),
        (lambda: RawColumn("x", "float", maximum=float("inf")), "bounds must be finite"),
        (lambda: RawColumn("x", "int", minimum=2, maximum=1), "minimum 2 is above maximum 1"),
    ],
    ids=["string", "infinite", "min-above-max"],
)
def test_column_specs_built_in_code_refuse_impossible_bounds(column, message):
    with pytest.raises(ValueError, match=message):
        column()
