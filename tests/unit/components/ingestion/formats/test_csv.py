"""CSV ingestion's row checks: every row is written or quarantined with its reason, values
round-trip exactly.

Row counts, splits, the quarantine limit and the summary: ../test_ingest.py. The trips CSV
these tests write (`trips`) is a fixture of conftest.py.
"""

import random
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from components.dataset import load_spec
from components.ingestion import IngestionError, LabelRule, checks, ingest, read_result, spec_config

BAD_ROWS = [
    ("3,abc,1,Acme", "not_a_number", "column 'fare': 'abc' is not a number"),
    ("3,12,1.5.1,Acme", "not_a_number", "column 'tips': '1.5.1' is not a number"),
    ("x3,12,1,Acme", "not_a_number", "column 'id': 'x3' is not an integer"),
    ("0x1f,12,1,Acme", "not_a_number", "column 'id': '0x1f' is not an integer"),
    ("3.0,12,1,Acme", "not_a_number", "column 'id': '3.0' is not an integer"),
    ("3, 12,1,Acme", "not_a_number", "column 'fare': ' 12' is not a number"),
    ("3,nan,1,Acme", "nan", "column 'fare': 'nan' (NaN) is not a value"),
    ("3,12,NaN,Acme", "nan", "column 'tips': 'NaN' (NaN)"),
    ("3,inf,1,Acme", "infinite", "column 'fare': 'inf' is infinite"),
    ("3,-Infinity,1,Acme", "infinite", "column 'fare': '-Infinity' is infinite"),
    ("3,+inf,1,Acme", "infinite", "column 'fare': '+inf' is infinite"),
    ("3,1e39,1,Acme", "out_of_range", "'1e39' overflows float32"),
    ("3,1e400,1,Acme", "out_of_range", "'1e400' overflows float32"),
    ("9223372036854775808,1,1,Acme", "out_of_range", "is outside int64"),
    ("3,,1,Acme", "missing_value", "column 'fare': the value is required but empty"),
    ("3,12,-0.5,Acme", "label", "label column 'tips': '-0.5' fails the label check"),
    ("3,12,1", "field_count", "3 field(s) where the header has 4"),
    ("3,12,1,Acme,extra", "field_count", "5 field(s) where the header has 4"),
    ("3;12;1;Acme", "field_count", "1 field(s) where the header has 4"),
    ('3,12,1,"Acme', "bad_quoting", "quoting is malformed"),
    ('3,12,1,"A"c"', "bad_quoting", "quoting is malformed"),
    ("id,fare,tips,company", "header_repeated", "the header line appears again"),  # = trips.header
]


@pytest.mark.parametrize("bad,check,reason", BAD_ROWS, ids=[c + ":" + b for b, c, _ in BAD_ROWS])
def test_bad_row_is_quarantined_with_reason(tmp_path, trips, bad, check, reason):
    result, records = trips.run(
        tmp_path, trips.lines(trips.header, trips.good[0], bad, trips.good[1])
    )
    assert (result.rows_in, result.rows_written, result.rows_quarantined) == (3, 2, 1)
    assert result.quarantined_by_check == {check: 1}
    [record] = records
    assert reason in record.pop("reason")
    assert record == {"file": str(tmp_path / "trips.csv"), "line": 3, "check": check, "raw": bad}


def test_non_utf8_bytes(tmp_path, trips):
    content = (
        trips.lines(trips.header, trips.good[0]).encode()
        + b"3,12,1,Caf\xe9\n"
        + trips.lines(trips.good[1]).encode()
    )
    result, records = trips.run(tmp_path, content)
    assert (result.rows_written, result.rows_quarantined) == (2, 1)
    assert records[0]["check"] == "not_utf8"
    assert records[0]["reason"].startswith("byte 0xe9 at position 11 of the line is not UTF-8")
    assert records[0]["raw"] == "3,12,1,Caf\\xe9"


def test_truncated_last_line_without_newline(tmp_path, trips):
    result, records = trips.run(tmp_path, trips.lines(trips.header, *trips.good) + "3,12")
    assert (result.rows_in, result.rows_written, result.rows_quarantined) == (3, 2, 1)
    assert (records[0]["line"], records[0]["check"], records[0]["raw"]) == (
        4,
        "field_count",
        "3,12",
    )


def test_complete_last_line_without_newline_is_a_row(tmp_path, trips):
    result, records = trips.run(tmp_path, trips.lines(trips.header, trips.good[0]) + trips.good[1])
    assert (result.rows_in, result.rows_written, records) == (2, 2, [])


def test_ten_megabyte_field(tmp_path, trips):
    big = "x" * (10 << 20)
    result, records = trips.run(
        tmp_path, trips.lines(trips.header, trips.good[0], f"3,12,1,{big}", trips.good[1])
    )
    assert (result.rows_written, result.rows_quarantined) == (2, 1)
    assert records[0]["check"] == "field_too_large"
    assert records[0]["reason"] == (
        "column 'company': the field has 10485760 bytes, more than max_field_bytes=1048576"
    )
    assert records[0]["raw"].endswith("... [cut: the line has 10485767 bytes]")
    assert len(records[0]["raw"]) == 10_000 + len("... [cut: the line has 10485767 bytes]")


@pytest.mark.parametrize("chunk_bytes", [1 << 20, 64], ids=["whole", "streamed"])
@pytest.mark.parametrize("ending", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_line_over_max_line_bytes(tmp_path, trips, chunk_bytes, ending):
    settings = trips.config(max_field_bytes=100, max_line_bytes=200, chunk_bytes=chunk_bytes)
    long_line = "3,12,1," + "y" * 500
    content = ending.join([trips.header, trips.good[0], long_line, trips.good[1], ""])
    result, records = trips.run(tmp_path, content, settings)
    assert (result.rows_in, result.rows_written, result.rows_quarantined) == (3, 2, 1)
    assert (records[0]["line"], records[0]["check"]) == (3, "line_too_long")
    assert records[0]["reason"] == "the line has 507 bytes, more than max_line_bytes=200"
    assert records[0]["raw"] == long_line


def test_wrong_delimiter_in_whole_file_is_a_clear_error(tmp_path, trips):
    content = trips.lines(
        trips.header.replace(",", ";"), *(g.replace(",", ";") for g in trips.good)
    )
    with pytest.raises(IngestionError, match=r"trips\.csv, line 1: missing required column") as e:
        trips.run(tmp_path, content)
    assert "'id', 'fare'" in str(e.value)
    assert str(e.value).endswith(
        "The header looks ';'-delimited, not ',': set `source.delimiter: ';'` in the data set spec."
    )


@pytest.mark.parametrize(
    "delimiter,shown",
    [(";", "';'"), ("\t", '"\\t"'), ("|", "'|'")],
    ids=["semicolon", "tab", "pipe"],
)
def test_file_with_another_delimiter_is_read_with_that_delimiter(tmp_path, trips, delimiter, shown):
    rows = [g.replace(",", delimiter) for g in (trips.header, *trips.good)]
    with pytest.raises(IngestionError) as e:
        trips.run(tmp_path / "default", trips.lines(*rows), trips.config(spec_name="spec.yaml"))
    assert f"set `source.delimiter: {shown}` in spec.yaml." in str(e.value)
    settings = trips.config(delimiter=delimiter, splits=(("all", 1),))
    result, records = trips.run(tmp_path, trips.lines(*rows), settings)
    assert (result.rows_in, result.rows_written, records) == (2, 2, [])
    assert [(r["fare"], r["company"]) for r in trips.examples(tmp_path / "out", "all")] == [
        (("float_list", [10.5]), ("bytes_list", [b"Acme"])),
        (("float_list", [7.25]), ("bytes_list", [b"Bolt"])),
    ]


def test_wrong_delimiter_in_rows_quarantines_every_row(tmp_path, trips):
    content = trips.lines(trips.header, *(g.replace(",", ";") for g in trips.good))
    with pytest.raises(IngestionError, match=r"2 of 2 rows \(100\.00%\) failed the checks"):
        trips.run(tmp_path, content, trips.config(max_quarantined_fraction=0.0))
    result = read_result(str(tmp_path / "out"))
    assert (result.rows_in, result.rows_written, result.rows_quarantined) == (2, 0, 2)
    assert result.quarantined_by_check == {"field_count": 2}


def test_empty_file_is_an_error(tmp_path, trips):
    with pytest.raises(IngestionError, match=r"trips\.csv: the file is empty"):
        trips.run(tmp_path, "")


def test_header_only_file_alone_is_an_error_after_writing_the_summary(tmp_path, trips):
    with pytest.raises(IngestionError, match=r"No data rows in .*trips\.csv"):
        trips.run(tmp_path, trips.lines(trips.header))
    assert read_result(str(tmp_path / "out")).rows_in == 0


def test_header_only_file_next_to_others_contributes_zero_rows(tmp_path, trips):
    trips.write(tmp_path / "in", trips.lines(trips.header), "a.csv")
    trips.write(tmp_path / "in", trips.lines(trips.header, *trips.good), "b.csv")
    result = ingest(str(tmp_path / "in"), str(tmp_path / "out"), trips.config(), workers=1)
    assert (result.rows_in, result.rows_written, len(result.files)) == (2, 2, 2)


def test_missing_required_column_is_named(tmp_path, trips):
    with pytest.raises(IngestionError, match=r"line 1: missing required column\(s\) 'fare'\."):
        trips.run(tmp_path, trips.lines("id,tips,company", "1,2,Acme"))


def test_missing_optional_column_is_reported_and_left_out(tmp_path, trips):
    result, _ = trips.run(tmp_path, trips.lines("id,fare,tips", "1,10.5,2"))
    path = str(tmp_path / "trips.csv")
    assert result.absent_columns == {path: ["company"]}
    assert trips.examples(tmp_path / "out") == [
        {"id": ("int64_list", [1]), "fare": ("float_list", [10.5]), "tips": ("float_list", [2.0])}
    ]


def test_extra_column_is_reported_and_kept_out_of_examples(tmp_path, trips):
    result, _ = trips.run(tmp_path, trips.lines("id,note,fare,tips,company", "1,hello,10.5,2,Acme"))
    assert result.ignored_columns == {str(tmp_path / "trips.csv"): ["note"]}
    assert trips.examples(tmp_path / "out") == [
        {
            "id": ("int64_list", [1]),
            "fare": ("float_list", [10.5]),
            "tips": ("float_list", [2.0]),
            "company": ("bytes_list", [b"Acme"]),
        }
    ]


def test_values_round_trip_exactly(tmp_path, trips):
    content = trips.lines(
        trips.header,
        "1,10.5,2,Acme",
        "-7,0.1,,",  # empty optional cells: typed empty lists, as CsvExampleGen writes
        '+8,1e3,.5,"Acme, Inc."',  # quoted delimiter; leading "+"; exponent; bare fraction
        "9223372036854775807,-0,3.,Ünïcode",
    )
    result, records = trips.run(tmp_path, content, trips.config(splits=(("all", 1),)))
    assert (result.rows_written, records) == (4, [])
    assert trips.examples(tmp_path / "out", "all") == [
        {
            "id": ("int64_list", [1]),
            "fare": ("float_list", [10.5]),
            "tips": ("float_list", [2.0]),
            "company": ("bytes_list", [b"Acme"]),
        },
        {
            "id": ("int64_list", [-7]),
            "fare": ("float_list", [pytest.approx(0.1, rel=1e-7)]),
            "tips": ("float_list", []),
            "company": ("bytes_list", []),
        },
        {
            "id": ("int64_list", [8]),
            "fare": ("float_list", [1000.0]),
            "tips": ("float_list", [0.5]),
            "company": ("bytes_list", [b"Acme, Inc."]),
        },
        {
            "id": ("int64_list", [9223372036854775807]),
            "fare": ("float_list", [0.0]),
            "tips": ("float_list", [3.0]),
            "company": ("bytes_list", ["Ünïcode".encode()]),
        },
    ]


def test_byte_order_mark_before_the_header(tmp_path, trips):
    result, records = trips.run(
        tmp_path, b"\xef\xbb\xbf" + trips.lines(trips.header, *trips.good).encode()
    )
    assert (result.rows_written, records) == (2, [])


def test_crlf_line_endings_and_blank_lines(tmp_path, trips):
    content = (
        trips.header + "\r\n" + trips.good[0] + "\r\n\r\n\n" + trips.good[1] + "\r\n"
    ).encode()
    result, records = trips.run(tmp_path, content, trips.config(splits=(("all", 1),)))
    assert (result.rows_in, result.rows_written, result.blank_lines, records) == (2, 2, 2, [])
    assert [row["company"] for row in trips.examples(tmp_path / "out", "all")] == [
        ("bytes_list", [b"Acme"]),
        ("bytes_list", [b"Bolt"]),
    ]


@pytest.mark.parametrize(
    "value,check",
    [("inf", "infinite"), ("1e39", "out_of_range"), ("1e400", "out_of_range"), ("nan", "nan")],
)
def test_reason_does_not_depend_on_the_rest_of_the_column(tmp_path, trips, value, check):
    # Alone, the column casts as a whole; next to "abc" it takes the row-by-row path.
    alone, _ = trips.run(tmp_path / "a", trips.lines(trips.header, f"1,{value},1,A"))
    mixed, _ = trips.run(tmp_path / "b", trips.lines(trips.header, f"1,{value},1,A", "2,abc,1,B"))
    assert alone.quarantined_by_check == {check: 1}
    assert mixed.quarantined_by_check == {check: 1, "not_a_number": 1}


def test_allowed_label_values(tmp_path, trips):
    settings = trips.config(label=LabelRule("id", allowed=(0, 1)))
    result, records = trips.run(
        tmp_path, trips.lines(trips.header, "0,1,1,A", "1,1,1,B", "2,1,1,C"), settings
    )
    assert (result.rows_written, records[0]["line"], records[0]["check"]) == (2, 4, "label")
    assert (
        records[0]["reason"]
        == "label column 'id': '2' fails the label check: allowed values are 0, 1"
    )


def test_bundled_taxi_rows_all_pass(tmp_path, trips, taxi_rows):
    taxi = load_spec(Path(__file__).parents[5] / "data" / "taxi" / "spec.yaml")
    result, records = trips.run(tmp_path, trips.lines(*taxi_rows), spec_config(taxi))
    assert (result.rows_in, result.rows_written, records) == (40, 40, [])
    # Line 2: ,12.45,5,19,6,1400269500,,,,,0.0,,,Credit Card,Chicago Elite Cab Corp. (Chicago
    # Carriag,0,,0.0
    [first] = [
        r for r in trips.examples(tmp_path / "out") if r["trip_start_timestamp"][1] == [1400269500]
    ]
    assert first == {
        "pickup_community_area": ("int64_list", []),
        "fare": ("float_list", [pytest.approx(12.45, rel=1e-7)]),
        "trip_start_month": ("int64_list", [5]),
        "trip_start_hour": ("int64_list", [19]),
        "trip_start_day": ("int64_list", [6]),
        "trip_start_timestamp": ("int64_list", [1400269500]),
        "pickup_latitude": ("float_list", []),
        "pickup_longitude": ("float_list", []),
        "dropoff_latitude": ("float_list", []),
        "dropoff_longitude": ("float_list", []),
        "trip_miles": ("float_list", [0.0]),
        "pickup_census_tract": ("int64_list", []),
        "dropoff_census_tract": ("int64_list", []),
        "payment_type": ("bytes_list", [b"Credit Card"]),
        "company": ("bytes_list", [b"Chicago Elite Cab Corp. (Chicago Carriag"]),
        "trip_seconds": ("int64_list", [0]),
        "dropoff_community_area": ("int64_list", []),
        "tips": ("float_list", [0.0]),
    }


def test_pyarrow_casts_accept_only_the_documented_syntax():
    # checks.py trusts a successful whole-column cast; this pins what pyarrow's cast accepts.
    alphabet = "0123456789.eE+-xXnaifty _"
    generator = random.Random(0)
    texts = {"".join(generator.choices(alphabet, k=generator.randint(1, 5))) for _ in range(3000)}
    texts |= {"nan", "-Inf", "Infinity", "0x1f", "1e5", ".5", "5.", "+5", "1_000", " 5"}
    floats = re.compile("|".join([checks.FLOAT_SYNTAX, checks.NAN_SYNTAX, checks.INF_SYNTAX]), re.I)
    ints = re.compile(checks.INT_SYNTAX)
    for text in sorted(texts):
        try:
            pc.cast(pa.array([text]), pa.float64())
            assert floats.match(text), text
        except pa.ArrowInvalid:
            pass
        try:
            pc.cast(pa.array([text]), pa.int64())
            assert ints.match(text) or "x" in text.lower(), text
        except pa.ArrowInvalid:
            pass
